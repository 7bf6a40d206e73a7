import { writeFileSync } from "node:fs";
import { join } from "node:path";

// A scenario written for fault and load tests: rollouts that bake for a long
// time in healthy rings, so a backend at high --speed writes a steady stream
// of SLI samples (rollouts x metrics per sample interval) and nothing ends or
// breaches on its own.

export interface SteadyScenarioOptions {
  /** rollouts running side by side (each exposes one ring) */
  rollouts?: number;
  /** metrics sampled per ring */
  metrics?: number;
  sampleEverySeconds?: number;
  speed?: number;
  /** how long each ring bakes, seconds (default one simulated day) */
  bakeSeconds?: number;
}

export const STEADY_TENANT = "payments";

/** The scenario as JSON text, for `cockpit serve --scenario FILE`. */
export function steadyScenario(o: SteadyScenarioOptions = {}): Record<string, unknown> {
  const rollouts = o.rollouts ?? 1;
  const metricCount = o.metrics ?? 3;
  const metrics: Record<string, unknown> = {};
  for (let i = 0; i < metricCount; i++) metrics[`m${i}_latency_ms`] = { unit: "ms", baseline: 20 + i, noise: 0.05 };
  const firstMetric = "m0_latency_ms";
  return {
    name: "steady",
    description: "Healthy rollouts baking for a long time: a steady stream of SLI samples for fault and load tests.",
    seed: 7,
    speed: o.speed ?? 10,
    sampleEverySeconds: o.sampleEverySeconds ?? 1,
    burnWindowScale: 1,
    recoverySeconds: 30,
    durationSeconds: 86_400,
    metrics,
    effects: [],
    plan: {
      tenant: STEADY_TENANT,
      rollouts: Array.from({ length: rollouts }, (_, i) => ({
        id: `svc${i}-v2`,
        service: `svc${i}`,
        version: "v2",
        previousVersion: "v1",
        kind: "code",
        onBreach: "pause",
        rings: [
          // The SLO can never breach: the stream stays steady for the whole run.
          { name: "canary", traffic: 5, bakeSeconds: o.bakeSeconds ?? 86_400, slos: [`${firstMetric} < 1000000`] },
          { name: "global", traffic: 100, bakeSeconds: 60, slos: [`${firstMetric} < 1000000`] },
        ],
      })),
    },
    script: [],
  };
}

/** Write the scenario into `dir` and return its path. */
export function writeSteadyScenario(dir: string, o: SteadyScenarioOptions = {}): string {
  const path = join(dir, "steady-scenario.json");
  writeFileSync(path, JSON.stringify(steadyScenario(o), null, 2));
  return path;
}
