import { Box } from "ink";
import { formatAge } from "../src/render/time.js";
import { displayWidth, padEnd } from "../src/render/width.js";
import type { AlertState } from "../src/protocol/types.js";
import { countFiring, HEARD_NOTHING_TEXT, selectAlertsSorted, selectHeardNothing } from "../src/store/selectors.js";
import { span, type Span } from "../src/tui/spans.js";
import { severityWord, wordText } from "../src/tui/words.js";
import { useCockpit, useUi } from "./context.js";
import { Line, Lines, Pane } from "./Line.js";
import { windowStart } from "./RolloutList.js";

// Alerts, firing and critical first: severity glyph + word, title, where
// (rollout/ring), age, and who acknowledged it.

export function alertRow(a: AlertState, now: number, width: number): Span[] {
  const sev = severityWord(a);
  const where = [a.rollout, a.ring].filter(Boolean).join("/");
  const age = formatAge(a.since, now);
  const acked = a.ackedBy ? `✓ acked by ${a.ackedBy}` : a.state === "firing" ? "◇ not acked" : "";
  const SEV = 11;
  // The title matters most; "where" is dropped before the title is cut (the detail pane names the rollout).
  const fixed = 2 + SEV + 1 + 2 + displayWidth(age) + (acked ? 2 + displayWidth(acked) : 0);
  const withWhere = where ? displayWidth(where) + 2 : 0;
  const showWhere = where !== "" && width - fixed - withWhere >= Math.min(displayWidth(a.title), 40);
  const titleW = Math.max(10, width - fixed - (showWhere ? withWhere : 0));
  const row: Span[] = [
    span(padEnd(wordText(sev), SEV), { tone: sev.tone, bold: sev.tone === "bad" }),
    span(" "),
    span(padEnd(a.title, titleW), { bold: a.state === "firing" && !a.ackedBy }),
    span("  "),
  ];
  if (showWhere) row.push(span(where, { tone: "muted" }), span("  "));
  row.push(span(age, { tone: "muted" }));
  if (acked) row.push(span("  "), span(acked, { tone: a.ackedBy ? "ok" : "warn" }));
  return row;
}

export function AlertList({ width, lines, focused, stale }: { width: number; lines: number; focused: boolean; stale: boolean }) {
  const alerts = useCockpit(selectAlertsSorted);
  const now = useCockpit((v) => v.serverNow);
  const chosen = useUi((u) => u.alertId);
  const selectedId = (chosen !== undefined && alerts.some((a) => a.id === chosen) ? chosen : alerts[0]?.id) ?? null;
  const selected = alerts.findIndex((a) => a.id === selectedId);
  const start = windowStart(alerts.length, lines, selected);
  const shown = alerts.slice(start, start + lines);
  const n = countFiring(alerts);
  const firing = n.critical + n.warning + n.info;
  const heardNothing = useCockpit(selectHeardNothing);
  const info: Span[] = [span(heardNothing ? "(no data)" : `(${firing} firing`, { tone: "muted" })];
  if (n.critical > 0) info.push(span(", "), span(`✖ ${n.critical} critical`, { tone: "bad", bold: true }));
  if (!heardNothing) info.push(span(")", { tone: "muted" }));
  const hidden = alerts.length - shown.length;
  if (hidden > 0) info.push(span(` ${hidden} more ↕`, { tone: "muted" }));
  return (
    <Pane title="ALERTS" info={info} width={width} lines={lines} focused={focused} stale={stale}>
      <Box flexDirection="column">
        {alerts.length === 0 ? (
          <Line spans={[heardNothing ? span(HEARD_NOTHING_TEXT, { tone: "muted" }) : span("  ✓ no alerts", { tone: "ok" })]} width={width} dim={stale} />
        ) : (
          <Lines
            rows={shown.map((a) => {
              const isSel = a.id === selectedId && focused;
              return [span(isSel ? "› " : "  ", { bold: true, inverse: isSel }), ...alertRow(a, now, width)];
            })}
            width={width}
            dim={shown.map((a) => stale || a.state === "resolved")}
          />
        )}
      </Box>
    </Pane>
  );
}
