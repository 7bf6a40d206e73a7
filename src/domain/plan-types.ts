import type { OnBreach, RolloutKind } from "../protocol/types.js";

// The rollout plan, as validated from a JSON file (see src/domain/plan.ts).
// Durations in files are strings like "90s", "5m", "1h" or plain seconds.

export interface RingPlan {
  name: string;
  /** share of all traffic in this ring, percent (0 < traffic <= 100) */
  traffic: number;
  bakeSeconds: number;
  /** SLO assertion texts, e.g. "p99_latency_ms < 50 for 1m" */
  slos: string[];
  /** real deployments: command run when the ring starts (issue 5) */
  apply?: CommandSpec;
  rollback?: CommandSpec;
}

export interface CommandSpec {
  argv: string[];
  shell?: boolean;
  timeoutSeconds?: number;
}

export interface ErrorBudgetPlan {
  /** metric whose value is a percentage of bad events, e.g. "error_rate" */
  metric: string;
  /** SLO objective in percent of good events, e.g. 99.9 */
  objective: number;
}

export interface RolloutPlan {
  id: string;
  service: string;
  version: string;
  previousVersion: string;
  kind: RolloutKind;
  onBreach: OnBreach;
  rings: RingPlan[];
  killSwitch?: { flag: string; engage?: CommandSpec; release?: CommandSpec };
  errorBudget?: ErrorBudgetPlan;
  /** seconds after the backend starts before the rollout is created and begins */
  startAfterSeconds: number;
  /** consecutive failing evaluations before an assertion without "for" breaches */
  breachAfter: number;
}

export interface Plan {
  tenant: string;
  rollouts: RolloutPlan[];
}
