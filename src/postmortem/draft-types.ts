import type { BlameFinding } from "./lint.js";
import type { TimeMetric } from "./milestones.js";

// The draft as plain data: what `--format json` prints and what markdown.ts
// lays out. Every field is always present (null or empty when the log does
// not say), so the JSON has the same keys, in the same order, for every log.

export const FILL_IN = "_fill in_";

export interface LogHealth {
  /** lines that were not events */
  badLines: number;
  firstBadLine: { line: number; reason: string } | null;
  chain: {
    checked: boolean;
    events: number;
    issue: { seq: number; line?: number; reason: string } | null;
    /** why the chain was not checked, when it was not */
    whyUnchecked?: string;
  };
}

export interface DraftOptions {
  /** keep people's names (--names); default: roles only */
  names?: boolean;
  health?: LogHealth;
}

export interface DraftHeader {
  title: string;
  incidentId: string | null;
  status: "DRAFT";
  severity: string;
  date: string;
  owner: string;
  reviewers: string;
  tenant: string;
  spanFrom: string;
  spanTo: string;
  /** which span was chosen and why */
  choice: string;
  /** the hash chain's state, in a sentence */
  chain: string;
  chainOk: boolean | null;
}

export interface ExposureRow {
  rollout: string;
  ring: string;
  traffic: number;
  from: string;
  to: string | null;
  duration: string;
  endedBy: string;
}

export interface SliRow {
  rollout: string;
  ring: string;
  metric: string;
  slo: string;
  peak: string;
  peakAt: string;
  samplesOutside: number;
  samples: number;
  firstOutside: string;
  lastOutside: string;
}

export interface BudgetRow {
  rollout: string;
  ring: string;
  metric: string;
  consumedPercent: number;
  consumed: string;
  objective: number;
  objectiveSource: string;
  from: string;
  to: string;
}

export interface ImpactSection {
  sentences: string[];
  exposure: ExposureRow[];
  slis: SliRow[];
  budget: BudgetRow[];
  rollouts: { id: string; service: string; fromVersion: string; toVersion: string; kind: string }[];
  flags: string[];
}

export interface MilestoneRow {
  milestone: string;
  label: string;
  at: string | null;
  time: string;
  seq: number | null;
  inferred: boolean;
  rule: string;
}

export interface TimelineRow {
  seq: number;
  at: string;
  time: string;
  offset: string;
  text: string;
  who: string;
  evidence: string;
  /** milestones this row marks, e.g. ["detected"] */
  marks: string[];
}

export interface ActionItemRow {
  item: string;
  type: "investigate" | "prevent" | "mitigate" | "repair" | "detect";
  owner: string;
  priority: string;
}

export interface PlanSummary {
  rollout: string;
  service: string;
  fromVersion: string;
  toVersion: string;
  kind: string;
  onBreach: string;
  killSwitch: string | null;
  created: string;
  rings: { name: string; traffic: number; bake: string; slos: string[] }[];
}

export interface AuditRow {
  time: string;
  seq: number;
  who: string;
  action: string;
  target: string;
  result: string;
  detail: string;
}

export interface Draft {
  header: DraftHeader;
  warnings: string[];
  summary: string[];
  impact: ImpactSection;
  milestones: MilestoneRow[];
  metrics: TimeMetric[];
  timeline: { rows: TimelineRow[]; note: string | null };
  narratives: { detection: string[]; response: string[]; recovery: string[] };
  contributingFactors: string[];
  wentWell: string[];
  wentPoorly: string[];
  lucky: string[];
  actionItems: ActionItemRow[];
  languageToRevisit: BlameFinding[];
  appendix: { plans: PlanSummary[]; commands: AuditRow[] };
}
