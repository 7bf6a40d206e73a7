import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { eventId } from "../../src/backend/eventlog.js";
import { eventHash } from "../../src/protocol/canonical.js";
import { ChainChecker, readLogFile, seqOfRawLine, type LogRecord } from "../../src/protocol/logfile.js";
import { GENESIS_HASH, type CockpitEvent } from "../../src/protocol/types.js";
import { noteDraft, removeTempDirs, tempDir } from "./fixtures/eventlog-helpers.js";

// src/protocol/logfile.ts: the pure reading half shared by the backend, verify-log and the postmortem.

afterEach(removeTempDirs);

function chain(n: number): CockpitEvent[] {
  const out: CockpitEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const e = { seq, id: eventId(seq), ...noteDraft(seq), prev } as CockpitEvent;
    e.hash = eventHash(e);
    prev = e.hash;
    out.push(e);
  }
  return out;
}

async function records(content: string | Buffer, opts?: { maxLineBytes?: number }): Promise<LogRecord[]> {
  const file = join(await tempDir(), "events.jsonl");
  await writeFile(file, content);
  const out: LogRecord[] = [];
  for await (const r of readLogFile(file, opts)) out.push(r);
  return out;
}

describe("readLogFile", () => {
  it("yields events with line numbers and byte spans that add up to the file", async () => {
    const [a, b] = chain(2);
    const text = JSON.stringify(a) + "\n" + JSON.stringify(b) + "\n";
    const recs = await records(text);
    expect(recs.map((r) => [r.kind, r.line, r.offset, r.end, r.terminated])).toEqual([
      ["event", 1, 0, JSON.stringify(a).length + 1, true],
      ["event", 2, JSON.stringify(a).length + 1, Buffer.byteLength(text), true],
    ]);
    expect(recs[0]).toMatchObject({ event: a, raw: JSON.stringify(a) });
  });

  it("counts bytes, not characters, for multi-byte text", async () => {
    const e = chain(1)[0]!;
    const wide = { ...e, data: { text: "déploiement ✓ 🚀" } };
    const line = JSON.stringify(wide);
    const recs = await records(line + "\n");
    expect(recs[0]!.end).toBe(Buffer.byteLength(line) + 1);
    expect(recs[0]!.kind === "event" && recs[0]!.event.data).toEqual({ text: "déploiement ✓ 🚀" });
  });

  it("accepts CRLF, a BOM and a missing final newline", async () => {
    const [a, b] = chain(2);
    const recs = await records("\uFEFF" + JSON.stringify(a) + "\r\n" + JSON.stringify(b));
    expect(recs.map((r) => r.kind)).toEqual(["event", "event"]);
    expect(recs.map((r) => r.terminated)).toEqual([true, false]);
    expect(recs[1]!.kind === "event" && recs[1]!.event.seq).toBe(2);
  });

  it("reports bad lines with a reason and an excerpt, and goes on reading", async () => {
    const [a] = chain(1);
    const long = "z".repeat(500);
    const recs = await records(["{not json", "", '{"seq":2,"id":"x"}', long, JSON.stringify(a)].join("\n") + "\n");
    expect(recs.map((r) => r.kind)).toEqual(["bad", "bad", "bad", "bad", "event"]);
    expect(recs[0]).toMatchObject({ line: 1, raw: "{not json", parsed: false, reason: expect.stringMatching(/^line 1 is not valid JSON/) });
    expect(recs[1]).toMatchObject({ line: 2, parsed: false, reason: "line 2 is blank" });
    expect(recs[2]).toMatchObject({ line: 3, parsed: true, reason: expect.stringMatching(/^line 3 is not an event: event 2: time must be/) });
    expect(recs[3]!.raw).toHaveLength(200);
  });

  it("does not hold an over-long line: keeps its start and reports it", async () => {
    const recs = await records("a".repeat(5000) + "\n" + "b".repeat(10) + "\n", { maxLineBytes: 1000 });
    expect(recs[0]).toMatchObject({ kind: "bad", line: 1, end: 5001, reason: "line 1 is longer than 1000 bytes: not an event" });
    expect(recs[0]!.raw).toBe("a".repeat(200));
    expect(recs[1]).toMatchObject({ kind: "bad", line: 2, offset: 5001 });
  });

  it("an empty file has no records", async () => {
    expect(await records("")).toEqual([]);
  });
});

describe("seqOfRawLine", () => {
  it("finds the seq a torn line was meant to carry", () => {
    expect(seqOfRawLine('{"seq":812,"id":"evt_')).toBe(812);
    expect(seqOfRawLine('{"seq": 7}')).toBe(7);
    expect(seqOfRawLine("garbage")).toBeNull();
  });
});

describe("ChainChecker", () => {
  it("accepts an intact chain and tracks the head", () => {
    const events = chain(4);
    const c = new ChainChecker();
    for (const e of events) expect(c.check(e)).toBeNull();
    expect(c.count).toBe(4);
    expect(c.headSeq).toBe(4);
    expect(c.headHash).toBe(events[3]!.hash);
  });

  it("an edited event", () => {
    const [a] = chain(1);
    const issue = new ChainChecker().check({ ...a!, tenant: "other" }, "the raw line", 7);
    expect(issue).toEqual({ seq: 1, line: 7, raw: "the raw line", reason: "seq 1: hash does not match its content (edited line?)" });
  });

  it("a gap, a repeat and a bad link, each leaving the checker where it was", () => {
    const [a, b, c, d] = chain(4);
    const k = new ChainChecker();
    expect(k.check(a!)).toBeNull();
    expect(k.check(c!)?.reason).toBe("seq 3 follows seq 1: 1 event missing");
    expect(k.check(d!)?.reason).toBe("seq 4 follows seq 1: 2 events missing");
    expect(k.check(a!)?.reason).toBe("seq 1 follows seq 1: repeated or out of order (lines reordered or pasted twice?)");
    const relinked = { ...b!, prev: "1".repeat(64) };
    relinked.hash = eventHash(relinked);
    expect(k.check(relinked)?.reason).toBe("seq 2: prev does not match the hash of seq 1 (line dropped or reordered?)");
    expect(k.headSeq).toBe(1);
    expect(k.check(b!)).toBeNull();
  });

  it("the first event must be seq 1 with the all-zero prev", () => {
    const [, b] = chain(2);
    expect(new ChainChecker().check(b!)?.reason).toBe("seq 2 is the first event: 1 event missing");
    const first = { ...chain(1)[0]!, prev: "f".repeat(64) };
    first.hash = eventHash(first);
    expect(new ChainChecker().check(first)?.reason).toBe("seq 1: prev must be 64 zeros (the start of the chain)");
  });

  it("can start after a known event, to check a tail", () => {
    const events = chain(5);
    const k = new ChainChecker({ seq: 3, hash: events[2]!.hash });
    expect(k.check(events[3]!)).toBeNull();
    expect(k.check(events[4]!)).toBeNull();
    expect(k.headSeq).toBe(5);
  });
});
