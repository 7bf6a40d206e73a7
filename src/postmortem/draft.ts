import { budgetConsumedPercent, THIRTY_DAYS_SECONDS } from "../domain/burnrate.js";
import { formatDurationShort } from "../domain/duration.js";
import { describeBreach } from "../render/describe.js";
import { formatDuration } from "../render/time.js";
import type { CockpitEvent } from "../protocol/types.js";
import { cleanText } from "./clean.js";
import { budgetBetween, MAX_SPAN_EVENTS, type IncidentCollector, type KeptEvent, type PlanInfo } from "./collect.js";
import {
  FILL_IN,
  type AuditRow,
  type BudgetRow,
  type Draft,
  type DraftHeader,
  type DraftOptions,
  type ExposureRow,
  type ImpactSection,
  type LogHealth,
  type PlanSummary,
  type SliRow,
} from "./draft-types.js";
import { Anonymizer, data, detectionKind, mainPlan, metric, milestone, str, type Facts } from "./facts.js";
import { capitalize, clockUtc, iso, isPercentAssertion, joinList, pct, valueWithUnit } from "./format.js";
import { lintBlame, type BlameFinding } from "./lint.js";
import { inferMilestones, MILESTONE_LABELS } from "./milestones.js";
import { actionItems, contributingFactors, wentWellPoorlyLucky } from "./prompts.js";
import { buildTimeline } from "./timeline.js";

export * from "./draft-types.js";

// Builds the draft (plain data) from the collector's facts; the renderers only
// lay it out. Nothing here reads a clock: every time comes from the log, so
// the same log gives the same draft. Text from the log arrives sanitized and
// redacted (collect.ts); names become roles here, before any sentence is made.

/** The objective assumed for the error budget when the log does not say one. */
export const ASSUMED_OBJECTIVE = 99.9;

export function buildDraft(collector: IncidentCollector, options: DraftOptions = {}): Draft {
  const anon = new Anonymizer(collector, { names: options.names === true });
  const scope = collector.scope;
  const events = [...collector.runUp(), ...collector.spanEvents].sort((a, b) => a.event.seq - b.event.seq);
  const { milestones, metrics } = inferMilestones({
    incidentId: scope.incidentId,
    events,
    fromMs: scope.fromMs,
    firstSignal: collector.firstSignal,
    impactAtDetection: collector.impactAtDetection,
    deviationAtDetection: collector.deviationAtDetection,
    recoveries: collector.recoveries(),
    who: anon.who,
  });
  const impactMs = milestones[0]!.ms;
  const f: Facts = {
    c: collector,
    anon,
    plans: [...collector.plans.values()].sort((a, b) => a.createdSeq - b.createdSeq),
    events,
    spanEvents: collector.spanEvents,
    milestones,
    metrics,
    impactMs,
    zeroMs: impactMs ?? scope.fromMs,
    breached: collector.breachedSeries(),
    detection: events.find((k) => k.event.seq === milestones[1]!.seq && !milestones[1]!.sample) ?? null,
    byMilestone: new Map(milestones.map((m) => [m.milestone, m])),
  };
  const factors = contributingFactors(f);
  return {
    header: header(f, options.health),
    warnings: warnings(f, options.health),
    summary: summary(f),
    impact: impact(f),
    milestones: milestones.map((m) => ({
      milestone: m.milestone,
      label: MILESTONE_LABELS[m.milestone],
      at: m.at,
      time: m.ms === null ? "unknown" : clockUtc(m.ms),
      seq: m.seq,
      inferred: m.inferred,
      rule: m.rule,
    })),
    metrics,
    timeline: buildTimeline(f),
    narratives: narratives(f),
    contributingFactors: factors.prompts,
    ...wentWellPoorlyLucky(f),
    actionItems: actionItems(f, factors.items),
    languageToRevisit: languageToRevisit(f),
    appendix: { plans: f.plans.map(planSummary), commands: commandAudit(f) },
  };
}

// ---- header and warnings ----------------------------------------------------------

function incidentDeclaration(f: Facts): CockpitEvent | null {
  const id = f.c.scope.incidentId;
  if (id === null) return null;
  return f.events.find((k) => k.event.type === "incident.declared" && k.event.incident === id)?.event ?? null;
}

function title(f: Facts): string {
  const decl = incidentDeclaration(f);
  if (decl) return f.anon.text(str(data(decl).title, `Incident ${decl.incident ?? ""}`));
  const plan = mainPlan(f);
  const what: string[] = [];
  const b = f.breached[0];
  if (b) what.push(`SLO breach in ${b.ring}`);
  else if (f.spanEvents.some((k) => k.event.type === "alert.firing")) what.push("alert");
  if (f.spanEvents.some((k) => k.event.type === "rollout.rolled_back" || k.event.type === "rollout.rollback_started")) what.push("rolled back");
  if (f.spanEvents.some((k) => k.event.type === "killswitch.engaged")) what.push("kill switch engaged");
  const subject = plan ? `${plan.service} ${plan.version} (${plan.rollout})` : "Events";
  return what.length > 0 ? `${subject}: ${what.join(", ")}` : `${subject} from ${clockUtc(f.c.scope.fromMs)}`;
}

function chainText(health: LogHealth | undefined): { text: string; ok: boolean | null } {
  if (!health || !health.chain.checked) return { text: `hash chain not checked${health?.chain.whyUnchecked ? `: ${health.chain.whyUnchecked}` : ""}`, ok: null };
  const issue = health.chain.issue;
  if (!issue) return { text: `verified: hash chain intact over ${health.chain.events} events`, ok: true };
  const where = issue.line !== undefined ? `seq ${issue.seq} (line ${issue.line})` : `seq ${issue.seq}`;
  return {
    text: `hash chain BROKEN at ${where}: ${cleanText(issue.reason)}. The log was edited, lost lines or was reordered after it was written; events from there on are shown as read, unverified.`,
    ok: false,
  };
}

function header(f: Facts, health: LogHealth | undefined): DraftHeader {
  const decl = incidentDeclaration(f);
  const chain = chainText(health);
  const scope = f.c.scope;
  return {
    title: title(f),
    incidentId: scope.incidentId,
    status: "DRAFT",
    severity: decl ? str(data(decl).severity, FILL_IN) : FILL_IN,
    date: iso(f.impactMs ?? scope.fromMs).slice(0, 10),
    owner: FILL_IN,
    reviewers: FILL_IN,
    tenant: cleanText(scope.tenant ?? f.plans[0]?.tenant ?? "?"),
    spanFrom: iso(Math.min(scope.fromMs, f.impactMs ?? scope.fromMs)),
    spanTo: iso(scope.toMs),
    choice: scope.choice,
    chain: chain.text,
    chainOk: chain.ok,
  };
}

function warnings(f: Facts, health: LogHealth | undefined): string[] {
  const out: string[] = [];
  if (health && health.badLines > 0 && health.firstBadLine) {
    const n = health.badLines;
    out.push(`The log has ${n} unreadable line${n === 1 ? "" : "s"}, left out of this draft; the first: ${cleanText(health.firstBadLine.reason)}. The draft covers what could be read.`);
  }
  const c = f.c;
  if (c.spanEventsDropped > 0) {
    out.push(
      `The span holds more events than a draft keeps: after the first ${MAX_SPAN_EVENTS}, only people's actions, incidents, breaches and mitigations were kept (${c.spanEventsDropped} routine events left out).`,
    );
  }
  if (c.seriesDropped > 0) out.push(`Too many SLI series to follow; ${c.seriesDropped} samples of further series were not evaluated.`);
  for (const p of f.plans) {
    for (const g of p.rings) {
      for (const u of g.unparsed) out.push(`Plan ${p.rollout}, ring ${g.name}: the SLO "${u.text}" does not parse (${u.error}); samples were not checked against it.`);
    }
  }
  return out;
}

// ---- summary ----------------------------------------------------------------------

function changeSentence(f: Facts): string | null {
  const plan = mainPlan(f);
  if (!plan) return null;
  const reached = [...f.c.exposures.values()].filter((x) => x.rollout === plan.rollout).sort((a, b) => a.startMs - b.startMs);
  const rings = reached.map((x) => `${x.ring} (${pct(x.traffic)} of traffic)`);
  const flag = plan.killSwitchFlag ? ` behind the flag ${plan.killSwitchFlag}` : "";
  return (
    `A ${plan.kind} rollout of ${plan.service} ${plan.version} (from ${plan.previousVersion}, rollout ${plan.rollout}${flag})` +
    (rings.length > 0 ? ` reached ${joinList(rings)}.` : " was created, but no ring took traffic in the span.")
  );
}

function detectionSentence(f: Facts): string | null {
  const det = milestone(f, "detected");
  const d = f.detection;
  const ttd = metric(f, "TTD");
  const after = ttd.ms !== null ? `, ${ttd.text} after impact started` : "";
  if (d && d.event.type !== "incident.declared") {
    const x = data(d.event);
    if (d.event.type === "slo.breached") {
      const value = typeof x.value === "number" ? x.value : null;
      const threshold = typeof x.threshold === "number" ? x.threshold : null;
      return `An automated SLO gate caught it in ${str(x.ring)} at ${clockUtc(d.ms)}${after}: ${describeBreach(str(x.assertion), str(x.ring), value, threshold)}.`;
    }
    const kind = detectionKind(f);
    const what = kind === "burn" ? "A burn-rate alert" : kind === "gate" ? "A gate's alert" : "An alert";
    return `${what} caught it at ${clockUtc(d.ms)}${after}: ${f.anon.text(str(x.title))}.`;
  }
  if (det.ms !== null) return `It was detected at ${clockUtc(det.ms)}${after} (${det.rule}).`;
  return null;
}

function mitigationEvent(f: Facts): KeptEvent | null {
  const since = f.impactMs ?? f.c.scope.fromMs;
  return (
    f.events.find((k) => k.ms >= since && (k.event.type === "rollout.rollback_started" || k.event.type === "killswitch.engaged")) ??
    f.events.find((k) => k.ms >= since && k.event.type === "rollout.rolled_back") ??
    null
  );
}

function mitigationSentence(f: Facts): string {
  const m = milestone(f, "mitigated");
  const r = milestone(f, "resolved");
  const ttm = metric(f, "TTM");
  const ttr = metric(f, "TTR");
  const act = mitigationEvent(f);
  let how = "No rollback or kill switch is recorded";
  if (act) {
    const e = act.event;
    const who = capitalize(f.anon.who(e.actor));
    if (e.type === "killswitch.engaged") how = `${who} engaged the kill switch ${str(data(e).flag)} at ${clockUtc(act.ms)}`;
    else if (data(e).automatic === true || e.actor.kind === "engine") how = `The engine rolled ${e.rollout ?? "the rollout"} back on its own (started ${clockUtc(act.ms)})`;
    else how = `${who} rolled ${e.rollout ?? "the rollout"} back (started ${clockUtc(act.ms)})`;
  }
  const parts: string[] = [];
  parts.push(m.ms !== null ? `it was mitigated at ${clockUtc(m.ms)}${ttm.ms !== null ? ` (${ttm.text} after impact started)` : ""}` : "the log does not show it mitigated");
  if (r.ms !== null) parts.push(`resolved at ${clockUtc(r.ms)}${ttr.ms !== null ? ` (${ttr.text} after impact started)` : ""}`);
  return `${how}; ${parts.join(", and ")}.`;
}

function summary(f: Facts): string[] {
  const out: string[] = [];
  const change = changeSentence(f);
  if (change) out.push(change);
  const det = detectionSentence(f);
  if (det) out.push(det);
  out.push(mitigationSentence(f));
  return out;
}

// ---- impact -----------------------------------------------------------------------

function impact(f: Facts): ImpactSection {
  const sentences: string[] = [];
  const scope = f.c.scope;
  const since = f.impactMs ?? scope.fromMs;
  const exposures = [...f.c.exposures.values()]
    .filter((x) => (x.endMs === null || x.endMs >= since) && x.startMs <= scope.toMs)
    .sort((a, b) => a.startMs - b.startMs || (a.ring < b.ring ? -1 : 1));
  const exposure: ExposureRow[] = exposures.map((x) => ({
    rollout: x.rollout,
    ring: x.ring,
    traffic: x.traffic,
    from: clockUtc(x.startMs),
    to: x.endMs === null ? null : clockUtc(x.endMs),
    duration: formatDuration((x.endMs ?? scope.toMs) - x.startMs) + (x.endMs === null ? " (still exposed at the end of the span)" : ""),
    endedBy: x.endedBy ?? "still exposed",
  }));
  const maxTraffic = exposures.reduce((m, x) => Math.max(m, x.traffic), 0);
  const mitigatedMs = milestone(f, "mitigated").ms;
  if (f.impactMs !== null) {
    const end = mitigatedMs ?? milestone(f, "resolved").ms ?? scope.toMs;
    sentences.push(
      `Impact lasted ${formatDuration(end - f.impactMs)}, from ${clockUtc(f.impactMs)} to ${clockUtc(end)}${mitigatedMs !== null ? " (mitigation)" : " (not mitigated in the span)"}` +
        (exposures.length > 0 ? `, with up to ${pct(maxTraffic)} of traffic on the new version.` : "."),
    );
  }
  const slis: SliRow[] = [];
  for (const s of f.breached) {
    for (const c of s.checks) {
      if (!c.worst) continue;
      const percent = isPercentAssertion(c.assertion.text);
      slis.push({
        rollout: s.rollout,
        ring: s.ring,
        metric: s.metric,
        slo: c.assertion.text,
        peak: valueWithUnit(c.worst.value, s.unit, percent) + (c.worst.threshold !== null ? ` vs ${valueWithUnit(c.worst.threshold, s.unit, percent)}` : ""),
        peakAt: clockUtc(c.worst.ms),
        samplesOutside: c.outsideCount,
        samples: s.count,
        firstOutside: c.firstOutside ? clockUtc(c.firstOutside.ms) : "",
        lastOutside: c.lastOutside ? clockUtc(c.lastOutside.ms) : "",
      });
    }
  }
  for (const r of slis) sentences.push(`${r.ring} ${r.metric} peaked at ${r.peak} (SLO: ${r.slo}) at ${r.peakAt}; ${r.samplesOutside} of ${r.samples} samples were outside the SLO.`);
  const budget = budgetRows(f);
  for (const b of budget) {
    sentences.push(
      `Error budget consumed by ${b.ring} ${b.metric} from ${b.from} to ${b.to}: ${b.consumed} of a 30-day budget at ${b.objective}% (${b.objectiveSource}; weighted by the ring's share of traffic).`,
    );
  }
  const rollouts = f.plans.map((p) => ({ id: p.rollout, service: p.service, fromVersion: p.previousVersion, toVersion: p.version, kind: p.kind }));
  const flags = [...new Set(f.plans.map((p) => p.killSwitchFlag).filter((x): x is string => x !== null))].sort();
  if (rollouts.length > 0) sentences.push(`Rollouts involved: ${rollouts.map((r) => `${r.id} (${r.service} ${r.fromVersion} → ${r.toVersion}, ${r.kind})`).join("; ")}.`);
  if (flags.length > 0) sentences.push(`Flags involved: ${flags.join(", ")}.`);
  return { sentences, exposure, slis, budget, rollouts, flags };
}

/** Budget spent from impact start to resolution (or mitigation, or the span's end). */
function budgetRows(f: Facts): BudgetRow[] {
  const fromMs = f.impactMs ?? f.c.scope.fromMs;
  const toMs = milestone(f, "resolved").ms ?? milestone(f, "mitigated").ms ?? f.c.scope.toMs;
  if (!(toMs > fromMs)) return [];
  const rows: BudgetRow[] = [];
  for (const s of f.c.allSeries()) {
    if (!s.budget) continue;
    const planned = f.c.plans.get(s.rollout)?.errorBudget ?? null;
    const objective = planned?.objective ?? f.c.budgetObjective ?? ASSUMED_OBJECTIVE;
    const source = planned
      ? "objective from the rollout plan"
      : f.c.budgetObjective !== null
        ? "objective from the burn-rate alert"
        : "objective assumed: the log does not state it";
    const { badPercent, seconds } = budgetBetween(s.budget, fromMs, toMs);
    if (!(seconds > 0)) continue;
    const consumed = budgetConsumedPercent([{ badPercent, seconds }], { objectivePercent: objective, periodSeconds: THIRTY_DAYS_SECONDS });
    rows.push({ rollout: s.rollout, ring: s.ring, metric: s.metric, consumedPercent: consumed, consumed: pct(consumed), objective, objectiveSource: source, from: clockUtc(fromMs), to: clockUtc(toMs) });
  }
  return rows;
}

// ---- narratives -------------------------------------------------------------------

function narratives(f: Facts): { detection: string[]; response: string[]; recovery: string[] } {
  const detection: string[] = [];
  const kind = detectionKind(f);
  const impactStart = milestone(f, "impact_started");
  if (kind === "gate") detection.push("Detection was automated: an SLO gate on the ring caught the problem before anyone reported it.");
  else if (kind === "burn") detection.push("Detection came from an error-budget burn-rate alert, not from a ring's gate.");
  else if (kind === "alert") detection.push("Detection came from an alert.");
  else if (kind === "human") detection.push("No breach or alert fired: a person reported the problem and declared the incident.");
  const det = detectionSentence(f);
  if (det) detection.push(det);
  if (impactStart.ms !== null) detection.push(`Impact start: ${impactStart.rule}.`);
  const lead = f.breached.find((s) => s.firstOutside && f.detection && s.firstOutside.ms < f.detection.ms);
  if (lead && kind === "gate") {
    detection.push(`The gate waited for sustained evidence (consecutive checks or its "for" window) before it breached; samples were outside the SLO from ${clockUtc(lead.firstOutside!.ms)}.`);
  }
  detection.push("Prompt: was this the fastest signal we had? Did it reach the right people?");

  const response: string[] = [];
  const ack = milestone(f, "acknowledged");
  response.push(ack.ms !== null ? `The first response came at ${clockUtc(ack.ms)}: ${ack.rule}.` : "No acknowledgement or human action is recorded after impact start.");
  const autoPause = f.events.find((k) => k.event.type === "rollout.paused" && data(k.event).automatic === true && k.ms >= (f.impactMs ?? f.c.scope.fromMs));
  if (autoPause) response.push(`The engine paused ${autoPause.event.rollout ?? "the rollout"} on its own at ${clockUtc(autoPause.ms)}: ${f.anon.text(str(data(autoPause.event).reason, ""))}.`);
  const commands = new Set(f.spanEvents.filter((k) => k.event.actor.kind === "human" && k.event.command).map((k) => k.event.command));
  const refused = f.spanEvents.filter((k) => k.event.type === "command.rejected").length;
  if (commands.size > 0) response.push(`People ran ${commands.size} command${commands.size === 1 ? "" : "s"} in the span${refused > 0 ? `, ${refused} of them refused (see the command audit)` : ""}.`);
  const roles = f.spanEvents.filter((k) => k.event.type === "incident.role_assigned");
  if (roles.length > 0) response.push(`Incident roles were assigned: ${roles.map((k) => `${str(data(k.event).role)} at ${clockUtc(k.ms)}`).join(", ")}.`);
  response.push("Prompt: what did responders know at each step, and what slowed them down?");

  const recovery = [
    mitigationSentence(f),
    `Mitigation: ${milestone(f, "mitigated").rule}.`,
    `Resolution: ${milestone(f, "resolved").rule}.`,
    "Prompt: was the mitigation the right one? What would have made it faster or safer?",
  ];
  return { detection, response, recovery };
}

// ---- language, appendix ----------------------------------------------------------

const HUMAN_TEXT_KEYS = ["text", "reason", "message"] as const;

function languageToRevisit(f: Facts): BlameFinding[] {
  const notes: { seq: number; text: string }[] = [];
  const startMs = Math.min(f.c.scope.fromMs, f.impactMs ?? f.c.scope.fromMs);
  for (const k of f.events) {
    const e = k.event;
    if (e.actor.kind !== "human" || k.ms < startMs) continue;
    for (const key of HUMAN_TEXT_KEYS) {
      const v = data(e)[key];
      if (typeof v === "string" && v.length > 0) notes.push({ seq: e.seq, text: f.anon.text(v) });
    }
  }
  return lintBlame(notes);
}

function planSummary(p: PlanInfo): PlanSummary {
  return {
    rollout: p.rollout,
    service: p.service,
    fromVersion: p.previousVersion,
    toVersion: p.version,
    kind: p.kind,
    onBreach: p.onBreach,
    killSwitch: p.killSwitchFlag,
    created: p.createdTime,
    rings: p.rings.map((g) => ({ name: g.name, traffic: g.traffic, bake: formatDurationShort(g.bakeSeconds), slos: g.slos })),
  };
}

const COMMAND_ACTIONS: Record<string, string> = {
  "rollout.paused": "pause",
  "rollout.resumed": "resume",
  "rollout.rollback_started": "rollback",
  "killswitch.engaged": "kill_switch",
  "killswitch.released": "release_kill_switch",
  "rollout.promoted": "promote",
  "alert.acknowledged": "ack_alert",
  "note.added": "note",
  "incident.declared": "declare_incident",
  "incident.resolved": "resolve_incident",
  "incident.role_assigned": "assign_role",
  "incident.milestone": "set_milestone",
  "incident.status_update": "status_update",
};

/** What a command acted on: an alert for acks, the incident for incident commands, else the rollout. */
function targetOf(e: CockpitEvent): string {
  if (e.type.startsWith("alert.") && e.alert) return `alert ${e.alert}`;
  if (e.type.startsWith("incident.") && e.incident) return `incident ${e.incident}`;
  if (e.rollout) return `rollout ${e.rollout}`;
  if (e.alert) return `alert ${e.alert}`;
  if (e.incident) return `incident ${e.incident}`;
  return "—";
}

function commandAudit(f: Facts): AuditRow[] {
  const rows: AuditRow[] = [];
  const seen = new Set<string>();
  const startMs = Math.min(f.c.scope.fromMs, f.impactMs ?? f.c.scope.fromMs);
  for (const k of f.events) {
    const e = k.event;
    if (k.ms < startMs) continue;
    const refused = e.type === "command.rejected";
    if (!e.command && !refused) continue;
    // One command can write several events (declare_incident also assigns the commander): list it once.
    if (e.command) {
      if (seen.has(e.command)) continue;
      seen.add(e.command);
    }
    const d = data(f.anon.event(e));
    rows.push({
      time: clockUtc(k.ms),
      seq: e.seq,
      who: f.anon.who(e.actor),
      action: refused ? str(d.action) : (COMMAND_ACTIONS[e.type] ?? e.type),
      target: targetOf(e),
      result: refused ? `refused (${str(d.code)})` : "accepted",
      detail: refused ? str(d.message, "") : typeof d.reason === "string" ? d.reason : "",
    });
  }
  return rows;
}

