import { afterEach, describe, expect, it } from "vitest";
import { startServer } from "../../src/backend/server.js";
import { connect, type ConnectOptions } from "../../src/client/connection.js";
import { createCockpitStore } from "../../src/store/cockpit-store.js";
import { MemoryBackend } from "../support/memory-backend.js";
import { RecordingSink, sleep, waitFor } from "../client/helpers/recording-sink.js";
import { startFaultProxy } from "../support/fault-proxy.js";

// Found by the network-fault tests: after a reconnect the cockpit sends every
// unanswered command again at once; past the backend's per-connection burst,
// some of those resends were answered "rate_limited" and shown as refused,
// although they had run on their first send. A rate-limited resend is not the
// command's answer: it stays pending and goes again. A command refused for
// rate on its one and only send is refused, as before.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function setup(extra: Partial<ConnectOptions> = {}) {
  // No knowsCommand: the server holds resends to the rate limit, the case under test.
  const backend = new MemoryBackend(["demo"], { knowsCommand: false });
  const server = await startServer({ backend, serverName: "rate-test", pingIntervalMs: 50, commandRate: { perSecond: 5, burst: 3 } });
  cleanups.push(() => server.close());
  const proxy = await startFaultProxy(server.port);
  cleanups.push(() => proxy.close());
  const store = createCockpitStore({ url: proxy.url(), flushIntervalMs: 5, tickMs: 0 });
  const sink = new RecordingSink(store);
  const conn = connect({ url: proxy.url(), clientName: "rate-test", store: sink, pingIntervalMs: 50, backoff: { initialMs: 10, maxMs: 40 }, ...extra });
  cleanups.push(async () => {
    await conn.close();
    store.dispose();
  });
  await waitFor(() => sink.view.status === "live", "live", 5_000);
  return { backend, proxy, store, sink, conn };
}

const answered = (sink: RecordingSink, id: string) => sink.acks.some((a) => a.id === id) || sink.rejects.some((r) => r.id === id) || sink.unknown.some((u) => u.id === id);

describe("rate-limited resends", () => {
  it("resends past the burst are sent again and get their original answers; nothing runs twice", async () => {
    const { backend, proxy, store, sink, conn } = await setup({ livenessMs: 2_500 });
    proxy.mute(); // commands arrive and run; answers are lost
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(conn.send({ action: "note", target: {}, args: { text: `first ${i}` } }));
    await sleep(1_000); // the bucket refills
    for (let i = 0; i < 3; i++) ids.push(conn.send({ action: "note", target: {}, args: { text: `second ${i}` } }));
    await waitFor(() => backend.applied.length === 6, "all six to run on the muted connection", 5_000);
    // Silence -> reconnect -> six resends against a burst of three.
    await waitFor(() => ids.every((id) => answered(sink, id)), "every command to be answered", 15_000);
    expect(sink.rejects).toEqual([]);
    for (const id of ids) {
      expect(sink.acks.filter((a) => a.id === id)).toEqual([expect.objectContaining({ duplicate: true })]);
      expect(backend.applied.filter((a) => a === id)).toHaveLength(1);
    }
    // Each reached the backend twice: its first send, and the one resend the
    // rate limit let through (the refused resends never reach it).
    for (const id of ids) expect(backend.submitted.filter((s) => s.cmd.id === id)).toHaveLength(2);
    store.flush();
    expect(store.store.getState().commands.filter((c) => ids.includes(c.id)).map((c) => c.status)).toEqual(ids.map(() => "acked"));
  }, 30_000);

  it("a command refused for rate on its one send, made while live, is shown refused and not sent again", async () => {
    const { backend, store, sink, conn } = await setup();
    const ids = [0, 1, 2, 3, 4].map((i) => conn.send({ action: "note", target: {}, args: { text: `burst ${i}` } }));
    await waitFor(() => ids.every((id) => answered(sink, id)), "every command to be answered", 5_000);
    const refused = sink.rejects.map((r) => r.id);
    expect(refused).toEqual(ids.slice(3));
    expect(sink.rejects.every((r) => r.code === "rate_limited")).toBe(true);
    await sleep(1_500); // longer than the resend wait: nothing goes again
    expect(backend.submitted.filter((s) => refused.includes(s.cmd.id))).toHaveLength(0);
    expect(backend.applied).toEqual(ids.slice(0, 3));
    store.flush();
    expect(store.store.getState().commands.filter((c) => refused.includes(c.id)).map((c) => c.status)).toEqual(["rejected", "rejected"]);
  }, 30_000);
});
