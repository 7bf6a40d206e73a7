import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/client/connection.js";
import type { AckMsg, RejectMsg, SnapshotMsg, WelcomeMsg } from "../../src/protocol/types.js";
import { createCockpitStore } from "../../src/store/cockpit-store.js";
import { RecordingSink, sleep, waitFor } from "../client/helpers/recording-sink.js";
import { TestClient } from "../support/processes.js";
import { batchCount, eventsByCommand, gapsAndRepeats, readLogEvents } from "./helpers/log-check.js";
import { writeSteadyScenario } from "./helpers/scenario-file.js";
import { killAllServe, removeTempDirs, spawnServe, tempDir, verifyLogCli } from "./helpers/serve-child.js";
import { smallDisk, type SmallDisk } from "./helpers/small-disk.js";

// Issue 6, "Faults": the data directory's disk fills up (a real, small tmpfs
// where the runner may mount one; else the backend's RLIMIT_FSIZE), then goes
// read-only (tmpfs only). The backend must refuse commands with a sentence
// that says why, keep serving what it has (live clients, snapshots, resume),
// never ack or broadcast an event it could not write, and carry on by itself
// once there is room again.

const LOG_FAILED = /could not write its event log, so nothing was changed; free disk space or fix the data directory's permissions, then retry/;
const ROLLOUT = "svc0-v2";
// A full tmpfs still takes writes that fit in the log's last, partly used
// page (up to 4 KiB): commands made while it is full carry more than that,
// so their one event cannot fit and must be refused.
const BIG = "x".repeat(4_000);

let disk: SmallDisk | null = null;
afterAll(async () => {
  await killAllServe();
  await disk?.dispose();
  removeTempDirs();
});

describe("the data directory's disk fills up, then goes read-only", () => {
  it("refuses commands with a reason, keeps serving, acks nothing it could not write, resumes when there is room", async () => {
    const root = tempDir("disk-full");
    disk = await smallDisk(root);
    console.log(`disk-full test: using ${disk.kind === "tmpfs" ? "a 2 MiB tmpfs (ENOSPC, then EROFS)" : "RLIMIT_FSIZE via prlimit (EFBIG); mount is not permitted here"}`);
    const scenario = writeSteadyScenario(root, { rollouts: 1, metrics: 3, speed: 20, sampleEverySeconds: 1 });
    const serve = await spawnServe(["--scenario", scenario, "--port", "0", "--data-dir", disk.dataDir]);

    // The cockpit (real client and store) and a bare observer of every frame.
    const store = createCockpitStore({ url: serve.url, flushIntervalMs: 10, tickMs: 0 });
    const sink = new RecordingSink(store);
    const conn = connect({ url: serve.url, clientName: "disk-full-cockpit", store: sink, pingIntervalMs: 100, backoff: { initialMs: 20, maxMs: 100 } });
    const obs = await TestClient.open(serve.url, { client: "disk-full-observer" });
    await waitFor(() => sink.view.status === "live" && sink.events.length > 3, "the cockpit to be live with events", 15_000);

    const settle = async (id: string) => {
      await waitFor(() => sink.acks.some((a) => a.id === id) || sink.rejects.some((r) => r.id === id), `an answer to ${id}`, 15_000);
      return sink.acks.find((a) => a.id === id) ?? sink.rejects.find((r) => r.id === id)!;
    };
    const before = await settle(conn.send({ action: "note", target: {}, args: { text: "before the disk filled" } }));
    expect(before.type).toBe("ack");

    // ---- the disk fills ----
    await disk.fill(serve.pid);
    await serve.waitForStderr(disk.kind === "tmpfs" ? /ENOSPC[^\n]*free disk space, then retry/ : /EFBIG[^\n]*ulimit -f/);
    const refused: RejectMsg[] = [];
    for (let i = 0; i < 3; i++) {
      const answer = await settle(conn.send({ action: "note", target: {}, args: { text: `while full ${i} ${BIG}` } }));
      expect(answer.type).toBe("reject");
      refused.push(answer as RejectMsg);
    }
    const pause = (await settle(conn.send({ action: "pause", target: { rollout: ROLLOUT }, reason: `disk is full ${BIG}` }))) as RejectMsg;
    expect(pause.type).toBe("reject");
    refused.push(pause);
    for (const r of refused) {
      expect(r.code).toBe("invalid_state");
      expect(r.message).toMatch(LOG_FAILED);
    }
    // A bare client's command, to be retried with the same id later.
    obs.send({ type: "command", id: "retry-after-full", action: "pause", target: { rollout: ROLLOUT }, reason: `same id later ${BIG}` });
    const obsReject = await obs.waitFor<RejectMsg>((m) => m.type === "reject" && m.id === "retry-after-full");
    expect(obsReject.message).toMatch(LOG_FAILED);

    // Still serving what it has: the cockpit stays live (pongs keep coming), a
    // new client gets a snapshot at the durable head, and one resumes from an old seq.
    const rttBefore = sink.patches.filter((p) => p.rttMs !== undefined).length;
    await waitFor(() => sink.patches.filter((p) => p.rttMs !== undefined).length > rttBefore + 3, "pongs while the disk is full", 5_000);
    expect(sink.view.status).toBe("live");
    const fresh = await TestClient.open(serve.url, { client: "while-full" });
    const welcome = await fresh.waitFor<WelcomeMsg>((m) => m.type === "welcome");
    const snap = await fresh.waitFor<SnapshotMsg>((m) => m.type === "snapshot");
    expect(snap.seq).toBe(welcome.headSeq);
    const rollout = snap.state.rollouts.find((r) => r.id === ROLLOUT);
    expect(rollout?.state).not.toBe("paused"); // the refused pause changed nothing
    // (A small write may still fit in the log's last page, so the head is read after the snapshot.)
    const headWhileFull = readLogEvents(disk.dataDir).at(-1)!.seq;
    expect(snap.seq).toBeLessThanOrEqual(headWhileFull);
    const resumer = await TestClient.open(serve.url, { client: "resume-while-full", resumeFrom: headWhileFull - 5 });
    await resumer.waitFor((m) => m.type === "event" && m.event.seq === headWhileFull);
    expect(resumer.eventSeqs().slice(0, 5)).toEqual([1, 2, 3, 4, 5].map((k) => headWhileFull - 5 + k));
    await fresh.close();
    await resumer.close();

    // ---- read-only (tmpfs): the log cannot even be opened for writing ----
    if (disk.readOnly) {
      // Remounted while still full: the backend holds the log open only for
      // its failing retries, so the remount finds a moment with no writer.
      await disk.readOnly(true);
      await serve.waitForStderr(/EROFS[^\n]*make the data directory writable, then retry/);
      const ro = (await settle(conn.send({ action: "note", target: {}, args: { text: "while read-only" } }))) as RejectMsg;
      expect(ro.type).toBe("reject");
      expect(ro.message).toMatch(LOG_FAILED);
      refused.push(ro);
      expect(sink.view.status).toBe("live");
      await disk.readOnly(false);
    }
    await disk.free(serve.pid);

    // ---- room again: it carries on by itself ----
    let after: AckMsg | null = null;
    for (let i = 0; i < 50 && after === null; i++) {
      const answer = await settle(conn.send({ action: "note", target: {}, args: { text: `after ${i}` } }));
      if (answer.type === "ack") after = answer;
      else await sleep(100);
    }
    expect(after, "a command is acked once the disk has room").not.toBeNull();
    // The refused command's id was never used up: the same id now runs, once.
    obs.send({ type: "command", id: "retry-after-full", action: "pause", target: { rollout: ROLLOUT }, reason: "same id later" });
    const retried = await obs.waitFor<AckMsg>((m) => m.type === "ack" && m.id === "retry-after-full");
    expect(retried.duplicate).toBe(false);

    // The cockpit saw every event once, in order, none of them lost with the write.
    await waitFor(() => (sink.eventSeqs().at(-1) ?? 0) >= retried.seq, "the cockpit to see the pause", 10_000);
    expect(sink.snapshots).toHaveLength(1);
    expect(gapsAndRepeats(sink.eventSeqs(), sink.snapshots[0]!.seq + 1)).toEqual({ gaps: [], repeats: [] });
    expect(sink.statuses().filter((s) => s !== "live" && s !== "connecting")).toEqual([]);

    // Steps failed every 50 ms for seconds; stderr got one line per kind of failure, not one per step.
    await serve.waitForStderr(/engine step works again after \d+ failures/);
    const stepLines = serve.stderr().split("\n").filter((l) => /engine step (failed|still failing)/.test(l));
    expect(stepLines.length).toBeGreaterThan(0);
    expect(stepLines.length).toBeLessThanOrEqual(6);
    expect((await serve.stop("SIGTERM")).code).toBe(0);
    await conn.close();
    store.dispose();
    const cli = await verifyLogCli(disk.dataDir);
    expect(cli.code, cli.stderr).toBe(0);

    // Nothing refused is in the log; everything acked or seen is, exactly once.
    const log = readLogEvents(disk.dataDir);
    const bySeq = new Map(log.map((e) => [e.seq, e]));
    const byCommand = eventsByCommand(log);
    for (const r of refused) expect(byCommand.has(r.id), `refused ${r.id} must not be in the log`).toBe(false);
    for (const a of [...sink.acks, retried]) {
      expect(batchCount(byCommand.get(a.id))).toBe(1);
      expect(byCommand.get(a.id)![0]!.seq).toBe(a.seq);
    }
    for (const f of obs.frames) if (f.type === "event") expect(bySeq.get(f.event.seq)?.hash).toBe(f.event.hash);
    for (const e of sink.events) expect(bySeq.get(e.seq)?.hash).toBe(e.hash);
    expect(log.find((e) => e.command === "retry-after-full")?.type).toBe("rollout.paused");
    await obs.close();
  }, 120_000);
});
