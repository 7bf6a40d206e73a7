import React from "react";
import { Box, Text } from "ink";
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

export function Line({ spans, width, dim = false, pad = false }: LineProps) {
  const { color } = useCockpitContext();
  const fitted = fitSpans(spans, width, pad);
  if (fitted.length === 0) return <Text> </Text>;
  return (
    <Text wrap="truncate-end">
      {fitted.map((s, i) => (
        <Text
          key={i}
          color={color && s.tone ? TONE_COLORS[s.tone] : undefined}
          bold={s.bold ?? false}
          dimColor={dim || (s.dim ?? false)}
          inverse={s.inverse ?? false}
          underline={s.underline ?? false}
        >
          {s.text}
        </Text>
      ))}
    </Text>
  );
}

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
