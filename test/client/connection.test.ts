import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type ConnectOptions, type Connection } from "../../src/client/connection.js";
import { startServer, type RunningServer } from "../../src/backend/server.js";
import { createTokenTable, hashToken } from "../../src/backend/tokens.js";
import { createCockpitStore, type CockpitStore } from "../../src/store/cockpit-store.js";
import { startFaultProxy, type FaultProxy } from "../support/fault-proxy.js";
import { MemoryBackend } from "../support/memory-backend.js";
import { RecordingSink, sleep, waitFor } from "./helpers/recording-sink.js";
import { chain, eventFrame, snapshot, startScriptedServer, welcome } from "./helpers/scripted-server.js";

// Real sockets throughout: the reference server (startServer) over an
// in-memory backend, a TCP relay to cut or silence the wire, and a scripted
// ws server for what a correct server never does.

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const FAST = { backoff: { initialMs: 10, maxMs: 40 } };

function open(opts: Partial<ConnectOptions> & { url: string; store: ConnectOptions["store"] }): Connection {
  const conn = connect({ clientName: "connection-test", ...opts });
  cleanups.push(() => conn.close());
  return conn;
}

async function serve(backend: MemoryBackend, extra: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RunningServer & { logs: string[] }> {
  const logs: string[] = [];
  const server = await startServer({ backend, serverName: "test-server", pingIntervalMs: 50, log: (l) => logs.push(l), ...extra });
  cleanups.push(() => server.close());
  return Object.assign(server, { logs });
}

async function proxyTo(port: number): Promise<FaultProxy> {
  const proxy = await startFaultProxy(port);
  cleanups.push(() => proxy.close());
  return proxy;
}

async function scripted(script: Parameters<typeof startScriptedServer>[0]) {
  const server = await startScriptedServer(script);
  cleanups.push(() => server.close());
  return server;
}

function realStore(url: string): CockpitStore {
  const store = createCockpitStore({ url, flushIntervalMs: 10, tickMs: 0 });
  cleanups.push(() => store.dispose());
  return store;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const address = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof address === "object" && address ? address.port : 0;
}

describe("handshake", () => {
  it("says hello with the token in the Authorization header, gets welcome and snapshot, then live events", async () => {
    const backend = new MemoryBackend(["payments"]);
    backend.notes("payments", 3);
    const token = "tok-alice-0123456789";
    const tokens = createTokenTable([{ sha256: hashToken(token), name: "alice", role: "operator", tenant: "payments" }]);
    const server = await serve(backend, { tokens });
    const store = realStore(server.url);
    const sink = new RecordingSink(store);
    open({ url: server.url, token, store: sink });

    await waitFor(() => sink.view.status === "live" && sink.snapshots.length === 1, "live with a snapshot");
    expect(sink.welcomes[0]!.session).toEqual({ actor: "alice", role: "operator", tenant: "payments" });
    expect(sink.snapshots[0]!.seq).toBe(3);
    expect(server.logs.some((l) => /snapshot at 3/.test(l))).toBe(true);

    backend.notes("payments", 2);
    await waitFor(() => sink.events.length === 2, "two live events");
    expect(sink.eventSeqs()).toEqual([4, 5]);
    store.flush();
    const view = store.store.getState();
    expect(view.connection).toMatchObject({ status: "live", lastSeq: 5, session: { actor: "alice" } });
    expect(view.timeline.map((t) => t.seq)).toEqual([4, 5]);
  });

  it("sends resumeFrom null the first time, the token in the header and not in hello", async () => {
    const server = await scripted((ws) => ws.send(welcome(0)));
    const sink = new RecordingSink();
    open({ url: server.url, token: "secret-token", clientName: "cockpit/test", store: sink });
    await waitFor(() => server.hellos.length === 1, "hello");
    expect(server.hellos[0]).toEqual({ type: "hello", protocol: 1, client: "cockpit/test", resumeFrom: null });
    expect(server.authorizations[0]).toBe("Bearer secret-token");
  });

  it("puts the token in hello instead of the header with tokenInHello", async () => {
    const backend = new MemoryBackend(["payments"]);
    const token = "tok-bob-0123456789";
    const tokens = createTokenTable([{ sha256: hashToken(token), name: "bob", role: "viewer", tenant: "payments" }]);
    const server = await serve(backend, { tokens });
    const sink = new RecordingSink();
    open({ url: server.url, token, tokenInHello: true, store: sink });
    await waitFor(() => sink.view.status === "live", "live");
    expect(sink.welcomes[0]!.session.actor).toBe("bob");

    const spy = await scripted((ws) => ws.send(welcome(0)));
    open({ url: spy.url, token, tokenInHello: true, store: new RecordingSink() });
    await waitFor(() => spy.hellos.length === 1, "hello");
    expect(spy.hellos[0]!.token).toBe(token);
    expect(spy.authorizations[0]).toBeUndefined();
  });

  it("adds /v1/stream to a bare ws://host:port", async () => {
    const server = await serve(new MemoryBackend(["demo"]));
    const sink = new RecordingSink();
    open({ url: `ws://127.0.0.1:${server.port}`, store: sink });
    await waitFor(() => sink.view.status === "live", "live");
  });

  it("shows the round-trip time from its pings", async () => {
    const server = await serve(new MemoryBackend(["demo"]));
    const sink = new RecordingSink();
    open({ url: server.url, store: sink, pingIntervalMs: 20 });
    await waitFor(() => sink.patches.some((p) => typeof p.rttMs === "number"), "an rtt reading");
    const rtt = sink.patches.find((p) => typeof p.rttMs === "number")!.rttMs!;
    expect(rtt).toBeGreaterThanOrEqual(0);
  });
});

describe("resume", () => {
  it("resumes after the wire is cut with no gap and no repeat", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.notes("demo", 3);
    const server = await serve(backend);
    const proxy = await proxyTo(server.port);
    const sink = new RecordingSink();
    open({ url: proxy.url(), store: sink, ...FAST });
    await waitFor(() => sink.view.status === "live" && sink.snapshots.length === 1, "live");
    backend.notes("demo", 2);
    await waitFor(() => sink.events.length === 2, "events 4 and 5");

    proxy.cut();
    backend.notes("demo", 3); // 6..8 happen while the client is away
    await waitFor(() => sink.welcomes.length === 2 && sink.events.at(-1)?.seq === 8, "resumed through seq 8");
    backend.notes("demo", 1);
    await waitFor(() => sink.events.at(-1)?.seq === 9, "seq 9 live after the resume");

    expect(sink.eventSeqs()).toEqual([4, 5, 6, 7, 8, 9]);
    expect(sink.snapshots).toHaveLength(1);
    expect(server.logs.some((l) => /resume from 5/.test(l))).toBe(true);
    expect(sink.statuses()).toEqual(["connecting", "live", "reconnecting", "live"]);
  });

  it("takes a fresh snapshot when the server no longer holds the missed events, then continues from it", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.notes("demo", 2);
    const server = await serve(backend);
    const proxy = await proxyTo(server.port);
    const sink = new RecordingSink();
    open({ url: proxy.url(), store: sink, ...FAST });
    await waitFor(() => sink.view.status === "live", "live");
    proxy.cut();
    backend.notes("demo", 5);
    backend.firstHeld = 6; // events 3..5 were compacted away
    await waitFor(() => sink.snapshots.length === 2, "second snapshot");
    expect(sink.snapshots.map((s) => s.seq)).toEqual([2, 7]);
    backend.notes("demo", 1);
    await waitFor(() => sink.events.length === 1, "event after the snapshot");
    expect(sink.eventSeqs()).toEqual([8]);
  });

  it("reports caught-up once the backlog queued with the welcome has been delivered", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.notes("demo", 6);
    const server = await serve(backend);
    const sink = new RecordingSink();
    const seenAtCatchUp: number[][] = [];
    open({ url: server.url, store: sink, resumeFrom: 0, pingIntervalMs: 60_000, onCaughtUp: () => seenAtCatchUp.push(sink.eventSeqs()) });
    await waitFor(() => seenAtCatchUp.length === 1, "caught up");
    expect(seenAtCatchUp[0]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(sink.snapshots).toEqual([]);
  });

  it("never hands the store an event twice, even from a server that repeats itself", async () => {
    const events = chain(5);
    const server = await scripted((ws) => {
      ws.send(welcome(5));
      ws.send(snapshot(2));
      for (const i of [3, 3, 2, 4, 1, 4, 5]) ws.send(eventFrame(events[i - 1]!));
    });
    const sink = new RecordingSink();
    open({ url: server.url, store: sink });
    await waitFor(() => sink.events.at(-1)?.seq === 5, "event 5");
    expect(sink.eventSeqs()).toEqual([3, 4, 5]);
  });

  it("reconnects after 4409 (too slow) and resumes from the last seq it saw", async () => {
    const events = chain(5);
    const server = await scripted((ws, _hello, n) => {
      if (n === 0) {
        ws.send(welcome(4));
        ws.send(snapshot(2));
        ws.send(eventFrame(events[2]!));
        ws.send(eventFrame(events[3]!));
        setTimeout(() => ws.close(4409, "too slow: resume later"), 30);
      } else {
        ws.send(welcome(5));
        ws.send(eventFrame(events[4]!));
      }
    });
    const sink = new RecordingSink();
    open({ url: server.url, store: sink, ...FAST });
    await waitFor(() => sink.events.at(-1)?.seq === 5, "event 5 after the reconnect");
    expect(server.hellos.map((h) => h.resumeFrom)).toEqual([null, 4]);
    expect(sink.eventSeqs()).toEqual([3, 4, 5]);
    expect(sink.errors().some((e) => /too slow/.test(e))).toBe(true);
    expect(sink.statuses()).toEqual(["connecting", "live", "reconnecting", "live"]);
  });
});

describe("liveness", () => {
  it("declares a silent server stale, cuts it and reconnects", async () => {
    const server = await scripted((ws, _hello, n) => {
      ws.send(welcome(0));
      if (n === 0) ws.send(snapshot(0)); // ... and then nothing, ever
      else ws.send(snapshot(0));
    });
    const sink = new RecordingSink();
    open({ url: server.url, store: sink, livenessMs: 150, pingIntervalMs: 10_000, ...FAST });
    await waitFor(() => server.hellos.length === 2, "a second hello");
    const statuses = sink.statuses();
    expect(statuses.slice(0, 4)).toEqual(["connecting", "live", "stale", "reconnecting"]);
    const stale = sink.patches.find((p) => p.status === "stale")!;
    expect(typeof stale.staleSince).toBe("number");
    expect(stale.error).toMatch(/silent/);
    const reconnecting = sink.patches.find((p) => p.status === "reconnecting")!;
    expect(reconnecting.staleSince).toBe(stale.staleSince);
    expect(reconnecting.retryAt).toBeGreaterThanOrEqual(stale.staleSince!);
    expect(server.hellos[1]!.resumeFrom).toBe(0);
    await waitFor(() => server.sockets[0]!.readyState === server.sockets[0]!.CLOSED, "the dead socket closed");
  });

  it("stays live while the server pings, though no data flows", async () => {
    const server = await serve(new MemoryBackend(["demo"]), { pingIntervalMs: 30 });
    const sink = new RecordingSink();
    open({ url: server.url, store: sink, livenessMs: 400, pingIntervalMs: 10_000 });
    await waitFor(() => sink.view.status === "live", "live");
    await sleep(900);
    expect(sink.statuses()).toEqual(["connecting", "live"]);
  });
});

describe("commands", () => {
  it("re-sends a command cut before its answer with the same id; the backend applies it once", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.notes("demo", 3);
    const server = await serve(backend);
    const proxy = await proxyTo(server.port);
    const store = realStore(proxy.url());
    const sink = new RecordingSink(store);
    const conn = open({ url: proxy.url(), store: sink, ...FAST });
    await waitFor(() => sink.view.status === "live", "live");

    // Applied, then the wire dies before the ack can leave.
    backend.beforeAnswer = () => {
      backend.beforeAnswer = null;
      proxy.cut();
    };
    const id = conn.send({ action: "note", target: {}, args: { text: "checking the canary" } });
    await waitFor(() => sink.acks.length === 1, "the ack after the reconnect");

    expect(id).toMatch(/^c-[0-9a-f]+-\d+$/);
    expect(backend.submitted.map((s) => s.cmd.id)).toEqual([id, id]);
    expect(backend.applied).toEqual([id]);
    expect(sink.acks[0]).toEqual({ type: "ack", id, seq: 4, duplicate: true });
    expect(sink.sent.map((c) => c.id)).toEqual([id]);
    expect(sink.welcomes).toHaveLength(2);
    await waitFor(() => sink.events.some((e) => e.command === id), "the note event");
    expect(sink.events.filter((e) => e.command === id)).toHaveLength(1);
    store.flush();
    expect(store.store.getState().commands.find((c) => c.id === id)).toMatchObject({ status: "acked", duplicate: true });
  });

  it("queues a command while reconnecting and sends it once, same id, when live again", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.rollout("demo", "api"); // the pause needs a rollout to act on
    const server = await serve(backend);
    const proxy = await proxyTo(server.port);
    const sink = new RecordingSink();
    const conn = open({ url: proxy.url(), store: sink, backoff: { initialMs: 300, maxMs: 300 }, random: () => 1 });
    await waitFor(() => sink.view.status === "live", "live");
    proxy.cut();
    await waitFor(() => sink.view.status === "reconnecting", "reconnecting");

    const id = conn.send({ action: "pause", target: { rollout: "api" }, reason: "latency" });
    expect(sink.sent).toEqual([{ type: "command", id, action: "pause", target: { rollout: "api" }, reason: "latency" }]);
    expect(backend.submitted.map((s) => s.cmd.id)).toEqual([]);
    await waitFor(() => sink.acks.length === 1, "the ack");
    expect(backend.submitted.map((s) => s.cmd.id)).toEqual([id]);
    expect(sink.acks[0]).toMatchObject({ id, duplicate: false });
  });

  it("gives every command its own id", async () => {
    const backend = new MemoryBackend(["demo"]);
    const server = await serve(backend);
    const sink = new RecordingSink();
    const conn = open({ url: server.url, store: sink });
    await waitFor(() => sink.view.status === "live", "live");
    const ids = [1, 2, 3].map((i) => conn.send({ action: "note", target: {}, args: { text: `n${i}` } }));
    await waitFor(() => sink.acks.length === 3, "three acks");
    expect(new Set(ids).size).toBe(3);
    expect(backend.applied).toEqual(ids);
  });

  it("drops a queued command that waited longer than commandRetryMs, telling the store it was not sent", async () => {
    const server = await scripted((ws, _hello, n) => {
      if (n === 0) setTimeout(() => ws.close(1000, "later"), 50);
      else ws.send(welcome(0));
    });
    const sink = new RecordingSink();
    const conn = open({ url: server.url, store: sink, commandRetryMs: 0, ...FAST });
    await waitFor(() => server.hellos.length === 1, "first hello");
    const id = conn.send({ action: "resume", target: { rollout: "api" } });
    await waitFor(() => sink.unknown.length === 1, "the command marked unknown");
    expect(sink.unknown[0]!.id).toBe(id);
    expect(sink.unknown[0]!.message).toMatch(/^not sent/);
    expect(server.frames.filter((f) => f.type === "command")).toEqual([]);
  });

  it("refuses commands past the queue bound with a local reject", async () => {
    const server = await scripted(() => {}); // never welcomes: nothing can be sent
    const sink = new RecordingSink();
    const conn = open({ url: server.url, store: sink, commandCapacity: 2 });
    const ids = [0, 1, 2].map(() => conn.send({ action: "promote", target: { rollout: "api" } }));
    expect(sink.sent.map((c) => c.id)).toEqual(ids);
    expect(sink.rejects).toHaveLength(1);
    expect(sink.rejects[0]).toMatchObject({ id: ids[2], code: "rate_limited" });
    expect(sink.rejects[0]!.message).toMatch(/2 commands already wait/);
  });

  it("refuses a command larger than a frame with a local reject", async () => {
    const server = await scripted((ws) => ws.send(welcome(0)));
    const sink = new RecordingSink();
    const conn = open({ url: server.url, store: sink });
    await waitFor(() => sink.view.status === "live", "live");
    const id = conn.send({ action: "note", target: {}, args: { text: "x".repeat(1024 * 1024) } });
    expect(sink.rejects[0]).toMatchObject({ id, code: "bad_request" });
    await sleep(50);
    expect(server.frames.filter((f) => f.type === "command")).toEqual([]);
  });

  it("sends nothing in read-only mode: returns '' and says why in the store", async () => {
    const server = await scripted((ws) => ws.send(welcome(0)));
    const sink = new RecordingSink();
    const conn = open({ url: server.url, store: sink, readonly: true });
    await waitFor(() => sink.view.status === "live", "live");
    expect(conn.send({ action: "rollback", target: { rollout: "api" }, reason: "bad" })).toBe("");
    expect(sink.sent).toEqual([]);
    expect(sink.view.error).toBe("read-only mode: rollback was not sent");
    await sleep(50);
    expect(server.frames.filter((f) => f.type === "command")).toEqual([]);
  });
});

describe("close codes and failures", () => {
  it("stops on 4401 with the token sentence and does not retry", async () => {
    const backend = new MemoryBackend(["payments"]);
    const tokens = createTokenTable([{ sha256: hashToken("the-right-token"), name: "alice", role: "operator", tenant: "payments" }]);
    const server = await serve(backend, { tokens });
    const proxy = await proxyTo(server.port);
    const sink = new RecordingSink();
    const failures: string[] = [];
    const conn = open({ url: proxy.url(), token: "a-wrong-token", store: sink, backoff: { initialMs: 5, maxMs: 10 }, onFail: (kind) => failures.push(kind) });
    const queued = conn.send({ action: "pause", target: { rollout: "api" } });
    await waitFor(() => sink.view.status === "failed", "failed");
    expect(sink.view.error).toBe(`token rejected by ${proxy.url()}: check COCKPIT_TOKEN`);
    expect(failures).toEqual(["auth"]);
    expect(sink.unknown.map((u) => u.id)).toEqual([queued]);
    await sleep(200);
    expect(proxy.accepted).toBe(1);
    expect(sink.statuses()).toEqual(["connecting", "failed"]);

    const late = conn.send({ action: "pause", target: { rollout: "api" } });
    expect(sink.unknown.at(-1)).toEqual({ id: late, message: `not sent: token rejected by ${proxy.url()}: check COCKPIT_TOKEN` });
  });

  it("says a token is needed when the server wants one and none was given", async () => {
    const tokens = createTokenTable([{ sha256: hashToken("the-right-token"), name: "alice", role: "operator", tenant: "demo" }]);
    const server = await serve(new MemoryBackend(["demo"]), { tokens });
    const sink = new RecordingSink();
    open({ url: server.url, store: sink });
    await waitFor(() => sink.view.status === "failed", "failed");
    expect(sink.view.error).toBe(`${server.url} requires a token: set COCKPIT_TOKEN or pass --token`);
  });

  it("stops on 4400 and says the protocols do not match", async () => {
    const server = await scripted((ws) => ws.close(4400, "bad handshake: protocol 1 is not spoken here"));
    const sink = new RecordingSink();
    const failures: string[] = [];
    open({ url: server.url, store: sink, ...FAST, onFail: (kind) => failures.push(kind) });
    await waitFor(() => sink.view.status === "failed", "failed");
    expect(sink.view.error).toMatch(/protocol mismatch/);
    expect(failures).toEqual(["protocol"]);
    await sleep(100);
    expect(server.hellos).toHaveLength(1);
  });

  it("stops when the answer to hello is not a welcome it can read (another protocol version)", async () => {
    const server = await scripted((ws) =>
      ws.send(JSON.stringify({ type: "welcome", protocol: 2, server: "future", session: { actor: "a", role: "viewer", tenant: "t" }, headSeq: 0 })),
    );
    const sink = new RecordingSink();
    open({ url: server.url, store: sink, ...FAST });
    await waitFor(() => sink.view.status === "failed", "failed");
    expect(sink.view.error).toMatch(/protocol mismatch/);
  });

  it("reconnects when the server goes away (1001), and says it cannot reach a server that is gone", async () => {
    const backend = new MemoryBackend(["demo"]);
    const server = await serve(backend);
    const sink = new RecordingSink();
    open({ url: server.url, store: sink, ...FAST });
    await waitFor(() => sink.view.status === "live", "live");
    await server.close();
    await waitFor(() => sink.errors().some((e) => /cannot reach/.test(e)), "a refused reconnect");
    const errors = sink.errors();
    expect(errors[0]).toMatch(/going away/);
    expect(errors).toContain(`cannot reach ${server.url}: is \`cockpit serve\` running?`);
    expect(sink.view.status).toBe("reconnecting");
  });

  it("gives up after maxAttempts when nothing listens", async () => {
    const port = await freePort();
    const sink = new RecordingSink();
    const failures: string[] = [];
    open({ url: `ws://127.0.0.1:${port}`, store: sink, maxAttempts: 3, ...FAST, onFail: (kind) => failures.push(kind) });
    await waitFor(() => sink.view.status === "failed", "failed");
    expect(failures).toEqual(["unreachable"]);
    expect(sink.view.error).toBe(`cannot reach ws://127.0.0.1:${port}/v1/stream: is \`cockpit serve\` running? (gave up after 3 attempts)`);
    expect(sink.patches.filter((p) => p.status === "reconnecting")).toHaveLength(2);
  });

  it("resets the backoff after a connection that stayed live, and grows it otherwise", async () => {
    const retryDelays = async (stableMs: number) => {
      const server = await scripted((ws) => {
        ws.send(welcome(0));
        ws.close(1000, "bye");
      });
      const sink = new RecordingSink();
      open({ url: server.url, store: sink, stableMs, now: () => 1_000, random: () => 1, backoff: { initialMs: 20, maxMs: 1000 } });
      await waitFor(() => server.hellos.length >= 4, "four hellos");
      return sink.patches.filter((p) => p.status === "reconnecting").slice(0, 3).map((p) => p.retryAt! - 1_000);
    };
    expect(await retryDelays(0)).toEqual([20, 20, 20]);
    expect(await retryDelays(60_000)).toEqual([20, 40, 80]);
  });

  it("close() ends it: status closed and no reconnect", async () => {
    const server = await serve(new MemoryBackend(["demo"]));
    const proxy = await proxyTo(server.port);
    const sink = new RecordingSink();
    const conn = open({ url: proxy.url(), store: sink, ...FAST });
    await waitFor(() => sink.view.status === "live", "live");
    const closing = conn.close();
    expect(conn.close()).toBe(closing);
    await closing;
    await sleep(100);
    expect(sink.view.status).toBe("closed");
    expect(proxy.accepted).toBe(1);
  });
});

describe("malformed frames", () => {
  it("ignores bad frames with a short sentence and keeps going", async () => {
    const events = chain(2);
    const server = await scripted((ws) => {
      ws.send(welcome(2));
      ws.send(snapshot(0));
      ws.send("{not json");
      ws.send(JSON.stringify({ type: "event", event: { seq: "one" } }));
      ws.send(JSON.stringify({ type: "launch_missiles" }));
      ws.send(Buffer.from([1, 2, 3]), { binary: true });
      ws.send(JSON.stringify({ type: "snapshot", seq: -1, state: {} }));
      ws.send(eventFrame(events[0]!));
      ws.send(eventFrame(events[1]!));
    });
    const sink = new RecordingSink();
    open({ url: server.url, store: sink });
    await waitFor(() => sink.events.length === 2, "the two good events");
    expect(sink.eventSeqs()).toEqual([1, 2]);
    expect(sink.snapshots.map((s) => s.seq)).toEqual([0]);
    const errors = sink.errors();
    expect(errors.filter((e) => e.startsWith(`ignored a malformed frame from ${server.url}`))).toHaveLength(4);
    expect(errors.filter((e) => e.startsWith("ignored a binary frame"))).toHaveLength(1);
    for (const e of errors) expect(e).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(sink.view.status).toBe("live");
  });

  it("hands the store sanitized text, never raw escape sequences", async () => {
    const [first] = chain(1);
    const hostile = { ...first!, data: { text: "pwned \u001b]52;c;aGk=\u0007 \u202Eevil" } };
    const server = await scripted((ws) => {
      ws.send(welcome(1));
      ws.send(snapshot(0));
      ws.send(eventFrame(hostile));
    });
    const sink = new RecordingSink();
    open({ url: server.url, store: sink });
    await waitFor(() => sink.events.length === 1, "the event");
    const text = (sink.events[0]!.data as { text: string }).text;
    expect(text).not.toMatch(/[\u001b\u0007\u202E]/);
    expect(text).toContain("␛]52;c;aGk=");
  });

  it("survives a store that throws on one frame, and keeps delivering the next", async () => {
    const events = chain(2);
    const server = await scripted((ws) => {
      ws.send(welcome(2));
      ws.send(snapshot(0));
      ws.send(eventFrame(events[0]!));
      ws.send(eventFrame(events[1]!));
    });
    const sink = new RecordingSink();
    const recordEvent = sink.ingest.event;
    let thrown = 0;
    sink.ingest.event = (e) => {
      if (e.seq === 1 && thrown++ === 0) throw new Error("fold blew up");
      recordEvent(e);
    };
    open({ url: server.url, store: sink });
    await waitFor(() => sink.events.length === 1, "event 2");
    expect(sink.eventSeqs()).toEqual([2]);
    expect(sink.errors()).toContain(`could not apply a frame from ${server.url}: fold blew up`);
    expect(sink.view.status).toBe("live");
  });

  it("ignores stream frames that arrive before the welcome", async () => {
    const events = chain(1);
    const server = await scripted((ws) => {
      ws.send(eventFrame(events[0]!));
      ws.send(welcome(1));
      ws.send(snapshot(1));
    });
    const sink = new RecordingSink();
    open({ url: server.url, store: sink });
    await waitFor(() => sink.snapshots.length === 1, "snapshot");
    expect(sink.events).toEqual([]);
    expect(sink.errors()).toContain(`ignored an event frame that ${server.url} sent before its welcome`);
  });
});

describe("wss", () => {
  const cert = readFileSync(new URL("./fixtures/localhost.cert.pem", import.meta.url), "utf8");
  const key = readFileSync(new URL("./fixtures/localhost.key.pem", import.meta.url), "utf8");

  it("connects over TLS when given the server's CA", async () => {
    const server = await serve(new MemoryBackend(["demo"]), { tls: { cert, key } });
    expect(server.url.startsWith("wss://")).toBe(true);
    const sink = new RecordingSink();
    open({ url: server.url, store: sink, ca: cert });
    await waitFor(() => sink.view.status === "live", "live over wss");
  });

  it("stops with a --ca hint when the certificate is not trusted", async () => {
    const server = await serve(new MemoryBackend(["demo"]), { tls: { cert, key } });
    const sink = new RecordingSink();
    open({ url: server.url, store: sink, ...FAST });
    await waitFor(() => sink.view.status === "failed", "failed");
    expect(sink.view.error).toMatch(/does not trust .*--ca/);
  });
});
