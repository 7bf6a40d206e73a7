import { open } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { canonicalJsonOfText, eventHash, sha256Hex, TemplateCache, type TemplateMatch, type TextTemplate } from "./canonical.js";
import { sanitizeText } from "./sanitize.js";
import { GENESIS_HASH, type CockpitEvent } from "./types.js";
import { validateEvent } from "./validate-event.js";

// Reading the append-only event log (JSONL), shared by the backend (recovery on
// open), `cockpit verify-log` and the postmortem. Pure reading: nothing here
// writes or repairs a file.
//
// Layers, each usable alone: readLogLines splits the file into decoded lines
// (in batches, so a million-line log costs thousands of awaits, not millions);
// parseLogLine turns a line into an event or a bad line; summarizeEventLine and
// readEventLineHeader are the fast path for a reader that needs only an event's
// header (and the text its hash covers, to check the chain), without building
// the event; readTail reads the end of a file beside another reader (in a
// worker thread: readTailInWorker).

/** How much of a bad line is kept for messages. */
export const RAW_EXCERPT_CHARS = 200;
/** A longer "line" is not an event (e.g. a run of zeros left by a power cut); only its start is kept. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;
/** Bytes per read: chunk boundaries are where an over-long line is cut, so this stays what it has been. */
const CHUNK_BYTES = 1024 * 1024;

interface LineSpan {
  /** 1-based line number (counted from `start` when reading from an offset) */
  line: number;
  /** byte offset of the line's first byte */
  offset: number;
  /** byte offset just after the line and its terminator: the file length if this line were the last */
  end: number;
  /** false only for a last line with no "\n" after it (a write cut short, or an editor that drops it) */
  terminated: boolean;
}

export type LogRecord =
  | ({ kind: "event"; event: CockpitEvent; raw: string } & LineSpan)
  | ({
      kind: "bad";
      /** first RAW_EXCERPT_CHARS characters */
      raw: string;
      reason: string;
      /** whether the line was JSON at all: a torn write never is, a hand edit usually is */
      parsed: boolean;
    } & LineSpan);

/** One line, decoded (without its "\r\n" or "\n", and without a BOM on the file's first line). */
export interface LogLine extends LineSpan {
  text: string;
  /** longer than maxLineBytes: `text` is then only its start, enough for an excerpt */
  overlong: boolean;
}

export interface ReadLogOptions {
  maxLineBytes?: number;
  /** byte offset to start at; it must be the start of a line (an `offset` from an earlier read) */
  start?: number;
  /** stop before the first line that starts at or after this offset */
  end?: number;
}

const NEWLINE = 0x0a;
const CR = 0x0d;
/**
 * Lines per batch. Small batches keep what is alive at any moment small: a
 * whole chunk's lines (and their records) outliving several young-generation
 * collections would be copied, then promoted, and the collector's cost with them.
 */
const BATCH_LINES = 256;
/** An over-long line is decoded only this far: far more than an excerpt needs, whatever its encoding. */
const OVERLONG_DECODE_BYTES = 4096;

/**
 * The lines of a file with their byte spans, in batches. Splitting
 * on the byte 0x0A is safe in UTF-8 (it never occurs inside a multi-byte
 * sequence), and byte offsets are what a reader needs to truncate a torn tail
 * or to come back to a line; node:readline gives neither. The next chunk is
 * read while this one is split, and a line is decoded once, straight from the
 * chunk when it lies within one.
 */
export async function* readLogLines(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogLine[]> {
  const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
  const start = opts.start ?? 0;
  const end = opts.end ?? Infinity;
  if (start >= end) return;
  let offset = start;
  let line = 0;
  // A line that spans chunks: the parts kept so far (copies: the chunk buffers are reused) and its length.
  let parts: Buffer[] = [];
  let partBytes = 0;
  let lineBytes = 0;
  const take = (bytes: Buffer) => {
    lineBytes += bytes.length;
    // Past the cap only the start is kept, so a huge unterminated region cannot exhaust memory.
    if (partBytes < maxLineBytes) {
      parts.push(Buffer.from(bytes));
      partBytes += bytes.length;
    }
  };
  /** The line of `length` bytes whose kept bytes are bytes[from..to). */
  const cut = (bytes: Buffer, from: number, to: number, length: number, terminated: boolean): LogLine => {
    line += 1;
    const lineEnd = offset + length + (terminated ? 1 : 0);
    const overlong = length > maxLineBytes;
    let stop = to;
    if (overlong && to - from > OVERLONG_DECODE_BYTES) stop = from + OVERLONG_DECODE_BYTES;
    else if (stop > from && bytes[stop - 1] === CR) stop--;
    let text = bytes.toString("utf8", from, stop);
    if (line === 1 && start === 0 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    const out: LogLine = { line, offset, end: lineEnd, terminated, text, overlong };
    offset = lineEnd;
    return out;
  };
  const cutParts = (terminated: boolean): LogLine => {
    const kept = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const out = cut(kept, 0, kept.length, lineBytes, terminated);
    parts = [];
    partBytes = 0;
    lineBytes = 0;
    return out;
  };

  const handle = await open(path, "r");
  const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
  let which = 0;
  let position = start;
  let pending: Promise<{ bytesRead: number; buffer: Buffer }> | null = handle.read(buffers[which]!, 0, CHUNK_BYTES, position);
  try {
    for (;;) {
      const { bytesRead, buffer } = await pending;
      pending = null;
      if (bytesRead === 0) break;
      position += bytesRead;
      which ^= 1;
      pending = handle.read(buffers[which]!, 0, CHUNK_BYTES, position);
      const chunk = buffer.subarray(0, bytesRead);
      let batch: LogLine[] = [];
      let from = 0;
      for (let nl = chunk.indexOf(NEWLINE, from); nl !== -1; nl = chunk.indexOf(NEWLINE, from)) {
        if (parts.length === 0 && lineBytes === 0) {
          batch.push(cut(chunk, from, nl, nl - from, true));
        } else {
          take(chunk.subarray(from, nl));
          batch.push(cutParts(true));
        }
        from = nl + 1;
        if (offset >= end) {
          if (batch.length > 0) yield batch;
          return;
        }
        if (batch.length >= BATCH_LINES) {
          yield batch;
          batch = [];
        }
      }
      if (from < bytesRead) take(chunk.subarray(from));
      if (batch.length > 0) yield batch;
    }
    if (lineBytes > 0) yield [cutParts(false)];
  } finally {
    // A read still in flight must land before the file is closed under it.
    await pending?.catch(() => undefined);
    await handle.close();
  }
}

function excerpt(text: string): string {
  return text.length > RAW_EXCERPT_CHARS ? text.slice(0, RAW_EXCERPT_CHARS) : text;
}

/** A line as an event or a bad line (the reason says why, naming the line). */
export function parseLogLine(l: LogLine, maxLineBytes: number = MAX_LINE_BYTES): LogRecord {
  const span = { line: l.line, offset: l.offset, end: l.end, terminated: l.terminated };
  const text = l.text;
  if (l.overlong) return { kind: "bad", ...span, raw: excerpt(text), reason: `line ${span.line} is longer than ${maxLineBytes} bytes: not an event`, parsed: false };
  if (text.trim() === "") return { kind: "bad", ...span, raw: excerpt(text), reason: `line ${span.line} is blank`, parsed: false };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // V8 quotes the line in its message: clean it, since verify-log and the backend print reasons as they are.
    const why = sanitizeText(err instanceof Error ? err.message : String(err), { maxChars: 200 });
    return { kind: "bad", ...span, raw: excerpt(text), reason: `line ${span.line} is not valid JSON (${why})`, parsed: false };
  }
  const check = validateEvent(value);
  if (!check.ok) return { kind: "bad", ...span, raw: excerpt(text), reason: `line ${span.line} is not an event: ${check.error}`, parsed: true };
  return { kind: "event", ...span, event: check.event, raw: text };
}

/** The log's records in batches: for readers that do little per record. */
export async function* readLogRecords(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogRecord[]> {
  const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
  for await (const lines of readLogLines(path, opts)) yield lines.map((l) => parseLogLine(l, maxLineBytes));
}

/**
 * The log's lines as events or bad lines, streamed (a million-line log is never
 * held whole). Accepts CRLF line endings, a missing final newline and a UTF-8
 * BOM; a blank line is reported as bad because the writer never makes one.
 */
export async function* readLogFile(path: string, opts: ReadLogOptions = {}): AsyncGenerator<LogRecord> {
  const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
  for await (const lines of readLogLines(path, opts)) {
    for (const l of lines) yield parseLogLine(l, maxLineBytes);
  }
}

// ---- the fast path -------------------------------------------------------------------------

/** What an index needs of an event, read without building it. */
export interface EventLineHeader {
  seq: number;
  time: string;
  /** Date.parse(time) */
  ms: number;
  tenant: string;
  type: string;
  rollout: string | undefined;
  prev: string;
  hash: string;
}

/** The header, and what the chain needs: the text the hash covers and its sha256. */
export interface EventLineSummary extends EventLineHeader {
  /** the canonical JSON of the event without its hash */
  canonical: string;
  /** sha256 hex of `canonical`: what `hash` must be for the line to be intact */
  contentHash: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const REF_FIELDS = ["rollout", "ring", "alert", "incident", "command"] as const;

/** The line shapes seen so far; a log has a few dozen. */
const templates = new TemplateCache("hash");

/**
 * Where a shape keeps each field validateEvent looks at: the slot of each
 * string field (-1: absent, or not a string in this shape) and of seq.
 */
interface FieldSlots {
  /** this shape can never be an event (seq not a number, data not an object, a reference not a string, ...) */
  never: boolean;
  seq: number;
  id: number;
  time: number;
  tenant: number;
  type: number;
  /** -1: the shape has no rollout */
  rollout: number;
  prev: number;
  hash: number;
}

function fieldSlots(t: TextTemplate): FieldSlots {
  const of = (path: string, kind: "string" | "number") => {
    const s = t.slots.get(path);
    return s !== undefined && s.kind === kind ? s.slot : -1;
  };
  const f: FieldSlots = {
    never: false,
    seq: of("seq", "number"),
    id: of("id", "string"),
    time: of("time", "string"),
    tenant: of("tenant", "string"),
    type: of("type", "string"),
    rollout: of("rollout", "string"),
    prev: of("prev", "string"),
    hash: of("hash", "string"),
  };
  f.never =
    f.seq < 0 ||
    f.id < 0 ||
    f.time < 0 ||
    f.tenant < 0 ||
    f.type < 0 ||
    f.prev < 0 ||
    f.hash < 0 ||
    t.fixed.get("actor") !== "object" ||
    of("actor\u0000kind", "string") < 0 ||
    of("actor\u0000name", "string") < 0 ||
    t.fixed.get("data") !== "object" ||
    // A reference, when present, is a string.
    REF_FIELDS.some((k) => t.fixed.has(k) || t.slots.get(k)?.kind === "number");
  return f;
}

// The last time and hash seen: samples share their time, and a line's prev is the hash before it.
let lastTime = "";
let lastMs = NaN;
let lastHash: string = GENESIS_HASH;

function msOf(time: string): number {
  if (time !== lastTime) {
    lastTime = time;
    lastMs = isoMs(time);
  }
  return lastMs;
}

let isoDay = "";
let isoDayMs = NaN;

/**
 * Date.parse for the form the backend writes (2026-11-21T14:05:07.123Z),
 * without the general parser: the day through Date.parse once per day, the
 * time of day added. Anything else (another form, 24:00, a leap second) goes to Date.parse.
 */
function isoMs(t: string): number {
  if (t.length === 24 && t.charCodeAt(4) === 0x2d && t.charCodeAt(7) === 0x2d && t.charCodeAt(10) === 0x54 && t.charCodeAt(13) === 0x3a && t.charCodeAt(16) === 0x3a && t.charCodeAt(19) === 0x2e && t.charCodeAt(23) === 0x5a) {
    const h = digits(t, 11, 2);
    const m = digits(t, 14, 2);
    const s = digits(t, 17, 2);
    const ms = digits(t, 20, 3);
    if (h >= 0 && h <= 23 && m >= 0 && m <= 59 && s >= 0 && s <= 59 && ms >= 0) {
      if (t.slice(0, 10) !== isoDay) {
        isoDay = t.slice(0, 10);
        isoDayMs = Date.parse(isoDay + "T00:00:00.000Z");
      }
      return isoDayMs + ((h * 60 + m) * 60 + s) * 1000 + ms;
    }
  }
  return Date.parse(t);
}

/** The number written in t[at..at+n) in decimal digits, or -1. */
function digits(t: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = t.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The checks of validateEvent on a line's header fields; null if any fails (or
 * is in doubt). `canonical` null: the header alone is wanted (no hashing).
 */
function summary(
  seqText: string | null,
  id: string | null,
  time: string | null,
  tenant: string | null,
  type: string | null,
  rollout: string | undefined,
  prev: string | null,
  hash: string | null,
  canonical: string | null,
): EventLineSummary | EventLineHeader | null {
  if (seqText === null || id === null || id.length === 0 || time === null || tenant === null || type === null || type.length === 0 || prev === null || hash === null) return null;
  const first = seqText.charCodeAt(0);
  if (!(first >= 0x30 && first <= 0x39)) return null;
  const seq = Number(seqText);
  if (!Number.isSafeInteger(seq) || seq < 1) return null;
  const ms = msOf(time);
  if (Number.isNaN(ms)) return null;
  const contentHash = canonical === null ? null : sha256Hex(canonical);
  // A hash equal to the computed one is hex already; so is a prev equal to the hash of the line before.
  if (hash !== contentHash && !HEX64.test(hash)) return null;
  if (prev !== lastHash && !HEX64.test(prev)) return null;
  lastHash = hash;
  return canonical === null ? { seq, time, ms, tenant, type, rollout, prev, hash } : { seq, time, ms, tenant, type, rollout, prev, hash, canonical, contentHash: contentHash! };
}

function fromTemplate(m: TemplateMatch, withHash: boolean): EventLineSummary | EventLineHeader | null {
  const f = (m.template.memo ??= fieldSlots(m.template)) as FieldSlots;
  if (f.never) return null;
  const v = m.values;
  return summary(v[f.seq + 1]!, v[f.id + 1]!, v[f.time + 1]!, v[f.tenant + 1]!, v[f.type + 1]!, f.rollout < 0 ? undefined : v[f.rollout + 1]!, v[f.prev + 1]!, v[f.hash + 1]!, withHash ? m.canonical : null);
}

// Where the scan found each field of interest: start and end of its value's text (-1: absent).
let seqAt = -1, seqEnd = -1, idAt = -1, idEnd = -1, timeAt = -1, timeEnd = -1, tenantAt = -1, tenantEnd = -1;
let typeAt = -1, typeEnd = -1, actorAt = -1, actorEnd = -1, dataAt = -1, prevAt = -1, prevEnd = -1, hashAt = -1, hashEnd = -1, rolloutAt = -1, rolloutEnd = -1;
/** a reference field (rollout, ring, ...) that is not a string */
let badRef = false;
let scanning = "";

function noteField(key: string, start: number, end: number): void {
  switch (key) {
    case "seq":
      seqAt = start;
      seqEnd = end;
      return;
    case "id":
      idAt = start;
      idEnd = end;
      return;
    case "time":
      timeAt = start;
      timeEnd = end;
      return;
    case "tenant":
      tenantAt = start;
      tenantEnd = end;
      return;
    case "type":
      typeAt = start;
      typeEnd = end;
      return;
    case "actor":
      actorAt = start;
      actorEnd = end;
      return;
    case "data":
      dataAt = start;
      return;
    case "prev":
      prevAt = start;
      prevEnd = end;
      return;
    case "hash":
      hashAt = start;
      hashEnd = end;
      return;
    case "rollout":
      rolloutAt = start;
      rolloutEnd = end;
      if (scanning.charCodeAt(start) !== 0x22) badRef = true;
      return;
    case "ring":
    case "alert":
    case "incident":
    case "command":
      if (scanning.charCodeAt(start) !== 0x22) badRef = true;
      return;
    default:
      return;
  }
}

/** The string value at start..end (the scan allows no escapes), or null if the value is not a string. */
function stringAt(text: string, start: number, end: number): string | null {
  return start >= 0 && text.charCodeAt(start) === 0x22 ? text.slice(start + 1, end - 1) : null;
}

function actorOk(text: string): boolean {
  const v = JSON.parse(text) as unknown;
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const a = v as Record<string, unknown>;
  return typeof a.kind === "string" && typeof a.name === "string";
}

/** A line of a shape not seen before: the general scan, and the shape learnt for the next ones. */
function fromScan(text: string, withHash: boolean): EventLineSummary | EventLineHeader | null {
  seqAt = idAt = timeAt = tenantAt = typeAt = actorAt = dataAt = prevAt = hashAt = rolloutAt = -1;
  badRef = false;
  scanning = text;
  let canonical: string | null;
  try {
    canonical = canonicalJsonOfText(text, "hash", noteField);
  } finally {
    scanning = "";
  }
  if (canonical === null || badRef) return null;
  if (actorAt < 0 || text.charCodeAt(actorAt) !== 0x7b || !actorOk(text.slice(actorAt, actorEnd))) return null;
  if (dataAt < 0 || text.charCodeAt(dataAt) !== 0x7b) return null;
  const seqText = seqAt >= 0 ? text.slice(seqAt, seqEnd) : null;
  const rollout = rolloutAt < 0 ? undefined : stringAt(text, rolloutAt, rolloutEnd)!;
  const s = summary(seqText, stringAt(text, idAt, idEnd), stringAt(text, timeAt, timeEnd), stringAt(text, tenantAt, tenantEnd), stringAt(text, typeAt, typeEnd), rollout, stringAt(text, prevAt, prevEnd), stringAt(text, hashAt, hashEnd), withHash ? canonical : null);
  if (s !== null) templates.learn(text);
  return s;
}

/**
 * A line read the fast way: its header, the canonical text its hash covers and
 * that text's sha256, or null when the line needs the general path
 * (parseLogLine): anything not written the way the backend writes, anything not
 * a valid event, anything unusual. Whatever it returns is what parseLogLine,
 * then eventHash, would say of the same line: test/protocol/logfile-fast.test.ts
 * holds it to that.
 */
export function summarizeEventLine(text: string): EventLineSummary | null {
  const m = templates.match(text);
  return (m !== null ? fromTemplate(m, true) : fromScan(text, true)) as EventLineSummary | null;
}

/** The same without the chain's part (no canonical text, no hashing): for a reader that only indexes. */
export function readEventLineHeader(text: string): EventLineHeader | null {
  const m = templates.match(text, false);
  return m !== null ? fromTemplate(m, false) : fromScan(text, false);
}

/** Best guess at the seq a bad line was meant to carry, for messages; null if it does not say. */
export function seqOfRawLine(raw: string): number | null {
  const m = /"seq"\s*:\s*(\d{1,15})\b/.exec(raw);
  return m ? Number(m[1]) : null;
}

/** What the chain links: an event's seq, its prev and its own hash. */
export interface ChainLink {
  seq: number;
  prev: string;
  hash: string;
}

export interface ChainIssue {
  seq: number;
  line?: number;
  reason: string;
  /** the offending line's first RAW_EXCERPT_CHARS characters, when the caller passed it */
  raw?: string;
}

/**
 * Follows the hash chain one event at a time: seq 1, 2, 3 ... with no gap,
 * each `prev` equal to the previous `hash`, each `hash` recomputed from the
 * content. An event that fails leaves the checker where it was, so the caller
 * decides whether to stop or skip.
 */
export class ChainChecker {
  private seq: number;
  private hash: string;
  private checked = 0;

  /** Start after a known event (e.g. to check a tail fetched with `since`); default: an empty log. */
  constructor(after: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH }) {
    this.seq = after.seq;
    this.hash = after.hash;
  }

  get headSeq(): number {
    return this.seq;
  }
  get headHash(): string {
    return this.hash;
  }
  /** events accepted so far */
  get count(): number {
    return this.checked;
  }

  check(event: CockpitEvent, raw?: string, line?: number): ChainIssue | null {
    return this.checkWith(event, eventHash(event), raw, line);
  }

  /**
   * The same check given the sha256 of the event's content, computed by the
   * caller (summarizeEventLine's canonical text, hashed with sha256Hex).
   */
  checkWith(event: ChainLink, contentHash: string, raw?: string, line?: number): ChainIssue | null {
    // Content first: an edited line is the most specific thing to report.
    if (contentHash !== event.hash) return chainIssue(event, `seq ${event.seq}: hash does not match its content (edited line?)`, raw, line);
    return this.checkLink(event, raw, line);
  }

  /** The link alone (seq and prev), for an event whose content was checked elsewhere (checkChainRange). */
  checkLink(event: ChainLink, raw?: string, line?: number): ChainIssue | null {
    const expected = this.seq + 1;
    if (event.seq > expected) {
      const missing = event.seq - expected;
      const where = this.seq === 0 ? `seq ${event.seq} is the first event` : `seq ${event.seq} follows seq ${this.seq}`;
      return chainIssue(event, `${where}: ${missing} event${missing === 1 ? "" : "s"} missing`, raw, line);
    }
    if (event.seq < expected) {
      return chainIssue(event, `seq ${event.seq} follows seq ${this.seq}: repeated or out of order (lines reordered or pasted twice?)`, raw, line);
    }
    if (event.prev !== this.hash) {
      return chainIssue(
        event,
        this.seq === 0 ? `seq 1: prev must be 64 zeros (the start of the chain)` : `seq ${event.seq}: prev does not match the hash of seq ${this.seq} (line dropped or reordered?)`,
        raw,
        line,
      );
    }
    this.seq = event.seq;
    this.hash = event.hash;
    this.checked += 1;
    return null;
  }

  /** Take `n` events checked elsewhere, the last of them `head` (checkChainRange's result). */
  advance(n: number, head: { seq: number; hash: string }): void {
    this.seq = head.seq;
    this.hash = head.hash;
    this.checked += n;
  }
}

function chainIssue(event: ChainLink, reason: string, raw: string | undefined, line: number | undefined): ChainIssue {
  return { seq: event.seq, ...(line !== undefined ? { line } : {}), reason, ...(raw !== undefined ? { raw: excerpt(raw) } : {}) };
}

// ---- a file's tail, read beside the main reader ---------------------------------------------
//
// Checking the chain (rebuilding each line's canonical text and hashing it) is
// most of the cost of reading a log, and it needs nothing from the lines
// before but the seam. So a large file can be read in two parts at once: the
// caller reads the head, a worker thread reads the tail (readTail). The worker
// checks the tail's chain and hands back the tail's lines for the caller's
// index, runs of samples summed up (a sample is most lines, and an index only
// counts them) and every other line as it is. The caller joins the two chains
// at the end (ChainChecker.checkLink for the tail's first event, then advance()).

/** What readTail found of the chain; lines count from the tail's first line (1). */
export interface ChainRangeResult {
  /** the tail's first event: its content is checked here, its link is the caller's (it needs the state before the tail) */
  first: (ChainLink & { line: number; raw: string }) | null;
  /** events accepted, the first included, before the first issue */
  events: number;
  /** the first problem: the first event's content, or anything after it */
  issue: ChainIssue | null;
  /** the last event accepted */
  head: { seq: number; hash: string } | null;
}

/** Consecutive lines that are all valid sli.sample events, summed up for an index. */
export interface SampleRun {
  count: number;
  /** the first line's offset and line number */
  offset: number;
  line: number;
  /** the first event's time */
  firstMs: number;
  firstTime: string;
  /** the latest time in the run, and the time as written of the last event that has it */
  maxMs: number;
  maxTime: string;
  maxSeq: number;
  /** events per tenant */
  tenants: [string, number][];
}

/** The tail's lines for an index, in order. */
export type TailItem = { kind: "samples"; run: SampleRun } | { kind: "line"; line: LogLine };

/** The first line start at or after `offset` (the file's length if none). */
export async function nextLineStart(path: string, offset: number): Promise<number> {
  if (offset <= 0) return 0;
  const handle = await open(path, "r");
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    let position = offset - 1;
    for (;;) {
      const { bytesRead } = await handle.read(buf, 0, buf.length, position);
      if (bytesRead === 0) return position;
      const nl = buf.subarray(0, bytesRead).indexOf(NEWLINE);
      if (nl !== -1) return position + nl + 1;
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** Sums up consecutive samples (see SampleRun). */
class RunBuilder {
  private run: SampleRun | null = null;
  private tenants = new Map<string, number>();

  add(s: EventLineHeader, l: LogLine): void {
    const r = (this.run ??= { count: 0, offset: l.offset, line: l.line, firstMs: s.ms, firstTime: s.time, maxMs: s.ms, maxTime: s.time, maxSeq: s.seq, tenants: [] });
    r.count++;
    if (s.ms >= r.maxMs) {
      r.maxMs = s.ms;
      r.maxTime = s.time;
    }
    if (s.seq > r.maxSeq) r.maxSeq = s.seq;
    this.tenants.set(s.tenant, (this.tenants.get(s.tenant) ?? 0) + 1);
  }

  flush(into: TailItem[]): void {
    if (this.run === null) return;
    this.run.tenants = [...this.tenants];
    into.push({ kind: "samples", run: this.run });
    this.run = null;
    this.tenants = new Map();
  }
}

/**
 * The lines from `start` (a line start) to the end of the file: their hash
 * chain, checked as scanSource and verify-log check it (bad lines skipped,
 * the first problem reported), and, when `onItems` is given, the lines for an
 * index (TailItem), a batch at a time.
 */
export async function readTail(path: string, start: number, onItems?: (items: TailItem[]) => void | Promise<void>): Promise<ChainRangeResult> {
  let first: ChainRangeResult["first"] = null;
  let checker: ChainChecker | null = null;
  let issue: ChainIssue | null = null;
  const runs = new RunBuilder();
  reading: for await (const lines of readLogLines(path, { start })) {
    const items: TailItem[] = [];
    for (const l of lines) {
      // Once the chain is broken only the index needs the lines, and it needs no hash.
      const summary = l.overlong ? null : issue === null ? summarizeEventLine(l.text) : readEventLineHeader(l.text);
      if (onItems !== undefined) {
        if (summary !== null && summary.type === "sli.sample") runs.add(summary, l);
        else {
          runs.flush(items);
          items.push({ kind: "line", line: l });
        }
      }
      if (issue !== null) {
        if (onItems === undefined) break reading;
        continue;
      }
      let link: ChainLink;
      let contentHash: string;
      if (summary !== null) {
        link = summary;
        contentHash = (summary as EventLineSummary).contentHash;
      } else {
        const rec = parseLogLine(l, MAX_LINE_BYTES);
        if (rec.kind === "bad") continue;
        link = rec.event;
        contentHash = eventHash(rec.event);
      }
      if (checker === null) {
        first = { seq: link.seq, prev: link.prev, hash: link.hash, line: l.line, raw: l.text };
        // Content here; the link is the caller's. Go on as if the link held.
        if (contentHash !== link.hash) issue = new ChainChecker().checkWith(link, contentHash, l.text, l.line);
        else checker = new ChainChecker({ seq: link.seq, hash: link.hash });
        continue;
      }
      issue = checker.checkWith(link, contentHash, l.text, l.line);
    }
    runs.flush(items);
    if (onItems !== undefined && items.length > 0) await onItems(items);
  }
  const accepted = checker === null ? 0 : checker.count + 1;
  return { first, events: accepted, issue, head: checker === null ? null : { seq: checker.headSeq, hash: checker.headHash } };
}

const WORKER_TASK = "cockpit.readTail";
/** Text the worker may have handed over and the caller not yet taken: past it, the worker waits (bounded memory). */
const TAIL_BACKLOG_CHARS = 16 * 1024 * 1024;

/** readTail running in a worker thread. */
export interface TailTask {
  /** the tail's lines for an index, in order; read them all before awaiting `chain` */
  items: AsyncIterable<TailItem[]>;
  chain: Promise<ChainRangeResult>;
  /** stop the worker (the caller gave up) */
  cancel(): void;
}

type TailMessage = { type: "items"; items: TailItem[]; chars: number } | { type: "done"; result: ChainRangeResult } | { type: "failed"; message: string; code?: string };

function itemsChars(items: TailItem[]): number {
  let n = 0;
  for (const it of items) n += it.kind === "line" ? it.line.text.length : 64;
  return n;
}

/**
 * readTail in a worker thread, so it runs beside the caller's reading of the
 * head. null where a worker would not help or cannot run this module: one
 * CPU, or this module loaded from its TypeScript source (the tests).
 */
export function readTailInWorker(path: string, start: number): TailTask | null {
  const url = new URL(import.meta.url);
  if (availableParallelism() < 2 || !url.pathname.endsWith(".js")) return null;
  const backlog = new Int32Array(new SharedArrayBuffer(4));
  let worker: Worker;
  try {
    worker = new Worker(url, { workerData: { [WORKER_TASK]: { path, start, backlog: backlog.buffer } } });
  } catch {
    return null;
  }
  // Messages arrive in order; the items iterator and the chain promise take them from one queue.
  const queue: TailMessage[] = [];
  let wake: (() => void) | null = null;
  let failure: Error | null = null;
  const fail = (err: Error) => {
    failure ??= err;
    wake?.();
  };
  worker.on("message", (m: TailMessage) => {
    queue.push(m);
    wake?.();
  });
  worker.once("error", fail);
  worker.once("exit", (code) => fail(new Error(`the worker reading ${path} stopped (exit code ${code}) before it was done`)));
  const next = async (): Promise<TailMessage> => {
    for (;;) {
      const m = queue.shift();
      if (m !== undefined) return m;
      if (failure !== null) throw failure;
      await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
    }
  };
  let resolveChain!: (r: ChainRangeResult) => void;
  let rejectChain!: (err: Error) => void;
  const chain = new Promise<ChainRangeResult>((resolve, reject) => {
    resolveChain = resolve;
    rejectChain = reject;
  });
  chain.catch(() => undefined);
  let settled = false;
  chain.then(
    () => (settled = true),
    () => (settled = true),
  );
  async function* items(): AsyncGenerator<TailItem[]> {
    try {
      for (;;) {
        const m = await next();
        if (m.type === "items") {
          yield m.items;
          // Taken: let the worker go on if it was waiting for room.
          Atomics.sub(backlog, 0, m.chars);
          Atomics.notify(backlog, 0);
        } else if (m.type === "done") {
          resolveChain(m.result);
          return;
        } else {
          throw Object.assign(new Error(m.message), m.code !== undefined ? { code: m.code } : {});
        }
      }
    } catch (err) {
      rejectChain(err as Error);
      throw err;
    } finally {
      // Left before the end: nobody will wait for an answer that cannot come.
      if (!settled) rejectChain(new Error(`stopped reading the tail of ${path} before its end`));
      void worker.terminate();
    }
  }
  return {
    items: items(),
    chain,
    cancel: () => {
      rejectChain(new Error("cancelled"));
      void worker.terminate();
    },
  };
}

/**
 * readTail in this thread, as a TailTask; it holds the tail's items until
 * they are read, so it is for tests and small files, not for a large tail.
 */
export function readTailHere(path: string, start: number): TailTask {
  const batches: TailItem[][] = [];
  const chain = readTail(path, start, (items) => {
    batches.push(items);
  });
  chain.catch(() => undefined);
  async function* items(): AsyncGenerator<TailItem[]> {
    await chain;
    yield* batches;
  }
  return { items: items(), chain, cancel: () => undefined };
}

// In a worker started by readTailInWorker: read the tail, handing the items over as they come.
const task = !isMainThread && parentPort !== null ? ((workerData as Record<string, { path: string; start: number; backlog: SharedArrayBuffer }> | null)?.[WORKER_TASK] ?? null) : null;
if (task !== null) {
  const port = parentPort!;
  const backlog = new Int32Array(task.backlog);
  const send = (items: TailItem[]) => {
    const chars = itemsChars(items);
    Atomics.add(backlog, 0, chars);
    port.postMessage({ type: "items", items, chars } satisfies TailMessage);
    // Wait while the reader is far behind, so what is handed over stays bounded.
    for (let held = Atomics.load(backlog, 0); held > TAIL_BACKLOG_CHARS; held = Atomics.load(backlog, 0)) Atomics.wait(backlog, 0, held, 1000);
  };
  readTail(task.path, task.start, send).then(
    (result) => port.postMessage({ type: "done", result } satisfies TailMessage),
    (err: NodeJS.ErrnoException) => port.postMessage({ type: "failed", message: String(err?.message ?? err), ...(typeof err?.code === "string" ? { code: err.code } : {}) } satisfies TailMessage),
  );
}
