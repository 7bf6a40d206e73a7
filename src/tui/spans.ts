import { displayWidth, oneLine, truncate } from "../render/width.js";

// A screen line as styled pieces. Every line the cockpit draws goes through
// fitSpans, so no line is ever wider than its pane: a wrapped line would push
// the layout past the terminal's height and make Ink redraw the whole screen.

/** Colour families; each is always paired with a glyph or a word, never used alone. */
export type Tone = "ok" | "warn" | "bad" | "info" | "muted" | "accent";

export interface Span {
  text: string;
  tone?: Tone;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
  underline?: boolean;
}

export function span(text: string, style: Omit<Span, "text"> = {}): Span {
  return { text, ...style };
}

export function spansWidth(spans: readonly Span[]): number {
  let w = 0;
  // Measured as fitSpans will draw it: on one line.
  for (const s of spans) w += displayWidth(oneLine(s.text));
  return w;
}

/**
 * Cut to `width` columns (the last kept piece ends with "…"); optionally pad with spaces to exactly `width`.
 * Line breaks and tabs in a piece become spaces first: notes, reasons and messages keep their
 * line breaks in the store, and one in a span would make Ink draw two rows for one line,
 * pushing the rest of the pane down over what is below.
 */
export function fitSpans(input: readonly Span[], width: number, pad = false): Span[] {
  const spans = input.map((s) => (/[\r\n\t]/.test(s.text) ? { ...s, text: oneLine(s.text) } : s));
  const w = Math.max(0, Math.floor(width));
  const out: Span[] = [];
  let used = 0;
  const total = spansWidth(spans);
  if (total <= w) {
    for (const s of spans) if (s.text !== "") out.push(s);
  } else {
    for (const s of spans) {
      if (s.text === "") continue;
      const sw = displayWidth(s.text);
      const room = w - used;
      if (room <= 0) break;
      if (sw < room || (sw === room && used + sw === total)) {
        out.push(s);
        used += sw;
        continue;
      }
      // This piece reaches the edge while more text follows: end it with the ellipsis here.
      // (the added space makes an exact fit count as too long, so the "…" says more followed)
      out.push({ ...s, text: truncate(s.text + " ", room) });
      used += displayWidth(out[out.length - 1]!.text);
      break;
    }
  }
  if (pad) {
    const now = spansWidth(out);
    if (now < w) out.push({ text: " ".repeat(w - now) });
  }
  return out;
}

/** Left part and right part on one line of `width`, the left cut first when both do not fit. */
export function leftRight(left: readonly Span[], right: readonly Span[], width: number): Span[] {
  const rw = spansWidth(right);
  if (rw + 1 > width) return fitSpans([...left, span(" "), ...right], width);
  const l = fitSpans(left, width - rw - 1);
  const gap = width - spansWidth(l) - rw;
  return [...l, span(" ".repeat(Math.max(1, gap))), ...right];
}

/** A parenthesized aside, such as a reading "(63.2 > 50)", and what sticks to its end. */
export const KEEP_ASIDES_WHOLE = /\([^()]*\)\S*|\S+/g;

/**
 * Word-wrap plain text into lines of at most `width` columns (a word longer
 * than a line is cut). `words` says what may not be broken: by default each
 * run of non-spaces; KEEP_ASIDES_WHOLE also keeps "(a > b)" on one line.
 */
export function wrapText(text: string, width: number, words: RegExp = /\S+/g): string[] {
  const w = Math.max(1, Math.floor(width));
  const lines: string[] = [];
  let cur = "";
  for (const wordRaw of text.match(words) ?? []) {
    const word = displayWidth(wordRaw) > w ? truncate(wordRaw, w) : wordRaw;
    const next = cur === "" ? word : `${cur} ${word}`;
    if (displayWidth(next) <= w) cur = next;
    else {
      if (cur !== "") lines.push(cur);
      cur = word;
    }
  }
  if (cur !== "" || lines.length === 0) lines.push(cur);
  return lines;
}
