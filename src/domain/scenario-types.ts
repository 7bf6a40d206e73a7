import type { Plan } from "./plan-types.js";
import type { Action, Target } from "../protocol/types.js";

// A scenario drives the simulated fleet: a plan, a model of each metric, and
// the effects the new version has on given rings. Validated by src/domain/scenario.ts.

export interface MetricModel {
  unit: string;
  /** level with the old version, in `unit` */
  baseline: number;
  /** relative standard deviation of the noise, e.g. 0.05 for 5% */
  noise: number;
  /** scale the level by ring traffic (throughput-like metrics) */
  perTraffic?: boolean;
  min?: number;
  max?: number;
}

export interface Effect {
  rollout: string;
  ring: string;
  metric: string;
  /** seconds after the ring starts taking traffic */
  at: number;
  /** the level becomes baseline * factor (+ delta) */
  factor?: number;
  delta?: number;
  /** seconds to ramp from baseline to the new level (0: a step) */
  rampSeconds: number;
}

export interface ScriptedCommand {
  /** seconds after the backend started */
  at: number;
  actor: { name: string; role: "viewer" | "operator" | "commander" };
  action: Action;
  target: Target;
  reason?: string;
  args?: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  description: string;
  seed: number;
  /** simulated seconds per real second when none is given on the command line */
  speed: number;
  sampleEverySeconds: number;
  /** burn-rate windows are multiplied by this (1/60 turns 1h into 1m) */
  burnWindowScale: number;
  /** after a rollback or kill switch, effects fade out over this many seconds */
  recoverySeconds: number;
  metrics: Record<string, MetricModel>;
  effects: Effect[];
  plan: Plan;
  /** commands played as if typed by people (golden logs and tests) */
  script: ScriptedCommand[];
  /** how long an unattended run lasts, in simulated seconds (tests, goldens) */
  durationSeconds: number;
}
