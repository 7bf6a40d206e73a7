import { evaluateAssertion, type Assertion } from "./assertion.js";

// The flapping guard: one GateTracker watches one assertion in one ring and
// turns a stream of evaluations into rare, meaningful transitions.
//
// - Without "for": a breach needs `breachAfter` consecutive failing
//   observations; recovery needs as many consecutive passing ones.
// - With "for W": the failure must hold continuously for at least W seconds
//   (the streak's first failing observation at least W before this one) and
//   over at least 2 observations, so a single sample can never breach even
//   when samples are sparser than W. Recovery mirrors it with passes.
// - no_data counts as failing (missing data is never green), and a transition
//   it causes says noData: true.
// - Each transition is reported once: further failures while breached (or
//   passes while ok) return null.

export interface GateOptions {
  /** consecutive failing evaluations before an assertion without "for" breaches (default 3) */
  breachAfter?: number;
}

export interface GateTransition {
  kind: "breached" | "recovered";
  value: number | null;
  threshold: number | null;
  /** length of the streak that caused the transition, in observations */
  consecutive: number;
  noData: boolean;
}

export type GateState = "ok" | "breached";

export const DEFAULT_BREACH_AFTER = 3;

interface Streak {
  count: number;
  /** time of the streak's first observation */
  sinceMs: number;
}

export class GateTracker {
  private current: GateState = "ok";
  /** the streak that argues for leaving the current state (failures when ok, passes when breached) */
  private streak: Streak | null = null;
  private threshold: number | null = null;
  private readonly breachAfter: number;
  private readonly forMs: number | null;

  constructor(
    readonly assertion: Assertion,
    opts: GateOptions = {},
  ) {
    const n = opts.breachAfter ?? DEFAULT_BREACH_AFTER;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`breachAfter must be a whole number of at least 1 (got ${n})`);
    this.breachAfter = n;
    this.forMs = assertion.forSeconds === null ? null : assertion.forSeconds * 1000;
  }

  get state(): GateState {
    return this.current;
  }

  /** the threshold of the latest evaluation (null before any, or when the baseline was missing) */
  get lastThreshold(): number | null {
    return this.threshold;
  }

  /** observations so far in the streak that would change the state */
  get pendingStreak(): number {
    return this.streak?.count ?? 0;
  }

  observe(timeMs: number, value: number | null, baseline: number | null): GateTransition | null {
    const { status, threshold } = evaluateAssertion(this.assertion, value, baseline);
    this.threshold = threshold;
    const failing = status !== "pass";
    // An observation agreeing with the current state ends any streak against it.
    const againstState = this.current === "ok" ? failing : !failing;
    if (!againstState) {
      this.streak = null;
      return null;
    }
    this.streak = this.streak ? { count: this.streak.count + 1, sinceMs: this.streak.sinceMs } : { count: 1, sinceMs: timeMs };
    if (!this.streakIsEnough(this.streak, timeMs)) return null;

    const consecutive = this.streak.count;
    this.streak = null;
    this.current = this.current === "ok" ? "breached" : "ok";
    return {
      kind: this.current === "breached" ? "breached" : "recovered",
      value: value !== null && Number.isFinite(value) ? value : null,
      threshold,
      consecutive,
      noData: status === "no_data",
    };
  }

  private streakIsEnough(streak: Streak, nowMs: number): boolean {
    if (this.forMs === null) return streak.count >= this.breachAfter;
    return streak.count >= 2 && nowMs - streak.sinceMs >= this.forMs;
  }
}
