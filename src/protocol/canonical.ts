import * as crypto from "node:crypto";
import type { CockpitEvent } from "./types.js";

// Canonical JSON as PROTOCOL.md defines it: keys sorted by UTF-16 code units at
// every level, no whitespace, strings and numbers as JSON.stringify writes them.
// Anyone holding the log recomputes the chain with this, so it must not drift.
//
// Two ways in, with the same output: canonicalJson walks a value; canonicalJsonOfText
// reads a JSON text (a log line) without building the value, which is what lets a
// million-line log be checked in seconds. test/protocol/canonical.test.ts holds
// both to the original definition (kept there as the reference) on random values.

/**
 * Sorted key orders by object shape: a log has few shapes (one per event type,
 * roughly), so the sort is done once per shape, not once per object. The entry
 * keeps the keys it was made for, so a signature that two key lists share
 * (a key containing the separator) is detected instead of trusted.
 */
interface Shape {
  keys: string[];
  sorted: string[];
  /** `"key":` for each sorted key, as JSON.stringify quotes it */
  prefixes: string[];
}
const MAX_SHAPES = 4096;
const shapes = new Map<string, Shape>();

function sortedShape(keys: string[]): Shape {
  const sig = keys.join("\u0000");
  const hit = shapes.get(sig);
  if (hit !== undefined && sameKeys(hit.keys, keys)) return hit;
  // Array.prototype.sort with no comparator compares UTF-16 code units.
  const sorted = keys.slice().sort();
  const shape: Shape = { keys, sorted, prefixes: sorted.map((k) => JSON.stringify(k) + ":") };
  if (hit === undefined) {
    if (shapes.size >= MAX_SHAPES) shapes.clear();
    shapes.set(sig, shape);
  }
  return shape;
}

function sameKeys(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function canonicalJson(value: unknown): string {
  return canonical(value, null);
}

/** `omit`: a key left out of the top-level object (the event's own `hash`). */
function canonical(value: unknown, omit: string | null): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      // What JSON.stringify writes: NaN and the infinities have no JSON form.
      return Number.isFinite(value) ? "" + value : "null";
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      break;
    default: {
      // undefined, functions and symbols have no JSON form (callers drop such keys
      // first); a bigint throws, as JSON.stringify does.
      const s = JSON.stringify(value);
      return s === undefined ? "null" : s;
    }
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      const v: unknown = value[i];
      // A hole in a sparse array is skipped by map() and written as nothing by join().
      if (v === undefined && !(i in value)) continue;
      out += canonical(v, null);
    }
    return out + "]";
  }
  const obj = value as Record<string, unknown>;
  const shape = sortedShape(Object.keys(obj));
  let out = "{";
  let first = true;
  for (let i = 0; i < shape.sorted.length; i++) {
    const k = shape.sorted[i]!;
    if (k === omit) continue;
    const v = obj[k];
    if (v === undefined) continue;
    out += (first ? "" : ",") + shape.prefixes[i]! + canonical(v, null);
    first = false;
  }
  return out + "}";
}

/** crypto.hash (one call, no Hash object) where this Node has it; it is several times cheaper per small input. */
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: "hex") => string }).hash;

/** sha256 hex of a text's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return oneShotHash !== undefined ? oneShotHash("sha256", text, "hex") : crypto.createHash("sha256").update(text, "utf8").digest("hex");
}

/** sha256 hex of the event's canonical JSON without its `hash` field. */
export function eventHash(event: Omit<CockpitEvent, "hash"> & { hash?: string }): string {
  return sha256Hex(canonical(event, "hash"));
}

// ---- canonical JSON straight from a JSON text ----------------------------------------------
//
// A log line is JSON.stringify output with keys in the writer's order, so its
// canonical form is its own text with the members of each object put in key
// order. canonicalJsonOfText finds the members without building any value and
// reorders slices of the text. It handles only what JSON.stringify writes and
// returns null for anything else (whitespace between tokens, escapes, a number
// not in its shortest form, a repeated key, deep nesting, ...): the caller then
// parses the text and uses canonicalJson, so nothing it accepts can come out
// different from JSON.parse followed by canonicalJson.

/** Deeper texts take the general path (which is recursive, like this one). */
const MAX_TEXT_DEPTH = 64;
/** Control characters are never allowed raw in JSON, and a backslash starts an escape: both take the general path. */
const NOT_PLAIN = /[\u0000-\u001f\\]/;
/** JSON.stringify escapes a lone surrogate, so a text holding one is not canonical as written. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const wellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !LONE_SURROGATE.test(s);
/** Past this many members in one text the scratch arrays are let go rather than kept for the next line. */
const KEEP_SCRATCH_MEMBERS = 4096;

/** A top-level member as written: the key and where its value's text starts and ends. */
export type MemberVisitor = (key: string, valueStart: number, valueEnd: number) => void;

/**
 * The key sequences seen so far, as a trie: an object's keys are matched in
 * place (no slicing), and the node its last key reaches holds the sorted order
 * for that sequence. A log has a few dozen sequences; a hostile one with
 * endless new keys resets the trie (MAX_KEY_NODES) instead of growing it.
 */
interface KeyNode {
  key: string;
  parent: KeyNode | null;
  children: KeyNode[];
  shape: TextShape | null;
}
interface TextShape {
  /** for the i-th key in sorted order, its position in the object as written */
  order: number[];
  sortedKeys: string[];
  prefixes: string[];
  /** written in key order already (and no key repeated) */
  inOrder: boolean;
  /** a key appears twice: JSON.parse keeps the last, so take the general path */
  repeated: boolean;
}
const MAX_KEY_NODES = 20_000;
let keyRoot: KeyNode = { key: "", parent: null, children: [], shape: null };
let keyNodes = 0;

function childFor(node: KeyNode, key: string): KeyNode {
  const child: KeyNode = { key, parent: node, children: [], shape: null };
  node.children.push(child);
  keyNodes++;
  return child;
}

function textShape(node: KeyNode): TextShape {
  const keys: string[] = [];
  for (let n: KeyNode | null = node; n !== null && n.parent !== null; n = n.parent) keys.push(n.key);
  keys.reverse();
  // Comparing with < orders by UTF-16 code units, as the default sort does.
  const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : a - b));
  const sortedKeys = order.map((i) => keys[i]!);
  let repeated = false;
  let inOrder = true;
  for (let i = 0; i < order.length; i++) {
    if (order[i] !== i) inOrder = false;
    if (i > 0 && sortedKeys[i] === sortedKeys[i - 1]) repeated = true;
  }
  return { order, sortedKeys, prefixes: sortedKeys.map((k) => JSON.stringify(k) + ":"), inOrder: inOrder && !repeated, repeated };
}

let text = "";
let at = 0;
/** members of the objects being scanned: start of `"key":...`, end, and canonical text of the value (null: as written) */
const memberStarts: number[] = [];
const memberEnds: number[] = [];
const memberCanon: (string | null)[] = [];
let memberTop = 0;

/** `canonical` of the value scanned: null when the text as written is already canonical. */
let scannedCanon: string | null = null;

/**
 * The canonical JSON of a JSON object text without the top-level member
 * `omit`, or null if the text is not in the form JSON.stringify writes (then
 * parse it and use canonicalJson). `visit` sees each top-level member as it is
 * scanned (so it may see some of a text that is then refused), so a caller can
 * read the fields it needs from the same scan.
 */
export function canonicalJsonOfText(source: string, omit: string | null = null, visit?: MemberVisitor): string | null {
  if (source.charCodeAt(0) !== 0x7b || NOT_PLAIN.test(source) || !wellFormed(source)) return null;
  if (keyNodes > MAX_KEY_NODES) {
    keyRoot = { key: "", parent: null, children: [], shape: null };
    keyNodes = 0;
  }
  text = source;
  at = 0;
  memberTop = 0;
  try {
    if (!scanObject(1, omit, visit) || at !== source.length) return null;
    return scannedCanon ?? source;
  } finally {
    text = "";
    if (memberStarts.length > KEEP_SCRATCH_MEMBERS) {
      memberStarts.length = 0;
      memberEnds.length = 0;
      memberCanon.length = 0;
    }
  }
}

/** Scans the value at `at`; false if it is not in the accepted form. Sets scannedCanon. */
function scanValue(depth: number): boolean {
  const c = text.charCodeAt(at);
  if (c === 0x22) {
    // No backslash anywhere (checked up front), so the next quote ends the string.
    const end = text.indexOf('"', at + 1);
    if (end < 0) return false;
    at = end + 1;
    scannedCanon = null;
    return true;
  }
  if (c === 0x7b) return scanObject(depth + 1, null, undefined);
  if (c === 0x5b) return scanArray(depth + 1);
  if (c === 0x74) return literal("true");
  if (c === 0x66) return literal("false");
  if (c === 0x6e) return literal("null");
  return scanNumber();
}

function literal(word: string): boolean {
  if (!text.startsWith(word, at)) return false;
  at += word.length;
  scannedCanon = null;
  return true;
}

function scanNumber(): boolean {
  const start = at;
  let digitsOnly = true;
  for (;;) {
    const d = text.charCodeAt(at);
    if (d >= 0x30 && d <= 0x39) at++;
    else if (d === 0x2d || d === 0x2e || d === 0x65 || d === 0x45 || d === 0x2b) {
      digitsOnly = false;
      at++;
    } else break;
  }
  const len = at - start;
  if (len === 0) return false;
  scannedCanon = null;
  // A plain integer of up to 15 digits with no leading zero is written as is.
  if (digitsOnly && len <= 15 && (len === 1 || text.charCodeAt(start) !== 0x30)) return true;
  // Anything else must already be what JSON.stringify would write (its shortest
  // form); that form is always valid JSON, so the check also validates the syntax.
  return shortestNumber(text.slice(start, at));
}

function scanArray(depth: number): boolean {
  if (depth > MAX_TEXT_DEPTH) return false;
  const start = at;
  at++;
  if (text.charCodeAt(at) === 0x5d) {
    at++;
    scannedCanon = null;
    return true;
  }
  let parts: string[] | null = null;
  let partStart = start;
  for (;;) {
    const vs = at;
    if (!scanValue(depth)) return false;
    if (scannedCanon !== null) {
      // An element that had to be rewritten: keep the text before it as written.
      parts ??= [];
      parts.push(text.slice(partStart, vs), scannedCanon);
      partStart = at;
    }
    const c = text.charCodeAt(at);
    at++;
    if (c === 0x2c) continue;
    if (c === 0x5d) break;
    return false;
  }
  if (parts === null) {
    scannedCanon = null;
  } else {
    parts.push(text.slice(partStart, at));
    scannedCanon = parts.join("");
  }
  return true;
}

function scanObject(depth: number, omit: string | null, visit: MemberVisitor | undefined): boolean {
  if (depth > MAX_TEXT_DEPTH) return false;
  at++;
  if (text.charCodeAt(at) === 0x7d) {
    at++;
    scannedCanon = null;
    return true;
  }
  const base = memberTop;
  let node = keyRoot;
  let rewritten = false;
  for (;;) {
    if (text.charCodeAt(at) !== 0x22) return false;
    const keyStart = at + 1;
    let next: KeyNode | null = null;
    // A key holds no quote, so a child key followed by a quote is the key here.
    for (const child of node.children) {
      if (text.charCodeAt(keyStart + child.key.length) === 0x22 && text.startsWith(child.key, keyStart)) {
        next = child;
        break;
      }
    }
    if (next === null) {
      const keyEnd = text.indexOf('"', keyStart);
      if (keyEnd < 0) return false;
      next = childFor(node, text.slice(keyStart, keyEnd));
    }
    node = next;
    const memberStart = at;
    at = keyStart + node.key.length + 1;
    if (text.charCodeAt(at) !== 0x3a) return false;
    at++;
    const vs = at;
    if (!scanValue(depth)) return false;
    if (visit !== undefined) visit(node.key, vs, at);
    if (scannedCanon !== null) rewritten = true;
    memberStarts[memberTop] = memberStart;
    memberEnds[memberTop] = at;
    memberCanon[memberTop] = scannedCanon;
    memberTop++;
    const c = text.charCodeAt(at);
    at++;
    if (c === 0x2c) continue;
    if (c === 0x7d) break;
    return false;
  }
  const shape = (node.shape ??= textShape(node));
  if (shape.repeated) return false;
  if (shape.inOrder && !rewritten && omit === null) scannedCanon = null;
  else scannedCanon = rebuild(base, shape, omit);
  memberTop = base;
  return true;
}

/** The members of the object at base.., in key order, without `omit`. */
function rebuild(base: number, shape: TextShape, omit: string | null): string {
  let out = "{";
  let first = true;
  for (let i = 0; i < shape.order.length; i++) {
    if (shape.sortedKeys[i] === omit) continue;
    const j = base + shape.order[i]!;
    const canon = memberCanon[j] ?? null;
    out += (first ? "" : ",") + (canon === null ? text.slice(memberStarts[j]!, memberEnds[j]!) : shape.prefixes[i]! + canon);
    first = false;
  }
  return out + "}";
}

// ---- line shapes ----------------------------------------------------------------------------
//
// Most lines of a log share a handful of shapes: the same keys in the same
// places, only the scalars differ (every sli.sample line looks alike). A shape
// learnt from one line becomes a regular expression with a slot per string and
// per number (true, false and null are part of the shape), and the canonical
// text of any line it matches is put together from fixed pieces and the slots,
// in an order worked out once: one native regexp match per line replaces the
// scan. A match proves the line has exactly the learnt structure (the pieces
// between slots are that line's keys, punctuation and literals, and each slot
// is one complete string body or number), so its canonical text is what the
// scan would give; numbers are still checked to be in their shortest form.

/** A string's body as JSON.stringify writes it when it needs no escape (see NOT_PLAIN). */
const STRING_SLOT = '([^"\\\\\\u0000-\\u001f]*)';
/** A number's text; shortestNumber then checks it. */
const NUMBER_SLOT = "(-?[0-9][0-9.eE+\\-]*)";
/** A shape with more slots is not learnt: its expression would cost more than the scan. */
const MAX_TEMPLATE_SLOTS = 128;
const INTEGER_KEY = /^(?:0|[1-9][0-9]*)$/;

export type SlotKind = "string" | "number";

export interface TextTemplate {
  readonly pattern: RegExp;
  /** canonical text = pieces[0] + slot(order[0]) + pieces[1] + ... + pieces[n] */
  readonly pieces: readonly string[];
  readonly order: readonly number[];
  /** slot of each string or number, by path (keys joined with "\u0000"; an array element by its index) */
  readonly slots: ReadonlyMap<string, { slot: number; kind: SlotKind }>;
  /** numbered slots, whose text shortestNumber must accept */
  readonly numberSlots: readonly number[];
  /** what is at each other path: an object, an array, or true, false or null */
  readonly fixed: ReadonlyMap<string, "object" | "array" | "literal">;
  /** for the caller: what it worked out once about this shape */
  memo: unknown;
}

export interface TemplateMatch {
  template: TextTemplate;
  /** the slots as written (a string without its quotes): slot i is values[i + 1] */
  values: RegExpExecArray;
  /** "" when match() was asked not to assemble it */
  canonical: string;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/**
 * Whether a number's text is what JSON.stringify writes for it (see
 * scanNumber). Most are settled without converting: an integer of up to 15
 * digits, or a decimal with up to 15 significant digits, no leading zero, no
 * trailing zero in its fraction and at most 5 zeros after "0.", is printed back
 * exactly as written (15 digits always survive the round trip through a double,
 * and such a value is printed without an exponent). The rest are converted.
 */
function shortestNumber(token: string): boolean {
  const len = token.length;
  let i = token.charCodeAt(0) === 0x2d ? 1 : 0;
  const intStart = i;
  while (i < len && isDigit(token.charCodeAt(i))) i++;
  const intDigits = i - intStart;
  const zeroInt = intDigits === 1 && token.charCodeAt(intStart) === 0x30;
  if (intDigits > 0 && (zeroInt || token.charCodeAt(intStart) !== 0x30)) {
    // "-0" is written "0", so a lone zero only counts without its sign.
    if (i === len) {
      if (intDigits <= 15 && !(zeroInt && intStart === 1)) return true;
    } else if (token.charCodeAt(i) === 0x2e && i + 1 < len && token.charCodeAt(len - 1) !== 0x30) {
      const fracStart = i + 1;
      let j = fracStart;
      while (j < len && isDigit(token.charCodeAt(j))) j++;
      if (j === len) {
        let leadingZeros = 0;
        if (zeroInt) while (token.charCodeAt(fracStart + leadingZeros) === 0x30) leadingZeros++;
        const significant = zeroInt ? len - fracStart - leadingZeros : intDigits + (len - fracStart);
        if (significant <= 15 && leadingZeros <= 5) return true;
      }
    }
  }
  const n = Number(token);
  return Number.isFinite(n) && "" + n === token;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The shapes of the lines seen so far (canonical text without the top-level
 * key `omit`). learn() takes a line canonicalJsonOfText accepted; match() then
 * serves every line of the same shape.
 */
export class TemplateCache {
  private readonly templates: TextTemplate[] = [];

  constructor(
    private readonly omit: string | null,
    private readonly maxTemplates = 64,
  ) {}

  /** `assemble`: false when only the slots are wanted (canonical is then ""). */
  match(text: string, assemble = true): TemplateMatch | null {
    // Most recently matched first: a log's lines are mostly of one shape, and a
    // shape that does not fit fails on its first differing piece.
    const list = this.templates;
    for (let t = 0; t < list.length; t++) {
      const template = list[t]!;
      const values = template.pattern.exec(text);
      if (values === null) continue;
      for (const n of template.numberSlots) if (!shortestNumber(values[n + 1]!)) return null;
      if (!wellFormed(text)) return null;
      let canonical = "";
      if (assemble) {
        const { pieces, order } = template;
        canonical = pieces[0]!;
        for (let i = 0; i < order.length; i++) canonical += values[order[i]! + 1]! + pieces[i + 1]!;
      }
      if (t > 0) {
        list.splice(t, 1);
        list.unshift(template);
      }
      return { template, values, canonical };
    }
    return null;
  }

  /** Learn the shape of a line canonicalJsonOfText accepted; null if it is not worth a template. */
  learn(text: string): TextTemplate | null {
    if (this.templates.length >= this.maxTemplates) return null;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return null;
    }
    if (value === null || typeof value !== "object" || Array.isArray(value)) return null;
    const slots = new Map<string, { slot: number; kind: SlotKind }>();
    const numberSlots: number[] = [];
    const fixed = new Map<string, "object" | "array" | "literal">();
    // Pieces and slot numbers, alternating, starting and ending with a piece.
    const written: (string | number)[] = [""];
    const sorted: (string | number)[] = [""];
    const piece = (out: (string | number)[], s: string) => {
      out[out.length - 1] = (out[out.length - 1] as string) + s;
    };
    /** a scalar: its slot, or its text when it is a literal */
    const scalar = (out: (string | number)[], v: unknown, slot: number | undefined) => {
      if (typeof v === "string") {
        piece(out, '"');
        out.push(slot!, '"');
      } else if (typeof v === "number") out.push(slot!, "");
      else piece(out, JSON.stringify(v));
    };
    const childPath = (path: string, key: string | number) => (path === "" ? String(key) : path + "\u0000" + key);
    let ok = true;
    // As written: Object.keys order is the text's order (integer-like keys, which
    // JSON.parse moves first, are refused), and slots are numbered in that order.
    const walkWritten = (v: unknown, path: string): void => {
      if (!ok) return;
      if (v === null || typeof v !== "object") {
        let slot: number | undefined;
        if (typeof v === "string" || typeof v === "number") {
          slot = slots.size;
          slots.set(path, { slot, kind: typeof v === "string" ? "string" : "number" });
          if (typeof v === "number") numberSlots.push(slot);
        } else fixed.set(path, "literal");
        scalar(written, v, slot);
        return;
      }
      const isArray = Array.isArray(v);
      fixed.set(path, isArray ? "array" : "object");
      piece(written, isArray ? "[" : "{");
      if (isArray) {
        v.forEach((x, i) => {
          if (i > 0) piece(written, ",");
          walkWritten(x, childPath(path, i));
        });
      } else {
        Object.keys(v).forEach((k, i) => {
          if (INTEGER_KEY.test(k)) ok = false;
          piece(written, (i > 0 ? "," : "") + JSON.stringify(k) + ":");
          walkWritten((v as Record<string, unknown>)[k], childPath(path, k));
        });
      }
      piece(written, isArray ? "]" : "}");
    };
    // In canonical order: keys sorted, `omit` left out at the top.
    const walkSorted = (v: unknown, path: string): void => {
      if (v === null || typeof v !== "object") {
        scalar(sorted, v, slots.get(path)?.slot);
        return;
      }
      if (Array.isArray(v)) {
        piece(sorted, "[");
        v.forEach((x, i) => {
          if (i > 0) piece(sorted, ",");
          walkSorted(x, childPath(path, i));
        });
        piece(sorted, "]");
        return;
      }
      piece(sorted, "{");
      let first = true;
      for (const k of Object.keys(v).sort()) {
        if (path === "" && k === this.omit) continue;
        piece(sorted, (first ? "" : ",") + JSON.stringify(k) + ":");
        first = false;
        walkSorted((v as Record<string, unknown>)[k], childPath(path, k));
      }
      piece(sorted, "}");
    };
    walkWritten(value, "");
    if (!ok || slots.size > MAX_TEMPLATE_SLOTS) return null;
    walkSorted(value, "");
    let pattern = "^";
    for (const part of written) pattern += typeof part === "string" ? escapeRegExp(part) : [...slots.values()][part]!.kind === "string" ? STRING_SLOT : NUMBER_SLOT;
    const template: TextTemplate = {
      pattern: new RegExp(pattern + "$"),
      pieces: sorted.filter((p): p is string => typeof p === "string"),
      order: sorted.filter((p): p is number => typeof p === "number"),
      slots,
      numberSlots,
      fixed,
      memo: undefined,
    };
    // The pieces must be this very line's, or the shape is not what the scan saw.
    if (template.pattern.exec(text) === null) return null;
    this.templates.unshift(template);
    return template;
  }
}
