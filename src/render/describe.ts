import type { Actor, CockpitEvent } from "../protocol/types.js";
import { formatNumber, formatPercent } from "./number.js";
import { formatClock } from "./time.js";
import { oneLine } from "./width.js";

// One plain English sentence per event, for the timeline and the post-mortem.
// People are named where a person acted ("alice (operator) paused ..."); the
// engine's routine steps read without a subject ("canary baking until ...").
// Event data is read defensively: an event from a newer or broken backend gets
// "?" in place of a missing field, never an exception.

export interface DescribeOptions {
  /** how an actor is named; default "alice (operator)", "the engine", "integration NAME" */
  actorLabel?: (actor: Actor) => string;
  /** how a rollout is named from its id, e.g. "api-v408" -> "api v408"; default: the id */
  rolloutLabel?: (rolloutId: string) => string;
}

export function defaultActorLabel(actor: Actor): string {
  switch (actor.kind) {
    case "engine":
      return "the engine";
    case "integration":
      return `integration ${actor.name}`;
    default:
      return actor.role ? `${actor.name} (${actor.role})` : actor.name;
  }
}

const MISSING = "?";

function text(v: unknown): string {
  return typeof v === "string" && v.length > 0 ? oneLine(v) : MISSING;
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(text) : [];
}

/** ": reason" when there is one, else nothing. */
function because(reason: unknown): string {
  return typeof reason === "string" && reason.trim().length > 0 ? `: ${oneLine(reason)}` : "";
}

/** How a value stands against a threshold, written as what is true: "(63.2 > 50)", "(no data, threshold 50)". */
function comparison(value: unknown, threshold: unknown, percent: boolean, extra: string): string {
  const fmt = percent ? formatPercent : formatNumber;
  const v = num(value);
  const t = num(threshold);
  let inner: string;
  if (t === null) inner = v === null ? "no data" : fmt(v);
  else if (v === null) inner = `no data, threshold ${fmt(t)}`;
  else inner = `${fmt(v)} ${v > t ? ">" : v < t ? "<" : "="} ${fmt(t)}`;
  return `(${inner}${extra ? `, ${extra}` : ""})`;
}

/**
 * The breach clause the engine puts in an automatic pause's reason, and the
 * timeline's slo.breached line: "p99_latency_ms < 50 for 1m breached in canary (63.2 > 50)".
 * A "%" in the assertion means the metric is in percent units, so values print as "0.12%".
 */
export function describeBreach(
  assertion: string,
  ring: string,
  value: number | null,
  threshold: number | null,
  verb: "breached" | "recovered" = "breached",
  extra = "",
): string {
  return `${oneLine(assertion)} ${verb} in ${oneLine(ring)} ${comparison(value, threshold, assertion.includes("%"), extra)}`;
}

/** A command's argv as one line, long ones cut, so a sentence stays readable. */
function commandLine(argv: unknown): string {
  const parts = list(argv);
  if (parts.length === 0) return "";
  const line = parts.map((a) => (/[\s"']/.test(a) ? JSON.stringify(a) : a)).join(" ");
  return line.length > 160 ? line.slice(0, 159) + "…" : line;
}

function scopeText(scope: unknown): string {
  const rings = list(scope);
  return rings.length > 0 ? rings.join(", ") : "all rings";
}

export function describeEvent(e: CockpitEvent, opts: DescribeOptions = {}): string | null {
  const actorLabel = opts.actorLabel ?? defaultActorLabel;
  const rolloutLabel = opts.rolloutLabel ?? ((id: string) => id);
  const d = (e.data ?? {}) as Record<string, unknown>;
  const who = oneLine(actorLabel(e.actor));
  const isEngine = e.actor.kind === "engine";
  /** " by alice (operator)" for people and integrations; the engine's own steps need no subject. */
  const by = isEngine ? "" : ` by ${who}`;
  const rolloutId = e.rollout ? oneLine(e.rollout) : MISSING;
  const rollout = e.rollout ? oneLine(rolloutLabel(e.rollout)) : MISSING;
  const forRollout = e.rollout ? ` for ${rollout}` : "";
  const ring = text(d.ring ?? e.ring);
  const auto = d.automatic === true;

  switch (e.type) {
    case "rollout.created": {
      const rings = Array.isArray(d.rings)
        ? d.rings.map((g: unknown) => {
            const r = (g ?? {}) as Record<string, unknown>;
            return `${text(r.name)} ${formatPercent(num(r.traffic))}`;
          })
        : [];
      const ks = d.killSwitch && typeof d.killSwitch === "object" ? `; kill switch ${text((d.killSwitch as Record<string, unknown>).flag)}` : "";
      return (
        `${who} created rollout ${rolloutId}: ${text(d.service)} ${text(d.previousVersion)} → ${text(d.version)} (${text(d.kind)})` +
        ` through ${rings.length > 0 ? rings.join(", ") : "no rings"}; on breach: ${text(d.onBreach)}${ks}`
      );
    }
    case "ring.started":
      return `${ring} started taking ${formatPercent(num(d.traffic))} of traffic${forRollout}`;
    case "ring.baking":
      return `${ring} baking until ${formatClock(text(d.until))}${forRollout}`;
    case "ring.completed":
      return `${ring} completed at ${formatPercent(num(d.traffic))} of traffic${forRollout}`;
    case "rollout.completed":
      return `${rollout} completed: ${text(d.version)} is in every ring`;
    case "sli.sample":
      return null;
    case "slo.breached":
    case "slo.recovered": {
      const verb = e.type === "slo.breached" ? "breached" : "recovered";
      const times = num(d.consecutive);
      const streak = verb === "breached" && times !== null && times > 1 ? `${formatNumber(times)} checks in a row` : "";
      const head = e.rollout ? `${rollout}: ` : "";
      return head + describeBreach(text(d.assertion), ring, num(d.value), num(d.threshold), verb, streak);
    }
    case "rollout.paused":
      return `${who} paused ${rollout}${auto ? " automatically" : ""}${because(d.reason)}`;
    case "rollout.resumed":
      return `${who} resumed ${rollout}${auto ? " automatically" : ""}${because(d.reason)}`;
    case "rollout.promoted":
      return `${who} promoted ${rollout} in ${ring}, skipping the rest of its bake`;
    case "rollout.rollback_started":
      return `${who} started rolling ${rollout} back from ${text(d.fromVersion)} to ${text(d.toVersion)} in ${scopeText(d.scope)}${auto ? " (automatic)" : ""}${because(d.reason)}`;
    case "rollout.rolled_back":
      // The engine writes the finish of every rollback; who asked is on rollback_started.
      return `${rollout} rolled back to ${text(d.toVersion)} in ${scopeText(d.scope)} (${auto ? "automatic" : e.actor.kind === "engine" ? "manual" : `requested by ${who}`})`;
    case "killswitch.engaged":
    case "killswitch.released": {
      const verb = e.type === "killswitch.engaged" ? "engaged" : "released";
      return `kill switch ${text(d.flag)} ${verb}${e.rollout ? ` on ${rollout}` : ""}${by}${because(d.reason)}`;
    }
    case "alert.firing":
    case "alert.resolved":
    case "alert.acknowledged": {
      const where = e.ring ? ` [${oneLine(e.ring)}]` : "";
      const what = `(${text(d.severity)}): ${text(d.title)}${where}`;
      if (e.type === "alert.acknowledged") return `${who} acknowledged alert ${what}`;
      return `alert ${e.type === "alert.firing" ? "firing" : "resolved"} ${what}`;
    }
    case "incident.declared":
    case "incident.resolved": {
      const verb = e.type === "incident.declared" ? "declared" : "resolved";
      return `incident ${text(e.incident)} ${verb} (${text(d.severity)})${by}: ${text(d.title)}`;
    }
    case "incident.role_assigned":
      return `${who} made ${text(d.name)} ${text(d.role)} of incident ${text(e.incident)}`;
    case "incident.milestone": {
      const milestone = text(d.milestone).replace(/_/g, " ");
      const at = typeof d.at === "string" && !Number.isNaN(Date.parse(d.at)) ? formatClock(d.at) : text(d.at);
      return `${who} recorded for incident ${text(e.incident)}: ${milestone} at ${at}`;
    }
    case "incident.status_update":
      return `status update on incident ${text(e.incident)}${by}: ${text(d.text)}`;
    case "note.added":
      return `note${by}: ${text(d.text)}`;
    case "command.rejected": {
      const on = e.rollout ? ` on ${rollout}` : e.alert ? ` on alert ${oneLine(e.alert)}` : e.incident ? ` on incident ${oneLine(e.incident)}` : "";
      const msg = typeof d.message === "string" && d.message.length > 0 ? ` — ${oneLine(d.message)}` : "";
      return `command ${text(d.action)}${on} by ${who} refused: ${text(d.code)}${msg}`;
    }
    case "source.degraded":
      return `source ${text(d.source)} is failing: ${text(d.message)}; rollouts reading it hold until it answers`;
    case "source.recovered":
      return `source ${text(d.source)} answers again${because(d.message)}`;
    case "command.executed":
    case "command.failed": {
      const step = text(d.step);
      const where = e.ring ? ` for ${oneLine(e.ring)}` : "";
      const on = e.alert ? ` for alert ${oneLine(e.alert)}` : e.rollout ? ` of ${rollout}` : "";
      const ran = commandLine(d.argv);
      const asked = isEngine ? "" : ` (asked by ${who})`;
      if (e.type === "command.failed") return `${step}${where}${on}${asked} failed: ${text(d.reason)}${ran ? ` — ${ran}` : ""}`;
      const status = num(d.status);
      const exit = num(d.exitCode);
      const outcome = status !== null ? `answered ${formatNumber(status)}` : exit !== null ? `exit ${formatNumber(exit)}` : "done";
      return `${step}${where}${on}${asked} succeeded (${outcome})${ran ? `: ${ran}` : ""}`;
    }
    default: {
      // A type this build does not know (the protocol grows by adding types): say what we can.
      const refs = [e.rollout && rollout, e.ring && oneLine(e.ring), e.alert && `alert ${oneLine(e.alert)}`, e.incident && `incident ${oneLine(e.incident)}`].filter(
        (x): x is string => typeof x === "string" && x.length > 0,
      );
      return `${oneLine(String(e.type))} event${refs.length > 0 ? ` (${refs.join(", ")})` : ""}${by}`;
    }
  }
}
