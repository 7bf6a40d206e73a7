import type { Effect, MetricModel } from "../domain/scenario-types.js";
import { gaussian, type Random } from "./rng.js";

// The simulated fleet: what each ring's metrics would read while a rollout
// moves through it. A ring's level is the metric's baseline, changed by the
// scenario's effects once the new version has been in the ring long enough,
// and fading back after the new version leaves (rollback) or the feature is
// switched off (kill switch).

export interface RingExposure {
  rollout: string;
  ring: string;
  traffic: number;
  /** ms when the ring started taking the new version */
  startedAt: number;
  /** ms when the new version stopped mattering (rolled back or kill switch), if it did */
  mitigatedAt: number | null;
}

export interface FleetSample {
  value: number;
  baseline: number;
}

export class SimulatedFleet {
  constructor(
    private readonly metrics: Record<string, MetricModel>,
    private readonly effects: readonly Effect[],
    private readonly recoverySeconds: number,
    private readonly rand: Random,
  ) {}

  metricNames(): string[] {
    return Object.keys(this.metrics);
  }

  unit(metric: string): string {
    return this.metrics[metric]?.unit ?? "";
  }

  /** Strength (0..1) of an effect at `now`: ramps in, then fades out after mitigation. */
  private strength(effect: Effect, exp: RingExposure, now: number): number {
    const begin = exp.startedAt + effect.at * 1000;
    if (now < begin) return 0;
    const ramp = effect.rampSeconds > 0 ? Math.min(1, (now - begin) / (effect.rampSeconds * 1000)) : 1;
    if (exp.mitigatedAt === null || now < exp.mitigatedAt) return ramp;
    const fade = this.recoverySeconds > 0 ? Math.max(0, 1 - (now - exp.mitigatedAt) / (this.recoverySeconds * 1000)) : 0;
    return ramp * fade;
  }

  private level(metric: string, model: MetricModel, exp: RingExposure | null, now: number): number {
    let base = model.baseline;
    if (model.perTraffic && exp) base = (model.baseline * exp.traffic) / 100;
    if (!exp) return base;
    let level = base;
    for (const ef of this.effects) {
      if (ef.rollout !== exp.rollout || ef.ring !== exp.ring || ef.metric !== metric) continue;
      const s = this.strength(ef, exp, now);
      if (s === 0) continue;
      const target = base * (ef.factor ?? 1) + (ef.delta ?? 0);
      level += (target - base) * s;
    }
    return level;
  }

  private noisy(level: number, model: MetricModel): number {
    let v = level * (1 + model.noise * gaussian(this.rand));
    if (model.min !== undefined) v = Math.max(model.min, v);
    else v = Math.max(0, v);
    if (model.max !== undefined) v = Math.min(model.max, v);
    return Math.round(v * 1000) / 1000;
  }

  /** One reading of `metric` in the exposed ring and outside it (the baseline). */
  sample(metric: string, exp: RingExposure, now: number): FleetSample {
    const model = this.metrics[metric];
    if (!model) throw new Error(`scenario has no model for metric ${metric}`);
    const value = this.noisy(this.level(metric, model, exp, now), model);
    const baselineLevel = model.perTraffic ? (model.baseline * exp.traffic) / 100 : model.baseline;
    const baseline = this.noisy(baselineLevel, model);
    return { value, baseline };
  }
}
