import type { Actor, CockpitEvent } from "../protocol/types.js";
import type { IncidentCollector, KeptEvent, PlanInfo, SeriesStats } from "./collect.js";
import type { MilestoneRecord, TimeMetric } from "./milestones.js";
import { actorLabel, anonymizeText, personLabel, type PeopleOptions } from "./people.js";

// What every section of the draft reads: the collector's facts, the
// milestones, and one Anonymizer so every sentence names roles the same way.

/** The draft's view of events and people: names replaced by roles, unless --names. */
export class Anonymizer {
  constructor(
    private readonly collector: IncidentCollector,
    private readonly opts: PeopleOptions,
  ) {}

  get names(): boolean {
    return this.opts.names;
  }

  who = (actor: Actor): string => actorLabel(actor, this.collector.people, this.opts);

  text = (s: string): string => anonymizeText(s, this.collector.people, this.opts);

  /** A person named in data (incident.role_assigned): their label, or the name with --names. */
  person = (name: string): string => personLabel(name, this.collector.people, this.opts);

  /** A copy whose data strings and actor name carry roles instead of names. */
  event(e: CockpitEvent): CockpitEvent {
    if (this.opts.names) return e;
    const walk = (v: unknown): unknown => {
      if (typeof v === "string") return this.text(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
      return v;
    };
    return { ...e, actor: { ...e.actor, name: this.who(e.actor) }, data: walk(e.data) as CockpitEvent["data"] };
  }
}

export interface Facts {
  c: IncidentCollector;
  anon: Anonymizer;
  plans: PlanInfo[];
  /** run-up and span events, in log order */
  events: KeptEvent[];
  spanEvents: KeptEvent[];
  milestones: MilestoneRecord[];
  metrics: TimeMetric[];
  impactMs: number | null;
  /** T+0 of the timeline: impact start, else the span's start */
  zeroMs: number;
  /** series that went outside their SLO */
  breached: SeriesStats[];
  /** the event the detected milestone came from, when it is in the log */
  detection: KeptEvent | null;
  byMilestone: Map<string, MilestoneRecord>;
}

export function data(e: CockpitEvent): Record<string, unknown> {
  return (e.data ?? {}) as Record<string, unknown>;
}

export function str(v: unknown, fallback = "?"): string {
  return typeof v === "string" && v.length > 0 ? v : fallback;
}

export function milestone(f: Facts, m: string): MilestoneRecord {
  return f.byMilestone.get(m)!;
}

export function metric(f: Facts, name: TimeMetric["name"]): TimeMetric {
  return f.metrics.find((m) => m.name === name)!;
}

/** The rollout the draft is mostly about: the first with a breached SLI, else the first plan. */
export function mainPlan(f: Facts): PlanInfo | undefined {
  return f.plans.find((p) => f.breached.some((s) => s.rollout === p.rollout)) ?? f.plans[0];
}

/** How the problem was first noticed. */
export function detectionKind(f: Facts): "gate" | "burn" | "alert" | "human" | null {
  const d = f.detection?.event;
  if (!d || d.type === "incident.declared") return f.events.some((k) => k.event.type === "incident.declared") ? "human" : null;
  if (d.type === "slo.breached") return "gate";
  const x = data(d);
  if (/burn/i.test(str(x.source, "")) || /burn/i.test(str(x.title, ""))) return "burn";
  const key = (x.labels as Record<string, unknown> | undefined)?.key;
  if (typeof key === "string" && key.startsWith("gate:")) return "gate";
  return "alert";
}

/** Sentences may start with a role ("the on-call operator ..."); an id or a ring name keeps its case. */
export function sentenceCase(s: string): string {
  return /^(the|a|an) /.test(s) ? s[0]!.toUpperCase() + s.slice(1) : s;
}
