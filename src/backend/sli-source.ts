import type { RingExposure } from "./fleet.js";
import { SimulatedFleet } from "./fleet.js";
import type { SampleReading } from "./engine.js";

// Where SLI readings come from. The simulated fleet is one source; Prometheus
// is another. A source reads outside the backend's serial queue (a slow query
// must not hold up commands); the readings are then written in one batch.

export interface Exposure extends RingExposure {
  tenant: string;
}

export interface SourceHealth {
  name: string;
  ok: boolean;
  /** why it is not ok, in a sentence */
  message?: string;
}

/**
 * A read that failed, wholly or in part. `message` says why in a sentence a
 * person can act on; `kind` is a short stable key, so the backend reports the
 * same failure once rather than at every interval; `readings` are whatever
 * could still be read. Any other error thrown by `read` counts as a whole failure.
 */
export class SourceReadError extends Error {
  override name = "SourceReadError";
  constructor(
    message: string,
    readonly kind: string,
    readonly readings: SampleReading[] = [],
  ) {
    super(message);
  }
}

export interface SliSource {
  readonly name: string;
  /**
   * Readings for the exposed rings at simulated time `t`; value null means the
   * source answered "no data". Throw (SourceReadError, or any error) when the
   * source could not answer: no reading is evidence of nothing, so rings hold.
   */
  read(exposures: readonly Exposure[], t: number): Promise<SampleReading[]>;
  health(): SourceHealth;
  close?(): Promise<void>;
}

/** The simulated fleet as a source: every metric of its model, for every exposed ring. */
export class FleetSource implements SliSource {
  readonly name = "simulated-fleet";
  constructor(private readonly fleet: SimulatedFleet) {}

  async read(exposures: readonly Exposure[], t: number): Promise<SampleReading[]> {
    const out: SampleReading[] = [];
    for (const exp of exposures) {
      for (const metric of this.fleet.metricNames()) {
        const s = this.fleet.sample(metric, exp, t);
        out.push({ rollout: exp.rollout, ring: exp.ring, metric, value: s.value, unit: this.fleet.unit(metric), baseline: s.baseline });
      }
    }
    return out;
  }

  health(): SourceHealth {
    return { name: this.name, ok: true };
  }
}
