import stringWidth from "string-width";

// Terminal cells, not string length: a CJK character or an emoji takes two
// cells, a combining accent none. We measure with string-width because Ink
// lays out with it too; any other measure would make our columns disagree
// with Ink's and wrap lines.

const ELLIPSIS = "…";
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * A bounded memo of a pure function of a string: each frame measures the same
 * titles, names and reasons again, and string-width costs milliseconds on a
 * long run of emoji or wide characters (a hostile backend's title would
 * otherwise slow every frame). Cleared whole when it holds too much text.
 */
class Memo<T> {
  private readonly map = new Map<string, T>();
  private chars = 0;
  constructor(private readonly maxChars: number) {}
  get(key: string, compute: () => T): T {
    const hit = this.map.get(key);
    if (hit !== undefined) return hit;
    const value = compute();
    if (this.chars + key.length > this.maxChars) {
      this.map.clear();
      this.chars = 0;
    }
    this.map.set(key, value);
    this.chars += key.length;
    return value;
  }
}

/** Short text is measured directly: cheaper than a lookup. */
const MEMO_FROM_CHARS = 24;
const widths = new Memo<number>(1_000_000);
const truncations = new Map<number, Memo<string>>();

/**
 * Code points that always stand alone as a grapheme and never join their neighbours: printable
 * ASCII, Latin-1, and the punctuation, arrows, box-drawing, block and symbol blocks the cockpit
 * draws with (U+2010-U+205E, U+2070-U+20CF, U+2100-U+2BFF; not the zero-width, bidi or
 * combining-mark code points between them). A string of only these is as wide as the sum of its
 * characters' widths, so it needs no Unicode segmentation, which is what makes string-width slow.
 */
function standsAlone(c: number): boolean {
  return (c >= 0x20 && c <= 0x7e) || (c >= 0xa0 && c <= 0xff) || (c >= 0x2010 && c <= 0x2027) || (c >= 0x2030 && c <= 0x205e) || (c >= 0x2070 && c <= 0x20cf) || (c >= 0x2100 && c <= 0x2bff);
}
/** True when every character of `s` is one of those: each is a grapheme of its own. */
export function allStandAlone(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!standsAlone(s.charCodeAt(i))) return false;
  return true;
}

/** width of each such character, as string-width measures it alone */
const charWidths = new Map<number, number>();

function charWidth(c: number): number {
  let cw = charWidths.get(c);
  if (cw === undefined) {
    cw = stringWidth(String.fromCharCode(c));
    charWidths.set(c, cw);
  }
  return cw;
}

/** The width from per-character widths, or -1 when a character may join a grapheme with another. */
function simpleWidth(s: string): number {
  let w = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      w++;
      continue;
    }
    if (!standsAlone(c)) return -1;
    w += charWidth(c);
  }
  return w;
}

function measure(s: string): number {
  const w = simpleWidth(s);
  return w >= 0 ? w : stringWidth(s);
}

/**
 * The text with each one-column character outside printable ASCII written as "?", when every
 * character in it stands alone (else the text as it is). Column for column as wide as the text, and
 * printable ASCII wherever the cockpit draws only its own glyphs: what Ink is given to measure, as
 * string-width measures printable ASCII in a blink and anything else through Unicode segmentation.
 */
export function asciiStandIn(s: string): string {
  if (!allStandAlone(s)) return s;
  let out = "";
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x20 && c <= 0x7e) || charWidth(c) !== 1) continue;
    out += s.slice(from, i) + "?";
    from = i + 1;
  }
  return from === 0 ? s : out + s.slice(from);
}

/** Columns the text takes in a terminal. */
export function displayWidth(s: string): number {
  return s.length < MEMO_FROM_CHARS ? measure(s) : widths.get(s, () => measure(s));
}

/** One line: newlines (any convention) and tabs become single spaces, so a cell never wraps. */
export function oneLine(s: string): string {
  return /[\r\n\t]/.test(s) ? s.replace(/\r\n|[\r\n\t]/g, " ") : s;
}

/**
 * Cut to at most `width` columns, ending with "…" when something was cut.
 * Cuts between graphemes, so an emoji family or an accented letter is never split;
 * a wide character that does not fit whole is left out (the result may be one column short).
 */
export function truncate(s: string, width: number): string {
  const w = Math.floor(width);
  if (!(w > 0)) return "";
  if (s.length < MEMO_FROM_CHARS) return cutToWidth(s, w);
  let memo = truncations.get(w);
  if (memo === undefined) {
    // A handful of widths per layout; a resize brings new ones, so the old go.
    if (truncations.size >= 64) truncations.clear();
    memo = new Memo<string>(250_000);
    truncations.set(w, memo);
  }
  return memo.get(s, () => cutToWidth(s, w));
}

function cutToWidth(s: string, w: number): string {
  const line = oneLine(s);
  if (displayWidth(line) <= w) return line;
  if (w === 1) return ELLIPSIS;
  const room = w - 1; // the ellipsis takes one column
  let used = 0;
  let out = "";
  // Where every character stands alone, the characters are the graphemes.
  const pieces = simpleWidth(line) >= 0 ? line : Array.from(graphemes.segment(line), (g) => g.segment);
  for (const segment of pieces) {
    const cw = segment.length === 1 ? measure(segment) : stringWidth(segment);
    if (used + cw > room) break;
    out += segment;
    used += cw;
  }
  return out + ELLIPSIS;
}

/**
 * Cut from the start to at most `width` columns, beginning with "…" when
 * something was cut: for a file path, whose end (the file's name) is the part
 * a person needs.
 */
export function truncateStart(s: string, width: number): string {
  const w = Math.floor(width);
  if (!(w > 0)) return "";
  const line = oneLine(s);
  if (displayWidth(line) <= w) return line;
  if (w === 1) return ELLIPSIS;
  const pieces = Array.from(graphemes.segment(line), (g) => g.segment);
  let used = 0;
  let from = pieces.length;
  while (from > 0) {
    const cw = stringWidth(pieces[from - 1]!);
    if (used + cw > w - 1) break;
    used += cw;
    from--;
  }
  return ELLIPSIS + pieces.slice(from).join("");
}

/** Exactly `width` columns: truncated if longer, spaces added on the right if shorter. */
export function padEnd(s: string, width: number): string {
  const cut = truncate(s, width);
  const gap = Math.floor(width) - displayWidth(cut);
  return gap > 0 && Number.isFinite(gap) ? cut + " ".repeat(gap) : cut;
}

/** Exactly `width` columns: truncated if longer, spaces added on the left if shorter (numbers, times). */
export function padStart(s: string, width: number): string {
  const cut = truncate(s, width);
  const gap = Math.floor(width) - displayWidth(cut);
  return gap > 0 && Number.isFinite(gap) ? " ".repeat(gap) + cut : cut;
}
