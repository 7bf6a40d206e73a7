import { afterEach, describe, expect, it } from "vitest";
import { startServer, type RunningServer, type ServerOptions } from "../../src/backend/server.js";
import { foldEvents } from "../../src/domain/fold.js";
import type { CockpitEvent, SnapshotMsg } from "../../src/protocol/types.js";
import { MemoryBackend } from "../support/memory-backend.js";
import { join, tick, types, type TestClient } from "./server-helpers.js";

// Handshake, snapshot, resume and tenant isolation over real sockets.

let server: RunningServer | null = null;
const clients: TestClient[] = [];

async function start(backend: MemoryBackend, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  server = await startServer({ backend, serverName: "test-backend", port: 0, ...extra });
  return server;
}

async function open(url: string, resumeFrom: number | null = null): Promise<TestClient> {
  const client = await join(url, resumeFrom);
  clients.push(client);
  return client;
}

function seqsOf(events: CockpitEvent[], tenant: string, after: number): number[] {
  return events.filter((e) => e.tenant === tenant && e.seq > after).map((e) => e.seq);
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.close();
  server = null;
});

describe("handshake and snapshot", () => {
  it("answers hello with welcome, then the tenant's snapshot, then live events", async () => {
    const backend = new MemoryBackend(["payments", "search"]);
    backend.rollout("payments", "api-v2");
    backend.rollout("search", "idx-v9");
    backend.note("payments", "first");
    const { url } = await start(backend);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/v1\/stream$/);

    const client = await open(url);
    const welcome = await client.next("welcome");
    expect(welcome).toEqual({
      type: "welcome",
      protocol: 1,
      server: "test-backend",
      session: { actor: "demo", role: "commander", tenant: "payments" },
      headSeq: 3,
    });
    const snapshot = await client.next("snapshot");
    expect(snapshot.seq).toBe(3);
    expect(snapshot.state).toEqual(foldEvents(backend.log.filter((e) => e.tenant === "payments")));
    expect(snapshot.state.rollouts.map((r) => r.id)).toEqual(["api-v2"]);

    const live = backend.note("payments", "live");
    await client.untilEvent(live.seq);
    expect(types(client)).toEqual(["welcome", "snapshot", "event"]);
    expect(client.received[2]).toEqual({ type: "event", event: live });
  });

  it("sends a snapshot at seq 0 with empty lists from an empty backend", async () => {
    const { url } = await start(new MemoryBackend());
    const client = await open(url);
    expect(await client.next("snapshot")).toEqual({ type: "snapshot", seq: 0, state: { rollouts: [], alerts: [], incidents: [] } });
  });

  it("uses the demoSession option when given", async () => {
    const { url } = await start(new MemoryBackend(), { demoSession: { actor: "ana", role: "viewer", tenant: "search" } });
    const client = await open(url);
    expect((await client.next("welcome")).session).toEqual({ actor: "ana", role: "viewer", tenant: "search" });
  });

  it("ignores tokens in demo mode: every client gets the demo session", async () => {
    const { url } = await start(new MemoryBackend(["payments"]));
    const client = await join(url, null, { headers: { authorization: "Bearer whatever" }, token: "also-ignored" });
    clients.push(client);
    expect((await client.next("welcome")).session).toEqual({ actor: "demo", role: "commander", tenant: "payments" });
  });

  it("puts demo sessions on tenant 'demo' when the backend names none", async () => {
    const backend = new MemoryBackend([]);
    const { url } = await start(backend);
    const client = await open(url);
    expect((await client.next("welcome")).session.tenant).toBe("demo");
  });
});

describe("resume", () => {
  it("sends exactly the tenant's events after resumeFrom, then live ones, while events keep arriving", async () => {
    const backend = new MemoryBackend(["payments", "search"]);
    for (let i = 0; i < 40; i++) backend.note(i % 3 === 0 ? "search" : "payments", `n${i}`);
    const { url } = await start(backend);

    // A producer keeps appending to both tenants while clients join and resume.
    let producing = true;
    const producer = (async () => {
      for (let i = 0; producing; i++) {
        backend.note(i % 2 === 0 ? "payments" : "search", `live${i}`);
        await tick();
      }
    })();
    const resumed = await Promise.all([open(url, 10), open(url, 25), open(url, 0)]);
    // Let a few more live events through after everybody joined.
    const joinedAt = backend.headSeq();
    while (backend.headSeq() < joinedAt + 20) await tick();
    producing = false;
    await producer;
    const last = backend.log.filter((e) => e.tenant === "payments").at(-1)!.seq;

    for (const [client, from] of [
      [resumed[0]!, 10],
      [resumed[1]!, 25],
      [resumed[2]!, 0],
    ] as const) {
      await client.untilEvent(last);
      expect(types(client).includes("snapshot")).toBe(false);
      expect(client.eventSeqs()).toEqual(seqsOf(backend.log, "payments", from));
    }
  });

  it("does not repeat events that were in the backlog when the backend tells subscribers late", async () => {
    const backend = new MemoryBackend(["payments"]);
    backend.note("payments", "a");
    const { url } = await start(backend);
    backend.holdNotifications = true;
    backend.note("payments", "b"); // in the log, listeners not told yet
    backend.note("payments", "c");
    const client = await open(url, 1);
    await client.untilEvent(3);
    backend.releaseNotifications(); // now listeners hear about 2 and 3
    backend.holdNotifications = false;
    const d = backend.note("payments", "d");
    await client.untilEvent(d.seq);
    expect(client.eventSeqs()).toEqual([2, 3, 4]);
  });

  it("sends a snapshot first when resumeFrom is older than the events held", async () => {
    const backend = new MemoryBackend(["payments"]);
    backend.rollout("payments", "api-v2");
    for (let i = 0; i < 9; i++) backend.note("payments", `n${i}`);
    backend.firstHeld = 6; // events 1..5 were dropped from memory
    const { url } = await start(backend);

    const client = await open(url, 3);
    const snapshot = await client.next("snapshot");
    expect(snapshot.seq).toBe(10);
    expect(snapshot.state.rollouts.map((r) => r.id)).toEqual(["api-v2"]);
    const live = backend.note("payments", "after");
    await client.untilEvent(live.seq);
    expect(types(client)).toEqual(["welcome", "snapshot", "event"]);
    expect(client.eventSeqs()).toEqual([11]);

    // The oldest resumable point still resumes.
    const resumer = await open(url, 5);
    await resumer.untilEvent(live.seq);
    expect(types(resumer).includes("snapshot")).toBe(false);
    expect(resumer.eventSeqs()).toEqual([6, 7, 8, 9, 10, 11]);
  });

  it("sends a snapshot when resumeFrom is ahead of the log (a client of another log)", async () => {
    const backend = new MemoryBackend(["payments"]);
    backend.note("payments");
    backend.note("payments");
    const { url } = await start(backend);
    const client = await open(url, 500);
    expect((await client.next("snapshot")).seq).toBe(2);
  });

  it("sends nothing but live events when resuming at the head", async () => {
    const backend = new MemoryBackend(["payments"]);
    backend.note("payments");
    const { url } = await start(backend);
    const client = await open(url, 1);
    const live = backend.note("payments");
    await client.untilEvent(live.seq);
    expect(types(client)).toEqual(["welcome", "event"]);
  });
});

describe("tenant isolation", () => {
  it("never sends one tenant's events or state to another", async () => {
    const backend = new MemoryBackend(["payments", "search"]);
    backend.rollout("payments", "api-v2");
    backend.rollout("search", "idx-v9");
    const paymentsServer = await start(backend, { demoSession: { actor: "p", role: "operator", tenant: "payments" } });
    const payments = await open(paymentsServer.url, null);
    const secondServer = await startServer({
      backend,
      serverName: "second",
      demoSession: { actor: "s", role: "operator", tenant: "search" },
    });
    try {
      const search = await join(secondServer.url, 0);
      clients.push(search);
      for (let i = 0; i < 30; i++) backend.note(i % 2 ? "search" : "payments", `x${i}`);
      const lastPayments = backend.log.filter((e) => e.tenant === "payments").at(-1)!.seq;
      const lastSearch = backend.log.filter((e) => e.tenant === "search").at(-1)!.seq;
      await payments.untilEvent(lastPayments);
      await search.untilEvent(lastSearch);

      const snap = payments.received.find((m): m is SnapshotMsg => m.type === "snapshot")!;
      expect(snap.state.rollouts.map((r) => r.id)).toEqual(["api-v2"]);
      for (const m of payments.received) if (m.type === "event") expect(m.event.tenant).toBe("payments");
      for (const m of search.received) if (m.type === "event") expect(m.event.tenant).toBe("search");
      expect(search.eventSeqs()).toEqual(seqsOf(backend.log, "search", 0));
    } finally {
      await secondServer.close();
    }
  });
});
