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

/**
 * A command of the plan that acts on the world (issue 5): a program run with
 * an argv (never through a shell unless `shell` is true), or a webhook POSTed
 * with a JSON body signed with HMAC-SHA256.
 */
export type CommandSpec = ExecCommandSpec | WebhookCommandSpec;

export interface ExecCommandSpec {
  /** program then arguments; with `shell`, one script for /bin/sh */
  argv: string[];
  shell?: boolean;
  timeoutSeconds?: number;
}

export interface WebhookCommandSpec {
  /** http(s) URL the JSON body is POSTed to */
  webhook: string;
  /** environment variable holding the HMAC-SHA256 secret (never the secret itself: plans get committed) */
  secretEnv: string;
  timeoutSeconds?: number;
}

export function isWebhookSpec(spec: CommandSpec): spec is WebhookCommandSpec {
  return "webhook" in spec;
}

/** Placeholders a command's argv (or a webhook body) may hold; each is filled per argument, never through a shell. */
export const COMMAND_PLACEHOLDERS = ["version", "previousVersion", "ring", "traffic", "flag", "rollout", "service", "tenant"] as const;
/** Placeholders a PromQL query may hold. */
export const QUERY_PLACEHOLDERS = ["ring", "rollout", "service", "version", "previousVersion", "tenant"] as const;

/** How one SLI is read from Prometheus. */
export interface SliQuery {
  /** PromQL for the ring, with a {ring} placeholder; one instant value (an empty result or NaN is "no data") */
  query: string;
  /** PromQL for the same metric outside the ring (the "baseline" of relative gates); {ring} names the ring it excludes */
  baseline?: string;
  /** shown with the values, e.g. "ms", "%" */
  unit: string;
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
  /** real SLIs (issue 5): the PromQL of each metric the gates name, read with `serve --prometheus` */
  slis?: Record<string, SliQuery>;
  /** seconds after the backend starts before the rollout is created and begins */
  startAfterSeconds: number;
  /** consecutive failing evaluations before an assertion without "for" breaches */
  breachAfter: number;
}

export interface AlertmanagerPlan {
  /** when set, acking an Alertmanager alert in the cockpit also silences it there for this long */
  silenceOnAckSeconds?: number;
}

export interface Plan {
  tenant: string;
  rollouts: RolloutPlan[];
  /** Alertmanager behaviour (issue 5); alerts are read with `serve --alertmanager` */
  alertmanager?: AlertmanagerPlan;
}
