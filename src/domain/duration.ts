// Durations as people write them in plans, scenarios and assertions:
// a plain number of seconds (300), or a string of one or more <number><unit>
// parts, largest first or not: "500ms", "90s", "5m", "1h30m", "2d", "1.5h".
// Units: ms, s, m, h, d. A bare numeric string ("300") is seconds too.
// formatDurationShort writes the same notation back, so its output parses.

import { quoteText } from "../protocol/sanitize.js";

export type DurationResult = { ok: true; seconds: number } | { ok: false; error: string };

const UNIT_SECONDS: Readonly<Record<string, number>> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
// "ms" must be tried before "m".
const PART = /(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h|d)/y;
const PLAIN_NUMBER = /^(\d+(?:\.\d+)?|\.\d+)$/;

const EXPECTED = 'expected a duration like "90s", "5m", "1h30m", "500ms" or a number of seconds';

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "string") return quoteText(v, 40);
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  return typeof v === "object" ? "an object" : String(v);
}

export function parseDuration(v: unknown): DurationResult {
  if (typeof v === "number") {
    if (!Number.isFinite(v) || v < 0) return { ok: false, error: `${EXPECTED}, not negative (got ${describe(v)})` };
    return { ok: true, seconds: v };
  }
  if (typeof v !== "string") return { ok: false, error: `${EXPECTED} (got ${describe(v)})` };
  const s = v.trim();
  if (s.startsWith("-")) return { ok: false, error: `${EXPECTED}, not negative (got ${describe(v)})` };
  if (PLAIN_NUMBER.test(s)) return finiteSeconds(Number(s), v);
  if (s.length === 0) return { ok: false, error: `${EXPECTED} (got ${describe(v)})` };

  let seconds = 0;
  let pos = 0;
  const seen = new Set<string>();
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) return { ok: false, error: `${EXPECTED} (got ${describe(v)})` };
    const unit = m[2]!;
    // "1m5m" is almost surely a typo, not 6 minutes.
    if (seen.has(unit)) return { ok: false, error: `${EXPECTED}; the unit "${unit}" appears twice (got ${describe(v)})` };
    seen.add(unit);
    seconds += Number(m[1]) * UNIT_SECONDS[unit]!;
    pos = PART.lastIndex;
    while (s[pos] === " ") pos++;
  }
  // Floating sums like 0.1h + 500ms: keep whole milliseconds.
  return finiteSeconds(Math.round(seconds * 1000) / 1000, v);
}

/** Four hundred nines are digits, but not a duration: past double range they would read as Infinity. */
function finiteSeconds(seconds: number, v: unknown): DurationResult {
  if (!Number.isFinite(seconds)) return { ok: false, error: `${EXPECTED}; this one is too large (got ${describe(v)})` };
  return { ok: true, seconds };
}

/** 60 -> "1m", 90 -> "1m30s", 5400 -> "1h30m", 0.5 -> "500ms", 0 -> "0s". Parses back with parseDuration. */
export function formatDurationShort(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds < 0) return "-" + formatDurationShort(-seconds);
  let ms = Math.round(seconds * 1000);
  if (ms === 0) return "0s";
  const parts: string[] = [];
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ] as const) {
    const n = Math.floor(ms / size);
    if (n > 0) {
      parts.push(`${n}${unit}`);
      ms -= n * size;
    }
  }
  return parts.join("");
}
