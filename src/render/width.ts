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

/** Columns the text takes in a terminal. */
export function displayWidth(s: string): number {
  return s.length < MEMO_FROM_CHARS ? stringWidth(s) : widths.get(s, () => stringWidth(s));
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
  for (const { segment } of graphemes.segment(line)) {
    const cw = stringWidth(segment);
    if (used + cw > room) break;
    out += segment;
    used += cw;
  }
  return out + ELLIPSIS;
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
