import { useEffect, useMemo } from "react";
import { Box } from "ink";
import { formatClock } from "../src/render/time.js";
import { filterTimeline } from "../src/store/selectors.js";
import { span, type Span } from "../src/tui/spans.js";
import { useCockpit, useCockpitContext, useUi } from "./context.js";
import { Line, Lines, Pane } from "./Line.js";

// What happened, newest at the bottom, one plain sentence per event with its
// UTC time. Scrolls back with the move keys; the filter narrows it.

export function Timeline({ width, lines, focused, stale }: { width: number; lines: number; focused: boolean; stale: boolean }) {
  const timeline = useCockpit((v) => v.timeline);
  const filter = useUi((u) => u.filter);
  const scroll = useUi((u) => u.timelineScroll);
  const entries = useMemo(() => filterTimeline(timeline, filter), [timeline, filter]);
  const maxScroll = Math.max(0, entries.length - lines);
  const back = Math.min(scroll, maxScroll);
  const { ui } = useCockpitContext();
  // The controller does not know how many lines show; keep its scroll within what can scroll,
  // so the first key back toward the newest line moves the view.
  useEffect(() => {
    if (back !== scroll) ui.setState({ timelineScroll: back });
  }, [back, scroll, ui]);
  const end = entries.length - back;
  const shown = entries.slice(Math.max(0, end - lines), end);
  const info: Span[] = [span(`(${entries.length}${filter ? ` of ${timeline.length}` : ""})`, { tone: "muted" })];
  if (filter) info.push(span(" filter "), span(`“${filter}”`, { bold: true, underline: true }));
  if (back > 0) info.push(span(` ↓ ${back} newer below`, { tone: "warn" }));
  return (
    <Pane title="TIMELINE" info={info} width={width} lines={lines} focused={focused} stale={stale}>
      <Box flexDirection="column">
        {shown.length === 0 ? (
          <Line spans={[span(filter ? "  nothing matches the filter" : "  no events yet", { tone: "muted" })]} width={width} />
        ) : (
          <Lines rows={shown.map((e) => [span("  "), span(formatClock(e.time), { tone: "muted" }), span("  "), span(e.text)])} width={width} dim={stale} />
        )}
      </Box>
    </Pane>
  );
}
