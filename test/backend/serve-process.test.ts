import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import type { AckMsg, CockpitEvent, EventMsg, SnapshotMsg, WelcomeMsg } from "../../src/protocol/types.js";
import { CLI, startServe, TestClient, type ServeProcess } from "../support/processes.js";

// Issue 2's "done when", end to end: a real `cockpit serve` process, a plain
// WebSocket client speaking PROTOCOL.md, kill -9 and restart.

const run = promisify(execFile);
const started: ServeProcess[] = [];
afterEach(async () => {
  for (const p of started.splice(0)) await p.stop("SIGKILL");
});

function logEvents(dir: string): CockpitEvent[] {
  return readFileSync(join(dir, "events.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CockpitEvent);
}

describe("cockpit serve over a real socket", () => {
  it("streams a snapshot and events, acks a pause once, survives kill -9 and resumes without gap or repeat", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cockpit-serve-"));
    let serve = await startServe(["--scenario", "canary-latency", "--speed", "20", "--port", "0", "--data-dir", dir]);
    started.push(serve);
    expect(serve.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1\/stream$/);

    const c = await TestClient.open(serve.url);
    const welcome = await c.waitFor<WelcomeMsg>((m) => m.type === "welcome");
    expect(welcome.protocol).toBe(1);
    expect(welcome.session.tenant).toBe("payments");
    await c.waitFor<SnapshotMsg>((m) => m.type === "snapshot");
    // the rollout appears, by snapshot or by event
    await c.waitFor((m) => (m.type === "event" && m.event.type === "ring.started") || (m.type === "snapshot" && m.state.rollouts.length > 0));

    c.send({ type: "command", id: "cmd-pause-1", action: "pause", target: { rollout: "api-v408" }, reason: "looking at canary" });
    const ack = await c.waitFor<AckMsg>((m) => m.type === "ack" && m.id === "cmd-pause-1");
    expect(ack.duplicate).toBe(false);
    c.send({ type: "command", id: "cmd-pause-1", action: "pause", target: { rollout: "api-v408" }, reason: "looking at canary" });
    const again = await c.waitFor<AckMsg>((m) => m.type === "ack" && m.id === "cmd-pause-1" && m.duplicate === true);
    expect(again.seq).toBe(ack.seq);
    // Repeats are not held to the command rate (a client resending after a reconnect gets its answer at once).
    for (let i = 0; i < 30; i++) c.send({ type: "command", id: "cmd-pause-1", action: "pause", target: { rollout: "api-v408" } });
    await c.waitFor(() => c.frames.filter((m) => m.type === "ack" && m.id === "cmd-pause-1" && m.duplicate).length === 31);
    expect(c.frames.some((m) => m.type === "reject" && m.code === "rate_limited")).toBe(false);
    // the event the ack names reached this client, before the ack
    const pausedFrame = c.frames.findIndex((m) => m.type === "event" && m.event.seq === ack.seq);
    expect(pausedFrame).toBeGreaterThanOrEqual(0);
    expect(pausedFrame).toBeLessThan(c.frames.indexOf(ack));

    const paused = logEvents(dir).filter((e) => e.type === "rollout.paused");
    expect(paused).toHaveLength(1);
    expect(paused[0]!.actor).toMatchObject({ kind: "human", name: "demo" });
    expect(paused[0]!.command).toBe("cmd-pause-1");

    // let a few more events arrive, then crash the backend mid-stream
    const seenBefore = c.eventSeqs();
    const lastSeen = Math.max(...seenBefore);
    await serve.stop("SIGKILL");
    started.length = 0;
    await c.close().catch(() => undefined);

    const verify = await run(process.execPath, [CLI, "verify-log", dir]).catch((e: { code: number; stdout: string; stderr: string }) => e);
    expect((verify as { code?: number }).code ?? 0).toBe(0);

    serve = await startServe(["--scenario", "canary-latency", "--speed", "20", "--port", "0", "--data-dir", dir]);
    started.push(serve);
    const r = await TestClient.open(serve.url, { resumeFrom: lastSeen });
    const w2 = await r.waitFor<WelcomeMsg>((m) => m.type === "welcome");
    expect(w2.headSeq).toBeGreaterThanOrEqual(lastSeen);
    // wait until the resumed stream reaches the head the server had at welcome, plus one live event
    await r.waitFor((m) => m.type === "event" && m.event.seq > w2.headSeq, 15_000);
    expect(r.frames.some((m) => m.type === "snapshot")).toBe(false);
    const seqs = r.eventSeqs();
    expect(seqs[0]).toBe(lastSeen + 1);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1]! + 1);
    expect(new Set([...seenBefore, ...seqs]).size).toBe(seenBefore.length + seqs.length);

    // the command id is remembered across the crash: the retry changes nothing
    r.send({ type: "command", id: "cmd-pause-1", action: "pause", target: { rollout: "api-v408" } });
    const dup = await r.waitFor<AckMsg>((m) => m.type === "ack" && m.id === "cmd-pause-1");
    expect(dup).toMatchObject({ duplicate: true, seq: ack.seq });
    await r.close();
    expect(await serve.stop("SIGTERM")).toBe(0);
    expect(logEvents(dir).filter((e) => e.type === "rollout.paused")).toHaveLength(1);
    const final = await run(process.execPath, [CLI, "verify-log", dir]);
    expect(final.stdout).toMatch(/intact|ok|verified/i);
  }, 60_000);

  it("refuses a viewer's pause with forbidden and keeps the refusal in the audit trail", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cockpit-serve-"));
    const tokens = join(dir, "tokens.json");
    const { hashToken } = await import("../../src/backend/tokens.js");
    const { writeFileSync } = await import("node:fs");
    writeFileSync(
      tokens,
      JSON.stringify({
        tokens: [
          { sha256: hashToken("viewer-token-123"), name: "vera", role: "viewer", tenant: "payments" },
          { sha256: hashToken("other-tenant-456"), name: "otto", role: "operator", tenant: "search" },
        ],
      }),
    );
    const serve = await startServe(["--scenario", "canary-latency", "--speed", "20", "--port", "0", "--data-dir", join(dir, "data"), "--tokens", tokens]);
    started.push(serve);
    const v = await TestClient.open(serve.url, {}, { Authorization: "Bearer viewer-token-123" });
    await v.waitFor((m) => m.type === "welcome");
    await v.waitFor((m) => (m.type === "event" && m.event.type === "ring.started") || (m.type === "snapshot" && m.state.rollouts.length > 0));
    v.send({ type: "command", id: "v-1", action: "pause", target: { rollout: "api-v408" } });
    const rej = await v.waitFor((m) => m.type === "reject" && m.id === "v-1");
    expect(rej).toMatchObject({ code: "forbidden" });
    const audit = await v.waitFor<EventMsg>((m) => m.type === "event" && m.event.type === "command.rejected");
    expect(audit.event.actor).toMatchObject({ name: "vera", role: "viewer" });

    // another tenant's operator cannot see or touch payments' rollout
    const o = await TestClient.open(serve.url, {}, { Authorization: "Bearer other-tenant-456" });
    const snap = await o.waitFor<SnapshotMsg>((m) => m.type === "snapshot");
    expect(snap.state.rollouts).toEqual([]);
    o.send({ type: "command", id: "o-1", action: "pause", target: { rollout: "api-v408" } });
    const rej2 = await o.waitFor((m) => m.type === "reject" && m.id === "o-1");
    expect(rej2).toMatchObject({ code: "not_found" });
    expect(o.frames.some((m) => m.type === "event" && m.event.tenant === "payments")).toBe(false);

    const bad = await TestClient.open(serve.url, {}, { Authorization: "Bearer nope" });
    await expect(bad.waitFor(() => false, 5000)).rejects.toThrow(/closed \(4401\)/);
    expect(bad.closeCode).toBe(4401);
    await v.close();
    await o.close();
  }, 30_000);
});
