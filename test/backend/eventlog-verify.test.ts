import { mkdir, truncate, writeFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EventLog } from "../../src/backend/eventlog.js";
import { formatVerifyResult, verifyLog, type VerifyResult } from "../../src/backend/verify.js";
import { drafts, readLines, removeTempDirs, tempDir, writeLines } from "./fixtures/eventlog-helpers.js";

afterEach(removeTempDirs);

async function logWith(count: number) {
  const dir = await tempDir();
  const { log } = await EventLog.open(dir);
  const events = await log.append(drafts(1, count));
  await log.close();
  return { dir, file: log.path, lines: await readLines(log.path), head: events[events.length - 1]! };
}

describe("verifyLog", () => {
  it("an intact log, by data directory or by file path", async () => {
    const { dir, file, head } = await logWith(6);
    const expected: VerifyResult = { ok: true, events: 6, headSeq: 6, headHash: head.hash };
    expect(await verifyLog(dir)).toEqual(expected);
    expect(await verifyLog(file)).toEqual(expected);
  });

  it("an empty log is intact with no events", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "events.jsonl"), "");
    expect(await verifyLog(dir)).toEqual({ ok: true, events: 0, headSeq: 0, headHash: "0".repeat(64) });
  });

  it("an edited line", async () => {
    const { dir, file, lines } = await logWith(6);
    lines[3] = lines[3]!.replace('"alice"', '"mallory"');
    await writeLines(file, lines);
    expect(await verifyLog(dir)).toEqual({
      ok: false,
      events: 3,
      firstBadSeq: 4,
      line: 4,
      reason: "seq 4: hash does not match its content (edited line?)",
    });
  });

  it("a dropped line", async () => {
    const { dir, file, lines } = await logWith(6);
    lines.splice(2, 1);
    await writeLines(file, lines);
    expect(await verifyLog(dir)).toEqual({ ok: false, events: 2, firstBadSeq: 4, line: 3, reason: "seq 4 follows seq 2: 1 event missing" });
  });

  it("several dropped lines, including the first", async () => {
    const { dir, file, lines } = await logWith(6);
    await writeLines(file, lines.slice(3));
    expect(await verifyLog(dir)).toEqual({ ok: false, events: 0, firstBadSeq: 4, line: 1, reason: "seq 4 is the first event: 3 events missing" });
  });

  it("reordered lines", async () => {
    const { dir, file, lines } = await logWith(6);
    await writeLines(file, [lines[0]!, lines[1]!, lines[3]!, lines[2]!, lines[4]!, lines[5]!]);
    expect(await verifyLog(dir)).toMatchObject({ ok: false, events: 2, firstBadSeq: 4, line: 3 });
  });

  it("a line pasted twice", async () => {
    const { dir, file, lines } = await logWith(3);
    await writeLines(file, [lines[0]!, lines[1]!, lines[1]!, lines[2]!]);
    const r = await verifyLog(dir);
    expect(r).toMatchObject({ ok: false, events: 2, firstBadSeq: 2, line: 3 });
    expect(!r.ok && r.reason).toContain("seq 2 follows seq 2: repeated or out of order");
  });

  it("a file cut in the middle of a line", async () => {
    const { dir, file, lines } = await logWith(4);
    const size = (await stat(file)).size;
    await truncate(file, size - Math.floor(lines[3]!.length / 2));
    const r = await verifyLog(dir);
    expect(r).toMatchObject({ ok: false, events: 3, firstBadSeq: 4, line: 4 });
    expect(!r.ok && r.reason).toMatch(/line 4 is not valid JSON .*a write cut short/);
  });

  it("a complete last event without its line ending", async () => {
    const { dir, file } = await logWith(2);
    const size = (await stat(file)).size;
    await truncate(file, size - 1);
    expect(await verifyLog(dir)).toMatchObject({ ok: false, events: 1, firstBadSeq: 2, line: 2, reason: expect.stringContaining("no line ending") });
  });

  it("a line that is not JSON and does not say its seq", async () => {
    const { dir, file, lines } = await logWith(3);
    lines[1] = "oops";
    await writeLines(file, lines);
    expect(await verifyLog(dir)).toMatchObject({ ok: false, events: 1, firstBadSeq: null, line: 2 });
  });

  it("a missing log says what the directory should be", async () => {
    const dir = await tempDir();
    await expect(verifyLog(dir)).rejects.toThrow(`no event log at ${join(dir, "events.jsonl")}: is this a cockpit data directory?`);
    await expect(verifyLog(join(dir, "nope"))).rejects.toThrow(/no event log at .*nope: give a cockpit data directory/);
    await mkdir(join(dir, "events.jsonl"));
    await expect(verifyLog(dir)).rejects.toThrow(/is this a cockpit data directory\?/);
  });
});

describe("formatVerifyResult", () => {
  it("one line for an intact log", () => {
    const out = formatVerifyResult({ ok: true, events: 12, headSeq: 12, headHash: "ab".repeat(32) }, "data/events.jsonl");
    expect(out).toBe("data/events.jsonl: ok, 12 events, chain intact up to seq 12 (head hash abababababababab…)");
    expect(formatVerifyResult({ ok: true, events: 0, headSeq: 0, headHash: "0".repeat(64) }, "d")).toBe("d: ok, empty log (no events yet)");
  });

  it("two lines for a broken one: where and what, then what to do", () => {
    const out = formatVerifyResult(
      { ok: false, events: 811, firstBadSeq: 812, line: 812, reason: "seq 812: hash does not match its content (edited line?)" },
      "data/events.jsonl",
    );
    expect(out.split("\n")).toEqual([
      "data/events.jsonl: BROKEN at line 812 (seq 812): seq 812: hash does not match its content (edited line?)",
      "  811 good events before it; restore the file from a backup, or keep lines 1-811 and move the rest aside",
    ]);
    const first = formatVerifyResult({ ok: false, events: 0, firstBadSeq: null, line: 1, reason: "line 1 is blank" }, "f");
    expect(first).toBe("f: BROKEN at line 1: line 1 is blank\n  0 good events before it; restore the file from a backup");
  });
});
