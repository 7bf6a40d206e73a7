import { Box } from "ink";
import { commandById } from "../src/keymap/keymap.js";
import { displayKeys } from "../src/keymap/resolve.js";
import type { ConfirmState } from "../src/tui/controller.js";
import { fitSpans, span, wrapText, type Span } from "../src/tui/spans.js";
import { Line } from "./Line.js";

// The question before a dangerous command: it names what will happen (service,
// versions, rings), Cancel is the default (Enter cancels), only `y` goes, and
// an optional reason (kept in the event log) can be written first.

const MAX_QUESTION_LINES = 3;

function boxed(content: readonly Span[], width: number): Span[] {
  return [span("│ ", { tone: "bad" }), ...fitSpans(content, width - 4, true), span(" │", { tone: "bad" })];
}

function dialogLines(c: ConfirmState, width: number, editingReason: boolean): Span[][] {
  const inner = Math.max(10, width - 4);
  const title = " ⚠ CONFIRM — this changes production ";
  const top: Span[] = [span("┌─", { tone: "bad" }), span(title, { tone: "bad", bold: true, inverse: true }), span("─".repeat(Math.max(0, width - 3 - title.length)) + "┐", { tone: "bad" })];
  const lines: Span[][] = [fitSpans(top, width)];
  for (const q of wrapText(c.question, inner).slice(0, MAX_QUESTION_LINES)) lines.push(boxed([span(q, { bold: true })], width));
  for (const l of wrapText(c.consequence, inner).slice(0, 2)) lines.push(boxed([span(l)], width));
  const reasonLabel = "Reason (optional): ";
  lines.push(
    boxed(
      [span(reasonLabel, { tone: "muted" }), span(c.reason === "" && !editingReason ? "—" : c.reason, { underline: editingReason }), span(editingReason ? "▌" : "")],
      width,
    ),
  );
  const go = commandById("confirm_go");
  const cancel = commandById("confirm_cancel");
  const reason = editingReason ? commandById("reason_done") : commandById("confirm_reason");
  lines.push(
    boxed(
      [
        span("[ Cancel ]", { bold: true, inverse: true }),
        span(` ${displayKeys(cancel)} (default)`, { tone: "muted" }),
        span("    "),
        span(displayKeys(go), { bold: true, tone: "bad" }),
        span(` ${c.goLabel}`),
        span("    "),
        span(displayKeys(reason), { bold: true }),
        span(editingReason ? " done" : " write a reason"),
      ],
      width,
    ),
  );
  lines.push(fitSpans([span("└" + "─".repeat(Math.max(0, width - 2)) + "┘", { tone: "bad" })], width));
  return lines;
}

/** Lines the dialog takes at this width (the layout reserves them). */
export function confirmHeight(c: ConfirmState, width: number): number {
  return dialogLines(c, width, false).length;
}

export function ConfirmDialog({ confirm, width, editingReason }: { confirm: ConfirmState; width: number; editingReason: boolean }) {
  const lines = dialogLines(confirm, width, editingReason);
  return (
    <Box flexDirection="column" height={lines.length}>
      {lines.map((l, i) => (
        <Line key={i} spans={l} width={width} />
      ))}
    </Box>
  );
}
