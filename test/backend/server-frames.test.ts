import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer, type ServerOptions } from "../../src/backend/server.js";
import { MAX_FRAME_BYTES, type AckMsg, type RejectMsg } from "../../src/protocol/types.js";
import { MemoryBackend } from "../support/memory-backend.js";
import { connect, join, type TestClient } from "./server-helpers.js";

// Frames after the upgrade: the hello rules (4400, 4408), bad frames, commands,
// ping/pong, frame size and the command rate limit.

let server: RunningServer | null = null;
const clients: TestClient[] = [];

async function start(backend = new MemoryBackend(), extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  server = await startServer({ backend, serverName: "frames-test", ...extra });
  return server;
}

async function raw(url: string): Promise<TestClient> {
  const client = await connect(url);
  clients.push(client);
  return client;
}

async function joined(url: string): Promise<TestClient> {
  const client = await join(url, null);
  clients.push(client);
  await client.next("snapshot");
  return client;
}

function command(id: string, action = "note", extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: "command", id, action, target: {}, args: { text: `from ${id}` }, ...extra };
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.close();
  server = null;
});

describe("the first frame", () => {
  const notHello: Array<[string, unknown]> = [
    ["a ping", { type: "ping", t: 1 }],
    ["a command", command("c1")],
    ["malformed JSON", "{hello"],
    ["an unknown frame type", { type: "subscribe" }],
    ["a hello without resumeFrom", { type: "hello", protocol: 1, client: "x" }],
  ];
  for (const [what, frame] of notHello) {
    it(`closes 4400 when it is ${what}`, async () => {
      const { url } = await start();
      const client = await raw(url);
      client.send(frame);
      const closed = await client.closed;
      expect(closed.code).toBe(4400);
      expect(closed.reason).toMatch(/^bad handshake: /);
      expect(client.received).toEqual([]);
    });
  }

  it("closes 4400 naming the versions when the protocol differs", async () => {
    const { url } = await start();
    const client = await raw(url);
    client.send({ type: "hello", protocol: 2, client: "future", resumeFrom: null });
    const closed = await client.closed;
    expect(closed.code).toBe(4400);
    expect(closed.reason).toContain("protocol 1");
    expect(closed.reason).toContain("2");
  });

  it("closes 4400 when it is binary", async () => {
    const { url } = await start();
    const client = await raw(url);
    client.ws.send(Buffer.from(JSON.stringify({ type: "hello", protocol: 1, client: "x", resumeFrom: null })), { binary: true });
    expect((await client.closed).code).toBe(4400);
  });

  it("closes 4408 when no hello comes in time", async () => {
    const { url } = await start(new MemoryBackend(), { helloTimeoutMs: 30 });
    const client = await raw(url);
    const closed = await client.closed;
    expect(closed).toEqual({ code: 4408, reason: "hello not received within 30 ms" });
    expect(server!.clients()).toBe(0);
  });

  it("does not time out a client that said hello", async () => {
    const { url } = await start(new MemoryBackend(["payments"]), { helloTimeoutMs: 20 });
    const client = await joined(url);
    // Round trips well past the hello timeout: the connection is still served.
    for (let i = 0; i < 5; i++) {
      client.send({ type: "ping", t: i });
      await client.next("pong", i);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });
});

describe("frames after hello", () => {
  it("answers malformed JSON with an error frame and keeps serving", async () => {
    const { url } = await start();
    const client = await joined(url);
    client.send("{not json");
    const error = await client.next("error");
    expect(error.code).toBe("bad_request");
    expect(error.message).toMatch(/not valid JSON/);
    client.send({ type: "ping", t: 42 });
    expect(await client.next("pong")).toEqual({ type: "pong", t: 42 });
  });

  it("answers a binary frame with an error frame and keeps serving", async () => {
    const { url } = await start();
    const client = await joined(url);
    client.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    const error = await client.next("error");
    expect(error).toEqual({ type: "error", code: "bad_request", message: expect.stringContaining("binary frames are not accepted") });
    client.send({ type: "ping", t: 7 });
    expect((await client.next("pong")).t).toBe(7);
  });

  it("rejects an invalid command with its id and bad_request, without running it", async () => {
    const backend = new MemoryBackend();
    const { url } = await start(backend);
    const client = await joined(url);
    client.send(command("c-bad", "launch_missiles"));
    const reject = await client.next("reject");
    expect(reject).toMatchObject({ type: "reject", id: "c-bad", code: "bad_request" });
    expect(reject.message).toContain("action");
    expect(backend.submitted).toEqual([]);
  });

  it("answers a command whose id is unreadable with an error frame", async () => {
    const { url } = await start();
    const client = await joined(url);
    client.send(command("has spaces in it"));
    const error = await client.next("error");
    expect(error.code).toBe("bad_request");
    expect(error.message).toContain("id");
    expect(client.received.some((m) => m.type === "reject")).toBe(false);
  });

  it("answers a second hello with an error frame", async () => {
    const { url } = await start();
    const client = await joined(url);
    client.hello(null);
    expect((await client.next("error")).message).toContain("hello was already received");
    expect(client.received.filter((m) => m.type === "welcome")).toHaveLength(1);
  });

  it("closes 1009 on a frame over 1 MiB", async () => {
    const { url } = await start();
    const client = await joined(url);
    client.send("x".repeat(MAX_FRAME_BYTES + 1));
    expect((await client.closed).code).toBe(1009);
  });

  it("reads a frame of exactly 1 MiB (answered as bad JSON, not closed)", async () => {
    const { url } = await start();
    const client = await joined(url);
    client.send("x".repeat(MAX_FRAME_BYTES));
    expect((await client.next("error")).code).toBe("bad_request");
    expect(client.ws.readyState).toBe(client.ws.OPEN);
  });
});

describe("commands", () => {
  it("acks a command with the seq of its event, and a retried id with duplicate: true", async () => {
    const backend = new MemoryBackend(["payments"]);
    const { url } = await start(backend);
    const client = await joined(url);
    client.send(command("cmd-1"));
    const first = await client.next("ack");
    expect(first).toEqual({ type: "ack", id: "cmd-1", seq: 1, duplicate: false });
    await client.untilEvent(1);

    client.send(command("cmd-1"));
    expect(await client.next("ack", 1)).toEqual({ type: "ack", id: "cmd-1", seq: 1, duplicate: true });
    expect(backend.log).toHaveLength(1);
  });

  it("gives the original answer to a retry on a new connection", async () => {
    const backend = new MemoryBackend(["payments"]);
    const { url } = await start(backend);
    const first = await joined(url);
    first.send(command("cmd-7"));
    const ack = await first.next("ack");
    first.ws.terminate();

    const second = await joined(url);
    second.send(command("cmd-7"));
    expect(await second.next("ack")).toEqual({ ...ack, duplicate: true });
  });

  it("passes rejects through with code, message and duplicate", async () => {
    const backend = new MemoryBackend(["payments"]);
    const { url } = await start(backend);
    const client = await joined(url);
    client.send(command("p-1", "pause", { target: { rollout: "nope" }, args: undefined }));
    const reject = await client.next("reject");
    expect(reject).toEqual({ type: "reject", id: "p-1", code: "not_found", message: "no rollout nope", duplicate: false });
    client.send(command("p-1", "pause", { target: { rollout: "nope" }, args: undefined }));
    expect((await client.next("reject", 1)).duplicate).toBe(true);
  });

  it("runs commands as the connection's session", async () => {
    const backend = new MemoryBackend(["payments"]);
    const { url } = await start(backend, { demoSession: { actor: "vic", role: "viewer", tenant: "payments" } });
    const client = await joined(url);
    client.send(command("v-1"));
    expect((await client.next("reject")).code).toBe("forbidden");
    expect(backend.submitted[0]!.session).toEqual({ actor: "vic", role: "viewer", tenant: "payments" });
  });

  it("rejects a command the backend failed on, and keeps serving", async () => {
    const backend = new MemoryBackend(["payments"]);
    backend.failCommands = true;
    const lines: string[] = [];
    const { url } = await start(backend, { log: (l) => lines.push(l) });
    const client = await joined(url);
    client.send(command("boom"));
    const reject = await client.next("reject");
    expect(reject).toMatchObject({ id: "boom", code: "invalid_state" });
    expect(lines.some((l) => l.includes("disk full"))).toBe(true);
    client.send({ type: "ping", t: 3 });
    expect((await client.next("pong")).t).toBe(3);
  });

  it("rejects commands over the rate with rate_limited", async () => {
    const backend = new MemoryBackend(["payments"]);
    // perSecond so low that no token comes back while the test runs.
    const { url } = await start(backend, { commandRate: { perSecond: 0.001, burst: 3 } });
    const client = await joined(url);
    for (let i = 0; i < 6; i++) client.send(command(`r-${i}`));
    await client.until((r) => r.filter((m) => m.type === "ack" || m.type === "reject").length === 6, "6 answers");
    const answers = client.received.filter((m): m is AckMsg | RejectMsg => m.type === "ack" || m.type === "reject");
    const limited = answers.filter((m) => m.type === "reject" && m.code === "rate_limited");
    expect(answers.filter((m) => m.type === "ack").map((m) => m.id).sort()).toEqual(["r-0", "r-1", "r-2"]);
    expect(limited.map((m) => m.id).sort()).toEqual(["r-3", "r-4", "r-5"]);
    expect(backend.submitted).toHaveLength(3);

    // The limit is per connection: another client still gets its burst.
    const other = await joined(url);
    other.send(command("o-1"));
    expect((await other.next("ack")).id).toBe("o-1");
  });

  it("answers a resent command with its first outcome even when the rate is used up", async () => {
    const backend = new MemoryBackend(["payments"]);
    const { url } = await start(backend, { commandRate: { perSecond: 0.001, burst: 1 } });
    const client = await joined(url);
    client.send(command("once"));
    const first = await client.next("ack");
    // The bucket is empty now: a new id is refused, a repeat of the answered one is not.
    client.send(command("new"));
    expect(await client.next("reject")).toMatchObject({ id: "new", code: "rate_limited" });
    client.send(command("once"));
    const again = await client.next("ack", 1);
    expect(again).toMatchObject({ id: "once", seq: first.seq, duplicate: true });
    expect(backend.log.filter((e) => e.actor.kind === "human")).toHaveLength(1);
  });

  it("refills the rate-limit bucket as time passes", async () => {
    let clock = 0;
    const { url } = await start(new MemoryBackend(["payments"]), { commandRate: { perSecond: 1, burst: 1 }, now: () => clock });
    const client = await joined(url);
    client.send(command("t-1"));
    client.send(command("t-2"));
    await client.next("reject");
    clock += 1000;
    client.send(command("t-3"));
    expect((await client.next("ack", 1)).id).toBe("t-3");
    expect((await client.next("reject")).id).toBe("t-2");
  });
});

describe("ping", () => {
  it("answers ping with pong carrying the same t", async () => {
    const { url } = await start();
    const client = await joined(url);
    client.send({ type: "ping", t: 1732197940123 });
    expect(await client.next("pong")).toEqual({ type: "pong", t: 1732197940123 });
  });
});
