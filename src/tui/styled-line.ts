import chalk from "chalk";
import sliceAnsi from "slice-ansi";
import { displayWidth } from "../render/width.js";
import type { Span, Tone } from "./spans.js";

// A screen line as the one string the terminal gets: each piece styled the way
// Ink's <Text> styles its text (same chalk instance, same order of codes), so a
// line drawn as one string reads, byte for byte, as the same pieces drawn as
// Texts side by side (test/tui/styled-line.test.tsx holds it to that).

export const TONE_COLORS: Record<Tone, "green" | "yellow" | "red" | "cyan" | "gray" | "magenta"> = {
  ok: "green",
  warn: "yellow",
  bad: "red",
  info: "cyan",
  muted: "gray",
  accent: "magenta",
};

/** The pieces with their styling codes; colour only when `color`, and all of it dimmed when `dim`. */
export function styleSpans(spans: readonly Span[], color: boolean, dim: boolean): string {
  let out = "";
  for (const s of spans) {
    let text = s.text;
    if (dim || s.dim) text = chalk.dim(text);
    if (color && s.tone) text = chalk[TONE_COLORS[s.tone]](text);
    if (s.bold) text = chalk.bold(text);
    if (s.underline) text = chalk.underline(text);
    if (s.inverse) text = chalk.inverse(text);
    out += text;
  }
  return out;
}

/**
 * The styled line cut to what Ink kept of its unstyled form: the same columns, and the "…" Ink
 * put at the end when it had to cut (it only cuts when its box is narrower than the line was fitted to).
 */
export function cutStyled(styled: string, kept: string): string {
  const width = displayWidth(kept);
  // The "…" goes before the codes that close the last kept character's style, so it is styled as that character is (as Ink's cut does).
  if (kept.endsWith("…")) return sliceAnsi(styled, 0, Math.max(0, width - 1)).replace(/((?:\x1b\[[0-9;]*m)*)$/, "…$1");
  return sliceAnsi(styled, 0, width);
}
