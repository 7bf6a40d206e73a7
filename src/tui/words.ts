import { parseAssertion, evaluateAssertion, type Assertion, type AssertionParse } from "../domain/assertion.js";
import { formatNumber } from "../render/number.js";
import { formatClock, formatCountdown } from "../render/time.js";
import type { AlertState, RingState, RolloutState, Severity } from "../protocol/types.js";
import { serverNow, type CommandStatus, type ConnectionView, type SeriesView } from "../store/cockpit-store.js";
import type { Tone } from "./spans.js";

// The words and glyphs a person reads for each state. Every state has its own
// glyph AND its own word, so the screen says the same thing with NO_COLOR or to
// a colour-blind reader; the tone only adds colour on top.

export interface Word {
  glyph: string;
  text: string;
  tone: Tone;
}

export const word = (glyph: string, text: string, tone: Tone): Word => ({ glyph, text, tone });
export const wordText = (w: Word): string => `${w.glyph} ${w.text}`;

// ---- connection --------------------------------------------------------------------

function secondsUntil(at: number | undefined, now: number): number | null {
  if (at === undefined) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

export function connectionWord(c: ConnectionView, now: number): Word {
  switch (c.status) {
    case "live":
      return word("●", "live", "ok");
    case "connecting":
      return word("◌", "connecting", "warn");
    case "reconnecting": {
      const s = secondsUntil(c.retryAt, now);
      return word("↻", s === null || s === 0 ? "reconnecting…" : `reconnecting in ${s}s`, "warn");
    }
    case "stale":
      // On the backend's clock, as the header's time and every event time are.
      return word("⚠", c.staleSince !== undefined ? `STALE since ${formatClock(serverNow(c, c.staleSince))}` : "STALE", "bad");
    case "closed":
      return word("■", "closed", "muted");
    case "failed":
      return word("✗", "FAILED", "bad");
  }
}

// ---- rollouts ----------------------------------------------------------------------

/** "paused by alice" -> "by alice": the word paused is already on screen. */
function pausedWhy(reason: string | undefined): string {
  const r = (reason ?? "").trim();
  return r.replace(/^paused\s+/i, "");
}

// The reference engine's reason for an automatic pause:
// "p99_latency_ms < 50 for 1m breached in canary (72.38 > 50)".
const ENGINE_BREACH = /^([a-zA-Z_][\w.]*)\s*(?:<=|>=|<|>)\s.*\sbreached in \S+ \((.+)\)$/;

/**
 * The part of an automatic pause's reason that fits a list row: the metric and
 * its reading against the threshold ("p99_latency_ms 72.4 > 50"); the row
 * already names the ring and the detail pane gives the whole sentence. A
 * reason in any other shape is kept whole.
 */
export function shortPauseReason(reason: string): string {
  const m = ENGINE_BREACH.exec(reason);
  if (!m) return reason;
  // Readings at the three significant digits the SLI rows show (72.38 -> 72.4).
  const reading = m[2]!.replace(/-?\d+(?:\.\d+)?/g, (n) => formatNumber(Number(n)));
  return `${m[1]} ${reading}`;
}

/** The ring the rollout is at, if any. */
export function currentRing(r: RolloutState): RingState | undefined {
  return r.ring === null ? undefined : r.rings.find((g) => g.name === r.ring);
}

export function rolloutStateWord(r: RolloutState, now: number): Word {
  switch (r.state) {
    case "paused": {
      const why = pausedWhy(r.pausedReason);
      const text = r.pausedAutomatic ? `paused (auto: ${why ? shortPauseReason(why) : "SLO breach"})` : why ? `paused (${why})` : "paused";
      return word("‖", text, "bad");
    }
    case "rolling_back":
      return word("↺", "rolling back", "warn");
    case "rolled_back":
      return word("↩", "rolled back", "accent");
    case "completed":
      return word("✓", "completed", "ok");
    case "pending":
      return word("○", "pending", "muted");
    case "progressing": {
      const ring = currentRing(r);
      if (ring?.state === "baking" && ring.bakeUntil) return word("◷", `baking ${formatCountdown(ring.bakeUntil, now)}`, "info");
      return word("▶", "progressing", "info");
    }
    default:
      return word("?", String(r.state), "muted");
  }
}

/** Extra words that need a person's eye, after the state word. */
export function rolloutFlags(r: RolloutState): Word[] {
  const out: Word[] = [];
  if (r.killSwitch?.engaged) out.push(word("⊘", "kill switch ON", "bad"));
  const breaching = r.rings.filter((g) => (g.breaches?.length ?? 0) > 0).map((g) => g.name);
  if (breaching.length > 0 && r.state !== "rolled_back") out.push(word("✗", `breaching in ${breaching.join(", ")}`, "bad"));
  return out;
}

/** Why the rollout is where it is, in a sentence (detail pane); null when nothing needs saying. */
export function rolloutWhy(r: RolloutState): Word | null {
  if (r.killSwitch?.engaged) return word("⊘", `Kill switch ${r.killSwitch.flag} is ON: the flag is off for all traffic.`, "bad");
  switch (r.state) {
    case "paused":
      return r.pausedAutomatic
        ? word("‖", `Auto-paused: ${r.pausedReason ?? "an SLO breached"}.`, "bad")
        : word("‖", `Paused by hand${r.pausedReason ? `: ${r.pausedReason}` : ""}.`, "warn");
    case "rolling_back":
      return word("↺", `Rolling back to ${r.previousVersion}.`, "warn");
    case "rolled_back":
      return word("↩", `Rolled back to ${r.previousVersion}${r.since ? ` at ${formatClock(r.since)}` : ""}.`, "accent");
    default:
      return null;
  }
}

export function ringStateWord(g: RingState, now: number, rollout?: RolloutState): Word {
  switch (g.state) {
    case "completed":
      return word("✓", "completed", "ok");
    case "baking":
      // The engine does not promote a held rollout and re-bakes in full on resume,
      // so a countdown running on would promise a promotion that will not come.
      if (rollout && rollout.state !== "progressing") return word("‖", "bake held", "warn");
      return word("◷", g.bakeUntil ? `baking ${formatCountdown(g.bakeUntil, now)}` : "baking", "info");
    case "progressing":
      return word("▶", "progressing", "info");
    case "rolled_back":
      return word("↩", "rolled back", "accent");
    case "pending":
      return word("○", "pending", "muted");
    default:
      return word("?", String(g.state), "muted");
  }
}

/** Per SLO of a ring: ✗ breached, ✓ holding, · not evaluated yet. */
export function gateWords(g: RingState): Word[] {
  const breached = new Set(g.breaches ?? []);
  return (g.slos ?? []).map((slo) => {
    if (breached.has(slo)) return word("✗", slo, "bad");
    if (g.state === "pending") return word("·", slo, "muted");
    return word("✓", slo, "ok");
  });
}

// ---- SLIs --------------------------------------------------------------------------

export function formatValue(v: number | null, unit: string): string {
  if (v === null || !Number.isFinite(v)) return "—";
  const n = formatNumber(v);
  if (unit === "") return n;
  return unit === "%" || unit === "ms" || unit === "s" ? `${n}${unit}` : `${n} ${unit}`;
}

export interface SliVerdict {
  /** the assertion this series is checked against, if the ring has one for the metric */
  assertion?: Assertion;
  threshold: number | null;
  status: "pass" | "fail" | "no_data" | "no_slo";
  /** "✗ 63.2ms > 50", "✓ 41ms < 50", "41ms" */
  word: Word;
}

// A ring's SLO texts are parsed for every SLI row on every frame; they hardly ever change.
const parsedSlos = new Map<string, AssertionParse>();
function parsedSlo(text: string): AssertionParse {
  let p = parsedSlos.get(text);
  if (p === undefined) {
    p = parseAssertion(text);
    if (parsedSlos.size >= 256) parsedSlos.clear();
    parsedSlos.set(text, p);
  }
  return p;
}

/** How the newest sample stands against the ring's SLO for that metric. */
export function sliVerdict(s: SeriesView, ring: RingState | undefined): SliVerdict {
  let assertion: Assertion | undefined;
  for (const text of ring?.slos ?? []) {
    const p = parsedSlo(text);
    if (p.ok && p.assertion.metric === s.metric) {
      assertion = p.assertion;
      break;
    }
  }
  const value = formatValue(s.last, s.unit);
  if (!assertion) return { threshold: null, status: "no_slo", word: word("·", value, "muted") };
  const ev = evaluateAssertion(assertion, s.last, s.baseline);
  const t = ev.threshold;
  const tText = t === null ? "?" : formatNumber(t);
  if (ev.status === "no_data") return { assertion, threshold: t, status: "no_data", word: word("?", `${value} (no data, SLO ${assertion.op} ${tText})`, "warn") };
  const v = s.last as number;
  const rel = t === null ? assertion.op : v > t ? ">" : v < t ? "<" : "=";
  if (ev.status === "fail") return { assertion, threshold: t, status: "fail", word: word("✗", `${value} ${rel} ${tText}`, "bad") };
  return { assertion, threshold: t, status: "pass", word: word("✓", `${value} ${rel} ${tText}`, "ok") };
}

// ---- alerts ------------------------------------------------------------------------

export function severityWord(a: Pick<AlertState, "severity" | "state">): Word {
  if (a.state === "resolved") return word("✓", "resolved", "muted");
  const s: Severity | string = a.severity;
  if (s === "critical") return word("✖", "critical", "bad");
  if (s === "warning") return word("▲", "warning", "warn");
  return word("•", "info", "info");
}

// ---- commands ----------------------------------------------------------------------

export function commandStatusWord(status: CommandStatus): Word {
  switch (status) {
    case "pending":
      return word("⋯", "pending", "warn");
    case "acked":
      return word("✓", "acked", "ok");
    case "rejected":
      return word("✗", "rejected", "bad");
    case "timeout":
      return word("⧗", "timeout", "bad");
    case "unknown":
      return word("?", "outcome unknown", "warn");
  }
}
