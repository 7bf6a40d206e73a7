import React, { createElement, memo, useRef } from "react";
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

export interface LinesProps {
  /** one row of pieces per screen line */
  rows: readonly (readonly Span[])[];
  width: number;
  /** dim every line (stale data), or the rows whose entry is true */
  dim?: boolean | readonly boolean[];
}

interface DrawnRow {
  spans: readonly Span[];
  dim: boolean;
  measured: string;
  styled: string;
}

/**
 * Several lines as one Ink text node: what Ink measures is the lines' ASCII stand-ins joined by
 * newlines, and the transform hands Ink each line styled as it is written (Ink passes each line's
 * index). A row equal to the one drawn at its index last time is not drawn again.
 */
function LinesView({ rows, width, dim = false }: LinesProps) {
  const { color } = useCockpitContext();
  const screenReader = useIsScreenReaderEnabled();
  const last = useRef<{ key: string; drawn: DrawnRow[] }>({ key: "", drawn: [] });
  const key = `${width}|${color}|${screenReader}`;
  const before = last.current.key === key ? last.current.drawn : [];
  const drawn = rows.map((spans, i): DrawnRow => {
    const dimmed = typeof dim === "boolean" ? dim : (dim[i] ?? false);
    const prev = before[i];
    if (prev !== undefined && prev.dim === dimmed && sameSpans(prev.spans, spans)) return prev;
    const fitted = fitSpans(spans, width, false);
    if (fitted.length === 0) return { spans, dim: dimmed, measured: " ", styled: " " };
    const plain = fitted.map((s) => s.text).join("");
    return { spans, dim: dimmed, measured: screenReader ? plain : asciiStandIn(plain), styled: styleSpans(fitted, color, dimmed) };
  });
  last.current = { key, drawn };
  if (drawn.length === 0) return null;
  const transform = (line: string, index: number) => {
    const row = drawn[index];
    if (row !== undefined && line === row.measured) return row.styled;
    const same = drawn.find((d) => d.measured === line);
    return same !== undefined ? same.styled : row !== undefined ? cutStyled(row.styled, line) : line;
  };
  // A fixed width: Ink cuts a text its box is too narrow for with cli-truncate, which takes a multi-line text
  // as one and keeps only its first line. At its own width (which every row fits) the node is never cut;
  // in a box too narrow (a layout bug) it would run over its neighbour, every row still there.
  return createElement("ink-text" as unknown as "span", { style: { ...LINE_STYLE, width }, internal_transform: transform } as object, drawn.map((d) => d.measured).join("\n"));
}

function sameSpans(a: readonly Span[], b: readonly Span[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameSpan(a[i]!, b[i]!)) return false;
  return true;
}

function sameDim(a: LinesProps["dim"], b: LinesProps["dim"]): boolean {
  if (typeof a !== "object" || typeof b !== "object") return a === b;
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Same rows as last frame: skip them, so React and Ink leave the node alone (parents rebuild rows every render). */
export function sameLines(a: LinesProps, b: LinesProps): boolean {
  return a.width === b.width && sameDim(a.dim, b.dim) && a.rows.length === b.rows.length && a.rows.every((r, i) => sameSpans(r, b.rows[i]!));
}

export const Lines = memo(LinesView, sameLines);

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
