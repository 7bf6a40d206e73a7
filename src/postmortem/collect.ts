import { evaluateAssertion, parseAssertion, type Assertion } from "../domain/assertion.js";
import type { CockpitEvent } from "../protocol/types.js";
import { PeopleDirectory } from "./people.js";
import { cleanEvent, cleanText } from "./clean.js";
import type { Scope } from "./scope.js";

/** How one series went bad and came back, measured against its SLO or against its baseline. */
export interface SeriesRecovery {
  rollout: string;
  ring: string;
  metric: string;
  unit: string;
  measure: "slo" | "baseline";
  /** the SLO assertion it was measured against (measure "slo") */
  assertion: string | null;
  /** the first bad sample (with its threshold when measured against an SLO) */
  firstBad: (SamplePoint & { threshold?: number | null }) | null;
  lastBad: SamplePoint | null;
  /** first good sample after the last bad one */
  backGood: SamplePoint | null;
  /** first sample a full bake window after backGood, good all along */
  healthyAt: SamplePoint | null;
  last: SamplePoint;
  bakeMs: number;
}

// The second pass: a streaming accumulator for one span (the Scope chosen by
// the first pass). Memory is bounded whatever the log's length:
// - SLI samples are never stored; each (rollout, ring, metric) series keeps
//   running figures (peak, counts, first/last sample outside its SLO, the
//   current run of bad samples, recovery) and, for error-rate metrics, a
//   fixed number of time buckets for the budget;
// - non-sample events of the span are kept (cleaned: sanitized, then
//   redacted) up to MAX_SPAN_EVENTS, then only the events a reader cannot do
//   without (people, incidents, mitigations, breaches) up to twice that;
// - the run-up before the span keeps its last PRE_SPAN_EVENTS events.

export const MAX_SPAN_EVENTS = 5000;
export const PRE_SPAN_EVENTS = 200;
/** Inside samples in a row that end a run of bad ones (a single good sample in a ramp does not). */
export const RUN_BREAK_SAMPLES = 3;
/** A value this many times its baseline (or this fraction of it) counts as deviating from it. */
export const DEVIATION_RATIO = 1.5;
/** A gap between samples longer than this is missing data, not a long stretch at the last level. */
export const MAX_SAMPLE_GAP_MS = 5 * 60_000;
/** Budget buckets per series: the budget over any sub-span is exact to one bucket. */
export const BUDGET_BUCKETS = 4096;
const MAX_PLANS = 1000;
const MAX_SERIES = 20_000;

export interface RingPlanInfo {
  name: string;
  traffic: number;
  bakeSeconds: number;
  slos: string[];
  assertions: Assertion[];
  /** SLO texts that do not parse, with the parser's message */
  unparsed: { text: string; error: string }[];
}

export interface PlanInfo {
  rollout: string;
  tenant: string;
  service: string;
  version: string;
  previousVersion: string;
  kind: string;
  onBreach: string;
  killSwitchFlag: string | null;
  /** from rollout.created (older logs lack it): which metric spends the budget, and the objective */
  errorBudget: { metric: string; objective: number } | null;
  rings: RingPlanInfo[];
  createdTime: string;
  createdSeq: number;
}

export interface SamplePoint {
  time: string;
  ms: number;
  seq: number;
  value: number | null;
  baseline: number | null;
}

export interface OutsidePoint extends SamplePoint {
  threshold: number | null;
  assertion: string;
}

export interface AssertionFigures {
  assertion: Assertion;
  outsideCount: number;
  firstOutside: OutsidePoint | null;
  lastOutside: OutsidePoint | null;
  /** the sample furthest past the threshold */
  worst: (OutsidePoint & { excess: number }) | null;
}

export interface SeriesStats {
  key: string;
  rollout: string;
  ring: string;
  metric: string;
  unit: string;
  count: number;
  first: SamplePoint;
  last: SamplePoint;
  max: SamplePoint | null;
  min: SamplePoint | null;
  checks: AssertionFigures[];
  /** bake of the ring, for "healthy for the bake window" */
  bakeMs: number;
  // -- against the SLO, any assertion failing counts as outside --
  outsideCount: number;
  firstOutside: OutsidePoint | null;
  lastOutside: OutsidePoint | null;
  /** start of the current run of outside samples (null once RUN_BREAK_SAMPLES inside ones follow) */
  runStart: OutsidePoint | null;
  insideStreak: number;
  /** first inside sample after the latest outside one */
  backInside: SamplePoint | null;
  /** first sample at least one bake window after backInside, inside all along */
  healthyAt: SamplePoint | null;
  // -- deviation from baseline: impact evidence when nothing crossed a gate (a slow burn, an ungated metric) --
  maxRatio: (SamplePoint & { ratio: number }) | null;
  deviationRunStart: (SamplePoint & { ratio: number }) | null;
  deviationCalm: number;
  deviationCount: number;
  lastDeviation: SamplePoint | null;
  /** first sample near the baseline after the latest deviating one */
  backNearBaseline: SamplePoint | null;
  nearBaselineHealthyAt: SamplePoint | null;
  // -- error budget (percent metrics about errors) --
  budget: BudgetBuckets | null;
  prevMs: number | null;
  prevValue: number | null;
}

/** Bad-percent-seconds, weighted by the ring's share of traffic, in fixed buckets over the sample span. */
export interface BudgetBuckets {
  startMs: number;
  bucketMs: number;
  badPercentSeconds: Float64Array;
  seconds: Float64Array;
}

export interface KeptEvent {
  /** sanitized and redacted copy; never the raw line */
  event: CockpitEvent;
  ms: number;
}

export interface ImpactSnapshot {
  rollout: string;
  ring: string;
  metric: string;
  unit: string;
  point: OutsidePoint;
}

export interface DeviationSnapshot {
  rollout: string;
  ring: string;
  metric: string;
  unit: string;
  /** whether the ring had a gate on this metric */
  gated: boolean;
  point: SamplePoint & { ratio: number };
}

export interface RingExposure {
  rollout: string;
  ring: string;
  traffic: number;
  startMs: number;
  startTime: string;
  endMs: number | null;
  endTime: string | null;
  endedBy: "rolled back" | "kill switch" | "completed" | null;
}

/** Events a draft keeps even past its size caps, in the span and in the timeline. */
const PRIORITY_TYPES: ReadonlySet<string> = new Set([
  "slo.breached",
  "slo.recovered",
  "rollout.paused",
  "rollout.rollback_started",
  "rollout.rolled_back",
  "killswitch.engaged",
  "killswitch.released",
  "incident.declared",
  "incident.resolved",
  "incident.role_assigned",
  "incident.milestone",
  "incident.status_update",
  "note.added",
  "command.rejected",
]);

/** A person's act, or an event the story of the incident turns on. */
export function isPriorityEvent(e: CockpitEvent): boolean {
  return e.actor.kind === "human" || PRIORITY_TYPES.has(e.type);
}

function isBudgetMetric(metric: string, unit: string): boolean {
  return unit.trim() === "%" && /error|5xx|fail/i.test(metric);
}

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export class IncidentCollector {
  readonly plans = new Map<string, PlanInfo>();
  readonly series = new Map<string, SeriesStats>();
  readonly people: PeopleDirectory;
  /** events of the span, in log order */
  readonly spanEvents: KeptEvent[] = [];
  /** the last PRE_SPAN_EVENTS events before the span (the run-up) */
  private readonly preSpan: KeptEvent[] = [];
  /** rollout.created, ring.started and ring.baking of involved rollouts before the span, for context */
  private readonly contextEvents = new Map<string, KeptEvent>();
  readonly exposures = new Map<string, RingExposure>();
  eventsRead = 0;
  samplesRead = 0;
  spanEventsDropped = 0;
  seriesDropped = 0;
  /** the first breach or alert of the span (a noisy alert may come before the impact: see milestones.ts) */
  firstSignal: KeptEvent | null = null;
  /** set once a snapshot found a run of samples outside an SLO: no more snapshots are needed */
  private impactFound = false;
  impactAtDetection: ImpactSnapshot | null = null;
  deviationAtDetection: DeviationSnapshot | null = null;
  /** SLO objective read from a burn-rate alert title ("SLO 99.9%"), if any */
  budgetObjective: number | null = null;

  private readonly rolloutFilter: ReadonlySet<string> | null;
  private readonly ringTraffic = new Map<string, number>();

  /**
   * `people`: everyone the whole log names (LogIndex.peopleFor), so a name
   * that only appears after the span is still kept out of the draft. The
   * collector also learns from the events it reads.
   */
  constructor(
    readonly scope: Scope,
    people: PeopleDirectory = new PeopleDirectory(),
  ) {
    this.rolloutFilter = scope.rollouts ? new Set(scope.rollouts) : null;
    this.people = people;
  }

  private involves(rollout: string | undefined): boolean {
    return !rollout || !this.rolloutFilter || this.rolloutFilter.has(rollout);
  }

  /**
   * A sample known only by its header (the second pass over a file reads
   * samples that way): true when add() would take nothing from it but its
   * count, which is then kept; false when the event itself is needed.
   */
  skipsSample(h: { seq: number; tenant: string; rollout: string | undefined; ms: number }): boolean {
    if (h.seq > this.scope.lastSeq) return true;
    if (this.scope.tenant !== null && h.tenant !== this.scope.tenant) return true;
    // As add() then addSample() decide, before they use anything but these.
    if (h.rollout && this.involves(h.rollout) && h.ms >= this.scope.sampleFromMs && h.ms <= this.scope.sampleToMs) return false;
    this.eventsRead++;
    return true;
  }

  add(e: CockpitEvent): void {
    if (e.seq > this.scope.lastSeq) return;
    if (this.scope.tenant !== null && e.tenant !== this.scope.tenant) return;
    this.eventsRead++;
    if (e.type === "sli.sample") {
      this.addSample(e);
      return;
    }
    const ms = Date.parse(e.time);
    if (Number.isNaN(ms)) return;
    this.learnPeople(e);
    if (e.type === "rollout.created") this.addPlan(e);
    this.trackExposure(e, ms);
    if (!this.involves(e.rollout)) return;
    // Another incident's events are not this draft's business.
    if (this.scope.incidentId && e.incident && e.incident !== this.scope.incidentId) return;

    const { fromMs, toMs, sampleFromMs } = this.scope;
    const ownIncident = this.scope.incidentId !== null && e.incident === this.scope.incidentId;
    if ((ms >= fromMs && ms <= toMs) || (ownIncident && ms >= fromMs)) {
      const kept = this.keepSpanEvent(e, ms) ?? { event: cleanEvent(e), ms };
      const signal = e.type === "slo.breached" || e.type === "alert.firing";
      if (signal) this.firstSignal ??= kept;
      // Every breach, alert or report looks for the run of bad samples under way,
      // until one finds it: an alert that fired on old noise finds none.
      if ((signal || e.type === "incident.declared") && !this.impactFound) this.snapshotImpact();
      if (e.type === "alert.firing" && this.budgetObjective === null) {
        const m = /\bSLO (\d+(?:\.\d+)?)%/.exec(String((e.data as Record<string, unknown>).title ?? ""));
        const objective = m ? Number(m[1]) : NaN;
        if (objective > 0 && objective < 100) this.budgetObjective = objective;
      }
      return;
    }
    if (ms >= fromMs) return;
    // Before the span: the rollout's context always (however long ago), the run-up in a bounded buffer.
    if (e.rollout && (e.type === "rollout.created" || e.type === "ring.started" || e.type === "ring.baking")) {
      const key = e.type === "rollout.created" ? `${e.rollout}|created` : `${e.rollout}|${e.type}|${String((e.data as Record<string, unknown>).ring ?? "")}`;
      this.contextEvents.set(key, { event: cleanEvent(e), ms });
    }
    if (ms >= sampleFromMs) {
      this.preSpan.push({ event: cleanEvent(e), ms });
      if (this.preSpan.length > PRE_SPAN_EVENTS) {
        this.preSpan.shift();
      }
    }
  }

  /** Events before the span worth showing: context (rollout created, rings started) and the run-up. */
  runUp(): KeptEvent[] {
    const seen = new Set<number>();
    const out: KeptEvent[] = [];
    for (const k of [...this.contextEvents.values(), ...this.preSpan]) {
      if (seen.has(k.event.seq)) continue;
      seen.add(k.event.seq);
      out.push(k);
    }
    return out.sort((a, b) => a.event.seq - b.event.seq);
  }

  private keepSpanEvent(e: CockpitEvent, ms: number): KeptEvent | null {
    const full = this.spanEvents.length >= MAX_SPAN_EVENTS;
    const priority = isPriorityEvent(e);
    if (full && (!priority || this.spanEvents.length >= 2 * MAX_SPAN_EVENTS)) {
      this.spanEventsDropped++;
      return null;
    }
    const kept = { event: cleanEvent(e), ms };
    this.spanEvents.push(kept);
    return kept;
  }

  private learnPeople(e: CockpitEvent): void {
    this.people.noteActor(e.actor);
    if (e.type === "incident.role_assigned") {
      const d = e.data as Record<string, unknown>;
      const name = typeof d.name === "string" ? d.name : "";
      const role = typeof d.role === "string" ? d.role : "";
      // The role someone held in this incident names them; other incidents only teach the name.
      if (this.scope.incidentId === null || e.incident === this.scope.incidentId) this.people.noteRoleAssigned(name, role);
      else this.people.noteName(name);
    }
  }

  private addPlan(e: CockpitEvent): void {
    if (!e.rollout || this.plans.has(e.rollout) || !this.involves(e.rollout) || this.plans.size >= MAX_PLANS) return;
    const c = cleanEvent(e);
    const d = c.data as Record<string, unknown>;
    const rings: RingPlanInfo[] = [];
    for (const g of Array.isArray(d.rings) ? (d.rings as Record<string, unknown>[]) : []) {
      const slos = Array.isArray(g?.slos) ? (g.slos as unknown[]).filter((s): s is string => typeof s === "string") : [];
      const assertions: Assertion[] = [];
      const unparsed: { text: string; error: string }[] = [];
      for (const text of slos) {
        const p = parseAssertion(text);
        if (p.ok) assertions.push(p.assertion);
        else unparsed.push({ text, error: p.error.message });
      }
      rings.push({
        name: String(g?.name ?? "?"),
        traffic: num(g?.traffic) ?? 0,
        bakeSeconds: num(g?.bakeSeconds) ?? 0,
        slos,
        assertions,
        unparsed,
      });
    }
    const ks = d.killSwitch as Record<string, unknown> | undefined;
    const eb = d.errorBudget as Record<string, unknown> | undefined;
    const objective = num(eb?.objective);
    const errorBudget = eb && typeof eb.metric === "string" && objective !== null && objective > 0 && objective < 100 ? { metric: eb.metric, objective } : null;
    this.plans.set(e.rollout, {
      rollout: c.rollout ?? e.rollout,
      tenant: c.tenant,
      service: String(d.service ?? "?"),
      version: String(d.version ?? "?"),
      previousVersion: String(d.previousVersion ?? "?"),
      kind: String(d.kind ?? "?"),
      onBreach: String(d.onBreach ?? "?"),
      killSwitchFlag: ks && typeof ks.flag === "string" ? ks.flag : null,
      errorBudget,
      rings,
      createdTime: c.time,
      createdSeq: e.seq,
    });
  }

  private trackExposure(e: CockpitEvent, ms: number): void {
    if (!e.rollout || !this.involves(e.rollout)) return;
    const d = e.data as Record<string, unknown>;
    const end = (ring: string, by: RingExposure["endedBy"]) => {
      const x = this.exposures.get(`${e.rollout}|${ring}`);
      if (x && x.endMs === null) {
        x.endMs = ms;
        x.endTime = cleanText(e.time);
        x.endedBy = by;
      }
    };
    switch (e.type) {
      case "ring.started": {
        const ring = String(d.ring ?? e.ring ?? "");
        const traffic = num(d.traffic) ?? 0;
        this.ringTraffic.set(`${e.rollout}|${ring}`, traffic);
        // A ring started again (after a release of the kill switch, a resume) keeps its first start.
        const key = `${e.rollout}|${ring}`;
        const prev = this.exposures.get(key);
        if (!prev || prev.endMs !== null) {
          this.exposures.set(key, { rollout: cleanText(e.rollout), ring: cleanText(ring), traffic, startMs: prev?.startMs ?? ms, startTime: prev?.startTime ?? cleanText(e.time), endMs: null, endTime: null, endedBy: null });
        }
        break;
      }
      case "rollout.rolled_back":
        for (const ring of Array.isArray(d.scope) ? (d.scope as unknown[]).map(String) : []) end(ring, "rolled back");
        break;
      case "killswitch.engaged":
        for (const x of this.exposures.values()) if (x.rollout === e.rollout) end(x.ring, "kill switch");
        break;
      case "rollout.completed":
        for (const x of this.exposures.values()) if (x.rollout === e.rollout) end(x.ring, "completed");
        break;
      default:
        break;
    }
  }

  // ---- samples: the hot path ---------------------------------------------------------

  private addSample(e: CockpitEvent): void {
    if (!e.rollout || !this.involves(e.rollout)) return;
    const ms = Date.parse(e.time);
    if (!(ms >= this.scope.sampleFromMs && ms <= this.scope.sampleToMs)) return;
    this.samplesRead++;
    const d = e.data as Record<string, unknown>;
    const ring = typeof d.ring === "string" ? d.ring : (e.ring ?? "");
    const metric = typeof d.metric === "string" ? d.metric : "";
    const key = `${e.rollout}\u0000${ring}\u0000${metric}`;
    const value = num(d.value);
    const baseline = num(d.baseline);
    const point: SamplePoint = { time: e.time, ms, seq: e.seq, value, baseline };
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= MAX_SERIES) {
        this.seriesDropped++;
        return;
      }
      s = this.newSeries(key, e.rollout, ring, metric, typeof d.unit === "string" ? d.unit : "", point);
      this.series.set(key, s);
    }
    s.count++;
    s.last = point;
    if (value !== null) {
      if (!s.max || value > (s.max.value ?? -Infinity)) s.max = point;
      if (!s.min || value < (s.min.value ?? Infinity)) s.min = point;
    }
    this.evaluate(s, point);
    this.trackDeviation(s, point);
    if (s.budget) this.addBudget(s, point);
  }

  private newSeries(key: string, rollout: string, ring: string, metric: string, unit: string, first: SamplePoint): SeriesStats {
    const plan = this.plans.get(rollout);
    const ringPlan = plan?.rings.find((g) => g.name === ring);
    // The plan names the budget's metric; a log without it gets a guess from the metric's name and unit.
    const spendsBudget = plan?.errorBudget ? plan.errorBudget.metric === metric : isBudgetMetric(metric, unit);
    const checks: AssertionFigures[] = (ringPlan?.assertions ?? [])
      .filter((a) => a.metric === metric)
      .map((assertion) => ({ assertion, outsideCount: 0, firstOutside: null, lastOutside: null, worst: null }));
    const cleanUnit = cleanText(unit);
    const span = Math.max(1, this.scope.sampleToMs - this.scope.sampleFromMs);
    return {
      key,
      rollout: cleanText(rollout),
      ring: cleanText(ring),
      metric: cleanText(metric),
      unit: cleanUnit,
      count: 0,
      first,
      last: first,
      max: null,
      min: null,
      checks,
      bakeMs: (ringPlan?.bakeSeconds ?? 0) * 1000,
      outsideCount: 0,
      firstOutside: null,
      lastOutside: null,
      runStart: null,
      insideStreak: 0,
      backInside: null,
      healthyAt: null,
      maxRatio: null,
      deviationRunStart: null,
      deviationCalm: 0,
      deviationCount: 0,
      lastDeviation: null,
      backNearBaseline: null,
      nearBaselineHealthyAt: null,
      budget: spendsBudget
        ? {
            startMs: this.scope.sampleFromMs,
            bucketMs: Math.max(1000, Math.ceil(span / BUDGET_BUCKETS)),
            badPercentSeconds: new Float64Array(BUDGET_BUCKETS + 1),
            seconds: new Float64Array(BUDGET_BUCKETS + 1),
          }
        : null,
      prevMs: null,
      prevValue: null,
    };
  }

  private evaluate(s: SeriesStats, p: SamplePoint): void {
    if (s.checks.length === 0) return;
    let outside: OutsidePoint | null = null;
    for (const c of s.checks) {
      const { status, threshold } = evaluateAssertion(c.assertion, p.value, p.baseline);
      // A missing value is outside (a silent service is not healthy); a missing
      // baseline only means this assertion cannot be judged from this sample.
      const bad = status === "fail" || (status === "no_data" && p.value === null);
      if (!bad) continue;
      const op: OutsidePoint = { ...p, threshold, assertion: c.assertion.text };
      c.outsideCount++;
      if (!c.firstOutside) c.firstOutside = op;
      c.lastOutside = op;
      const excess =
        p.value === null || threshold === null ? Infinity : c.assertion.op === "<" || c.assertion.op === "<=" ? p.value - threshold : threshold - p.value;
      if (!c.worst || excess > c.worst.excess) c.worst = { ...op, excess };
      outside ??= op;
    }
    if (outside) {
      s.outsideCount++;
      s.firstOutside ??= outside;
      s.lastOutside = outside;
      s.runStart ??= outside;
      s.insideStreak = 0;
      s.backInside = null;
      s.healthyAt = null;
      return;
    }
    s.insideStreak++;
    if (s.insideStreak >= RUN_BREAK_SAMPLES) s.runStart = null;
    if (s.outsideCount > 0) {
      s.backInside ??= p;
      if (!s.healthyAt && p.ms - s.backInside.ms >= s.bakeMs) s.healthyAt = p;
    }
  }

  private trackDeviation(s: SeriesStats, p: SamplePoint): void {
    if (p.value === null || p.baseline === null || !(p.baseline > 0)) return;
    const ratio = p.value / p.baseline;
    if (!s.maxRatio || ratio > s.maxRatio.ratio) s.maxRatio = { ...p, ratio };
    if (ratio >= DEVIATION_RATIO || ratio <= 1 / DEVIATION_RATIO) {
      s.deviationRunStart ??= { ...p, ratio };
      s.deviationCalm = 0;
      s.deviationCount++;
      s.lastDeviation = p;
      s.backNearBaseline = null;
      s.nearBaselineHealthyAt = null;
      return;
    }
    if (++s.deviationCalm >= RUN_BREAK_SAMPLES) s.deviationRunStart = null;
    if (s.deviationCount > 0) {
      s.backNearBaseline ??= p;
      if (!s.nearBaselineHealthyAt && p.ms - s.backNearBaseline.ms >= s.bakeMs) s.nearBaselineHealthyAt = p;
    }
  }

  private addBudget(s: SeriesStats, p: SamplePoint): void {
    const b = s.budget!;
    // Each reading holds until the next one (at most MAX_SAMPLE_GAP_MS), the
    // same weighting as weightSeries in domain/burnrate.ts, done as the samples stream by.
    if (s.prevMs !== null && s.prevValue !== null) {
      const held = Math.min(Math.max(0, p.ms - s.prevMs), MAX_SAMPLE_GAP_MS) / 1000;
      const share = (this.ringTraffic.get(`${s.rollout}|${s.ring}`) ?? 100) / 100;
      const bad = Math.min(100, Math.max(0, s.prevValue)) * share;
      const i = Math.min(BUDGET_BUCKETS, Math.max(0, Math.floor((s.prevMs - b.startMs) / b.bucketMs)));
      b.badPercentSeconds[i]! += bad * held;
      b.seconds[i]! += held;
    }
    s.prevMs = p.ms;
    s.prevValue = p.value;
  }

  /**
   * The runs of bad samples under way when the problem was noticed: where
   * impact started. The first snapshot that finds a run outside an SLO is
   * final; a run away from the baseline is kept from the first snapshot that
   * finds one (a slow burn may never cross its gate).
   */
  private snapshotImpact(): void {
    let best: ImpactSnapshot | null = null;
    let bestDev: DeviationSnapshot | null = null;
    for (const s of this.series.values()) {
      if (s.runStart && (!best || s.runStart.ms < best.point.ms || (s.runStart.ms === best.point.ms && s.runStart.seq < best.point.seq)))
        best = { rollout: s.rollout, ring: s.ring, metric: s.metric, unit: s.unit, point: s.runStart };
      if (s.deviationRunStart && (!bestDev || s.deviationRunStart.ms < bestDev.point.ms))
        bestDev = { rollout: s.rollout, ring: s.ring, metric: s.metric, unit: s.unit, gated: s.checks.length > 0, point: s.deviationRunStart };
    }
    if (best) {
      this.impactAtDetection = best;
      this.impactFound = true;
    }
    this.deviationAtDetection ??= bestDev;
  }

  /**
   * How each troubled series recovered, for the milestones: against its SLO
   * (series that went outside it), and against its baseline (series that
   * moved away from it), in a stable order.
   */
  recoveries(): SeriesRecovery[] {
    const out: SeriesRecovery[] = [];
    for (const s of this.allSeries()) {
      const base = { rollout: s.rollout, ring: s.ring, metric: s.metric, unit: s.unit, last: s.last, bakeMs: s.bakeMs };
      if (s.outsideCount > 0) {
        const c = s.checks.find((x) => x.lastOutside?.seq === s.lastOutside?.seq) ?? s.checks[0];
        out.push({ ...base, measure: "slo", assertion: c?.assertion.text ?? null, firstBad: s.firstOutside, lastBad: s.lastOutside, backGood: s.backInside, healthyAt: s.healthyAt });
      }
      if (s.deviationCount > 0) {
        out.push({ ...base, measure: "baseline", assertion: null, firstBad: null, lastBad: s.lastDeviation, backGood: s.backNearBaseline, healthyAt: s.nearBaselineHealthyAt });
      }
    }
    return out;
  }

  /** Series that went outside their SLO, in a stable order. */
  breachedSeries(): SeriesStats[] {
    return [...this.series.values()].filter((s) => s.outsideCount > 0).sort(compareSeries);
  }

  /** Every series, in a stable order. */
  allSeries(): SeriesStats[] {
    return [...this.series.values()].sort(compareSeries);
  }
}

export function compareSeries(a: SeriesStats, b: SeriesStats): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * Budget figures between two times from the buckets: the mean bad percent of
 * all traffic (weighted by the ring's share) and the seconds covered.
 */
export function budgetBetween(b: BudgetBuckets, fromMs: number, toMs: number): { badPercent: number; seconds: number } {
  let bad = 0;
  let seconds = 0;
  const first = Math.max(0, Math.floor((fromMs - b.startMs) / b.bucketMs));
  // The end is exclusive: a reading taken at toMs holds after it.
  const last = Math.min(BUDGET_BUCKETS, Math.floor((toMs - 1 - b.startMs) / b.bucketMs));
  for (let i = first; i <= last; i++) {
    bad += b.badPercentSeconds[i]!;
    seconds += b.seconds[i]!;
  }
  return { badPercent: seconds > 0 ? bad / seconds : 0, seconds };
}
