import React, { memo } from "react";
import { Box, Text, Transform } from "ink";
import { decodeGlyphs, encodeGlyphs } from "../src/tui/glyph-stand-ins.js";
import { fitSpans, span, type Span, type Tone } from "../src/tui/spans.js";
import { useCockpitContext } from "./context.js";

// One screen line, cut to its width. Colour comes from the tone only when
// colour is on; the glyphs and words in the text carry the meaning either way.

export const TONE_COLORS: Record<Tone, string> = {
  ok: "green",
  warn: "yellow",
  bad: "red",
  info: "cyan",
  muted: "gray",
  accent: "magenta",
};

export interface LineProps {
  spans: readonly Span[];
  width: number;
  /** dim the whole line (stale data) */
  dim?: boolean;
  /** pad with spaces to the full width (so an inverse highlight covers the row) */
  pad?: boolean;
}

/**
 * Each piece is a Text of its own in a row, not a nested Text, and pieces are cut further
 * where ASCII meets other characters: Ink measures every Text's whole content each frame,
 * and a run of printable ASCII measures in a blink while a text with a single glyph or "…"
 * in it goes character by character through Unicode segmentation. Split, only the glyphs
 * and sparklines pay for that.
 */
function LineView({ spans, width, dim = false, pad = false }: LineProps) {
  const { color } = useCockpitContext();
  const fitted = fitSpans(spans, width, pad);
  if (fitted.length === 0) return <Text> </Text>;
  return (
    <Box height={1} flexShrink={0}>
      {asciiRuns(fitted).map((s, i) => {
        const style = {
          color: color && s.tone ? TONE_COLORS[s.tone] : undefined,
          bold: s.bold ?? false,
          dimColor: dim || (s.dim ?? false),
          inverse: s.inverse ?? false,
          underline: s.underline ?? false,
        };
        // A run of our own glyphs goes to Ink as letters and comes back as glyphs when written (glyph-stand-ins.ts).
        const letters = ASCII.test(s.text) ? null : encodeGlyphs(s.text);
        if (letters !== null) {
          return (
            <Transform key={i} transform={decodeGlyphs}>
              <Text {...style}>{letters}</Text>
            </Transform>
          );
        }
        return (
          <Text key={i} wrap="truncate-end" {...style}>
            {s.text}
          </Text>
        );
      })}
    </Box>
  );
}

const RUNS = /[\x20-\x7e]+|[^\x20-\x7e]+/g;
const ASCII = /^[\x20-\x7e]*$/;

function sameStyle(a: Span, b: Span): boolean {
  return a.tone === b.tone && a.bold === b.bold && a.dim === b.dim && a.inverse === b.inverse && a.underline === b.underline;
}

/**
 * Pieces cut where printable ASCII meets anything else ("✓ completed" → "✓", " completed"), styles
 * kept; neighbours of the same style and kind joined again, so a line is as few Texts as it can be.
 */
export function asciiRuns(spans: readonly Span[]): Span[] {
  const out: Span[] = [];
  let lastAscii = false;
  for (const s of spans) {
    for (const text of s.text.match(RUNS) ?? []) {
      const ascii = ASCII.test(text);
      const last = out[out.length - 1];
      if (last !== undefined && lastAscii === ascii && sameStyle(last, s)) out[out.length - 1] = { ...last, text: last.text + text };
      else out.push(text === s.text ? s : { ...s, text });
      lastAscii = ascii;
    }
  }
  return out;
}

function sameSpan(a: Span, b: Span): boolean {
  return a.text === b.text && a.tone === b.tone && a.bold === b.bold && a.dim === b.dim && a.inverse === b.inverse && a.underline === b.underline;
}

/** Same line as last frame: skip it, so React and Ink leave its nodes alone (parents rebuild span arrays every render). */
export function sameLine(a: LineProps, b: LineProps): boolean {
  if (a.width !== b.width || a.dim !== b.dim || a.pad !== b.pad || a.spans.length !== b.spans.length) return false;
  for (let i = 0; i < a.spans.length; i++) if (!sameSpan(a.spans[i]!, b.spans[i]!)) return false;
  return true;
}

export const Line = memo(LineView, sameLine);

export interface PaneProps {
  title: string;
  /** extra words after the title: counts, the filter */
  info?: readonly Span[];
  width: number;
  /** content lines (the title line comes on top) */
  lines: number;
  focused: boolean;
  stale: boolean;
  children?: React.ReactNode;
}

/** A titled block of exactly 1 + lines rows; the focused pane's title is marked ▸ and inverse. */
export function Pane({ title, info = [], width, lines, focused, stale, children }: PaneProps) {
  const head: Span[] = [span(focused ? "▸ " : "  ", { bold: true }), span(title, { bold: true, inverse: focused })];
  if (info.length > 0) head.push(span(" "), ...info);
  if (stale) head.push(span(" · "), span("⚠ STALE", { tone: "bad", bold: true }));
  return (
    <Box flexDirection="column" width={width} height={lines + 1} overflowY="hidden">
      <Line spans={head} width={width} />
      {lines > 0 ? children : null}
    </Box>
  );
}
