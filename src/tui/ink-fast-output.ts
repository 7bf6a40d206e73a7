import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { ansiCodesToString, diffAnsiCodes, reduceAnsiCodesIncremental, styledCharsFromTokens, styledCharsToString, tokenize, type AnsiCode, type StyledChar } from "@alcalzone/ansi-tokenize";
import sliceAnsi from "slice-ansi";
import stringWidth from "string-width";
import { allStandAlone } from "../render/width.js";

// A faster frame composer for Ink 6.8, installed over Ink's own.
//
// Each frame, Ink's Output.get() lays every text write onto a grid of
// columns x rows cell objects, tokenizing every line's ANSI codes and turning
// every row back into a string. Its caches live for one frame. For the cockpit
// that was 25-40 ms a frame at 160x48 (a --cpu-prof of the bench/cpu.ts
// cockpit), almost all of it spent redoing the rows that did not change: most
// of the screen, most of the time.
//
// This get() computes the same thing in the same order, but per row: it first
// collects the pieces (column, styled text) each row receives, then reuses the
// row's string from an earlier frame when the row received exactly the same
// pieces. A row that changed is composed exactly as Ink composes it, with
// tokenized lines and character widths cached across frames.
// test/tui/ink-fast-output.test.ts checks it against Ink's get() on random
// writes and clips and on real cockpit frames, byte for byte.
//
// It is installed only over the Ink version it was written against; any other
// version keeps Ink's own get() (slower, still correct).

export const SUPPORTED_INK = /^6\.8\.\d+$/;

type Transformer = (line: string, index: number) => string;
interface Clip {
  x1?: number;
  x2?: number;
  y1?: number;
  y2?: number;
}
type Operation = { type: "write"; x: number; y: number; text: string; transformers: Transformer[] } | { type: "clip"; clip: Clip } | { type: "unclip" };

/** What get() needs of Ink's Output instance. */
export interface InkOutputLike {
  width: number;
  height: number;
  operations: Operation[];
}
export interface InkOutputResult {
  output: string;
  height: number;
}

/** A map that forgets in generations: bounded, and what is in use now survives the swap. */
class GenerationCache<V> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) this.set(key, o);
    return o;
  }
  set(key: string, value: V): void {
    if (this.young.size >= this.limit) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
  get size(): number {
    return this.young.size + this.old.size;
  }
}

// Sized for a 250x70 screen of changing rows with room to spare; a few MB at most.
const rowCache = new GenerationCache<string>(2_000);
const styledCache = new GenerationCache<StyledChar[]>(4_000);
const widthCache = new GenerationCache<number>(8_000);

function widthOf(text: string): number {
  let w = widthCache.get(text);
  if (w === undefined) {
    w = stringWidth(text);
    widthCache.set(text, w);
  }
  return w;
}

function widestLine(text: string): number {
  let w = 0;
  for (const line of text.split("\n")) w = Math.max(w, widthOf(line));
  return w;
}

function styledChars(line: string): StyledChar[] {
  let chars = styledCache.get(line);
  if (chars === undefined) {
    chars = styledCharsFromTokens(tokenize(line));
    styledCache.set(line, chars);
  }
  return chars;
}

const SPACE: StyledChar = { type: "char", value: " ", fullWidth: false, styles: [] };

/** The cells a written line covers, from its first column on. */
function cellsOf(line: string): StyledChar[] {
  const cells: StyledChar[] = [];
  for (const character of styledChars(line)) {
    cells.push(character);
    // A wide character covers the cells after it (as Ink does: empty, same styles).
    const characterWidth = Math.max(1, widthOf(character.value));
    for (let k = 1; k < characterWidth; k++) cells.push({ type: "char", value: "", fullWidth: false, styles: character.styles });
  }
  return cells;
}

/** One row as Ink composes it: spaces, then each piece's characters at its column, in write order. */
function composeRowOnGrid(width: number, pieces: readonly (number | string)[]): string {
  const cells: (StyledChar | undefined)[] = new Array<StyledChar>(width).fill(SPACE);
  for (let i = 0; i < pieces.length; i += 2) {
    const x = pieces[i] as number;
    const covered = cellsOf(pieces[i + 1] as string);
    for (let k = 0; k < covered.length; k++) cells[x + k] = covered[k];
  }
  // Holes (a piece written past the width) are dropped, as Ink drops them.
  return styledCharsToString(cells.filter((c): c is StyledChar => c !== undefined)).trimEnd();
}

/**
 * A written line as a run of cells: what styledCharsToString would emit for its cells after
 * the first one's opening codes (`body`), the styles it starts and ends with, and its width.
 */
interface PieceRun {
  first: AnsiCode[];
  last: AnsiCode[];
  body: string;
  width: number;
}
const runCache = new GenerationCache<PieceRun | null>(4_000);
const NO_STYLES: AnsiCode[] = [];

/** Each match: SGR codes, then text with no escape in it. A line of only such matches is how a styled line is written. */
const STYLED_SEGMENT = /((?:\x1b\[[0-9;]*m)*)([^\x1b\x9b]*)/y;
/**
 * A memo of compute(styles, key), held per style array by identity: the cached pieces hand out the
 * same arrays frame after frame. Bounded: an array meets a handful of keys, and one that gathers
 * more than `limit` forgets them all (a miss only costs the computation).
 */
function memoByStyles<K, V>(limit: number, compute: (styles: AnsiCode[], key: K) => V): (styles: AnsiCode[], key: K) => V {
  const memo = new WeakMap<AnsiCode[], Map<K, V>>();
  return (styles, key) => {
    let byKey = memo.get(styles);
    if (byKey === undefined) {
      byKey = new Map();
      memo.set(styles, byKey);
    }
    let value = byKey.get(key);
    if (value === undefined) {
      value = compute(styles, key);
      if (byKey.size > limit) byKey.clear();
      byKey.set(key, value);
    }
    return value;
  };
}

/** The styles after SGR `codes` on top of `before` (the same array for the same pair, so transitions memoise). */
const stylesAfter = memoByStyles(256, (before: AnsiCode[], codes: string) => {
  let styles = before;
  for (const token of tokenize(codes)) if (token.type === "ansi") styles = reduceAnsiCodesIncremental(styles, [token]);
  return styles;
});
function stylesAfterCodes(before: AnsiCode[], codes: string): AnsiCode[] {
  return codes === "" ? before : stylesAfter(before, codes);
}

/**
 * pieceRun without tokenizing every character, for the usual piece: styled segments of characters
 * that are each a grapheme of their own. Every cell of a segment has the segment's styles, so codes
 * come only between segments, and the body is the texts with those codes between them.
 * undefined: not such a piece.
 */
function segmentedRun(line: string): PieceRun | null | undefined {
  let styles = NO_STYLES;
  let first: AnsiCode[] | undefined;
  // the last character's styles: codes after it style no cell
  let last = NO_STYLES;
  let body = "";
  let width = 0;
  STYLED_SEGMENT.lastIndex = 0;
  while (STYLED_SEGMENT.lastIndex < line.length) {
    const at = STYLED_SEGMENT.lastIndex;
    const m = STYLED_SEGMENT.exec(line);
    if (m === null || STYLED_SEGMENT.lastIndex === at) return undefined;
    const text = m[2]!;
    const next = stylesAfterCodes(styles, m[1]!);
    if (text === "") {
      styles = next;
      continue;
    }
    if (!allStandAlone(text)) return undefined;
    if (first === undefined) first = next;
    else body += transition(last, next);
    styles = last = next;
    body += text;
    for (let i = 0; i < text.length; i++) width += Math.max(1, widthOf(text[i]!));
  }
  if (first === undefined) return null;
  return { first, last, body, width };
}

function pieceRun(line: string): PieceRun | null {
  let run = runCache.get(line);
  if (run !== undefined) return run;
  const fast = segmentedRun(line);
  if (fast !== undefined) {
    runCache.set(line, fast);
    return fast;
  }
  const cells = cellsOf(line);
  if (cells.length === 0) run = null;
  else {
    let body = cells[0]!.value;
    for (let i = 1; i < cells.length; i++) body += ansiCodesToString(diffAnsiCodes(cells[i - 1]!.styles, cells[i]!.styles)) + cells[i]!.value;
    run = { first: cells[0]!.styles, last: cells[cells.length - 1]!.styles, body, width: cells.length };
  }
  runCache.set(line, run);
  return run;
}

/** The codes between two neighbouring cells' styles. */
const transition = memoByStyles(64, (from: AnsiCode[], to: AnsiCode[]) => ansiCodesToString(diffAnsiCodes(from, to)));

/**
 * The same string as composeRowOnGrid, put together from whole pieces: the codes between two
 * neighbouring cells depend only on their styles, so a piece's inside is reused as is and only
 * its edges are worked out. Only for pieces in column order that neither overlap nor reach past
 * the row (null otherwise: the grid handles overwrites and overflow).
 */
function composeRowFromRuns(width: number, pieces: readonly (number | string)[]): string | null {
  let out = "";
  let col = 0;
  let prev: AnsiCode[] | null = null;
  const gapTo = (to: number) => {
    if (to <= col) return;
    out += prev === null ? ansiCodesToString(NO_STYLES) : transition(prev, NO_STYLES);
    out += " ".repeat(to - col);
    prev = NO_STYLES;
    col = to;
  };
  for (let i = 0; i < pieces.length; i += 2) {
    const x = pieces[i] as number;
    const run = pieceRun(pieces[i + 1] as string);
    if (run === null) continue;
    if (x < col || x + run.width > width) return null;
    gapTo(x);
    out += (prev === null ? ansiCodesToString(run.first) : transition(prev, run.first)) + run.body;
    prev = run.last;
    col = x + run.width;
  }
  gapTo(width);
  if (prev !== null) out += transition(prev, NO_STYLES);
  return out.trimEnd();
}

function composeRow(width: number, pieces: readonly (number | string)[]): string {
  return composeRowFromRuns(width, pieces) ?? composeRowOnGrid(width, pieces);
}

/** Ink 6.8's Output.get(), row-cached. Bound to an Output instance as `this`. */
export function fastGet(this: InkOutputLike): InkOutputResult {
  const { width, height } = this;
  // pieces[row] = [x, line, x, line, ...] in write order
  const pieces: (number | string)[][] = [];
  for (let r = 0; r < height; r++) pieces.push([]);
  const clips: Clip[] = [];
  for (const operation of this.operations) {
    if (operation.type === "clip") {
      clips.push(operation.clip);
      continue;
    }
    if (operation.type === "unclip") {
      clips.pop();
      continue;
    }
    const { text, transformers } = operation;
    let { x, y } = operation;
    let lines = text.split("\n");
    const clip = clips.at(-1);
    if (clip) {
      const clipHorizontally = typeof clip.x1 === "number" && typeof clip.x2 === "number";
      const clipVertically = typeof clip.y1 === "number" && typeof clip.y2 === "number";
      if (clipHorizontally && (x + widestLine(text) < clip.x1! || x > clip.x2!)) continue;
      if (clipVertically && (y + lines.length < clip.y1! || y > clip.y2!)) continue;
      if (clipHorizontally) {
        const x1 = clip.x1!;
        const x2 = clip.x2!;
        lines = lines.map((line) => {
          const from = x < x1 ? x1 - x : 0;
          const w = widthOf(line);
          const to = x + w > x2 ? x2 - x : w;
          return sliceAnsi(line, from, to);
        });
        if (x < x1) x = x1;
      }
      if (clipVertically) {
        const y1 = clip.y1!;
        const y2 = clip.y2!;
        const from = y < y1 ? y1 - y : 0;
        const h = lines.length;
        const to = y + h > y2 ? y2 - y : h;
        lines = lines.slice(from, to);
        if (y < y1) y = y1;
      }
    }
    let offsetY = 0;
    for (let index = 0; index < lines.length; index++) {
      const row = pieces[y + offsetY];
      // Ink skips a line whose row is off the grid without moving on a row, so the lines after it land there too: kept.
      if (!row) continue;
      let line = lines[index]!;
      for (const transformer of transformers) line = transformer(line, index);
      row.push(x, line);
      offsetY++;
    }
  }
  const out: string[] = [];
  for (const row of pieces) {
    if (row.length === 0) {
      out.push("");
      continue;
    }
    // Length-prefixed, so no two different rows share a key whatever their text holds.
    let key = `${width}`;
    for (let i = 0; i < row.length; i += 2) key += `|${row[i] as number}:${(row[i + 1] as string).length}:${row[i + 1] as string}`;
    let composed = rowCache.get(key);
    if (composed === undefined) {
      composed = composeRow(width, row);
      rowCache.set(key, composed);
    }
    out.push(composed);
  }
  return { output: out.join("\n"), height };
}

interface OutputClass {
  prototype: { get: (this: InkOutputLike) => InkOutputResult };
}

let installed: "installed" | "unsupported" | undefined;
let inksOwnGet: ((this: InkOutputLike) => InkOutputResult) | undefined;

/** Ink's own get(), once installFastOutput has replaced it (for comparison in tests). */
export function originalGet(): ((this: InkOutputLike) => InkOutputResult) | undefined {
  return inksOwnGet;
}

/** The Ink Output class (the very module Ink renders with), and Ink's version. */
export async function loadInkOutput(): Promise<{ Output: OutputClass; version: string }> {
  // Ink's package exports only its index; its output module is the sibling file of that index.
  // (resolved as require would: import.meta.resolve is not there under every test runner)
  const index = pathToFileURL(createRequire(import.meta.url).resolve("ink")).href;
  let mod: { default: OutputClass };
  try {
    // In the bundle, package.json's build aliases this name to Ink's output module, so it is the very
    // class the bundled Ink renders with. Unbundled (tests, dist/src), the name does not resolve.
    mod = (await import("ink-output-internal")) as { default: OutputClass };
  } catch {
    mod = (await import(new URL("./output.js", index).href)) as { default: OutputClass };
  }
  const pkg = JSON.parse(readFileSync(new URL("../package.json", index), "utf8")) as { version: string };
  return { Output: mod.default, version: pkg.version };
}

/**
 * Puts fastGet in place of Ink's Output.get (once per process). Returns what happened:
 * "unsupported" leaves Ink as it is (another version, or its Output is not what we expect).
 */
export async function installFastOutput(): Promise<"installed" | "unsupported"> {
  if (installed) return installed;
  const { Output, version } = await loadInkOutput();
  const probe = typeof Output === "function" ? (new (Output as unknown as new (o: { width: number; height: number }) => InkOutputLike)({ width: 1, height: 1 }) as Partial<InkOutputLike>) : undefined;
  const looksRight = SUPPORTED_INK.test(version) && typeof Output.prototype.get === "function" && Array.isArray(probe?.operations) && probe?.width === 1 && probe?.height === 1;
  if (!looksRight) return (installed = "unsupported");
  inksOwnGet = Output.prototype.get;
  Output.prototype.get = fastGet;
  return (installed = "installed");
}
