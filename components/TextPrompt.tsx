import type { PromptState } from "../src/tui/controller.js";
import { span } from "../src/tui/spans.js";
import { Line } from "./Line.js";

// The one-line text field (note, incident title, timeline filter). What is
// typed was stripped of control characters by the controller before it got here.

export function TextPrompt({ prompt, width }: { prompt: PromptState; width: number }) {
  const label = `${prompt.label} › `;
  // Keep the end of a long text in view: that is where the typing happens.
  const room = Math.max(1, width - label.length - 1);
  const chars = Array.from(prompt.text);
  const shown = chars.length > room ? "…" + chars.slice(chars.length - room + 1).join("") : prompt.text;
  return <Line spans={[span(label, { bold: true, tone: "accent" }), span(shown), span("▌", { tone: "accent" })]} width={width} />;
}
