// Times for a cockpit: short, fixed-shape and in UTC (events carry UTC, and a
// team spread over time zones reads the same clock). The current time is
// always passed in: this module never reads a clock.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NO_TIME = "—";

const two = (n: number): string => (n < 10 ? "0" + n : String(n));

function wholeSeconds(ms: number, round: "floor" | "ceil"): number {
  return round === "ceil" ? Math.ceil(ms / SECOND) : Math.floor(ms / SECOND);
}

function formatSeconds(total: number): string {
  if (total < 60) return `${total}s`;
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600) % 24;
  const d = Math.floor(total / 86400);
  if (d > 0) return `${d}d${two(h)}h`;
  if (h > 0) return `${h}h${two(m)}m`;
  return `${m}m${two(s)}s`;
}

/**
 * Two units at most, the smaller zero-padded: "0s", "12s", "3m12s", "1h04m", "2d03h".
 * Partial seconds are dropped; a negative duration keeps its sign ("-5s"); no number gives "—".
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return NO_TIME;
  const total = wholeSeconds(Math.abs(ms), "floor");
  return (ms < 0 && total > 0 ? "-" : "") + formatSeconds(total);
}

/** Milliseconds since the epoch of an ISO timestamp or epoch ms; NaN when unreadable. */
export function toEpochMs(at: string | number): number {
  if (typeof at === "number") return Number.isFinite(at) ? at : NaN;
  return typeof at === "string" ? Date.parse(at) : NaN;
}

/** Wall-clock time of day in UTC, "14:05:40"; "--:--:--" when the time is unreadable. */
export function formatClock(at: string | number): string {
  const ms = toEpochMs(at);
  if (Number.isNaN(ms)) return "--:--:--";
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return "--:--:--";
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** How long ago, in the largest whole unit: "12s ago", "3m ago", "2h ago", "4d ago"; "just now" under a second or when the time is ahead of us (clock skew). */
export function formatAge(since: string | number, nowMs: number): string {
  const then = toEpochMs(since);
  if (Number.isNaN(then) || !Number.isFinite(nowMs)) return NO_TIME;
  const ago = nowMs - then;
  if (ago < SECOND) return "just now";
  if (ago < MINUTE) return `${Math.floor(ago / SECOND)}s ago`;
  if (ago < HOUR) return `${Math.floor(ago / MINUTE)}m ago`;
  if (ago < DAY) return `${Math.floor(ago / HOUR)}h ago`;
  return `${Math.floor(ago / DAY)}d ago`;
}

/**
 * Time left until a deadline (a bake's end): "3m12s left", "due" once it has passed.
 * Rounds up, so "1s left" shows until the deadline itself rather than "0s left".
 */
export function formatCountdown(until: string | number, nowMs: number): string {
  const end = toEpochMs(until);
  if (Number.isNaN(end) || !Number.isFinite(nowMs)) return NO_TIME;
  const left = end - nowMs;
  if (left <= 0) return "due";
  return `${formatSeconds(wholeSeconds(left, "ceil"))} left`;
}
