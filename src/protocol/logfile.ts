import { createReadStream } from "node:fs";
import { eventHash } from "./canonical.js";
import { GENESIS_HASH, type CockpitEvent } from "./types.js";
import { validateEvent } from "./validate-event.js";

// Reading the append-only event log (JSONL), shared by the backend (recovery on
// open), `cockpit verify-log` and the postmortem. Pure reading: nothing here
// writes or repairs a file.

/** How much of a bad line is kept for messages. */
export const RAW_EXCERPT_CHARS = 200;
/** A longer "line" is not an event (e.g. a run of zeros left by a power cut); only its start is kept. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

interface LineSpan {
  /** 1-based line number */
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

const NEWLINE = 0x0a;
const CR = 0x0d;

/**
 * Lines of a file with their byte spans. Splitting on the byte 0x0A is safe in
 * UTF-8 (it never occurs inside a multi-byte sequence), and byte offsets are
 * what a reader needs to truncate a torn tail; node:readline gives neither.
 */
async function* readLines(path: string, maxLineBytes: number): AsyncGenerator<{ bytes: Buffer; overlong: boolean } & LineSpan> {
  let parts: Buffer[] = [];
  let partBytes = 0;
  let lineBytes = 0;
  let offset = 0;
  let line = 0;
  const take = (chunk: Buffer) => {
    lineBytes += chunk.length;
    // Past the cap only the start is kept, so a huge unterminated region cannot exhaust memory.
    if (partBytes < maxLineBytes) {
      parts.push(chunk);
      partBytes += chunk.length;
    }
  };
  const cut = (terminated: boolean) => {
    line += 1;
    const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    const span = { line, offset, end: offset + lineBytes + (terminated ? 1 : 0), terminated, bytes, overlong: lineBytes > maxLineBytes };
    offset = span.end;
    parts = [];
    partBytes = 0;
    lineBytes = 0;
    return span;
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
      take(chunk.subarray(start, nl));
      start = nl + 1;
      yield cut(true);
    }
    if (start < chunk.length) take(chunk.subarray(start));
  }
  if (lineBytes > 0) yield cut(false);
}

function excerpt(text: string): string {
  return text.length > RAW_EXCERPT_CHARS ? text.slice(0, RAW_EXCERPT_CHARS) : text;
}

/**
 * The log's lines as events or bad lines, streamed (a million-line log is never
 * held whole). Accepts CRLF line endings, a missing final newline and a UTF-8
 * BOM; a blank line is reported as bad because the writer never makes one.
 */
export async function* readLogFile(path: string, opts: { maxLineBytes?: number } = {}): AsyncGenerator<LogRecord> {
  const maxLineBytes = opts.maxLineBytes ?? MAX_LINE_BYTES;
  for await (const { bytes, overlong, ...span } of readLines(path, maxLineBytes)) {
    const body = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, bytes.length - 1) : bytes;
    let text = body.toString("utf8");
    if (span.line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (overlong) {
      yield { kind: "bad", ...span, raw: excerpt(text), reason: `line ${span.line} is longer than ${maxLineBytes} bytes: not an event`, parsed: false };
      continue;
    }
    if (text.trim() === "") {
      yield { kind: "bad", ...span, raw: excerpt(text), reason: `line ${span.line} is blank`, parsed: false };
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      yield { kind: "bad", ...span, raw: excerpt(text), reason: `line ${span.line} is not valid JSON (${why})`, parsed: false };
      continue;
    }
    const check = validateEvent(value);
    if (!check.ok) {
      yield { kind: "bad", ...span, raw: excerpt(text), reason: `line ${span.line} is not an event: ${check.error}`, parsed: true };
      continue;
    }
    yield { kind: "event", ...span, event: check.event, raw: text };
  }
}

/** Best guess at the seq a bad line was meant to carry, for messages; null if it does not say. */
export function seqOfRawLine(raw: string): number | null {
  const m = /"seq"\s*:\s*(\d{1,15})\b/.exec(raw);
  return m ? Number(m[1]) : null;
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
    const issue = (reason: string): ChainIssue => ({
      seq: event.seq,
      ...(line !== undefined ? { line } : {}),
      reason,
      ...(raw !== undefined ? { raw: excerpt(raw) } : {}),
    });
    // Content first: an edited line is the most specific thing to report.
    if (eventHash(event) !== event.hash) return issue(`seq ${event.seq}: hash does not match its content (edited line?)`);
    const expected = this.seq + 1;
    if (event.seq > expected) {
      const missing = event.seq - expected;
      const where = this.seq === 0 ? `seq ${event.seq} is the first event` : `seq ${event.seq} follows seq ${this.seq}`;
      return issue(`${where}: ${missing} event${missing === 1 ? "" : "s"} missing`);
    }
    if (event.seq < expected) {
      return issue(`seq ${event.seq} follows seq ${this.seq}: repeated or out of order (lines reordered or pasted twice?)`);
    }
    if (event.prev !== this.hash) {
      return issue(
        this.seq === 0
          ? `seq 1: prev must be 64 zeros (the start of the chain)`
          : `seq ${event.seq}: prev does not match the hash of seq ${this.seq} (line dropped or reordered?)`,
      );
    }
    this.seq = event.seq;
    this.hash = event.hash;
    this.checked += 1;
    return null;
  }
}
