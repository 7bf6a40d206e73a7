import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EVENTS_FILE, EventLog, eventId, serializeEvent } from "../../src/backend/eventlog.js";
import { eventHash } from "../../src/protocol/canonical.js";
import { GENESIS_HASH, type CockpitEvent, type EventDraft } from "../../src/protocol/types.js";
import { drafts, FaultyIo, gate, noteDraft, readLines, removeTempDirs, tempDir } from "./fixtures/eventlog-helpers.js";

afterEach(removeTempDirs);

describe("EventLog append and readback", () => {
  it("creates the directory, numbers events 1, 2, 3 and chains them", async () => {
    const dir = join(await tempDir(), "nested", "data");
    const { log, recovery } = await EventLog.open(dir);
    expect(recovery).toEqual({ events: 0, headSeq: 0, truncatedBytes: 0 });
    expect(log.path).toBe(join(dir, EVENTS_FILE));
    expect(log.headSeq).toBe(0);
    expect(log.headHash).toBe(GENESIS_HASH);

    const events = await log.append(drafts(1, 3));
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(events.map((e) => e.id)).toEqual(["evt_000000000001", "evt_000000000002", "evt_000000000003"]);
    expect(events[0]!.prev).toBe(GENESIS_HASH);
    expect(events[1]!.prev).toBe(events[0]!.hash);
    expect(events[2]!.prev).toBe(events[1]!.hash);
    for (const e of events) expect(e.hash).toBe(eventHash(e));
    expect(log.headSeq).toBe(3);
    expect(log.headHash).toBe(events[2]!.hash);
    await log.close();

    const lines = await readLines(log.path);
    expect(lines).toHaveLength(3);
    expect(lines.map((l) => JSON.parse(l) as CockpitEvent)).toEqual(events);
  });

  it("writes keys in the fixed order and omits the ones a draft leaves out", async () => {
    const { log } = await EventLog.open(await tempDir());
    const draft: EventDraft = {
      data: { text: "hi" },
      actor: { kind: "engine", name: "engine" },
      type: "note.added",
      tenant: "payments",
      time: "2026-11-21T14:05:40.123Z",
      ring: undefined,
    };
    const [event] = await log.append([draft]);
    await log.close();
    const [line] = await readLines(log.path);
    expect(Object.keys(JSON.parse(line!))).toEqual(["seq", "id", "time", "tenant", "type", "actor", "data", "prev", "hash"]);
    expect(line).toBe(serializeEvent(event!));

    const full = noteDraft(1);
    const ordered = serializeEvent({ ...full, ring: "canary", alert: "a1", incident: "i1", seq: 9, id: eventId(9), prev: GENESIS_HASH, hash: GENESIS_HASH });
    expect(Object.keys(JSON.parse(ordered))).toEqual([
      "seq", "id", "time", "tenant", "type", "rollout", "ring", "alert", "incident", "actor", "command", "data", "prev", "hash",
    ]);
  });

  it("reopening continues the chain from the last event", async () => {
    const dir = await tempDir();
    const first = await EventLog.open(dir);
    const before = await first.log.append(drafts(1, 4));
    await first.log.close();

    const second = await EventLog.open(dir);
    expect(second.recovery).toEqual({ events: 4, headSeq: 4, truncatedBytes: 0 });
    expect(second.log.headHash).toBe(before[3]!.hash);
    const [next] = await second.log.append([noteDraft(5)]);
    expect(next!.seq).toBe(5);
    expect(next!.prev).toBe(before[3]!.hash);
    await second.log.close();

    const third = await EventLog.open(dir);
    expect(third.recovery.headSeq).toBe(5);
    await third.log.close();
  });

  it("the same drafts give a byte-identical log", async () => {
    const a = await tempDir();
    const b = await tempDir();
    for (const dir of [a, b]) {
      const { log } = await EventLog.open(dir);
      await log.append(drafts(1, 2));
      await log.append([noteDraft(3, "third")]);
      await log.close();
    }
    const fileA = await readFile(join(a, EVENTS_FILE));
    expect(fileA.length).toBeGreaterThan(0);
    expect(fileA.equals(await readFile(join(b, EVENTS_FILE)))).toBe(true);
  });

  it("hashes what it writes: a Date or an undefined field in data reads back with the same hash", async () => {
    const dir = await tempDir();
    const { log } = await EventLog.open(dir);
    const odd = { ...noteDraft(1), data: { text: "x", when: new Date(Date.UTC(2026, 0, 1)), gone: undefined } } as unknown as EventDraft;
    const [event] = await log.append([odd]);
    expect((event!.data as Record<string, unknown>).when).toBe("2026-01-01T00:00:00.000Z");
    expect("gone" in event!.data).toBe(false);
    await log.close();
    const again = await EventLog.open(dir);
    expect(again.recovery.events).toBe(1);
    expect(again.log.headHash).toBe(event!.hash);
    await again.log.close();
  });

  it("returns frozen events, so one consumer cannot change what the window serves to others", async () => {
    const { log } = await EventLog.open(await tempDir());
    const [event] = await log.append([noteDraft(1)]);
    expect(Object.isFrozen(event)).toBe(true);
    expect(Object.isFrozen(event!.data)).toBe(true);
    expect(() => {
      (event!.data as { text: string }).text = "changed";
    }).toThrow(TypeError);
    await log.close();
  });

  it("append([]) resolves to no events and writes nothing", async () => {
    const { log } = await EventLog.open(await tempDir());
    expect(await log.append([])).toEqual([]);
    await log.close();
    expect((await stat(log.path)).size).toBe(0);
  });
});

describe("EventLog refuses bad drafts without touching the log", () => {
  const bad: Array<[string, unknown, RegExp]> = [
    ["a time that is not ISO-8601", { ...noteDraft(1), time: "yesterday" }, /draft 1 \(note\.added\): time must be an ISO-8601 timestamp/],
    ["a missing actor", { ...noteDraft(1), actor: undefined }, /draft 1 \(note\.added\): actor must be \{kind, name\}/],
    ["a non-object draft", null, /draft 1: a draft must be an object/],
    ["data that cannot be JSON", { ...noteDraft(1), data: { n: 10n } }, /draft 1 \(note\.added\): not serializable as JSON/],
  ];
  for (const [what, draft, message] of bad) {
    it(`rejects ${what} and keeps the seq for the next good append`, async () => {
      const { log } = await EventLog.open(await tempDir());
      await expect(log.append([noteDraft(0), draft as EventDraft])).rejects.toThrow(message);
      expect(log.headSeq).toBe(0);
      const [event] = await log.append([noteDraft(2)]);
      expect(event!.seq).toBe(1);
      await log.close();
      expect(await readLines(log.path)).toHaveLength(1);
    });
  }

  it("rejects a draft too big to send as one frame", async () => {
    const { log } = await EventLog.open(await tempDir());
    await expect(log.append([noteDraft(1, "x".repeat(1024 * 1024))])).rejects.toThrow(RangeError);
    await expect(log.append([noteDraft(1, "x".repeat(1024 * 1024))])).rejects.toThrow(/over the \d+-byte limit of one frame/);
    expect(log.headSeq).toBe(0);
    await log.close();
  });

  it("ignores seq, id, prev and hash a caller puts in a draft", async () => {
    const { log } = await EventLog.open(await tempDir());
    const sneaky = { ...noteDraft(1), seq: 99, id: "evt_mine", prev: "f".repeat(64), hash: "e".repeat(64) } as EventDraft;
    const [event] = await log.append([sneaky]);
    expect(event).toMatchObject({ seq: 1, id: "evt_000000000001", prev: GENESIS_HASH });
    expect(event!.hash).toBe(eventHash(event!));
    await log.close();
  });
});

describe("EventLog group commit", () => {
  it("batches appends made in one turn into one write and one sync, seqs in call order", async () => {
    const io = new FaultyIo();
    const { log } = await EventLog.open(await tempDir(), { io });
    const calls = Array.from({ length: 10 }, (_, i) => log.append([noteDraft(i)]));
    const results = await Promise.all(calls);
    expect(results.map((r) => r[0]!.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(results.map((r) => (r[0]!.data as { text: string }).text)).toEqual(results.map((_, i) => `note ${i}`));
    expect(io.writes).toBe(1);
    expect(io.syncs).toBe(1);
    await log.close();
  });

  it("appends made while a write is in flight go out together in the next write", async () => {
    const io = new FaultyIo();
    const { log } = await EventLog.open(await tempDir(), { io });
    const held = gate();
    io.holdSync = held;
    const first = log.append(drafts(1, 2));
    await io.syncParked.promise; // the first batch is written and waiting for its fdatasync
    const settled: number[] = [];
    const later = [log.append([noteDraft(3)]), log.append(drafts(4, 2)), log.append([noteDraft(6)])];
    later.forEach((p, i) => void p.then(() => settled.push(i)));
    await new Promise((r) => setImmediate(r));
    expect(settled).toEqual([]); // nothing resolves before its bytes are synced
    expect(log.headSeq).toBe(0);
    held.open();

    expect((await first).map((e) => e.seq)).toEqual([1, 2]);
    const rest = await Promise.all(later);
    expect(rest.map((r) => r.map((e) => e.seq))).toEqual([[3], [4, 5], [6]]);
    expect(io.writes).toBe(2);
    expect(io.syncs).toBe(2);
    await log.close();
  });

  it("with groupCommitMs, appends across several turns wait for one write; close() flushes them", async () => {
    const io = new FaultyIo();
    const { log } = await EventLog.open(await tempDir(), { io, groupCommitMs: 60_000 });
    const pending: Promise<CockpitEvent[]>[] = [];
    for (let i = 1; i <= 3; i++) {
      pending.push(log.append([noteDraft(i)]));
      await new Promise((r) => setImmediate(r));
    }
    expect(io.writes).toBe(0);
    await log.close();
    expect((await Promise.all(pending)).map((r) => r[0]!.seq)).toEqual([1, 2, 3]);
    expect(io.writes).toBe(1);
    expect(await readLines(log.path)).toHaveLength(3);
  });

  it("with a short groupCommitMs, an append still completes on its own", async () => {
    const { log } = await EventLog.open(await tempDir(), { groupCommitMs: 5 });
    const [event] = await log.append([noteDraft(1)]);
    expect(event!.seq).toBe(1);
    await log.close();
  });

  it("refuses appends after close() and bad options", async () => {
    const dir = await tempDir();
    const { log } = await EventLog.open(dir);
    await log.close();
    await expect(log.append([noteDraft(1)])).rejects.toThrow(/is closed/);
    await expect(log.close()).resolves.toBeUndefined();
    await expect(EventLog.open(dir, { keepInMemory: -1 })).rejects.toThrow(/keepInMemory must be an integer >= 0/);
    await expect(EventLog.open(dir, { groupCommitMs: Number.NaN })).rejects.toThrow(/groupCommitMs must be >= 0/);
  });

  it("refuses a second open of the same log in one process until the first is closed", async () => {
    const dir = await tempDir();
    const { log } = await EventLog.open(dir);
    await expect(EventLog.open(dir)).rejects.toThrow(/already open in this process/);
    await log.close();
    const again = await EventLog.open(dir);
    await again.log.close();
  });
});

describe("EventLog onAppend", () => {
  it("tells listeners about each durable batch in seq order, before the appender resumes", async () => {
    const io = new FaultyIo();
    const { log } = await EventLog.open(await tempDir(), { io });
    const seen: string[] = [];
    const batches: number[][] = [];
    const off = log.onAppend((events) => {
      batches.push(events.map((e) => e.seq));
      seen.push(`listener ${events[0]!.seq}-${events[events.length - 1]!.seq}`);
    });
    const held = gate();
    io.holdSync = held;
    const a = log.append(drafts(1, 2)).then((e) => seen.push(`resolved ${e[0]!.seq}`));
    await io.syncParked.promise;
    const b = log.append([noteDraft(3)]).then((e) => seen.push(`resolved ${e[0]!.seq}`));
    const c = log.append([noteDraft(4)]).then((e) => seen.push(`resolved ${e[0]!.seq}`));
    held.open();
    await Promise.all([a, b, c]);
    expect(batches).toEqual([[1, 2], [3, 4]]);
    expect(seen).toEqual(["listener 1-2", "resolved 1", "listener 3-4", "resolved 3", "resolved 4"]);

    off();
    await log.append([noteDraft(5)]);
    expect(batches).toHaveLength(2);
    await log.close();
  });

  it("a listener that appends gets its events into the following batch", async () => {
    const { log } = await EventLog.open(await tempDir());
    const follow: Promise<CockpitEvent[]>[] = [];
    log.onAppend((events) => {
      if (events[0]!.seq === 1) follow.push(log.append([noteDraft(100, "follow-up")]));
    });
    await log.append([noteDraft(1)]);
    const [event] = await follow[0]!;
    expect(event!.seq).toBe(2);
    await log.close();
  });
});

describe("EventLog since() and replay", () => {
  it("serves events after a seq from the window, and null once the window no longer reaches", async () => {
    const dir = await tempDir();
    const { log } = await EventLog.open(dir, { keepInMemory: 5 });
    for (let i = 1; i <= 12; i++) await log.append([noteDraft(i)]);
    expect(log.eventsInMemory).toBe(5);
    expect(log.since(7)!.map((e) => e.seq)).toEqual([8, 9, 10, 11, 12]);
    expect(log.since(10)!.map((e) => e.seq)).toEqual([11, 12]);
    expect(log.since(12)).toEqual([]);
    expect(log.since(6)).toBeNull();
    expect(log.since(0)).toBeNull();
    expect(log.since(13)).toBeNull(); // ahead of this log: the caller sends a snapshot
    expect(() => log.since(-1)).toThrow(RangeError);
    expect(() => log.since(1.5)).toThrow(RangeError);
    await log.close();
  });

  it("keeps everything while under the limit, so since(0) gives the whole log", async () => {
    const { log } = await EventLog.open(await tempDir());
    await log.append(drafts(1, 3));
    expect(log.since(0)!.map((e) => e.seq)).toEqual([1, 2, 3]);
    await log.close();
  });

  it("keepInMemory 0 keeps no window: only an up-to-date caller gets []", async () => {
    const { log } = await EventLog.open(await tempDir(), { keepInMemory: 0 });
    await log.append(drafts(1, 2));
    expect(log.eventsInMemory).toBe(0);
    expect(log.since(2)).toEqual([]);
    expect(log.since(1)).toBeNull();
    await log.close();
  });

  it("replays a long log in order on open while keeping only the window in memory", async () => {
    const dir = await tempDir();
    const first = await EventLog.open(dir);
    for (let i = 0; i < 20; i++) await first.log.append(drafts(i * 100, 100));
    await first.log.close();

    const replayed: number[] = [];
    const { log, recovery } = await EventLog.open(dir, { keepInMemory: 50, onReplay: (e) => replayed.push(e.seq) });
    expect(recovery.events).toBe(2000);
    expect(replayed).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1));
    expect(log.eventsInMemory).toBe(50);
    expect(log.since(1950)!.map((e) => e.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 1951 + i));
    expect(log.since(1949)).toBeNull();
    await log.close();
  });

  it("an onReplay that throws makes open() fail and leaves the log closed", async () => {
    const dir = await tempDir();
    const first = await EventLog.open(dir);
    await first.log.append(drafts(1, 2));
    await first.log.close();
    await expect(
      EventLog.open(dir, {
        onReplay: () => {
          throw new Error("engine cannot apply this");
        },
      }),
    ).rejects.toThrow("engine cannot apply this");
    const again = await EventLog.open(dir); // not left "already open"
    expect(again.recovery.events).toBe(2);
    await again.log.close();
  });
});
