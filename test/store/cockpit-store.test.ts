import { afterEach, describe, expect, it, vi } from "vitest";
import { createCockpitStore, seriesKey, type CockpitStore, type CockpitView } from "../../src/store/cockpit-store.js";
import type { CockpitEvent, CommandMsg, EventDataMap, EventType } from "../../src/protocol/types.js";

const T0 = Date.parse("2026-11-21T14:00:00.000Z");

function ev<T extends EventType>(seq: number, type: T, data: EventDataMap[T], refs: Partial<CockpitEvent> = {}): CockpitEvent {
  return {
    seq,
    id: `evt_${seq}`,
    time: new Date(T0 + seq * 1000).toISOString(),
    tenant: "payments",
    type,
    actor: { kind: "engine", name: "engine" },
    data,
    prev: "0".repeat(64),
    hash: "1".repeat(64),
    ...refs,
  } as CockpitEvent;
}

const created = (seq: number, id = "api-v408") =>
  ev(
    seq,
    "rollout.created",
    {
      service: "api",
      version: "v408",
      previousVersion: "v407",
      kind: "code",
      rings: [{ name: "canary", traffic: 1, bakeSeconds: 60, slos: ["p99_latency_ms < 50"] }],
      onBreach: "pause",
    },
    { rollout: id },
  );

const note = (seq: number, text = `note ${seq}`) => ev(seq, "note.added", { text }, { actor: { kind: "human", name: "alice", role: "operator" } });

const sample = (seq: number, value: number | null, baseline?: number) =>
  ev(seq, "sli.sample", { ring: "canary", metric: "p99_latency_ms", value, unit: "ms", ...(baseline !== undefined ? { baseline } : {}) }, { rollout: "api-v408", ring: "canary" });

function command(id: string, action: CommandMsg["action"] = "pause"): CommandMsg {
  return { type: "command", id, action, target: { rollout: "api-v408" } };
}

let stores: CockpitStore[] = [];
function make(opts: Partial<Parameters<typeof createCockpitStore>[0]> = {}): CockpitStore {
  const s = createCockpitStore({ url: "ws://127.0.0.1:1/v1/stream", tickMs: 0, ...opts });
  stores.push(s);
  return s;
}

afterEach(() => {
  for (const s of stores) s.dispose();
  stores = [];
  vi.useRealTimers();
});

describe("batched flush", () => {
  it("publishes many ingests as one update after the flush interval", () => {
    vi.useFakeTimers();
    const s = make({ flushIntervalMs: 66 });
    const seen: CockpitView[] = [];
    s.store.subscribe((v) => seen.push(v));
    s.ingest.event(created(1));
    for (let i = 2; i <= 500; i++) s.ingest.event(note(i));
    expect(seen).toHaveLength(0);
    expect(s.store.getState().timeline).toHaveLength(0);
    vi.advanceTimersByTime(66);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.timeline).toHaveLength(500);
    expect(seen[0]!.connection.lastSeq).toBe(500);
  });

  it("never publishes more often than the interval, even under a steady stream", () => {
    vi.useFakeTimers();
    const s = make({ flushIntervalMs: 66 });
    let updates = 0;
    s.store.subscribe(() => updates++);
    s.ingest.event(created(1));
    // 2,000 events/s for one second: one every half millisecond.
    for (let i = 2; i <= 2001; i++) {
      s.ingest.event(note(i));
      if (i % 2 === 0) vi.advanceTimersByTime(1);
    }
    vi.advanceTimersByTime(66);
    expect(updates).toBeGreaterThan(0);
    expect(updates).toBeLessThanOrEqual(Math.ceil(1066 / 66) + 1);
    expect(s.store.getState().connection.lastSeq).toBe(2001);
  });

  it("flush() publishes at once and cancels the pending timer", () => {
    vi.useFakeTimers();
    const s = make({ flushIntervalMs: 66 });
    let updates = 0;
    s.store.subscribe(() => updates++);
    s.ingest.event(created(1));
    s.flush();
    expect(updates).toBe(1);
    expect(s.store.getState().state.rollouts).toHaveLength(1);
    vi.advanceTimersByTime(200);
    expect(updates).toBe(1);
  });

  it("keeps unchanged parts by identity, so narrow selectors do not re-render", () => {
    const s = make();
    s.ingest.event(created(1));
    s.flush();
    const before = s.store.getState();
    s.ingest.event(sample(2, 40));
    s.flush();
    const after = s.store.getState();
    expect(after.state).toBe(before.state);
    expect(after.timeline).toBe(before.timeline);
    expect(after.commands).toBe(before.commands);
    expect(after.series).not.toBe(before.series);
  });

  it("after dispose, ingests schedule nothing", () => {
    vi.useFakeTimers();
    const s = make({ flushIntervalMs: 66 });
    let updates = 0;
    s.store.subscribe(() => updates++);
    s.dispose();
    s.ingest.event(created(1));
    vi.advanceTimersByTime(1000);
    expect(updates).toBe(0);
  });

  it("the clock tick advances `now` while nothing arrives", () => {
    vi.useFakeTimers();
    let t = T0;
    const s = make({ now: () => t, tickMs: 1000 });
    t += 1000;
    vi.advanceTimersByTime(1000);
    expect(s.store.getState().now).toBe(T0 + 1000);
  });
});

describe("seq de-duplication and snapshots", () => {
  it("ignores an event at or below the last seq (resume overlap): never shown twice", () => {
    const s = make();
    s.ingest.event(created(1));
    s.ingest.event(note(2, "first"));
    s.ingest.event(note(2, "first again"));
    s.ingest.event(note(1, "older"));
    s.ingest.event(note(3, "next"));
    s.flush();
    const texts = s.store.getState().timeline.map((e) => e.text);
    expect(texts.filter((t) => t.includes("first"))).toHaveLength(1);
    expect(texts.some((t) => t.includes("older"))).toBe(false);
    expect(s.store.getState().timeline.map((e) => e.seq)).toEqual([1, 2, 3]);
  });

  it("a snapshot replaces the state, sets lastSeq, and keeps series and timeline", () => {
    const s = make();
    s.ingest.event(created(1));
    s.ingest.event(sample(2, 41));
    s.ingest.event(note(3));
    s.flush();
    const series = s.store.getState().series;
    s.ingest.snapshot({ type: "snapshot", seq: 10, state: { rollouts: [], alerts: [], incidents: [] } });
    s.flush();
    const v = s.store.getState();
    expect(v.state.rollouts).toHaveLength(0);
    expect(v.connection.lastSeq).toBe(10);
    expect(v.series).toBe(series);
    expect(v.series.get(seriesKey("api-v408", "canary", "p99_latency_ms"))?.last).toBe(41);
    expect(v.timeline).toHaveLength(2);
    // events the snapshot already covers are not applied again
    s.ingest.event(created(9));
    s.flush();
    expect(s.store.getState().state.rollouts).toHaveLength(0);
  });

  it("folds events into the state (fold.ts) and describes them for the timeline", () => {
    const s = make();
    s.ingest.event(created(1));
    s.ingest.event(ev(2, "rollout.paused", { reason: "p99 63 > 50", automatic: true }, { rollout: "api-v408" }));
    s.flush();
    const v = s.store.getState();
    expect(v.state.rollouts[0]!.state).toBe("paused");
    expect(v.timeline[1]!.text).toContain("paused api-v408 automatically");
    expect(v.timeline[1]!.rollout).toBe("api-v408");
  });
});

describe("series", () => {
  it("sli.sample goes to the series ring buffer, not to the timeline", () => {
    const s = make();
    s.ingest.event(created(1));
    s.ingest.event(sample(2, 40, 39));
    s.ingest.event(sample(3, 45, 39.5));
    s.flush();
    const v = s.store.getState();
    expect(v.timeline.map((e) => e.type)).toEqual(["rollout.created"]);
    const sv = v.series.get("api-v408/canary/p99_latency_ms")!;
    expect(Array.from(sv.values.toArray())).toEqual([40, 45]);
    expect(sv.last).toBe(45);
    expect(sv.baseline).toBe(39.5);
    expect(sv.unit).toBe("ms");
    expect(sv.updatedSeq).toBe(3);
  });

  it("memory per series is bounded by seriesCapacity", () => {
    const s = make({ seriesCapacity: 120 });
    for (let i = 1; i <= 10_000; i++) s.ingest.event(sample(i, i));
    s.flush();
    const sv = s.store.getState().series.get("api-v408/canary/p99_latency_ms")!;
    expect(sv.values.length).toBe(120);
    expect(sv.values.capacity).toBe(120);
    expect(sv.values.last()).toBe(10_000);
    expect(sv.values.get(0)).toBe(10_000 - 119);
  });

  it("a sample without a value is a gap (NaN), and last says null", () => {
    const s = make();
    s.ingest.event(sample(1, 40));
    s.ingest.event(sample(2, null));
    s.flush();
    const sv = s.store.getState().series.get("api-v408/canary/p99_latency_ms")!;
    expect(sv.last).toBeNull();
    expect(Number.isNaN(sv.values.last())).toBe(true);
    expect(sv.values.length).toBe(2);
  });

  it("a sample without a rollout is dropped, not crashed on", () => {
    const s = make();
    s.ingest.event(ev(1, "sli.sample", { ring: "canary", metric: "x", value: 1, unit: "" }));
    s.flush();
    expect(s.store.getState().series.size).toBe(0);
    expect(s.store.getState().connection.lastSeq).toBe(1);
  });
});

describe("bounded timeline and commands", () => {
  it("keeps only the newest timelineCapacity lines, newest last", () => {
    const s = make({ timelineCapacity: 100 });
    for (let i = 1; i <= 5000; i++) {
      s.ingest.event(note(i));
      if (i % 700 === 0) s.flush();
    }
    s.flush();
    const tl = s.store.getState().timeline;
    expect(tl).toHaveLength(100);
    expect(tl[0]!.seq).toBe(4901);
    expect(tl[99]!.seq).toBe(5000);
  });

  it("keeps only the newest commands", () => {
    const s = make({ commandCapacity: 5 });
    for (let i = 1; i <= 20; i++) s.ingest.commandSent(command(`c${i}`));
    s.flush();
    expect(s.store.getState().commands.map((c) => c.id)).toEqual(["c16", "c17", "c18", "c19", "c20"]);
  });
});

describe("commands", () => {
  it("pending, then acked; a reject carries the server's sentence", () => {
    let t = T0;
    const s = make({ now: () => t });
    s.ingest.event(created(1));
    s.ingest.commandSent(command("c1"));
    s.ingest.commandSent(command("c2", "rollback"));
    s.flush();
    let cmds = s.store.getState().commands;
    expect(cmds.map((c) => c.status)).toEqual(["pending", "pending"]);
    expect(cmds[0]!.label).toBe("pause api v408");
    expect(cmds[1]!.label).toBe("roll back api v408 → v407");
    t += 30;
    s.ingest.ack({ type: "ack", id: "c1", seq: 2, duplicate: false });
    s.ingest.reject({ type: "reject", id: "c2", code: "invalid_state", message: "cannot roll back api-v408: it is already rolled back" });
    s.flush();
    cmds = s.store.getState().commands;
    expect(cmds[0]).toMatchObject({ status: "acked", answeredAt: T0 + 30, duplicate: false });
    expect(cmds[1]).toMatchObject({ status: "rejected", message: "cannot roll back api-v408: it is already rolled back" });
  });

  it("no answer within commandTimeoutMs becomes timeout, and a late answer still lands", () => {
    let t = T0;
    const s = make({ now: () => t, commandTimeoutMs: 10_000 });
    s.ingest.commandSent(command("c1"));
    t += 9_999;
    s.flush();
    expect(s.store.getState().commands[0]!.status).toBe("pending");
    t += 1;
    s.flush();
    const c = s.store.getState().commands[0]!;
    expect(c.status).toBe("timeout");
    expect(c.message).toMatch(/no answer in 10s/);
    expect(c.message).toMatch(/check the timeline before giving it again/);
    expect(c.message).toMatch(/a resend keeps its id, so it never runs twice/);
    s.ingest.ack({ type: "ack", id: "c1", seq: 5, duplicate: true });
    s.flush();
    expect(s.store.getState().commands[0]).toMatchObject({ status: "acked", duplicate: true });
  });

  it("a command sent again with the same id (a retry) stays one line", () => {
    const s = make();
    s.ingest.commandSent(command("c1"));
    s.ingest.commandSent(command("c1"));
    s.flush();
    expect(s.store.getState().commands).toHaveLength(1);
  });

  it("unknown outcome replaces pending, but never an answer", () => {
    const s = make();
    s.ingest.commandSent(command("c1"));
    s.ingest.commandSent(command("c2"));
    s.ingest.ack({ type: "ack", id: "c2", seq: 3, duplicate: false });
    s.ingest.commandUnknown("c1", "outcome unknown: connection lost");
    s.ingest.commandUnknown("c2", "outcome unknown: connection lost");
    s.flush();
    const [c1, c2] = s.store.getState().commands;
    expect(c1).toMatchObject({ status: "unknown", message: "outcome unknown: connection lost" });
    expect(c2!.status).toBe("acked");
  });

  it("answers to ids it never saw change nothing", () => {
    const s = make();
    s.ingest.ack({ type: "ack", id: "nope", seq: 1, duplicate: false });
    s.ingest.reject({ type: "reject", id: "nope2", code: "not_found", message: "x" });
    s.flush();
    expect(s.store.getState().commands).toEqual([]);
  });
});

describe("connection", () => {
  it("welcome sets the session and live, and clears retry/stale marks", () => {
    const s = make();
    s.ingest.connection({ status: "reconnecting", retryAt: T0 + 4000, staleSince: T0, error: "connection refused" });
    s.ingest.welcome({ type: "welcome", protocol: 1, server: "ref", session: { actor: "alice", role: "operator", tenant: "payments" }, headSeq: 7 });
    s.flush();
    const c = s.store.getState().connection;
    expect(c.status).toBe("live");
    expect(c.session).toEqual({ actor: "alice", role: "operator", tenant: "payments" });
    expect(c.retryAt).toBeUndefined();
    expect(c.staleSince).toBeUndefined();
    expect(c.error).toBeUndefined();
  });

  it("patches merge; a key patched to undefined is removed; url and lastSeq survive", () => {
    const s = make();
    s.ingest.event(created(3));
    s.ingest.connection({ status: "stale", staleSince: T0, rttMs: 4 });
    s.ingest.connection({ rttMs: undefined, url: undefined, lastSeq: undefined });
    s.flush();
    const c = s.store.getState().connection;
    expect(c.status).toBe("stale");
    expect(c.staleSince).toBe(T0);
    expect("rttMs" in c).toBe(false);
    expect(c.url).toBe("ws://127.0.0.1:1/v1/stream");
    expect(c.lastSeq).toBe(3);
  });

  it("readonly comes from the options", () => {
    expect(make({ readonly: true }).store.getState().readonly).toBe(true);
    expect(make().store.getState().readonly).toBe(false);
  });
});
