import React, { createElement, memo } from "react";
import { Box, Text, useIsScreenReaderEnabled } from "ink";
import { asciiStandIn } from "../src/render/width.js";
import { fitSpans, span, type Span } from "../src/tui/spans.js";
import { cutStyled, styleSpans } from "../src/tui/styled-line.js";
import { useCockpitContext } from "./context.js";

// One screen line, cut to its width. Colour comes from the tone only when
// colour is on; the glyphs and words in the text carry the meaning either way.

export { TONE_COLORS } from "../src/tui/styled-line.js";

export interface LineProps {
  spans: readonly Span[];
  width: number;
  /** dim the whole line (stale data) */
  dim?: boolean;
  /** pad with spaces to the full width (so an inverse highlight covers the row) */
  pad?: boolean;
}

/** How Ink's own <Text wrap="truncate-end"> lays out, except that a line never shrinks under its one row. */
const LINE_STYLE = { flexGrow: 0, flexShrink: 0, flexDirection: "row", textWrap: "truncate-end" } as const;

/**
 * A line is one Ink text node holding the line unstyled, with each of our one-column glyphs as "?",
 * and a transform that hands Ink the styled line, glyphs and all, when the line is written.
 * Ink lays out, measures and walks every text node on every frame, and measures a text with any
 * non-ASCII character in it through Unicode segmentation: one node of printable ASCII a line is
 * the least it can do. (Ink's <Transform> takes no wrap mode, so this is the element it renders.)
 */
function LineView({ spans, width, dim = false, pad = false }: LineProps) {
  const { color } = useCockpitContext();
  const screenReader = useIsScreenReaderEnabled();
  const fitted = fitSpans(spans, width, pad);
  if (fitted.length === 0) return <Text> </Text>;
  const plain = fitted.map((s) => s.text).join("");
  const styled = styleSpans(fitted, color, dim);
  // A screen reader is given the text itself: Ink then reads the text, not what the transform writes.
  const measured = screenReader ? plain : asciiStandIn(plain);
  const transform = (line: string) => (line === measured ? styled : cutStyled(styled, line));
  return createElement("ink-text" as unknown as "span", { style: LINE_STYLE, internal_transform: transform } as object, measured);
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
