import { Box } from "ink";
import { KEYMAP, type KeyContext, type Mode } from "../src/keymap/keymap.js";
import { displayKeys, permitted } from "../src/keymap/resolve.js";
import { padEnd } from "../src/render/width.js";
import { span, type Span } from "../src/tui/spans.js";
import { Line } from "./Line.js";

// `?`: every key this session may use, from the same table as dispatch and the
// footer (so a read-only session or a viewer is not shown keys it cannot use).

const OTHER_MODES: { title: string; modes: Mode[] }[] = [
  { title: "In a confirmation", modes: ["confirm", "reason"] },
  { title: "In a prompt or list", modes: ["text", "choose"] },
];

export function helpLines(ctx: KeyContext): Span[][] {
  const all = { ...ctx, mode: "main" as Mode };
  const main = KEYMAP.filter((c) => c.modes.includes("main") && permitted(c, all));
  const keyW = Math.max(...main.map((c) => displayKeys(c).length)) + 2;
  const lines: Span[][] = [[span("KEYS", { bold: true, inverse: true }), span(`  you are ${ctx.actor ?? "?"} (${ctx.role ?? "role not known yet"})${ctx.readonly ? ", READ-ONLY" : ""}`, { tone: "muted" })]];
  for (const c of main) {
    lines.push([span("  "), span(padEnd(displayKeys(c), keyW), { bold: true, tone: c.dangerous ? "bad" : undefined }), span(c.dangerous ? "⚠ " : "  ", { tone: "bad" }), span(c.description)]);
  }
  for (const group of OTHER_MODES) {
    const cmds = KEYMAP.filter((c) => c.modes.some((m) => group.modes.includes(m)) && c.id !== "interrupt");
    const seen = new Set<string>();
    const parts: string[] = [];
    for (const c of cmds) {
      const t = `${displayKeys(c)} ${c.label}`;
      if (!seen.has(t)) parts.push(t);
      seen.add(t);
    }
    lines.push([span("  "), span(`${group.title}: `, { bold: true }), span(parts.join(" · "))]);
  }
  if (!ctx.readonly && ctx.role === "viewer") lines.push([span("  "), span("Your role (viewer) reads only: commands that change things are not offered.", { tone: "warn" })]);
  if (ctx.readonly) lines.push([span("  "), span("Read-only session (--readonly): commands that change things are not offered.", { tone: "warn" })]);
  return lines;
}

export function HelpOverlay({ ctx, width, height }: { ctx: KeyContext; width: number; height: number }) {
  const all = helpLines(ctx);
  const lines = all.length > height ? [...all.slice(0, Math.max(0, height - 1)), [span(`  … ${all.length - height + 1} more lines: a taller terminal shows them`, { tone: "muted" })]] : all;
  return (
    <Box flexDirection="column" height={height} overflowY="hidden">
      {lines.map((l, i) => (
        <Line key={i} spans={l} width={width} />
      ))}
    </Box>
  );
}
