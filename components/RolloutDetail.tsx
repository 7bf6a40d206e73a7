import { useEffect, useMemo, useRef } from "react";
import { Box } from "ink";
import { sparkline } from "../src/render/sparkline.js";
import { displayWidth, padEnd, padStart, truncate } from "../src/render/width.js";
import { formatPercent } from "../src/render/number.js";
import type { RingState, RolloutState } from "../src/protocol/types.js";
import type { SeriesView } from "../src/store/cockpit-store.js";
import { makeSelectSeriesOf } from "../src/store/selectors.js";
import { selectedRollout } from "../src/tui/controller.js";
import { KEEP_ASIDES_WHOLE, span, wrapText, type Span } from "../src/tui/spans.js";
import { formatValue, gateWords, ringStateWord, rolloutWhy, sliVerdict, wordText } from "../src/tui/words.js";
import { useCockpit, useCockpitContext, useUi } from "./context.js";
import { Line, Lines, Pane } from "./Line.js";

// The selected rollout: why it is where it is, its rings (traffic, state, bake
// countdown, gate results) and, per ring, a sparkline for each SLI it emits
// with the current value, the baseline and the SLO threshold.

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

export function ringRows(r: RolloutState, now: number, width: number): Span[][] {
  const nameW = clamp(Math.max(...r.rings.map((g) => displayWidth(g.name))), 6, 14);
  const stateW = clamp(Math.floor(width * 0.28), 14, 24);
  return r.rings.map((g) => {
    const st = ringStateWord(g, now, r);
    const row: Span[] = [
      span("  "),
      span(padEnd(g.name, nameW), { bold: g.name === r.ring }),
      span(" "),
      span(padStart(formatPercent(g.traffic), 5)),
      span("  "),
      span(padEnd(wordText(st), stateW), { tone: st.tone }),
      span(" "),
    ];
    for (const gate of gateWords(g)) row.push(span(wordText(gate), { tone: gate.tone, bold: gate.tone === "bad" }), span("  "));
    return row;
  });
}

/**
 * Sparkline cells as spans, right-aligned in `width` so the newest sample is always at the
 * same column: breaching cells coloured (the ✗ in the value says it without colour).
 */
function sparkSpans(text: string, mask: readonly boolean[], width: number): Span[] {
  const cells = Array.from(text);
  const out: Span[] = [];
  if (cells.length < width) out.push(span(" ".repeat(width - cells.length)));
  let run = "";
  let runBad = false;
  cells.forEach((c, i) => {
    const bad = mask[i] ?? false;
    if (run !== "" && bad !== runBad) {
      out.push(span(run, runBad ? { tone: "bad" } : { tone: "info" }));
      run = "";
    }
    run += c;
    runBad = bad;
  });
  if (run !== "") out.push(span(run, runBad ? { tone: "bad" } : { tone: "info" }));
  return out;
}

export function sliRows(r: RolloutState, series: readonly SeriesView[], width: number): Span[][] {
  if (series.length === 0) return [];
  const ringW = clamp(Math.max(...series.map((s) => displayWidth(s.ring))), 6, 12);
  const metricW = clamp(Math.max(...series.map((s) => displayWidth(s.metric))), 6, 18);
  const rings = new Map<string, RingState>(r.rings.map((g) => [g.name, g]));
  const verdicts = series.map((s) => sliVerdict(s, rings.get(s.ring)));
  const verdictW = clamp(Math.max(...verdicts.map((v) => displayWidth(wordText(v.word)))), 8, 24);
  const baseTexts = series.map((s) => (s.baseline === null ? "" : `base ${formatValue(s.baseline, s.unit)}`));
  const baseW = clamp(Math.max(0, ...baseTexts.map(displayWidth)), 0, 16);
  let sparkW = width - 2 - ringW - 1 - metricW - 1 - 1 - verdictW - 2 - baseW;
  // A climb needs cells to be seen: the baseline column goes before the sparkline shrinks below 16.
  const showBase = sparkW >= 16 && baseW > 0;
  if (!showBase) sparkW += baseW + 2;
  sparkW = clamp(sparkW, 4, 120);
  return series.map((s, i) => {
    const v = verdicts[i]!;
    const values = s.values.toArray(sparkW);
    const sl = sparkline(values, sparkW, v.threshold !== null && v.assertion ? { threshold: v.threshold, thresholdOp: v.assertion.op } : {});
    const row: Span[] = [
      span("  "),
      span(padEnd(s.ring, ringW)),
      span(" "),
      span(padEnd(s.metric, metricW), { bold: v.status === "fail" }),
      span(" "),
      ...sparkSpans(sl.text, sl.breachMask, sparkW),
      span(" "),
      span(padEnd(wordText(v.word), verdictW), { tone: v.word.tone, bold: v.status === "fail" }),
    ];
    if (showBase) row.push(span("  "), span(baseTexts[i]!, { tone: "muted" }));
    return row;
  });
}

/** At most this many lines say why; a longer reason is cut on the last. */
const MAX_WHY_LINES = 3;

/** Marks a line that carries on the one above, so the reason's own words never start a row. */
const CARRY_ON = "↳";

/**
 * Why the rollout is where it is, wrapped to the pane: the sentence a person
 * acts on is read whole, not cut at the pane's edge. Each further line starts
 * with ↳ under the glyph: a reason's words (a backend's text) cannot start a
 * row of their own and pass for a ring row.
 */
function whyRows(r: RolloutState, width: number): Span[][] {
  const why = rolloutWhy(r);
  if (!why) return [];
  const room = Math.max(1, width - 2 - displayWidth(why.glyph) - 1);
  const wrapped = wrapText(why.text, room, KEEP_ASIDES_WHOLE);
  const kept = wrapped.slice(0, MAX_WHY_LINES);
  if (wrapped.length > kept.length) kept[kept.length - 1] = truncate(`${kept[kept.length - 1]} ${wrapped[kept.length]}`, room);
  const style = { tone: why.tone, bold: true } as const;
  return kept.map((text, i) => [span("  "), span(`${i === 0 ? why.glyph : padEnd(CARRY_ON, displayWidth(why.glyph))} ${text}`, style)]);
}

/** Content lines the detail pane could use for this rollout at this width (the layout's "want"). */
export function detailLinesWanted(r: RolloutState | undefined, seriesCount: number, width: number): number {
  if (!r) return 1;
  return 1 + whyRows(r, width).length + r.rings.length + seriesCount;
}

export function RolloutDetail({ width, lines, focused, stale }: { width: number; lines: number; focused: boolean; stale: boolean }) {
  const chosen = useUi((u) => u.rolloutId);
  const scroll = useUi((u) => u.detailScroll);
  const rollout = useCockpit((v) => selectedRollout(v, { rolloutId: chosen }));
  const now = useCockpit((v) => v.serverNow);
  const selectSeries = useMemo(() => makeSelectSeriesOf(rollout), [rollout]);
  const series = useCockpit(selectSeries);
  const { ui } = useCockpitContext();
  const maxScroll = useRef(0);
  // Keep the controller's scroll within what can scroll (it does not know the pane's height).
  useEffect(() => {
    if (scroll > maxScroll.current) ui.setState({ detailScroll: maxScroll.current });
  });

  if (!rollout) {
    return (
      <Pane title="DETAIL" width={width} lines={lines} focused={focused} stale={stale}>
        <Line spans={[span("  no rollout selected", { tone: "muted" })]} width={width} />
      </Pane>
    );
  }
  const head: Span[] = [
    span("  "),
    span(`${rollout.service} ${rollout.previousVersion} → ${rollout.version}`, { bold: true }),
    span(`  ${rollout.kind}`, { tone: "muted" }),
    span(`  on breach: ${rollout.onBreach}`, { tone: "muted" }),
  ];
  if (rollout.killSwitch) head.push(span(`  flag ${rollout.killSwitch.flag}`, { tone: "muted" }));
  const fixed: Span[][] = [head, ...whyRows(rollout, width)];
  fixed.push(...ringRows(rollout, now, width));
  const slis = sliRows(rollout, series, width);
  // The rings and the reason always show; the SLI rows scroll in what is left.
  const room = Math.max(0, lines - fixed.length);
  maxScroll.current = Math.max(0, slis.length - room);
  const from = Math.min(scroll, maxScroll.current);
  const shownSlis = slis.slice(from, from + room);
  const rows = [...fixed, ...shownSlis].slice(0, lines);
  const hiddenSlis = slis.length - shownSlis.length;
  const info: Span[] = [span(rollout.id, { tone: "muted" })];
  if (hiddenSlis > 0) info.push(span(` ${hiddenSlis} more SLI row${hiddenSlis === 1 ? "" : "s"} ↕`, { tone: "muted" }));
  if (slis.length === 0) info.push(span(" · no SLI samples yet", { tone: "muted" }));
  return (
    <Pane title="DETAIL" info={info} width={width} lines={lines} focused={focused} stale={stale}>
      <Box flexDirection="column">
        <Lines rows={rows} width={width} dim={stale} />
      </Box>
    </Pane>
  );
}
