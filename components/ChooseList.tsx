import { Box } from "ink";
import { commandById } from "../src/keymap/keymap.js";
import { displayKeys } from "../src/keymap/resolve.js";
import type { ChooseState } from "../src/tui/controller.js";
import { span, type Span } from "../src/tui/spans.js";
import { Line } from "./Line.js";

// A short pick list drawn above the panes (milestones of the open incident).

function listLines(c: ChooseState): Span[][] {
  const lines: Span[][] = [[span(c.title, { bold: true })]];
  c.items.forEach((it, i) => {
    const sel = i === c.index;
    lines.push([span(sel ? "› " : "  ", { bold: true }), span(it.label, { inverse: sel, bold: sel }), span(it.done ? "  ✓ already recorded" : "", { tone: "muted" })]);
  });
  const hint = ["up", "down", "choose_pick", "choose_cancel"].map((id) => {
    const c = commandById(id as Parameters<typeof commandById>[0]);
    return `${displayKeys(c)} ${c.label}`;
  });
  lines.push([span(hint.join(" · "), { tone: "muted" })]);
  return lines;
}

export function chooseHeight(c: ChooseState): number {
  return listLines(c).length;
}

export function ChooseList({ choose, width }: { choose: ChooseState; width: number }) {
  const lines = listLines(choose);
  return (
    <Box flexDirection="column" height={lines.length}>
      {lines.map((l, i) => (
        <Line key={i} spans={l} width={width} />
      ))}
    </Box>
  );
}
