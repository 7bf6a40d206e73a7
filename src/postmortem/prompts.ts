import { formatDurationShort } from "../domain/duration.js";
import { formatNumber } from "../render/number.js";
import { formatDuration } from "../render/time.js";
import type { ActionItemRow } from "./draft-types.js";
import { FILL_IN } from "./draft-types.js";
import { data, detectionKind, mainPlan, metric, milestone, str, type Facts } from "./facts.js";
import { clockUtc, pct, valueWithUnit } from "./format.js";
import { DEVIATION_RATIO, type KeptEvent } from "./collect.js";

// Questions for the review, each seeded by a fact from the plan or the log.
// They are prompts, not conclusions: the draft says what happened and asks
// why; the authors decide what it means.

export interface FactorResult {
  prompts: string[];
  /** suggested action items that follow from the factors */
  items: ActionItemRow[];
}

function item(text: string, type: ActionItemRow["type"]): ActionItemRow {
  return { item: text, type, owner: FILL_IN, priority: FILL_IN };
}

function dedupe<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}

function noCanary(f: Facts, out: FactorResult): void {
  for (const p of f.plans) {
    const first = p.rings[0];
    if (!first) continue;
    const startedFull = [...f.c.exposures.values()].some((x) => x.rollout === p.rollout && x.ring === first.name && x.traffic >= 100);
    if (first.traffic < 100 && !startedFull) continue;
    out.prompts.push(`${p.rollout} reached 100% of traffic in its first ring (${first.name}): the change had no canary ring to limit its reach. What let the plan go out without a smaller first ring?`);
    out.items.push(item(`Add a small canary ring (1–5% of traffic) before ${first.name} in the plan for ${p.service}`, "prevent"));
  }
}

function bakeShorterThanDetection(f: Facts, out: FactorResult): void {
  const ttd = metric(f, "TTD");
  if (ttd.ms === null) return;
  const seen = new Set<string>();
  for (const s of f.breached) {
    const key = `${s.rollout}|${s.ring}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const ring = f.c.plans.get(s.rollout)?.rings.find((g) => g.name === s.ring);
    if (!ring || ring.bakeSeconds * 1000 >= ttd.ms) continue;
    out.prompts.push(
      `${s.rollout}'s ${ring.name} ring bakes for ${formatDurationShort(ring.bakeSeconds)}, shorter than the ${ttd.text} it took to detect the problem: a clean bake could not have shown this change to be safe. Is the bake long enough for this kind of failure to show?`,
    );
    out.items.push(item(`Lengthen the ${ring.name} bake in ${s.rollout}'s plan beyond the observed time to detect (${ttd.text})`, "detect"));
  }
  const detectedMs = milestone(f, "detected").ms ?? Infinity;
  for (const k of f.events) {
    if (k.event.type !== "rollout.promoted" || k.ms > detectedMs) continue;
    out.prompts.push(
      `${f.anon.who(k.event.actor)} promoted ${k.event.rollout ?? "the rollout"} at ${clockUtc(k.ms)}, skipping the rest of the ${str(data(k.event).ring)} bake, before the problem was detected. What made skipping the bake look safe?`,
    );
  }
}

function ungatedSli(f: Facts, out: FactorResult): void {
  const since = Math.min(f.impactMs ?? f.c.scope.fromMs, f.c.scope.fromMs);
  const flagged = new Set<string>();
  for (const s of f.c.allSeries()) {
    // Deviating during the impact (it may have started before it: a leading signal nobody gated).
    if (s.checks.length > 0 || !s.maxRatio || s.maxRatio.ratio < DEVIATION_RATIO || !s.lastDeviation || s.lastDeviation.ms < since) continue;
    flagged.add(`${s.rollout}|${s.ring}|${s.metric}`);
    out.prompts.push(
      `${s.ring} ${s.metric} of ${s.rollout} rose to ${formatNumber(s.maxRatio.ratio)}x its baseline (${valueWithUnit(s.maxRatio.value, s.unit)} vs ${valueWithUnit(s.maxRatio.baseline, s.unit)}) at ${clockUtc(s.maxRatio.ms)}, but ${s.ring} had no gate on ${s.metric}. Should it?`,
    );
    out.items.push(item(`Add an SLO gate on ${s.metric} to the ${s.ring} ring in ${s.rollout}'s plan`, "detect"));
  }
  for (const k of f.spanEvents) {
    if (k.event.type !== "alert.firing") continue;
    const labels = data(k.event).labels as Record<string, unknown> | undefined;
    const m = typeof labels?.metric === "string" ? labels.metric : null;
    const ringName = k.event.ring ?? (typeof labels?.ring === "string" ? labels.ring : null);
    const rollout = k.event.rollout;
    if (!m || !ringName || !rollout || flagged.has(`${rollout}|${ringName}|${m}`)) continue;
    const ring = f.c.plans.get(rollout)?.rings.find((g) => g.name === ringName);
    if (!ring || ring.assertions.some((a) => a.metric === m)) continue;
    flagged.add(`${rollout}|${ringName}|${m}`);
    out.prompts.push(`An alert fired on ${m} in ${ringName} of ${rollout}, but that ring had no gate on ${m}. Should the gate be there?`);
    out.items.push(item(`Add an SLO gate on ${m} to the ${ringName} ring in ${rollout}'s plan`, "detect"));
  }
}

function blockedRollback(f: Facts, out: FactorResult): void {
  for (const k of f.events) {
    const e = k.event;
    if (k.ms < f.c.scope.fromMs) continue;
    if (e.type === "rollout.paused" && data(e).automatic === true && /rate[- ]limit/i.test(str(data(e).reason, ""))) {
      out.prompts.push(
        `The automatic rollback of ${e.rollout ?? "the rollout"} was rate-limited at ${clockUtc(k.ms)}, so the engine paused instead ("${f.anon.text(str(data(e).reason, ""))}"). Was the limit right for this case?`,
      );
      out.items.push(item(`Review the automatic-rollback rate limit that held back ${e.rollout ?? "the rollout"}`, "mitigate"));
    }
    if (e.type === "command.rejected" && /rollback|kill_switch/.test(str(data(e).action, ""))) {
      out.prompts.push(
        `A ${str(data(e).action)} by ${f.anon.who(e.actor)} was refused at ${clockUtc(k.ms)} (${str(data(e).code)}: ${f.anon.text(str(data(e).message, ""))}). What kept the mitigation from going through?`,
      );
      out.items.push(item(`Find out why the ${str(data(e).action)} command was refused (${str(data(e).code)}) and whether it should have been`, "investigate"));
    }
  }
}

function planChoices(f: Facts, out: FactorResult): void {
  const ttm = metric(f, "TTM");
  for (const p of f.plans) {
    const breachedHere = f.spanEvents.some((k) => k.event.type === "slo.breached" && k.event.rollout === p.rollout);
    if (p.onBreach === "pause" && breachedHere) {
      out.prompts.push(
        `${p.rollout}'s plan pauses on a breach rather than rolling back, so mitigation waited for a person${ttm.ms !== null ? ` (time to mitigate: ${ttm.text})` : ""}. Should this rollout roll back on its own?`,
      );
    }
    if (p.kind === "flag" && !p.killSwitchFlag) out.prompts.push(`${p.rollout} is a flag rollout without a kill switch. How would it be switched off in a hurry?`);
  }
}

/** The first gate breach of the span, if a gate breached at all. */
function firstBreach(f: Facts): KeptEvent | undefined {
  return f.spanEvents.find((k) => k.event.type === "slo.breached");
}

function burnRateDetection(f: Facts, out: FactorResult): void {
  // Only when the gates never breached: a gate that breached later was just slower (its "for" window).
  if (detectionKind(f) !== "burn" || firstBreach(f)) return;
  out.prompts.push(
    "Detection came from a burn-rate alert while every gate stayed green: the errors stayed under the gates' thresholds but spent the error budget. Do the gates measure what the SLO cares about?",
  );
  out.items.push(item("Add a gate that catches a slow burn (a tighter or baseline-relative error-rate threshold) to the affected ring", "detect"));
}

/** Contributing-factor prompts derived from the plans and the log. */
export function contributingFactors(f: Facts): FactorResult {
  const out: FactorResult = { prompts: [], items: [] };
  noCanary(f, out);
  bakeShorterThanDetection(f, out);
  ungatedSli(f, out);
  blockedRollback(f, out);
  planChoices(f, out);
  burnRateDetection(f, out);
  out.prompts.push("What else made this possible? (the change itself, the test or review that could have caught it, the signals nobody looked at)");
  return { prompts: dedupe(out.prompts), items: out.items };
}

export function wentWellPoorlyLucky(f: Facts): { wentWell: string[]; wentPoorly: string[]; lucky: string[] } {
  const well: string[] = [];
  const poorly: string[] = [];
  const lucky: string[] = [];
  const kind = detectionKind(f);
  const ttd = metric(f, "TTD");
  const tta = metric(f, "TTA");
  const ttm = metric(f, "TTM");
  const ttr = metric(f, "TTR");
  const ack = milestone(f, "acknowledged");
  const det = milestone(f, "detected");
  const exposures = [...f.c.exposures.values()];
  const maxTraffic = exposures.reduce((m, x) => Math.max(m, x.traffic), 0);

  if (kind === "gate" && ttd.ms !== null) well.push(`An automated gate detected the problem ${ttd.text} after impact started, before anyone reported it.`);
  const autoPause = f.spanEvents.find((k) => k.event.type === "rollout.paused" && data(k.event).automatic === true);
  if (autoPause) {
    const plan = f.c.plans.get(autoPause.event.rollout ?? "");
    const reached = new Set(exposures.filter((x) => x.rollout === autoPause.event.rollout).map((x) => x.ring));
    const laterRings = plan ? plan.rings.filter((g) => !reached.has(g.name)).length : 0;
    well.push(`The engine paused the rollout on its own at ${clockUtc(autoPause.ms)}${laterRings > 0 ? `, so the change went no further than ${[...reached].join(", ")}` : ""}.`);
  }
  const autoRollback = f.spanEvents.find((k) => k.event.type === "rollout.rollback_started" && data(k.event).automatic === true);
  if (autoRollback) well.push(`The engine started the rollback on its own at ${clockUtc(autoRollback.ms)}.`);
  if (maxTraffic > 0 && maxTraffic < 100) well.push(`At most ${pct(maxTraffic)} of traffic took the new version.`);
  if (ttm.ms !== null && ttd.ms !== null && ttm.ms >= ttd.ms) well.push(`Mitigation came ${formatDuration(ttm.ms - ttd.ms)} after detection.`);
  well.push("Prompt: what else went well that we should keep doing?");

  if (ttm.ms === null) poorly.push("The log does not show the impact mitigated.");
  if (ttr.ms === null) poorly.push("The log does not show the problem resolved.");
  if (ack.ms !== null && det.ms !== null && ack.ms - det.ms > 5 * 60_000) poorly.push(`The first human response came ${formatDuration(ack.ms - det.ms)} after detection.`);
  if (tta.ms === null && ttd.ms !== null) poorly.push("Nobody acknowledged the alert or acted after detection, according to the log.");
  const refused = f.spanEvents.filter((k) => k.event.type === "command.rejected");
  if (refused.length > 0) poorly.push(`${refused.length} command${refused.length === 1 ? " was" : "s were"} refused during the response (see the command audit).`);
  const breach = firstBreach(f);
  if (kind === "burn" && !breach) poorly.push("The rollout's gates stayed green; only the burn-rate alert caught the problem.");
  if (kind === "burn" && breach && f.detection && breach.ms > f.detection.ms) {
    well.splice(well.length - 1, 0, `The burn-rate alert caught the problem ${formatDuration(breach.ms - f.detection.ms)} before the first gate breached.`);
  }
  if (ttd.ms !== null && ttd.ms > 0 && f.breached.length > 0) {
    const ring = f.c.plans.get(f.breached[0]!.rollout)?.rings.find((g) => g.name === f.breached[0]!.ring);
    if (ring && ring.bakeSeconds * 1000 < ttd.ms) poorly.push(`Detection (${ttd.text}) took longer than the ${ring.name} bake (${formatDurationShort(ring.bakeSeconds)}).`);
  }
  if (maxTraffic >= 100) poorly.push("The change reached all traffic.");
  poorly.push("Prompt: what got in the way? What was confusing or slow?");

  const first = f.breached[0];
  const x = first ? f.c.exposures.get(`${first.rollout}|${first.ring}`) : undefined;
  if (x && x.traffic <= 10) lucky.push(`The problem showed in ${x.ring}, which carried only ${pct(x.traffic)} of traffic. Would it have been caught as fast in a bigger ring?`);
  if (ack.ms !== null && det.ms !== null && ack.ms >= det.ms && ack.ms - det.ms < 60_000) {
    lucky.push("Someone responded within a minute of detection: was that the on-call process working, or someone who happened to be watching?");
  }
  lucky.push("Prompt: where did we get lucky (timing, traffic level, who happened to be around)?");
  return { wentWell: well, wentPoorly: poorly, lucky };
}

/** Suggested rows, always starting with finding the cause and ending with the repair. */
export function actionItems(f: Facts, fromFactors: ActionItemRow[]): ActionItemRow[] {
  const plan = mainPlan(f);
  const subject = plan ? `${plan.service} ${plan.version}` : "the change";
  const rows = [item(`Find the cause of the regression in ${subject}`, "investigate"), ...fromFactors, item(`Fix ${subject} and roll it out again through a canary ring`, "repair")];
  const seen = new Set<string>();
  return rows.filter((r) => !seen.has(r.item) && (seen.add(r.item), true));
}
