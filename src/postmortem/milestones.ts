import { formatDuration } from "../render/time.js";
import { MILESTONES, type Actor, type CockpitEvent, type Milestone } from "../protocol/types.js";
import type { DeviationSnapshot, ImpactSnapshot, KeptEvent, SamplePoint, SeriesRecovery } from "./collect.js";
import { clockUtc, isPercentAssertion, joinList, valueWithUnit, versusBaseline, versusThreshold } from "./format.js";

// The five key moments of an incident and the times between them. An explicit
// incident.milestone event (set by the incident commander) always wins; the
// others are inferred from the log by the rules the issue gives, and each
// record says which rule produced it and from which event, so an author can
// check it and override it with set_milestone.

export interface MilestoneRecord {
  milestone: Milestone;
  /** ISO time; null when the log does not show it */
  at: string | null;
  ms: number | null;
  /** seq of the event it came from */
  seq: number | null;
  inferred: boolean;
  /** how it was found, in a sentence */
  rule: string;
  /** when it came from an SLI sample: the timeline line that shows it */
  sample: { text: string; evidence: string } | null;
}

export interface TimeMetric {
  name: "TTD" | "TTA" | "TTM" | "TTR";
  /** what it measures */
  label: string;
  ms: number | null;
  text: string;
}

export interface MilestoneInput {
  incidentId: string | null;
  /** run-up and span events, cleaned, in log order */
  events: readonly KeptEvent[];
  /** start of the span */
  fromMs: number;
  /** the first breach or alert of the span */
  firstSignal: KeptEvent | null;
  impactAtDetection: ImpactSnapshot | null;
  deviationAtDetection: DeviationSnapshot | null;
  /** how troubled series recovered (collector.recoveries()) */
  recoveries: readonly SeriesRecovery[];
  who: (actor: Actor) => string;
}

export interface MilestoneResult {
  milestones: MilestoneRecord[];
  metrics: TimeMetric[];
}

export const MILESTONE_LABELS: Record<Milestone, string> = {
  impact_started: "Impact started",
  detected: "Detected",
  acknowledged: "Acknowledged",
  mitigated: "Mitigated",
  resolved: "Resolved",
};

type At = { time: string; ms: number; seq: number };

function record(milestone: Milestone, at: At | null, inferred: boolean, rule: string, sample: MilestoneRecord["sample"] = null): MilestoneRecord {
  return { milestone, at: at?.time ?? null, ms: at?.ms ?? null, seq: at?.seq ?? null, inferred, rule, sample };
}

function at(k: KeptEvent): At {
  return { time: k.event.time, ms: k.ms, seq: k.event.seq };
}

function pointAt(p: SamplePoint): At {
  return { time: p.time, ms: p.ms, seq: p.seq };
}

function seriesName(s: { ring: string; metric: string }): string {
  return `${s.ring} ${s.metric}`;
}

/** Latest explicit milestone per kind for the incident: a corrected one replaces the first. */
function explicitMilestones(input: MilestoneInput): Map<Milestone, { k: KeptEvent; at: At; atReadable: boolean }> {
  const out = new Map<Milestone, { k: KeptEvent; at: At; atReadable: boolean }>();
  if (input.incidentId === null) return out;
  for (const k of input.events) {
    const e = k.event;
    if (e.type !== "incident.milestone" || e.incident !== input.incidentId) continue;
    const d = e.data as Record<string, unknown>;
    const m = d.milestone as Milestone;
    if (!MILESTONES.includes(m)) continue;
    const ms = typeof d.at === "string" ? Date.parse(d.at) : NaN;
    // An unreadable "at" falls back to when the milestone was recorded.
    out.set(m, Number.isNaN(ms) ? { k, at: at(k), atReadable: false } : { k, at: { time: new Date(ms).toISOString(), ms, seq: e.seq }, atReadable: true });
  }
  return out;
}

function inferImpact(input: MilestoneInput): MilestoneRecord {
  const snap = input.impactAtDetection;
  const dev = input.deviationAtDetection;
  // A run away from the baseline that was already under way when an earlier
  // signal found no run outside an SLO is the earlier evidence of impact.
  if (snap && !(dev && dev.point.ms < snap.point.ms)) {
    const p = snap.point;
    return record(
      "impact_started",
      pointAt(p),
      true,
      `first sample outside the SLO in the run under way when the problem was noticed: ${seriesName(snap)} ${versusThreshold(p.value, p.threshold, snap.unit, p.assertion)} (sli.sample, seq ${p.seq})`,
      { text: `${seriesName(snap)} went outside its SLO (${snap.rollout})`, evidence: versusThreshold(p.value, p.threshold, snap.unit, p.assertion) },
    );
  }
  if (!input.firstSignal) {
    // No breach or alert at all: the earliest sample outside an SLO in the span.
    const first = input.recoveries
      .filter((s) => s.measure === "slo" && s.firstBad !== null && s.firstBad.ms >= input.fromMs)
      .sort((a, b) => a.firstBad!.ms - b.firstBad!.ms || a.firstBad!.seq - b.firstBad!.seq)[0];
    if (first) {
      const p = first.firstBad!;
      const vs = versusThreshold(p.value, p.threshold ?? null, first.unit, first.assertion ?? "its SLO");
      return record("impact_started", pointAt(p), true, `first sample outside the SLO in the span: ${seriesName(first)} ${vs} (sli.sample, seq ${p.seq})`, {
        text: `${seriesName(first)} went outside its SLO (${first.rollout})`,
        evidence: vs,
      });
    }
  }
  if (dev) {
    const p = dev.point;
    const vs = versusBaseline(p.value, p.baseline, dev.unit);
    return record(
      "impact_started",
      pointAt(p),
      true,
      `no sample went outside an SLO before detection; first sample of ${seriesName(dev)} away from its baseline: ${vs}` +
        `${dev.gated ? ", still inside its gate" : ", a metric with no gate in that ring"} (sli.sample, seq ${p.seq})`,
      { text: `${seriesName(dev)} moved away from its baseline (${dev.rollout})`, evidence: vs },
    );
  }
  if (input.firstSignal) {
    return record(
      "impact_started",
      at(input.firstSignal),
      true,
      `no sample outside an SLO or away from its baseline before detection; taken as the detection (${input.firstSignal.event.type}, seq ${input.firstSignal.event.seq})`,
    );
  }
  return record("impact_started", null, true, "no sample outside an SLO, no breach and no alert in the span");
}

function isSignal(k: KeptEvent): boolean {
  return k.event.type === "slo.breached" || k.event.type === "alert.firing";
}

/**
 * The first breach or alert at or after impact start: an alert that fired
 * before it (on old noise, like a burn rate already over 1x) detected nothing.
 */
function inferDetected(input: MilestoneInput, impactMs: number | null): MilestoneRecord {
  const since = Math.max(input.fromMs, impactMs ?? -Infinity);
  const signal = input.events.find((k) => k.ms >= since && isSignal(k)) ?? (impactMs === null ? input.firstSignal : null);
  if (signal) {
    const e = signal.event;
    const what = e.type === "slo.breached" ? "first SLO breach" : "first alert";
    const early = input.firstSignal && input.firstSignal.event.seq < e.seq ? `; the earlier ${input.firstSignal.event.type} (seq ${input.firstSignal.event.seq}) came before impact started` : "";
    return record("detected", at(signal), true, `${what} at or after impact start (${e.type}, seq ${e.seq})${early}`);
  }
  const declared = input.events.find((k) => k.event.type === "incident.declared" && k.ms >= since);
  if (declared) {
    return record(
      "detected",
      at(declared),
      true,
      `no breach or alert; taken as the declaration of incident ${declared.event.incident ?? "?"} by ${input.who(declared.event.actor)} (incident.declared, seq ${declared.event.seq})`,
    );
  }
  return record("detected", null, true, "no breach, alert or incident declaration in the span");
}

function isHumanAction(e: CockpitEvent): boolean {
  return e.actor.kind === "human" || e.type === "alert.acknowledged";
}

function inferAcknowledged(input: MilestoneInput, sinceMs: number): MilestoneRecord {
  const first = input.events.find((k) => k.ms >= sinceMs && isHumanAction(k.event));
  if (!first) return record("acknowledged", null, true, "no acknowledgement or human action after impact start");
  const e = first.event;
  const what = e.type === "alert.acknowledged" ? "first acknowledgement" : "first human action";
  return record("acknowledged", at(first), true, `${what} after impact start: ${e.type} by ${input.who(e.actor)} (seq ${e.seq})`);
}

/**
 * The series whose trouble belongs to this impact (not a blip long before it):
 * measured against their SLO when any went outside it, else against their
 * baseline (a slow burn that never crossed a gate).
 */
export function relevantRecoveries(recoveries: readonly SeriesRecovery[], sinceMs: number): SeriesRecovery[] {
  const recent = (s: SeriesRecovery) => s.lastBad !== null && s.lastBad.ms >= sinceMs;
  const slo = recoveries.filter((s) => s.measure === "slo" && recent(s));
  return slo.length > 0 ? slo : recoveries.filter((s) => s.measure === "baseline" && recent(s));
}

function goodText(s: SeriesRecovery): string {
  return s.measure === "slo" ? "back inside its SLO" : "back near its baseline";
}

function goodEvidence(s: SeriesRecovery, p: SamplePoint): string {
  if (s.measure === "baseline") return versusBaseline(p.value, p.baseline, s.unit);
  const assertion = s.assertion ?? "";
  return `${valueWithUnit(p.value, s.unit, isPercentAssertion(assertion))}${assertion ? ` (${assertion})` : ""}`;
}

function inferMitigated(input: MilestoneInput, sinceMs: number): MilestoneRecord {
  const action = input.events.find((k) => k.ms >= sinceMs && (k.event.type === "rollout.rolled_back" || k.event.type === "killswitch.engaged"));
  const series = relevantRecoveries(input.recoveries, sinceMs);
  const measure = series[0]?.measure === "baseline" ? "near their baselines" : "inside their SLOs";
  const actionText = action
    ? action.event.type === "rollout.rolled_back"
      ? `rollback of ${action.event.rollout ?? "?"} finished at ${clockUtc(action.ms)} (rollout.rolled_back, seq ${action.event.seq})`
      : `kill switch engaged at ${clockUtc(action.ms)} by ${input.who(action.event.actor)} (killswitch.engaged, seq ${action.event.seq})`
    : "";
  const stillBad = series.filter((s) => s.backGood === null && (!action || s.last.ms > action.ms));
  if (stillBad.length > 0) {
    const names = joinList(stillBad.map((s) => `${seriesName(s)} was still ${s.measure === "slo" ? "outside its SLO" : "away from its baseline"}`));
    return record("mitigated", null, true, `${action ? `${actionText}, but` : "no rollback or kill switch, and"} ${names} at the end of the span`);
  }
  let latest: At | null = action ? at(action) : null;
  let latestSeries: SeriesRecovery | null = null;
  for (const s of series) {
    if (s.backGood && (!latest || s.backGood.ms > latest.ms)) {
      latest = pointAt(s.backGood);
      latestSeries = s;
    }
  }
  if (!latest) return record("mitigated", null, true, "no rollback, kill switch or recovery in the span");
  const sample = latestSeries ? { text: `${seriesName(latestSeries)} ${goodText(latestSeries)} (${latestSeries.rollout})`, evidence: goodEvidence(latestSeries, latestSeries.backGood!) } : null;
  const back = latestSeries
    ? `${seriesName(latestSeries)} ${goodText(latestSeries)} at ${clockUtc(latestSeries.backGood!.ms)} (sli.sample, seq ${latestSeries.backGood!.seq})`
    : series.length > 0
      ? `the SLIs were already back ${measure}`
      : "no SLI was outside its SLO or away from its baseline";
  if (!action) return record("mitigated", latest, true, `no rollback or kill switch in the span; taken as when the SLIs came back ${measure}: ${back}`, sample);
  const unconfirmed = series.filter((s) => s.backGood === null);
  const caveat = unconfirmed.length > 0 ? `; no samples of ${unconfirmed.map(seriesName).join(", ")} after it to confirm recovery` : "";
  return record("mitigated", latest, true, `${actionText}, and ${back}${caveat}`, sample);
}

function inferResolved(input: MilestoneInput, sinceMs: number, mitigated: MilestoneRecord): MilestoneRecord {
  if (input.incidentId !== null) {
    const res = input.events.find((k) => k.event.type === "incident.resolved" && k.event.incident === input.incidentId);
    if (res) return record("resolved", at(res), true, `incident ${input.incidentId} resolved by ${input.who(res.event.actor)} (incident.resolved, seq ${res.event.seq})`);
  }
  const series = relevantRecoveries(input.recoveries, sinceMs);
  if (series.length === 0 || mitigated.ms === null) return record("resolved", null, true, "not resolved in the span: no incident resolution, and no SLI recovery to measure a healthy bake window from");
  const notHealthy = series.filter((s) => s.healthyAt === null);
  if (notHealthy.length > 0) {
    return record(
      "resolved",
      null,
      true,
      `not resolved in the span: no incident resolution, and the samples end before a full bake window of health: ${joinList(notHealthy.map(healthSoFar))}`,
    );
  }
  let latest = series[0]!;
  for (const s of series) if (s.healthyAt!.ms > latest.healthyAt!.ms) latest = s;
  const p = latest.healthyAt!;
  const when = p.ms >= mitigated.ms ? pointAt(p) : { time: mitigated.at!, ms: mitigated.ms, seq: mitigated.seq! };
  return record(
    "resolved",
    when,
    true,
    `SLIs healthy for the bake window (${formatDuration(latest.bakeMs)}) after recovery: ${seriesName(latest)} ${goodText(latest).replace("back ", "")} since ${clockUtc(latest.backGood!.ms)} (sli.sample, seq ${p.seq})`,
    p.ms >= mitigated.ms ? { text: `${seriesName(latest)} healthy for a full bake window (${formatDuration(latest.bakeMs)})`, evidence: goodEvidence(latest, p) } : null,
  );
}

/** "canary p99_latency_ms healthy for 1m35s of its 5m00s bake window when the samples end" */
function healthSoFar(s: SeriesRecovery): string {
  if (!s.backGood) return `${seriesName(s)} not recovered when the samples end`;
  return `${seriesName(s)} healthy for ${formatDuration(s.last.ms - s.backGood.ms)} of its ${formatDuration(s.bakeMs)} bake window when the samples end`;
}

function metric(name: TimeMetric["name"], label: string, from: MilestoneRecord, to: MilestoneRecord): TimeMetric {
  if (from.ms === null || to.ms === null) return { name, label, ms: null, text: "unknown" };
  const ms = to.ms - from.ms;
  return { name, label, ms, text: formatDuration(ms) };
}

/** The five milestones (explicit ones win) and TTD/TTA/TTM/TTR, all from impact start. */
export function inferMilestones(input: MilestoneInput): MilestoneResult {
  const explicit = explicitMilestones(input);
  const pick = (m: Milestone, infer: () => MilestoneRecord): MilestoneRecord => {
    const x = explicit.get(m);
    if (!x) return infer();
    const e = x.k.event;
    const note = x.atReadable ? "" : "; its time was unreadable, so the time it was recorded is used";
    return record(m, x.at, false, `set by ${input.who(e.actor)} (incident.milestone, seq ${e.seq})${note}`);
  };
  const impact = pick("impact_started", () => inferImpact(input));
  const detected = pick("detected", () => inferDetected(input, impact.ms));
  // Acknowledgement and mitigation are looked for from impact start (or the span's start when unknown).
  const since = impact.ms ?? detected.ms ?? input.fromMs;
  const acknowledged = pick("acknowledged", () => inferAcknowledged(input, since));
  const mitigated = pick("mitigated", () => inferMitigated(input, since));
  const resolved = pick("resolved", () => inferResolved(input, since, mitigated));
  return {
    milestones: [impact, detected, acknowledged, mitigated, resolved],
    metrics: [
      metric("TTD", "time to detect", impact, detected),
      metric("TTA", "time to acknowledge", impact, acknowledged),
      metric("TTM", "time to mitigate", impact, mitigated),
      metric("TTR", "time to resolve", impact, resolved),
    ],
  };
}
