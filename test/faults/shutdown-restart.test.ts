import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../../src/client/connection.js";
import type { AckMsg, CockpitEvent, WelcomeMsg } from "../../src/protocol/types.js";
import { createCockpitStore } from "../../src/store/cockpit-store.js";
import { RecordingSink, waitFor } from "../client/helpers/recording-sink.js";
import { TestClient } from "../support/processes.js";
import { batchCount, eventsByCommand, gapsAndRepeats, readLogEvents } from "./helpers/log-check.js";
import { writeSteadyScenario } from "./helpers/scenario-file.js";
import { freePort, killAllServe, removeTempDirs, spawnServe, tempDir, verifyLogCli } from "./helpers/serve-child.js";

// Issue 6, "Faults": a clean shutdown (SIGTERM) and a crash restart both keep
// the log intact. SIGTERM tells every client 1001 and flushes the log before
// exit 0; a crash may leave a torn last line, which the next start cuts off
// (and says so), while damage anywhere else stops the start with exit 3.

afterAll(async () => {
  await killAllServe();
  removeTempDirs();
});

function lastSeq(c: TestClient): number | null {
  return c.eventSeqs().at(-1) ?? null;
}

describe("clean shutdown and crash restart", () => {
  it("SIGTERM with commands in flight: clients get 1001, exit 0, the log verifies, and everything resumes after a restart", async () => {
    const dir = tempDir("sigterm");
    const data = join(dir, "data");
    const scenario = writeSteadyScenario(dir, { rollouts: 1, metrics: 3, speed: 20, sampleEverySeconds: 1 });
    const args = ["--scenario", scenario, "--port", String(await freePort()), "--data-dir", data];
    let serve = await spawnServe(args);

    const store = createCockpitStore({ url: serve.url, flushIntervalMs: 10, tickMs: 0 });
    const sink = new RecordingSink(store);
    const conn = connect({ url: serve.url, clientName: "sigterm-cockpit", store: sink, backoff: { initialMs: 20, maxMs: 100 } });
    const raw = await Promise.all([1, 2, 3].map((i) => TestClient.open(serve.url, { client: `raw-${i}` })));
    await waitFor(() => sink.view.status === "live" && sink.events.length > 3, "the cockpit to be live", 15_000);
    await Promise.all(raw.map((c) => c.waitFor((m) => m.type === "event")));

    // Commands in flight at the signal, from the cockpit and from a bare client.
    const ids = [1, 2, 3, 4, 5].map((i) => conn.send({ action: "note", target: {}, args: { text: `at shutdown ${i}` } }));
    raw[0]!.send({ type: "command", id: "raw-at-shutdown", action: "note", target: {}, args: { text: "raw at shutdown" } });
    const exit = await serve.stop("SIGTERM");
    expect(exit).toEqual({ code: 0, signal: null });
    for (const c of raw) {
      await waitFor(() => c.closeCode !== null, "the close", 5_000);
      expect(c.closeCode).toBe(1001);
    }
    await waitFor(() => sink.view.status === "reconnecting", "the cockpit to start reconnecting", 5_000);
    expect(serve.stderr()).toMatch(/SIGTERM: shutting down/);

    // Flushed and intact: every line complete, the chain whole.
    const text = readFileSync(join(data, "events.jsonl"), "utf8");
    expect(text.endsWith("\n")).toBe(true);
    const cli = await verifyLogCli(data);
    expect(cli.code, cli.stderr).toBe(0);
    const headAtStop = readLogEvents(data).at(-1)!.seq;
    for (const c of raw) expect(lastSeq(c) ?? 0).toBeLessThanOrEqual(headAtStop);

    // Restart on the same port: nothing to repair, the cockpit comes back by
    // itself and its unanswered commands are answered (once), bare clients resume.
    serve = await spawnServe(args);
    expect(serve.stderr()).not.toMatch(/torn/);
    const resumed = await Promise.all(raw.map((c, i) => TestClient.open(serve.url, { client: `raw-${i + 1}-again`, resumeFrom: lastSeq(c) })));
    for (const [i, r] of resumed.entries()) {
      const w = await r.waitFor<WelcomeMsg>((m) => m.type === "welcome");
      expect(w.headSeq).toBeGreaterThanOrEqual(headAtStop);
      await r.waitFor((m) => m.type === "event" && m.event.seq > headAtStop, 15_000);
      expect(r.frames.some((m) => m.type === "snapshot")).toBe(false);
      expect(gapsAndRepeats(r.eventSeqs(), lastSeq(raw[i]!)! + 1)).toEqual({ gaps: [], repeats: [] });
    }
    await waitFor(() => ids.every((id) => sink.acks.some((a) => a.id === id)), "every command to be acked", 15_000);
    resumed[0]!.send({ type: "command", id: "raw-at-shutdown", action: "note", target: {}, args: { text: "raw at shutdown" } });
    const rawAck = await resumed[0]!.waitFor<AckMsg>((m) => m.type === "ack" && m.id === "raw-at-shutdown");

    expect((await serve.stop("SIGTERM")).code).toBe(0);
    await conn.close();
    store.dispose();
    expect((await verifyLogCli(data)).code).toBe(0);
    const byCommand = eventsByCommand(readLogEvents(data));
    for (const a of [...sink.acks.filter((x) => ids.includes(x.id)), rawAck]) {
      expect(batchCount(byCommand.get(a.id)), a.id).toBe(1);
      expect(byCommand.get(a.id)![0]!.seq).toBe(a.seq);
    }
    expect(sink.snapshots).toHaveLength(1);
    expect(gapsAndRepeats(sink.eventSeqs(), sink.snapshots[0]!.seq + 1)).toEqual({ gaps: [], repeats: [] });
  }, 90_000);

  it("crash mid-write: verify-log names the torn line, the restart cuts it off and says so, and the chain goes on", async () => {
    const dir = tempDir("torn");
    const data = join(dir, "data");
    const scenario = writeSteadyScenario(dir, { rollouts: 1, metrics: 3, speed: 20, sampleEverySeconds: 1 });
    const args = ["--scenario", scenario, "--port", "0", "--data-dir", data];
    let serve = await spawnServe(args);
    const c = await TestClient.open(serve.url, { client: "torn-observer" });
    await c.waitFor((m) => m.type === "event" && m.event.seq >= 10);
    expect((await serve.stop("SIGKILL")).signal).toBe("SIGKILL");
    await waitFor(() => c.closeCode !== null, "the close", 5_000);

    // What a crash in the middle of a write leaves: the start of a line, no "\n".
    const file = join(data, "events.jsonl");
    const events = readLogEvents(data);
    const head = events.at(-1)!;
    const next: CockpitEvent = { ...head, seq: head.seq + 1, id: "evt_torn", prev: head.hash };
    const torn = JSON.stringify(next).slice(0, 120);
    appendFileSync(file, torn);
    const before = await verifyLogCli(data);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(new RegExp(`BROKEN at line ${events.length + 1}.*a write cut short\\? the backend cuts a torn last line off when it starts`));

    serve = await spawnServe(args);
    expect(serve.stderr()).toMatch(new RegExp(`cut a torn last line \\(${Buffer.byteLength(torn)} bytes.*continuing from seq ${head.seq}`));
    const r = await TestClient.open(serve.url, { client: "torn-resume", resumeFrom: lastSeq(c) });
    await r.waitFor((m) => m.type === "event" && m.event.seq > head.seq + 2, 15_000);
    expect(gapsAndRepeats(r.eventSeqs(), lastSeq(c)! + 1)).toEqual({ gaps: [], repeats: [] });
    await r.close();
    expect((await serve.stop("SIGTERM")).code).toBe(0);
    const after = await verifyLogCli(data);
    expect(after.code, after.stderr).toBe(0);
    expect(readFileSync(file, "utf8")).not.toContain(torn);
  }, 60_000);

  it("damage before the last line is never repaired silently: serve exits 3 and points at verify-log", async () => {
    const dir = tempDir("damaged");
    const data = join(dir, "data");
    const scenario = writeSteadyScenario(dir, { rollouts: 1, metrics: 3, speed: 20, sampleEverySeconds: 1 });
    const args = ["--scenario", scenario, "--port", "0", "--data-dir", data];
    const serve = await spawnServe(args);
    const c = await TestClient.open(serve.url, { client: "damage-observer" });
    await c.waitFor((m) => m.type === "event" && m.event.seq >= 8);
    await serve.stop("SIGTERM");
    const file = join(data, "events.jsonl");
    const lines = readFileSync(file, "utf8").split("\n");
    lines[3] = lines[3]!.replace(/"value":[0-9.]+/, '"value":12345');
    writeFileSync(file, lines.join("\n"));

    const again = await spawnServe(args).then(
      () => null,
      (err: unknown) => err as Error,
    );
    expect(again?.message).toMatch(/exited \(3\)/);
    expect(again?.message).toMatch(/line 4 \(seq 4\).*cockpit verify-log/);
    expect(readFileSync(file, "utf8").split("\n")[3]).toContain('"value":12345'); // left for a person to look at
  }, 60_000);
});
