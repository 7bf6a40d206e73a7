import { Box } from "ink";
import { formatDuration } from "../src/render/time.js";
import { displayWidth, truncateStart } from "../src/render/width.js";
import { footerItems, packFooter, itemText } from "../src/keymap/footer.js";
import type { CommandView } from "../src/store/cockpit-store.js";
import { span, type Span } from "../src/tui/spans.js";
import { commandStatusWord, wordText } from "../src/tui/words.js";
import type { KeyContext } from "../src/keymap/keymap.js";
import { useCockpit, useUi } from "./context.js";
import { Line } from "./Line.js";
import { TextPrompt } from "./TextPrompt.js";

// The two bottom parts: one status line (the prompt being typed, a message, or
// the fate of the latest command: pending, acked, rejected with the server's
// sentence, timeout) and the footer of keys valid now, from the keymap table.

export function commandLine(c: CommandView, now: number, othersPending: number): Span[] {
  const w = commandStatusWord(c.status);
  const out: Span[] = [span(wordText(w), { tone: w.tone, bold: true }), span("  "), span(c.label, { bold: true })];
  if (c.status === "pending") out.push(span(` (${formatDuration(now - c.sentAt)})`, { tone: "muted" }));
  if (c.status === "acked" && c.duplicate) out.push(span(" (already done: the server had it)", { tone: "muted" }));
  if (c.message && c.status !== "acked") out.push(span(": "), span(c.message, { tone: c.status === "rejected" ? "bad" : undefined }));
  if (othersPending > 0) out.push(span(`  · ${othersPending} more pending`, { tone: "warn" }));
  return out;
}

export function StatusLine({ width }: { width: number }) {
  const commands = useCockpit((v) => v.commands);
  const now = useCockpit((v) => v.now);
  const error = useCockpit((v) => (v.connection.status === "live" ? v.connection.error : undefined));
  const mode = useUi((u) => u.mode);
  const prompt = useUi((u) => u.prompt);
  const flash = useUi((u) => u.flash);

  if (mode === "text" && prompt) return <TextPrompt prompt={prompt} width={width} />;
  let spans: Span[];
  if (flash) {
    spans = [span(flash.tone === "error" ? "✗ " : "› ", { tone: flash.tone === "error" ? "bad" : "info", bold: true }), span(flash.text)];
    if (flash.path !== undefined) spans.push(span(" "), span(truncateStart(flash.path, Math.max(1, width - 3 - displayWidth(flash.text))), { bold: true }));
  } else if (commands.length > 0) {
    const latest = commands[commands.length - 1]!;
    const othersPending = commands.filter((c) => c.status === "pending" && c !== latest).length;
    spans = commandLine(latest, now, othersPending);
  } else if (error) {
    spans = [span("✗ ", { tone: "bad", bold: true }), span(error)];
  } else {
    spans = [];
  }
  return <Line spans={spans} width={width} />;
}

export function Footer({ width, lines, ctx }: { width: number; lines: number; ctx: KeyContext }) {
  const packed = packFooter(footerItems(ctx), width, lines);
  return (
    <Box flexDirection="column" height={lines}>
      {packed.map((items, n) => {
        const spans: Span[] = [];
        items.forEach((it, i) => {
          if (i > 0) spans.push(span("  "));
          spans.push(span(it.keys, { bold: true, inverse: true, tone: it.dangerous ? "bad" : undefined }));
          spans.push(span(itemText(it).slice(it.keys.length)));
        });
        return <Line key={n} spans={spans} width={width} />;
      })}
    </Box>
  );
}
