import { Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer, type ServerOptions } from "../../src/backend/server.js";
import { MemoryBackend } from "../support/memory-backend.js";
import { connect, join, tick, type TestClient } from "./server-helpers.js";

// Flow control and connection lifetime: the bounded send queue (4409), liveness
// and shutdown (1001).

let server: RunningServer | null = null;
const clients: TestClient[] = [];

async function start(backend: MemoryBackend, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  server = await startServer({ backend, serverName: "flow-test", ...extra });
  return server;
}

async function joined(url: string, resumeFrom: number | null = null): Promise<TestClient> {
  const client = await join(url, resumeFrom);
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.close();
  server = null;
});

describe("slow consumers", () => {
  it("closes a client that stopped reading with 4409, while another keeps receiving", async () => {
    const backend = new MemoryBackend(["payments"]);
    const lines: string[] = [];
    const maxQueueBytes = 256 * 1024;
    // A long grace so the stalled client is still there to read its close frame.
    const { url } = await start(backend, { maxQueueBytes, closeGraceMs: 60_000, log: (l) => lines.push(l) });
    const stalled = await joined(url, 0);
    const reader = await joined(url, 0);
    stalled.ws.pause();

    const text = "z".repeat(2000);
    let last = 0;
    while (server!.clients() === 2) {
      for (let i = 0; i < 10; i++) last = backend.note("payments", text).seq;
      // The reader keeps up; only the stalled client falls behind.
      await reader.untilEvent(last);
    }
    expect(server!.clients()).toBe(1);
    expect(lines.some((l) => l.includes("closing 4409"))).toBe(true);

    // The reader goes on receiving after the stalled client was dropped.
    const after = backend.note("payments", "after").seq;
    await reader.untilEvent(after);
    expect(reader.eventSeqs()).toEqual(backend.log.map((e) => e.seq));

    stalled.ws.resume();
    expect(await stalled.closed).toEqual({ code: 4409, reason: "too slow: resume later" });
    // What did arrive is a prefix of the log: no gap, no repeat, then nothing.
    const got = stalled.eventSeqs();
    expect(got.length).toBeLessThan(backend.log.length);
    expect(got).toEqual(backend.log.slice(0, got.length).map((e) => e.seq));

    // Resuming from what it saw delivers the rest.
    const again = await joined(url, got.at(-1) ?? 0);
    await again.untilEvent(after);
    expect([...got, ...again.eventSeqs()]).toEqual(backend.log.map((e) => e.seq));
    // The kernel's socket buffers absorb a few MB first, so this streams a while; the timeout only guards a hang.
  }, 30_000);

  it("serves a backlog far larger than the queue bound to a client that reads", async () => {
    const backend = new MemoryBackend(["payments"]);
    const text = "b".repeat(1500);
    // ~10 MB of frames: more than loopback's kernel buffers take in one go.
    for (let i = 0; i < 6000; i++) backend.note("payments", text);
    const { url } = await start(backend, { maxQueueBytes: 256 * 1024 });
    const client = await joined(url, 0);
    // Live events while the backlog drains go out after it, in order.
    for (let i = 0; i < 20; i++) backend.note("payments", "live");
    await client.untilEvent(backend.headSeq());
    expect(client.eventSeqs()).toEqual(backend.log.map((e) => e.seq));
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  }, 30_000);
});

describe("writes", () => {
  it("sends a batch of events in one write to the kernel, not one per event, all of them in order", async () => {
    const backend = new MemoryBackend(["payments"]);
    const { url } = await start(backend);
    const client = await joined(url, 0);
    // Writes the server's end of this connection hands to the kernel (Node's net.Socket: _write for one chunk, _writev for several).
    const port = (client.ws as unknown as { _socket: Socket })._socket.localPort;
    let writes = 0;
    const proto = Socket.prototype as unknown as Record<"_write" | "_writev", (...a: unknown[]) => unknown>;
    const originals = { _write: proto._write, _writev: proto._writev };
    for (const name of ["_write", "_writev"] as const) {
      proto[name] = function (this: Socket, ...args: unknown[]) {
        if (this.remotePort === port) writes++;
        return originals[name].apply(this, args);
      };
    }
    try {
      const batch = backend.append(Array.from({ length: 50 }, (_, i) => ({ tenant: "payments", type: "note.added" as const, actor: { kind: "engine" as const, name: "engine" }, data: { text: `n${i}` } })));
      await client.untilEvent(batch.at(-1)!.seq);
      expect(client.eventSeqs()).toEqual(batch.map((e) => e.seq));
      // One write per event cost both ends a system call each: the client then reads 50 times for one batch.
      expect(writes).toBe(1);
    } finally {
      Object.assign(proto, originals);
    }
  });
});

describe("liveness", () => {
  it("drops a client that answers no pings", async () => {
    const backend = new MemoryBackend(["payments"]);
    const { url } = await start(backend, { pingIntervalMs: 10, livenessMs: 50 });
    const silent = await connect(url, { autoPong: false });
    clients.push(silent);
    silent.hello(null);
    await silent.next("snapshot");
    expect((await silent.closed).code).toBe(1006);
    expect(server!.clients()).toBe(0);
  });

  it("keeps a client that answers pings", async () => {
    const backend = new MemoryBackend(["payments"]);
    const { url } = await start(backend, { pingIntervalMs: 10, livenessMs: 50 });
    const client = await joined(url);
    let pings = 0;
    // 20 pings span four liveness windows.
    await new Promise<void>((resolve) => client.ws.on("ping", () => ++pings === 20 && resolve()));
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(server!.clients()).toBe(1);
  });
});

describe("close()", () => {
  it("closes every client with 1001, then stops listening", async () => {
    const backend = new MemoryBackend(["payments"]);
    const running = await start(backend);
    const a = await joined(running.url);
    const b = await joined(running.url);
    const waiting = await connect(running.url); // not yet said hello
    clients.push(waiting);
    expect(running.clients()).toBe(3);

    await running.close();
    for (const c of [a, b, waiting]) expect(await c.closed).toEqual({ code: 1001, reason: "server going away" });
    expect(running.clients()).toBe(0);
    expect(backend.listenerCount()).toBe(0);
    await expect(connect(running.url)).rejects.toThrow(/ECONNREFUSED/);
    await running.close(); // a second close is harmless
    server = null;
  });

  it("finishes even when a client does not read its close frame", async () => {
    const backend = new MemoryBackend(["payments"]);
    const running = await start(backend);
    const stalled = await joined(running.url);
    stalled.ws.pause();
    await running.close();
    stalled.ws.resume();
    expect([1001, 1006]).toContain((await stalled.closed).code);
    server = null;
  });

  it("stops delivering events once closed", async () => {
    const backend = new MemoryBackend(["payments"]);
    const running = await start(backend);
    const client = await joined(running.url);
    await running.close();
    await client.closed;
    backend.note("payments");
    await tick();
    expect(client.eventSeqs()).toEqual([]);
    server = null;
  });
});
