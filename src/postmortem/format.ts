import { formatNumber } from "../render/number.js";
import { formatClock, formatDuration } from "../render/time.js";

// How the draft writes times and values; thin wrappers over render/ so every
// section says "14:05:40 UTC", "T+4m12s", "63.2 ms" and "0.5%" the same way.

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export function clockUtc(ms: number): string {
  return `${formatClock(ms)} UTC`;
}

/** "T+4m12s" from impact start; "T-1m10s" before it. */
export function offsetText(ms: number, zeroMs: number): string {
  const d = ms - zeroMs;
  return d < 0 ? `T-${formatDuration(-d)}` : `T+${formatDuration(d)}`;
}

export function pct(n: number): string {
  return `${formatNumber(n)}%`;
}

/** A "%" in an assertion means the metric is in percent units (see domain/assertion.ts). */
export function isPercentAssertion(text: string): boolean {
  return text.includes("%");
}

export function valueWithUnit(v: number | null, unit: string, percent = false): string {
  if (v === null) return "no data";
  if (percent || unit.trim() === "%") return pct(v);
  return unit ? `${formatNumber(v)} ${unit}` : formatNumber(v);
}

/** "52 ms vs threshold 50 ms (p99_latency_ms < 50 for 30s)" */
export function versusThreshold(value: number | null, threshold: number | null, unit: string, assertion: string): string {
  const percent = isPercentAssertion(assertion);
  return `${valueWithUnit(value, unit, percent)} vs threshold ${threshold === null ? "unknown (no baseline)" : valueWithUnit(threshold, unit, percent)} (${assertion})`;
}

/** "0.9% vs baseline 0.1% (9x)" */
export function versusBaseline(value: number | null, baseline: number | null, unit: string): string {
  const ratio = value !== null && baseline !== null && baseline > 0 ? ` (${formatNumber(value / baseline)}x)` : "";
  return `${valueWithUnit(value, unit)} vs baseline ${valueWithUnit(baseline, unit)}${ratio}`;
}

export function capitalize(s: string): string {
  return s.length > 0 ? s[0]!.toUpperCase() + s.slice(1) : s;
}

export function joinList(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}
