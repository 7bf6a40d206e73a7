import { formatDurationShort, parseDuration } from "./duration.js";
import { quoteText } from "../protocol/sanitize.js";

// The SLO assertion language, one assertion per string:
//
//   [assert(] METRIC OP RHS [for DURATION] [)]
//   METRIC   [a-zA-Z_][a-zA-Z0-9_.]*          p99_latency_ms, error_rate, http.5xx
//   OP       <  <=  >  >=
//   RHS      NUMBER[%]                         50, 1%, 0.5%, -3
//          | baseline [* FACTOR] [(+|-) NUMBER[%]]
//   DURATION see duration.ts                    30s, 2m, 1h30m
//
// Examples: "p99_latency_ms < 50 for 2m", "error_rate <= baseline + 0.1% for 30s",
// "assert(p99_latency_ms < baseline * 1.2)".
//
// Percent convention: a metric measured as a percentage carries its values in
// percent units (error_rate 0.5 means 0.5 %), so "1%" is the number 1 and
// "baseline + 0.1%" adds 0.1. The "%" is kept in the normalized text for people;
// the arithmetic never divides by 100.
//
// "for W" asks that the assertion fail continuously for W before it counts as
// breached (see gate.ts); without it, consecutive failing evaluations count.

export type ComparisonOp = "<" | "<=" | ">" | ">=";

export type AssertionRhs = { kind: "absolute"; value: number } | { kind: "baseline"; factor: number; offset: number };

export interface Assertion {
  /** normalized text, e.g. "p99_latency_ms < 50 for 1m"; parses back to the same assertion */
  text: string;
  metric: string;
  op: ComparisonOp;
  rhs: AssertionRhs;
  forSeconds: number | null;
}

export interface AssertionError {
  /** says "at column N", e.g. "expected a comparison operator (<, <=, >, >=) at column 16" */
  message: string;
  /** 1-based, in UTF-16 code units of the original text */
  column: number;
}

export type AssertionParse = { ok: true; assertion: Assertion } | { ok: false; error: AssertionError };

export type AssertionStatus = "pass" | "fail" | "no_data";
export interface AssertionEvaluation {
  status: AssertionStatus;
  /** the value the metric is compared against; null when it cannot be known (no baseline) */
  threshold: number | null;
}

const METRIC_START = /[A-Za-z_]/;
const METRIC_REST = /[A-Za-z0-9_.]/;
const NUMBER = /[+-]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPERATOR_EXPECTED = "expected a comparison operator (<, <=, >, >=)";

class ParseFailure extends Error {
  constructor(
    readonly reason: string,
    readonly pos: number,
    /** what would have been right, said after the column */
    readonly hint?: string,
  ) {
    super(reason);
  }
}

/** Reads the text left to right; positions are 0-based indexes into the original text. */
class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get atEnd(): boolean {
    return this.pos >= this.text.length;
  }
  peek(n = 0): string {
    return this.text[this.pos + n] ?? "";
  }
  skipSpace(): boolean {
    const start = this.pos;
    while (/\s/.test(this.peek())) this.pos++;
    return this.pos > start;
  }
  match(re: RegExp): string | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return null;
    this.pos = re.lastIndex;
    return m[0];
  }
  /** the next run of non-space text, quoted (and cleaned: it is the file's text) in "unexpected ..." messages */
  nextChunk(): string {
    const m = /\S+/y;
    m.lastIndex = this.pos;
    return quoteText(m.exec(this.text)?.[0] ?? "", 20);
  }
  fail(reason: string, pos = this.pos, hint?: string): never {
    throw new ParseFailure(reason, pos, hint);
  }
}

function formatNumber(n: number): string {
  return String(n);
}

function normalizedRhs(rhs: AssertionRhs, percent: boolean): string {
  const pct = percent ? "%" : "";
  if (rhs.kind === "absolute") return formatNumber(rhs.value) + pct;
  let s = "baseline";
  if (rhs.factor !== 1) s += ` * ${formatNumber(rhs.factor)}`;
  if (rhs.offset > 0) s += ` + ${formatNumber(rhs.offset)}${pct}`;
  else if (rhs.offset < 0) s += ` - ${formatNumber(-rhs.offset)}${pct}`;
  return s;
}

function readMetric(c: Cursor): string {
  if (c.atEnd) c.fail("expected a metric name (the assertion is empty)");
  if (!METRIC_START.test(c.peek())) c.fail("expected a metric name (a letter or _ first, then letters, digits, _ or .)");
  const start = c.pos;
  c.pos++;
  while (!c.atEnd && METRIC_REST.test(c.peek())) c.pos++;
  return c.text.slice(start, c.pos);
}

function readOperator(c: Cursor): ComparisonOp {
  const ch = c.peek();
  if (ch === "<" || ch === ">") {
    c.pos++;
    if (c.peek() === "=") {
      c.pos++;
      return (ch + "=") as ComparisonOp;
    }
    // "<>" or "=>"-like slips read as one operator by people; refuse them where they start.
    if (c.peek() === "<" || c.peek() === ">") c.fail(OPERATOR_EXPECTED, c.pos - 1);
    return ch;
  }
  return c.fail(OPERATOR_EXPECTED);
}

function readNumber(c: Cursor, what: string): number {
  const start = c.pos;
  const tok = c.match(NUMBER);
  if (tok === null) c.fail(what);
  const n = Number(tok);
  if (!Number.isFinite(n)) c.fail("the number is too large", start);
  return n;
}

function readPercent(c: Cursor): boolean {
  if (c.peek() !== "%") return false;
  c.pos++;
  return true;
}

function readRhs(c: Cursor, op: ComparisonOp): { rhs: AssertionRhs; percent: boolean } {
  const wordStart = c.pos;
  const word = c.match(WORD);
  if (word === null) {
    const value = readNumber(c, `expected a number or baseline after ${op}`);
    return { rhs: { kind: "absolute", value }, percent: readPercent(c) };
  }
  if (word !== "baseline") c.fail(`expected a number or baseline after ${op}`, wordStart);

  let factor = 1;
  let offset = 0;
  let percent = false;
  const save = c.pos;
  c.skipSpace();
  if (c.peek() === "*") {
    c.pos++;
    c.skipSpace();
    const factorStart = c.pos;
    factor = readNumber(c, "expected a number (the factor) after *");
    if (c.peek() === "%") c.fail("the factor after * is a plain number, not a percentage");
    if (factor <= 0) c.fail("the factor after * must be above 0", factorStart);
  } else {
    c.pos = save;
  }
  const save2 = c.pos;
  c.skipSpace();
  const sign = c.peek();
  if (sign === "+" || sign === "-") {
    c.pos++;
    c.skipSpace();
    const n = readNumber(c, `expected a number after ${sign}`);
    offset = sign === "+" ? n : -n;
    percent = readPercent(c);
  } else {
    c.pos = save2;
  }
  return { rhs: { kind: "baseline", factor, offset }, percent };
}

function readFor(c: Cursor, closer: string): number | null {
  const save = c.pos;
  const hadSpace = c.skipSpace();
  if (c.atEnd || c.peek() === closer) {
    c.pos = save;
    return null;
  }
  const wordStart = c.pos;
  const word = hadSpace ? c.match(WORD) : null;
  if (word !== "for") {
    const got = c.text.slice(wordStart).match(/^[^\s)]+/)?.[0] ?? c.peek();
    c.fail(`unexpected ${quoteText(got, 20)}`, wordStart, 'expected "for <duration>" or the end');
  }
  c.skipSpace();
  const durStart = c.pos;
  const tok = c.text.slice(durStart).match(/^[^\s)]+/)?.[0] ?? "";
  if (tok === "") c.fail("expected a duration after for (like 30s or 2m)");
  const d = parseDuration(tok);
  if (!d.ok) c.fail(`${quoteText(tok, 20)} is not a duration (like 30s or 2m)`, durStart);
  if (d.seconds <= 0) c.fail("the for window must be longer than 0", durStart);
  c.pos = durStart + tok.length;
  return d.seconds;
}

export function parseAssertion(text: string): AssertionParse {
  const c = new Cursor(text);
  try {
    c.skipSpace();
    // "assert(" only when the word is followed by "(": a metric may be called assert.
    let wrapped = false;
    const wrapMatch = /assert\s*\(/y;
    wrapMatch.lastIndex = c.pos;
    if (wrapMatch.test(text)) {
      wrapped = true;
      c.pos = wrapMatch.lastIndex;
      c.skipSpace();
    }
    const metric = readMetric(c);
    c.skipSpace();
    const op = readOperator(c);
    c.skipSpace();
    const { rhs, percent } = readRhs(c, op);
    const forSeconds = readFor(c, wrapped ? ")" : "");
    c.skipSpace();
    if (wrapped) {
      if (c.peek() !== ")") c.fail('expected ")" to close "assert("');
      c.pos++;
      c.skipSpace();
      if (!c.atEnd) c.fail(`unexpected ${c.nextChunk()} after the closing ")"`);
    } else if (!c.atEnd) {
      c.fail(`unexpected ${c.nextChunk()}`, c.pos, 'expected "for <duration>" or the end');
    }
    let normalized = `${metric} ${op} ${normalizedRhs(rhs, percent)}`;
    if (forSeconds !== null) normalized += ` for ${formatDurationShort(forSeconds)}`;
    return { ok: true, assertion: { text: normalized, metric, op, rhs, forSeconds } };
  } catch (e) {
    if (!(e instanceof ParseFailure)) throw e;
    const column = e.pos + 1;
    const message = `${e.reason} at column ${column}` + (e.hint ? `; ${e.hint}` : "");
    return { ok: false, error: { message, column } };
  }
}

/**
 * The assertion text, and under it a caret at the error's column:
 *   p99_latency_ms = 50
 *                  ^ expected a comparison operator (<, <=, >, >=) at column 16
 * Tabs before the column are kept so the caret lines up in a terminal.
 */
export function formatAssertionError(text: string, error: AssertionError): string {
  const firstLine = text.split(/\r?\n/, 1)[0] ?? "";
  const col = Math.max(1, Math.min(error.column, text.length + 1));
  const pad = text.slice(0, col - 1).replace(/[^\t]/g, " ");
  return `${firstLine}\n${pad}^ ${error.message}`;
}

/** The threshold the value is compared against, or null when a baseline is needed and missing. */
export function assertionThreshold(a: Assertion, baseline: number | null): number | null {
  if (a.rhs.kind === "absolute") return a.rhs.value;
  if (baseline === null || !Number.isFinite(baseline)) return null;
  return baseline * a.rhs.factor + a.rhs.offset;
}

function compare(op: ComparisonOp, value: number, threshold: number): boolean {
  switch (op) {
    case "<":
      return value < threshold;
    case "<=":
      return value <= threshold;
    case ">":
      return value > threshold;
    case ">=":
      return value >= threshold;
  }
}

/** An assertion that cannot be checked is no_data, never pass: missing data is never green. */
export function evaluateAssertion(a: Assertion, value: number | null, baseline: number | null): AssertionEvaluation {
  const threshold = assertionThreshold(a, baseline);
  if (value === null || !Number.isFinite(value) || threshold === null) return { status: "no_data", threshold };
  return { status: compare(a.op, value, threshold) ? "pass" : "fail", threshold };
}
