// Error-budget burn rate with the multiwindow, multi-burn-rate alerts of the
// Google SRE workbook (chapter "Alerting on SLOs"):
//
//   page   (critical)  burn > 14.4 over 1h AND over 5m   (2% of a 30-day budget in 1h)
//   page   (critical)  burn > 6    over 6h AND over 30m  (5% in 6h)
//   ticket (warning)   burn > 1    over 3d AND over 6h   (10% in 3d)
//
// burn = mean bad% over the window / budget%, where budget% = 100 - objective
// (99.9 => 0.1). A burn of 1 spends exactly the budget over the SLO period.
// The long window says "this matters"; the short one says "it is still happening".
//
// Each rule fires on its own: one "firing" transition when both its windows
// exceed the factor, one "resolved" when both are at or below it again (in
// between it keeps its state, so a rule does not flap on one noisy window).
// Two critical rules may both fire for one incident; whoever raises alerts
// decides whether to merge them by severity.
//
// windowScale multiplies every window (1/60 turns 1h into 1m) so a simulated
// incident shows its alerts in minutes; rule names keep the unscaled windows.
//
// Memory is bounded whatever the run length: samples are summed into
// fixed-width time buckets (width = shortest window / 10) and buckets older
// than the longest window are dropped, so at most longest/width = 8640 buckets
// are held. Window means use cumulative sums, so each observation costs
// O(log buckets) per window.

export type BurnSeverity = "critical" | "warning";

export interface BurnWindow {
  /** unscaled name, e.g. "1h" */
  name: string;
  seconds: number;
}

export interface BurnRule {
  /** e.g. "14.4x over 1h and 5m" */
  name: string;
  severity: BurnSeverity;
  factor: number;
  long: BurnWindow;
  short: BurnWindow;
}

export interface BurnTransition {
  kind: "firing" | "resolved";
  severity: BurnSeverity;
  rule: string;
  burnLong: number;
  burnShort: number;
}

export interface BurnRateOptions {
  /** SLO objective in percent of good events, e.g. 99.9 (budget 0.1 %) */
  objectivePercent: number;
  /** multiplies every window; 1 for real time, 1/60 to turn hours into minutes */
  windowScale: number;
}

export const BURN_WINDOWS: readonly BurnWindow[] = [
  { name: "5m", seconds: 5 * 60 },
  { name: "30m", seconds: 30 * 60 },
  { name: "1h", seconds: 3600 },
  { name: "6h", seconds: 6 * 3600 },
  { name: "3d", seconds: 3 * 86400 },
];

function win(name: string): BurnWindow {
  const w = BURN_WINDOWS.find((x) => x.name === name);
  if (!w) throw new Error(`unknown burn window ${name}`);
  return w;
}

function rule(severity: BurnSeverity, factor: number, long: string, short: string): BurnRule {
  return { name: `${factor}x over ${long} and ${short}`, severity, factor, long: win(long), short: win(short) };
}

export const BURN_RULES: readonly BurnRule[] = [
  rule("critical", 14.4, "1h", "5m"),
  rule("critical", 6, "6h", "30m"),
  rule("warning", 1, "3d", "6h"),
];

/** Buckets per shortest window: the short window's edge is exact to within a tenth of it. */
const BUCKETS_PER_SHORTEST_WINDOW = 10;

export class BurnRateTracker {
  readonly budgetPercent: number;
  private readonly bucketMs: number;
  /** window name -> its length in buckets */
  private readonly windowBuckets: ReadonlyMap<string, number>;
  private readonly longestBuckets: number;

  // Buckets live in parallel arrays from `head` on, oldest first. cumSum/cumCount
  // hold running totals through each bucket, so a window's sum is one subtraction.
  private keys: number[] = [];
  private cumSum: number[] = [];
  private cumCount: number[] = [];
  private head = 0;
  /** running totals through the last dropped bucket */
  private baseSum = 0;
  private baseCount = 0;
  /** bucket index of the latest observation (with or without data) */
  private nowKey = -Infinity;
  private readonly firing = new Map<string, boolean>();

  constructor(opts: BurnRateOptions) {
    const { objectivePercent, windowScale } = opts;
    if (!(objectivePercent > 0 && objectivePercent < 100))
      throw new RangeError(`objectivePercent must be above 0 and below 100, e.g. 99.9 (got ${objectivePercent})`);
    if (!(windowScale > 0 && Number.isFinite(windowScale))) throw new RangeError(`windowScale must be a number above 0, e.g. 1 or 1/60 (got ${windowScale})`);
    this.budgetPercent = 100 - objectivePercent;
    const shortest = Math.min(...BURN_WINDOWS.map((w) => w.seconds));
    this.bucketMs = (shortest * 1000 * windowScale) / BUCKETS_PER_SHORTEST_WINDOW;
    const buckets = new Map<string, number>();
    for (const w of BURN_WINDOWS) buckets.set(w.name, Math.max(1, Math.round((w.seconds * 1000 * windowScale) / this.bucketMs)));
    this.windowBuckets = buckets;
    this.longestBuckets = Math.max(...buckets.values());
    for (const r of BURN_RULES) this.firing.set(r.name, false);
  }

  /** buckets held now; never more than the longest window's bucket count */
  get bucketCount(): number {
    return this.keys.length - this.head;
  }

  /** the most buckets this tracker will ever hold */
  get maxBuckets(): number {
    return this.longestBuckets;
  }

  /**
   * Record one sample of the bad-event percentage (null: no data, which adds
   * nothing; the gate trackers are what treat missing data as failing) and
   * return the rules that started or stopped firing.
   */
  observe(timeMs: number, badPercent: number | null): BurnTransition[] {
    const key = Math.floor(timeMs / this.bucketMs);
    // A sample older than the newest bucket (clock skew) joins the newest bucket.
    if (key > this.nowKey) this.nowKey = key;
    if (badPercent !== null && Number.isFinite(badPercent)) this.add(Math.max(key, this.lastKey() ?? key), badPercent);
    this.evict();
    return this.evaluate();
  }

  /** Burn rate per window (unscaled names: "5m" ... "3d"); windows without any data are absent. */
  burnRates(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const w of BURN_WINDOWS) {
      const b = this.burn(w.name);
      if (!Number.isNaN(b)) out[w.name] = b;
    }
    return out;
  }

  /** the rules firing now, by name */
  firingRules(): string[] {
    return BURN_RULES.filter((r) => this.firing.get(r.name)).map((r) => r.name);
  }

  private lastKey(): number | undefined {
    return this.keys.length > this.head ? this.keys[this.keys.length - 1] : undefined;
  }

  private add(key: number, bad: number): void {
    const last = this.keys.length - 1;
    if (last >= this.head && this.keys[last] === key) {
      this.cumSum[last]! += bad;
      this.cumCount[last]! += 1;
      return;
    }
    const prevSum = last >= this.head ? this.cumSum[last]! : this.baseSum;
    const prevCount = last >= this.head ? this.cumCount[last]! : this.baseCount;
    this.keys.push(key);
    this.cumSum.push(prevSum + bad);
    this.cumCount.push(prevCount + 1);
  }

  private evict(): void {
    const oldestKept = this.nowKey - this.longestBuckets + 1;
    while (this.head < this.keys.length && this.keys[this.head]! < oldestKept) {
      this.baseSum = this.cumSum[this.head]!;
      this.baseCount = this.cumCount[this.head]!;
      this.head++;
    }
    // Compact now and then: drop the dead prefix and rebase the running totals
    // so they stay small (float precision) however long the run.
    if (this.head > 64 && this.head * 2 > this.keys.length) {
      const baseSum = this.baseSum;
      const baseCount = this.baseCount;
      this.keys = this.keys.slice(this.head);
      this.cumSum = this.cumSum.slice(this.head).map((s) => s - baseSum);
      this.cumCount = this.cumCount.slice(this.head).map((c) => c - baseCount);
      this.head = 0;
      this.baseSum = 0;
      this.baseCount = 0;
    }
  }

  /** mean bad% over the window, NaN when no bucket holds data */
  private windowMean(name: string): number {
    const end = this.keys.length - 1;
    if (end < this.head) return NaN;
    const firstKey = this.nowKey - this.windowBuckets.get(name)! + 1;
    // First bucket at or after firstKey; a window shorter than the sample
    // interval would be empty, so it falls back to the newest sample.
    let lo = this.head;
    let hi = end + 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid]! < firstKey) lo = mid + 1;
      else hi = mid;
    }
    const first = Math.min(lo, end);
    const sumBefore = first > this.head ? this.cumSum[first - 1]! : this.baseSum;
    const countBefore = first > this.head ? this.cumCount[first - 1]! : this.baseCount;
    return (this.cumSum[end]! - sumBefore) / (this.cumCount[end]! - countBefore);
  }

  private burn(name: string): number {
    return this.windowMean(name) / this.budgetPercent;
  }

  private evaluate(): BurnTransition[] {
    const out: BurnTransition[] = [];
    for (const r of BURN_RULES) {
      const burnLong = this.burn(r.long.name);
      const burnShort = this.burn(r.short.name);
      const wasFiring = this.firing.get(r.name)!;
      // NaN (no data) compares false: it neither fires nor holds a rule firing.
      if (!wasFiring && burnLong > r.factor && burnShort > r.factor) {
        this.firing.set(r.name, true);
        out.push({ kind: "firing", severity: r.severity, rule: r.name, burnLong, burnShort });
      } else if (wasFiring && !(burnLong > r.factor) && !(burnShort > r.factor)) {
        this.firing.set(r.name, false);
        out.push({ kind: "resolved", severity: r.severity, rule: r.name, burnLong, burnShort });
      }
    }
    return out;
  }
}

// ---- error budget consumed (post-mortems) -------------------------------------

/** One stretch of time at one bad-event percentage. */
export interface BudgetSample {
  /** percent of bad events (0..100); null: no data, which spends nothing */
  badPercent: number | null;
  /** how long this level held, in seconds */
  seconds: number;
}

export interface BudgetPeriod {
  /** SLO objective in percent of good events, e.g. 99.9 */
  objectivePercent: number;
  /** the SLO period the budget covers, in seconds (30 days = 2_592_000) */
  periodSeconds: number;
}

export const THIRTY_DAYS_SECONDS = 30 * 86400;

/**
 * The share of the error budget, in percent, that the samples spent.
 *
 * The budget over the period is (100 - objective)% of its requests. Assuming
 * a steady request rate, a stretch of `seconds` at `badPercent` spends
 * badPercent/100 * seconds "fully-bad seconds", and the whole budget is
 * (100 - objective)/100 * periodSeconds of them. So 10 minutes at 5% bad
 * against 99.9% over 30 days spends 30 s of 2592 s: 1.16%. Above 100 the
 * budget is overspent.
 */
export function budgetConsumedPercent(samples: Iterable<BudgetSample>, period: BudgetPeriod): number {
  const { objectivePercent, periodSeconds } = period;
  if (!(objectivePercent > 0 && objectivePercent < 100)) throw new RangeError(`objectivePercent must be above 0 and below 100 (got ${objectivePercent})`);
  if (!(periodSeconds > 0)) throw new RangeError(`periodSeconds must be above 0 (got ${periodSeconds})`);
  let badSeconds = 0;
  for (const s of samples) {
    if (s.badPercent === null || !Number.isFinite(s.badPercent) || !(s.seconds > 0)) continue;
    badSeconds += (Math.min(100, Math.max(0, s.badPercent)) / 100) * s.seconds;
  }
  const budgetSeconds = ((100 - objectivePercent) / 100) * periodSeconds;
  return (badSeconds / budgetSeconds) * 100;
}

/**
 * Turn time-stamped readings (e.g. sli.sample events) into budget samples:
 * each reading holds until the next one, at most `maxGapSeconds` (a longer
 * gap is missing data, not a long stretch at the last level); the last
 * reading holds for `lastSeconds`. Readings must be in time order.
 */
export function weightSeries(
  points: readonly { timeMs: number; value: number | null }[],
  opts: { lastSeconds: number; maxGapSeconds?: number },
): BudgetSample[] {
  const maxGap = opts.maxGapSeconds ?? Infinity;
  return points.map((p, i) => {
    const next = points[i + 1];
    const held = next ? Math.max(0, (next.timeMs - p.timeMs) / 1000) : opts.lastSeconds;
    return { badPercent: p.value, seconds: Math.min(held, maxGap) };
  });
}
