import { appendFile, readFile, stat, writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { EventLog, LogCorruptError } from "../../src/backend/eventlog.js";
import { verifyLog } from "../../src/backend/verify.js";
import { eventHash } from "../../src/protocol/canonical.js";
import type { CockpitEvent } from "../../src/protocol/types.js";
import { drafts, noteDraft, readLines, removeTempDirs, tempDir, writeLines } from "./fixtures/eventlog-helpers.js";

afterEach(removeTempDirs);

/** A data dir holding a closed log of `count` events; returns its lines. */
async function logWith(count: number): Promise<{ dir: string; file: string; lines: string[]; events: CockpitEvent[] }> {
  const dir = await tempDir();
  const { log } = await EventLog.open(dir);
  const events = await log.append(drafts(1, count));
  await log.close();
  return { dir, file: log.path, lines: await readLines(log.path), events };
}

async function openFails(dir: string): Promise<LogCorruptError> {
  const err = await EventLog.open(dir).then(
    async ({ log }) => {
      await log.close();
      throw new Error("open() should have failed");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LogCorruptError);
  return err as LogCorruptError;
}

describe("open() cuts off a torn last line and says so", () => {
  const tails: Array<[string, (next: string) => string, RegExp]> = [
    ["half a JSON line", (next) => next.slice(0, Math.floor(next.length / 2)), /line 4 is not valid JSON/],
    ["a whole event with no line ending", (next) => next, /line 4 has no line ending/],
    ["a garbage line with a line ending", () => "#!garbage\n", /line 4 is not valid JSON/],
    ["zeros left by a power cut", () => "\0".repeat(4096), /line 4 is not valid JSON/],
    ["half a line ending in CR", (next) => next.slice(0, 30) + "\r", /line 4 is not valid JSON/],
    ["an extra blank line", () => "\n", /line 4 is blank/],
  ];
  for (const [what, makeTail, reason] of tails) {
    it(`${what}`, async () => {
      const { dir, file } = await logWith(3);
      const goodSize = (await stat(file)).size;
      // What the 4th line would have been, to tear it.
      const scratch = await logWith(4);
      const fourth = scratch.lines[3]!;
      const tail = makeTail(fourth);
      await appendFile(file, tail);

      const { log, recovery } = await EventLog.open(dir);
      expect(recovery.events).toBe(3);
      expect(recovery.headSeq).toBe(3);
      expect(recovery.truncatedBytes).toBe(Buffer.byteLength(tail));
      expect(recovery.tornLine).toBe(tail.replace(/\n$/, "").replace(/\r$/, "").slice(0, 200));
      expect(recovery.tornReason).toMatch(reason);
      expect((await stat(file)).size).toBe(goodSize);

      const [next] = await log.append([noteDraft(4)]);
      expect(next!.seq).toBe(4);
      await log.close();
      expect(await verifyLog(dir)).toMatchObject({ ok: true, events: 4, headSeq: 4 });
    });
  }

  it("keeps at most 200 characters of the torn line in the report", async () => {
    const { dir } = await logWith(1);
    await appendFile(`${dir}/events.jsonl`, '{"seq":2,"data":"' + "y".repeat(5000));
    const { log, recovery } = await EventLog.open(dir);
    expect(recovery.tornLine).toHaveLength(200);
    expect(recovery.tornLine!.startsWith('{"seq":2,')).toBe(true);
    await log.close();
  });

  it("a file holding only a torn line becomes empty and starts again at seq 1", async () => {
    const dir = await tempDir();
    await writeFile(`${dir}/events.jsonl`, '{"seq":1,"id":"evt_0');
    const { log, recovery } = await EventLog.open(dir);
    expect(recovery).toMatchObject({ events: 0, headSeq: 0, truncatedBytes: 20 });
    expect((await log.append([noteDraft(1)]))[0]!.seq).toBe(1);
    await log.close();
  });

  it("reads a log written with CRLF line endings and keeps appending to it", async () => {
    const { dir, file, lines } = await logWith(2);
    await writeFile(file, lines.map((l) => l + "\r\n").join(""));
    const { log, recovery } = await EventLog.open(dir);
    expect(recovery).toEqual({ events: 2, headSeq: 2, truncatedBytes: 0 });
    await log.append([noteDraft(3)]);
    await log.close();
    expect(await verifyLog(dir)).toMatchObject({ ok: true, headSeq: 3 });
  });
});

describe("open() refuses damage it cannot safely repair", () => {
  it("an edited middle line: names the file, the line, the seq and the next step, and leaves the file alone", async () => {
    const { dir, file, lines } = await logWith(5);
    const edited = lines.slice();
    edited[2] = edited[2]!.replace('"note 3"', '"note three"');
    await writeLines(file, edited);
    const before = await readFile(file);

    const err = await openFails(dir);
    expect(err.line).toBe(3);
    expect(err.seq).toBe(3);
    expect(err.message).toContain(file);
    expect(err.message).toContain("line 3 (seq 3)");
    expect(err.message).toContain("hash does not match its content (edited line?)");
    expect(err.message).toContain(`cockpit verify-log ${dir}`);
    expect(err.message).toContain("restore the file from a backup or keep only lines 1-2.");
    expect((await readFile(file)).equals(before)).toBe(true);
  });

  it("bad JSON in the middle with good lines after it", async () => {
    const { dir, file, lines } = await logWith(4);
    const broken = lines.slice();
    broken[1] = broken[1]!.slice(0, 40);
    await writeLines(file, broken);
    const err = await openFails(dir);
    expect(err.line).toBe(2);
    expect(err.seq).toBe(2);
    expect(err.message).toMatch(/line 2 is not valid JSON .*good lines follow it/);
  });

  it("a dropped line (seq gap)", async () => {
    const { dir, file, lines } = await logWith(5);
    await writeLines(file, [...lines.slice(0, 2), ...lines.slice(3)]);
    const err = await openFails(dir);
    expect(err.line).toBe(3);
    expect(err.seq).toBe(4);
    expect(err.message).toContain("seq 4 follows seq 2: 1 event missing");
  });

  it("missing first lines: nothing before it to keep", async () => {
    const { dir, file, lines } = await logWith(5);
    await writeLines(file, lines.slice(2));
    const err = await openFails(dir);
    expect(err.line).toBe(1);
    expect(err.seq).toBe(3);
    expect(err.message).toContain("seq 3 is the first event: 2 events missing");
    expect(err.message).toMatch(/restore the file from a backup\.$/);
  });

  it("a dropped LAST line is not detectable (by design of a hash chain) and opens as a shorter log", async () => {
    const { dir, file, lines } = await logWith(3);
    await writeLines(file, lines.slice(0, 2));
    const { log, recovery } = await EventLog.open(dir);
    expect(recovery).toEqual({ events: 2, headSeq: 2, truncatedBytes: 0 });
    await log.close();
  });

  it("a last line that is JSON but not an event was added by hand: refused, not cut", async () => {
    const { dir, file } = await logWith(2);
    await appendFile(file, '{"hello":"world"}\n');
    const err = await openFails(dir);
    expect(err.line).toBe(3);
    expect(err.seq).toBe(3);
    expect(err.message).toContain("line 3 is not an event");
    expect(await readLines(file)).toHaveLength(3);
  });

  it("a well-formed last event whose prev does not link (a line from another log)", async () => {
    const { dir, file } = await logWith(2);
    const otherDir = await tempDir();
    const other = await EventLog.open(otherDir);
    await other.log.append([noteDraft(1, "another log"), noteDraft(2), noteDraft(3)]);
    await other.log.close();
    await appendFile(file, (await readLines(other.log.path))[2]! + "\n");
    const err = await openFails(dir);
    expect(err.line).toBe(3);
    expect(err.message).toContain("seq 3: prev does not match the hash of seq 2");
  });

  it("two lines swapped", async () => {
    const { dir, file, lines } = await logWith(4);
    await writeLines(file, [lines[0]!, lines[2]!, lines[1]!, lines[3]!]);
    const err = await openFails(dir);
    expect(err.line).toBe(2);
    expect(err.seq).toBe(3);
  });

  it("a re-hashed edit is caught by the next line's prev", async () => {
    const { dir, file, lines } = await logWith(3);
    const e2 = JSON.parse(lines[1]!) as CockpitEvent;
    const forged = { ...e2, data: { text: "forged" } };
    forged.hash = eventHash(forged);
    await writeLines(file, [lines[0]!, JSON.stringify(forged), lines[2]!]);
    const err = await openFails(dir);
    expect(err.line).toBe(3);
    expect(err.message).toContain("seq 3: prev does not match the hash of seq 2");
  });
});
