// Reconnect delays: exponential growth with "full jitter" (a uniformly random
// wait between 0 and the exponential cap). Jitter spreads a crowd of cockpits
// that lost the same server so they do not all come back in the same instant.
// Randomness is injected so tests can pin the sequence.

export interface BackoffOptions {
  /** cap of the first wait, in ms */
  initialMs: number;
  /** largest cap any wait can have, in ms */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 10_000 };

export class Backoff {
  private failures = 0;

  constructor(
    private readonly opts: BackoffOptions,
    private readonly random: () => number,
  ) {
    if (!(Number.isFinite(opts.initialMs) && opts.initialMs > 0))
      throw new RangeError(`backoff.initialMs: must be a positive number of ms, got ${opts.initialMs}`);
    if (!(Number.isFinite(opts.maxMs) && opts.maxMs >= opts.initialMs))
      throw new RangeError(`backoff.maxMs: must be a number of ms >= initialMs (${opts.initialMs}), got ${opts.maxMs}`);
  }

  /** Waits handed out since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The cap for the next wait: initialMs doubled per failure, never above maxMs. */
  cap(): number {
    // Stop doubling once past the cap so a long outage cannot overflow to Infinity.
    const exp = Math.min(this.failures, 52);
    return Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** exp);
  }

  /** The next wait in ms (uniform in [0, cap]) and one more failure counted. */
  next(): number {
    const r = this.random();
    // A broken random source (NaN, outside [0,1)) must not produce a NaN timer.
    const u = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 1;
    const wait = Math.round(u * this.cap());
    this.failures += 1;
    return wait;
  }

  /** After a connection that stayed up: start again from initialMs. */
  reset(): void {
    this.failures = 0;
  }
}
