import { useEffect, useMemo } from "react";
import { Box } from "ink";
import { formatClock } from "../src/render/time.js";
import { truncate } from "../src/render/width.js";
import type { TimelineEntry } from "../src/store/cockpit-store.js";
import { filterTimeline, HEARD_NOTHING_TEXT, selectHeardNothing } from "../src/store/selectors.js";
import { KEEP_ASIDES_WHOLE, span, wrapText, type Span } from "../src/tui/spans.js";
import { useCockpit, useCockpitContext, useUi } from "./context.js";
import { Line, Lines, Pane } from "./Line.js";

// What happened, newest at the bottom, one plain sentence per event with its
// UTC time. Scrolls back with the move keys (one event a key); the filter
// narrows it.

/** "  HH:MM:SS  ": the columns before an event's sentence. */
const TIME_COLUMNS = 12;
/** A sentence takes at most this many lines; the last is cut if it needs more. */
const MAX_ENTRY_LINES = 2;

type EntryRows = { width: number; rows: Span[][] };
/** Wrapped once per entry and width: the timeline re-renders ten times a second. */
const wrapped = new WeakMap<TimelineEntry, EntryRows>();

/**
 * One event's rows: its time and the start of its sentence, then what did not
 * fit, under the sentence, after a ↳ so it cannot pass for an event of its own.
 */
export function entryRows(e: TimelineEntry, width: number): Span[][] {
  const hit = wrapped.get(e);
  if (hit && hit.width === width) return hit.rows;
  const room = Math.max(1, width - TIME_COLUMNS);
  const parts = wrapText(e.text, room, KEEP_ASIDES_WHOLE);
  const kept = parts.slice(0, MAX_ENTRY_LINES);
  if (parts.length > kept.length) kept[kept.length - 1] = truncate(parts.slice(kept.length - 1).join(" "), room);
  const rows = kept.map((text, i) =>
    i === 0 ? [span("  "), span(formatClock(e.time), { tone: "muted" as const }), span("  "), span(text)] : [span("          ↳ ", { tone: "muted" as const }), span(text)],
  );
  wrapped.set(e, { width, rows });
  return rows;
}

/** The first line of an event only, cut: for the top of the pane when the whole event does not fit. */
function firstRowOnly(e: TimelineEntry, width: number): Span[] {
  return [span("  "), span(formatClock(e.time), { tone: "muted" }), span("  "), span(truncate(e.text, Math.max(1, width - TIME_COLUMNS)))];
}

/** How far back the view can go: until the oldest event is the top one shown whole. */
function furthestBack(entries: readonly TimelineEntry[], width: number, lines: number): number {
  let used = 0;
  let fit = 0;
  for (; fit < entries.length; fit++) {
    const height = entryRows(entries[fit]!, width).length;
    if (used + height > lines) break;
    used += height;
  }
  return Math.max(0, entries.length - Math.max(1, fit));
}

export function Timeline({ width, lines, focused, stale }: { width: number; lines: number; focused: boolean; stale: boolean }) {
  const timeline = useCockpit((v) => v.timeline);
  const filter = useUi((u) => u.filter);
  const scroll = useUi((u) => u.timelineScroll);
  const entries = useMemo(() => filterTimeline(timeline, filter), [timeline, filter]);
  const heardNothing = useCockpit(selectHeardNothing);
  const back = Math.min(scroll, furthestBack(entries, width, lines));
  const { ui } = useCockpitContext();
  // The controller does not know how many lines show; keep its scroll within what can scroll,
  // so the first key back toward the newest line moves the view.
  useEffect(() => {
    if (back !== scroll) ui.setState({ timelineScroll: back });
  }, [back, scroll, ui]);
  // Newest shown at the bottom, filling upward.
  const rows: Span[][] = [];
  for (let i = entries.length - back - 1; i >= 0 && rows.length < lines; i--) {
    const own = entryRows(entries[i]!, width);
    if (rows.length + own.length <= lines) rows.unshift(...own);
    else rows.unshift(firstRowOnly(entries[i]!, width));
  }
  const info: Span[] = [span(`(${entries.length}${filter ? ` of ${timeline.length}` : ""})`, { tone: "muted" })];
  if (filter) info.push(span(" filter "), span(`“${filter}”`, { bold: true, underline: true }));
  if (back > 0) info.push(span(` ↓ ${back} newer below`, { tone: "warn" }));
  return (
    <Pane title="TIMELINE" info={info} width={width} lines={lines} focused={focused} stale={stale}>
      <Box flexDirection="column">
        {rows.length === 0 ? (
          <Line spans={[span(filter ? "  nothing matches the filter" : heardNothing ? HEARD_NOTHING_TEXT : "  no events yet", { tone: "muted" })]} width={width} />
        ) : (
          <Lines rows={rows} width={width} dim={stale} />
        )}
      </Box>
    </Pane>
  );
}
