import { Box } from "ink";
import { ringMeter } from "../src/render/meter.js";
import { displayWidth, padEnd } from "../src/render/width.js";
import type { RolloutState } from "../src/protocol/types.js";
import { HEARD_NOTHING_TEXT, selectHeardNothing, selectRolloutsSorted } from "../src/store/selectors.js";
import { span, type Span } from "../src/tui/spans.js";
import { rolloutFlags, rolloutStateWord, wordText } from "../src/tui/words.js";
import { useCockpit, useUi } from "./context.js";
import { Line, Lines, Pane } from "./Line.js";

// Every rollout on one line each, those needing attention first: service,
// version, kind, current ring, a meter over its rings and a state word + glyph.

function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}

/** The first row to show so the selected row stays in view. */
export function windowStart(count: number, visible: number, selected: number): number {
  if (count <= visible || selected < 0) return 0;
  return clamp(selected - Math.floor(visible / 2), 0, count - visible);
}

export function rolloutRow(r: RolloutState, now: number, cols: { name: number; ring: number; meter: number }): Span[] {
  const state = rolloutStateWord(r, now);
  const out: Span[] = [
    span(padEnd(`${r.service} ${r.version}`, cols.name), { bold: true }),
    span(" "),
    span(padEnd(r.kind, 6), { tone: "muted" }),
    span(" "),
    span(padEnd(r.ring ?? "—", cols.ring)),
    span(" "),
    span(padEnd(ringMeter(r.rings, cols.meter), cols.meter)),
    span(" "),
  ];
  // The state words first (an engaged kill switch before all): they are what the row is for,
  // and the end of a long line is what gets cut.
  const flags = rolloutFlags(r);
  const words = [...flags.filter((f) => f.glyph === "⊘"), state, ...flags.filter((f) => f.glyph !== "⊘")];
  words.forEach((w, i) => {
    if (i > 0) out.push(span(" · "));
    out.push(span(wordText(w), { tone: w.tone, bold: w.tone === "bad" }));
  });
  return out;
}

export function RolloutList({ width, lines, focused, stale }: { width: number; lines: number; focused: boolean; stale: boolean }) {
  const rollouts = useCockpit(selectRolloutsSorted);
  const now = useCockpit((v) => v.serverNow);
  const chosen = useUi((u) => u.rolloutId);
  const selectedId = (chosen !== undefined && rollouts.some((r) => r.id === chosen) ? chosen : rollouts[0]?.id) ?? null;
  const selected = rollouts.findIndex((r) => r.id === selectedId);
  const start = windowStart(rollouts.length, lines, selected);
  const shown = rollouts.slice(start, start + lines);
  const cols = {
    name: clamp(Math.max(0, ...rollouts.map((r) => displayWidth(`${r.service} ${r.version}`))), 8, 24),
    ring: clamp(Math.max(0, ...rollouts.map((r) => displayWidth(r.ring ?? "—"))), 6, 12),
    meter: clamp(Math.max(0, ...rollouts.map((r) => r.rings.length)), 1, 10),
  };
  const hidden = rollouts.length - shown.length;
  const heardNothing = useCockpit(selectHeardNothing);
  const info: Span[] = [span(`(${rollouts.length})`, { tone: "muted" })];
  if (hidden > 0) info.push(span(` ${hidden} more ↕`, { tone: "muted" }));
  return (
    <Pane title="ROLLOUTS" info={info} width={width} lines={lines} focused={focused} stale={stale}>
      <Box flexDirection="column">
        {rollouts.length === 0 ? (
          <Line spans={[span(heardNothing ? HEARD_NOTHING_TEXT : "  no rollouts yet", { tone: "muted" })]} width={width} dim={stale} />
        ) : (
          <Lines
            rows={shown.map((r) => {
              const isSel = r.id === selectedId;
              return [span(isSel ? "› " : "  ", { bold: true, inverse: isSel && focused }), ...rolloutRow(r, now, cols)];
            })}
            width={width}
            dim={stale}
          />
        )}
      </Box>
    </Pane>
  );
}
