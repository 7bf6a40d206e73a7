import { describe, expect, it } from "vitest";
import {
  BURN_RULES,
  BurnRateTracker,
  THIRTY_DAYS_SECONDS,
  budgetConsumedPercent,
  weightSeries,
  type BurnTransition,
} from "../../src/domain/burnrate.js";

// objective 99.9 => budget 0.1%, so bad% = burn * 0.1
const BUDGET = 0.1;

interface Fed {
  timeMs: number;
  transitions: BurnTransition[];
}

function feed(t: BurnRateTracker, fromMs: number, count: number, stepMs: number, badPercent: number | null): Fed[] {
  const out: Fed[] = [];
  for (let i = 0; i < count; i++) {
    const timeMs = fromMs + i * stepMs;
    const transitions = t.observe(timeMs, badPercent);
    if (transitions.length > 0) out.push({ timeMs, transitions });
  }
  return out;
}

function kinds(fed: Fed[]): string[] {
  return fed.flatMap((f) => f.transitions.map((x) => `${x.kind} ${x.rule}`));
}

describe("BurnRateTracker", () => {
  it("names its rules as the SRE workbook does, unscaled", () => {
    expect(BURN_RULES.map((r) => [r.name, r.severity])).toEqual([
      ["14.4x over 1h and 5m", "critical"],
      ["6x over 6h and 30m", "critical"],
      ["1x over 3d and 6h", "warning"],
    ]);
  });

  it("fires on a steady 20x burn, once per rule, and resolves each once it stops", () => {
    const t = new BurnRateTracker({ objectivePercent: 99.9, windowScale: 1 / 60 });
    const burning = feed(t, 0, 600, 1000, 20 * BUDGET); // 10 simulated minutes = 10 scaled hours
    expect(kinds(burning)).toEqual(["firing 14.4x over 1h and 5m", "firing 6x over 6h and 30m", "firing 1x over 3d and 6h"]);
    const first = burning[0]!.transitions[0]!;
    expect(first.severity).toBe("critical");
    expect(first.burnLong).toBeCloseTo(20, 6);
    expect(first.burnShort).toBeCloseTo(20, 6);
    expect(t.firingRules()).toHaveLength(3);

    const calm = feed(t, 600_000, 3 * 3600, 1000, 0);
    expect(kinds(calm)).toEqual(["resolved 14.4x over 1h and 5m", "resolved 6x over 6h and 30m", "resolved 1x over 3d and 6h"]);
    for (const f of calm) for (const x of f.transitions) {
      expect(x.burnLong).toBeLessThanOrEqual(BURN_RULES.find((r) => r.name === x.rule)!.factor);
      expect(x.burnShort).toBeLessThanOrEqual(BURN_RULES.find((r) => r.name === x.rule)!.factor);
    }
    expect(t.firingRules()).toEqual([]);
    // the 1h window (scaled: the last 60 samples) holds 43 bad ones at the 17th zero: 20 * 43/60 = 14.33
    expect(calm[0]!.timeMs - 600_000).toBe(16_000);
  });

  it("never fires at a 0.5x burn, however long", () => {
    const t = new BurnRateTracker({ objectivePercent: 99.9, windowScale: 1 / 60 });
    expect(feed(t, 0, 20_000, 1000, 0.5 * BUDGET)).toEqual([]);
    expect(t.burnRates()["3d"]).toBeCloseTo(0.5, 6);
  });

  it("never fires on a burn just under each factor", () => {
    const t = new BurnRateTracker({ objectivePercent: 99, windowScale: 1 / 60 });
    expect(feed(t, 0, 5000, 1000, 0.99)).toEqual([]); // burn 0.99 with a 1% budget
  });

  it("keeps a rule firing while only one of its windows dropped (no flapping)", () => {
    const t = new BurnRateTracker({ objectivePercent: 99.9, windowScale: 1 / 60 });
    feed(t, 0, 600, 1000, 20 * BUDGET);
    // 10 s of zeros: the 5m window (5 s scaled) is at 0, the 1h one still above 14.4
    const calm = feed(t, 600_000, 10, 1000, 0);
    expect(calm).toEqual([]);
    expect(t.burnRates()["5m"]).toBe(0);
    expect(t.burnRates()["1h"]!).toBeGreaterThan(14.4);
    expect(t.firingRules()).toContain("14.4x over 1h and 5m");
  });

  it("scales every window: the 1h rule fires on the 44th bad sample of 60 at any scale", () => {
    // 44/60 * 20 = 14.67 > 14.4 while 43/60 * 20 = 14.33 is not.
    for (const [scale, stepMs] of [
      [1 / 60, 1000],
      [1, 60_000],
    ] as const) {
      const t = new BurnRateTracker({ objectivePercent: 99.9, windowScale: scale });
      // fill every window with good data first (3d scaled)
      const fillSamples = Math.ceil((3 * 86400 * 1000 * scale) / stepMs) + 10;
      expect(feed(t, 0, fillSamples, stepMs, 0)).toEqual([]);
      const start = fillSamples * stepMs;
      const fired = feed(t, start, 100, stepMs, 20 * BUDGET);
      const page = fired.find((f) => f.transitions.some((x) => x.rule === "14.4x over 1h and 5m"));
      expect(page, `scale ${scale}`).toBeDefined();
      expect((page!.timeMs - start) / stepMs).toBe(43);
    }
  });

  it("uses the newest sample when a scaled window is shorter than the sample interval", () => {
    const t = new BurnRateTracker({ objectivePercent: 99.9, windowScale: 1 / 60 }); // 5m => 5 s
    t.observe(0, 0);
    t.observe(10_000, 0.3); // 10 s apart: the 5 s window holds only this one
    expect(t.burnRates()["5m"]).toBeCloseTo(3, 6);
    expect(t.burnRates()["1h"]).toBeCloseTo(1.5, 6);
  });

  it("uses what it has when a window holds less data than its length", () => {
    const t = new BurnRateTracker({ objectivePercent: 99.9, windowScale: 1 });
    t.observe(0, 0.2);
    const rates = t.burnRates();
    expect(Object.keys(rates)).toEqual(["5m", "30m", "1h", "6h", "3d"]);
    for (const v of Object.values(rates)) expect(v).toBeCloseTo(2, 6);
  });

  it("adds nothing for missing samples and shows no rate without data", () => {
    const t = new BurnRateTracker({ objectivePercent: 99.9, windowScale: 1 / 60 });
    expect(feed(t, 0, 100, 1000, null)).toEqual([]);
    expect(t.burnRates()).toEqual({});
    expect(t.bucketCount).toBe(0);
  });

  it("stops counting data older than the longest window", () => {
    const t = new BurnRateTracker({ objectivePercent: 99.9, windowScale: 1 / 60 }); // 3d => 72 min
    t.observe(0, 5);
    t.observe(73 * 60_000, null);
    expect(t.burnRates()).toEqual({});
  });

  it("keeps memory bounded over a very long run", () => {
    const t = new BurnRateTracker({ objectivePercent: 99.9, windowScale: 1 });
    let peak = 0;
    // 10 days (over three times the longest window) of one sample every 5 s, with a burst every day
    for (let i = 0; i < (10 * 86400) / 5; i++) {
      const timeMs = i * 5000;
      t.observe(timeMs, i % 17280 < 200 ? 3 : 0.01);
      peak = Math.max(peak, t.bucketCount);
    }
    expect(t.maxBuckets).toBe(8640);
    expect(peak).toBeLessThanOrEqual(t.maxBuckets);
    // the arrays behind the buckets are compacted too, not just the live count
    const internals = t as unknown as { keys: number[]; cumSum: number[] };
    expect(internals.keys.length).toBeLessThanOrEqual(2 * t.maxBuckets + 64);
    expect(internals.cumSum.length).toBe(internals.keys.length);
    // and the totals stay exact after many compactions: the last 5 min is all 0.01%
    expect(t.burnRates()["5m"]).toBeCloseTo(0.1, 9);
  });

  it("puts a late sample into the newest bucket instead of rewriting history", () => {
    const t = new BurnRateTracker({ objectivePercent: 99.9, windowScale: 1 });
    t.observe(600_000, 0.1);
    t.observe(0, 0.3);
    expect(t.bucketCount).toBe(1);
    expect(t.burnRates()["5m"]).toBeCloseTo(2, 6);
  });

  it("refuses an objective outside (0, 100) and a scale of 0 or less", () => {
    expect(() => new BurnRateTracker({ objectivePercent: 100, windowScale: 1 })).toThrow(/objectivePercent must be above 0 and below 100/);
    expect(() => new BurnRateTracker({ objectivePercent: 0, windowScale: 1 })).toThrow(RangeError);
    expect(() => new BurnRateTracker({ objectivePercent: 99.9, windowScale: 0 })).toThrow(/windowScale must be a number above 0/);
    expect(() => new BurnRateTracker({ objectivePercent: 99.9, windowScale: Number.NaN })).toThrow(RangeError);
  });
});

describe("budgetConsumedPercent", () => {
  const period = { objectivePercent: 99.9, periodSeconds: THIRTY_DAYS_SECONDS };

  it("charges bad% times duration against the budget of the period", () => {
    // 10 min at 5% bad = 30 bad-seconds; budget = 0.1% of 30 days = 2592 s
    expect(budgetConsumedPercent([{ badPercent: 5, seconds: 600 }], period)).toBeCloseTo((30 / 2592) * 100, 9);
  });

  it("reaches 100% for a full outage as long as the budget", () => {
    expect(budgetConsumedPercent([{ badPercent: 100, seconds: 2592 }], period)).toBeCloseTo(100, 9);
  });

  it("adds up samples and skips missing data", () => {
    const samples = [
      { badPercent: 1, seconds: 60 },
      { badPercent: null, seconds: 600 },
      { badPercent: 2, seconds: 30 },
      { badPercent: Number.NaN, seconds: 30 },
    ];
    expect(budgetConsumedPercent(samples, period)).toBeCloseTo(((0.6 + 0.6) / 2592) * 100, 9);
  });

  it("is 0 without bad events", () => {
    expect(budgetConsumedPercent([], period)).toBe(0);
    expect(budgetConsumedPercent([{ badPercent: 0, seconds: 1e6 }], period)).toBe(0);
  });

  it("refuses a period or objective that leaves no budget", () => {
    expect(() => budgetConsumedPercent([], { objectivePercent: 100, periodSeconds: 1 })).toThrow(RangeError);
    expect(() => budgetConsumedPercent([], { objectivePercent: 99, periodSeconds: 0 })).toThrow(/periodSeconds/);
  });
});

describe("weightSeries", () => {
  it("holds each reading until the next, and the last for lastSeconds", () => {
    const out = weightSeries(
      [
        { timeMs: 0, value: 1 },
        { timeMs: 5000, value: 2 },
        { timeMs: 15_000, value: null },
      ],
      { lastSeconds: 5 },
    );
    expect(out).toEqual([
      { badPercent: 1, seconds: 5 },
      { badPercent: 2, seconds: 10 },
      { badPercent: null, seconds: 5 },
    ]);
  });

  it("caps a gap at maxGapSeconds", () => {
    const out = weightSeries(
      [
        { timeMs: 0, value: 50 },
        { timeMs: 3_600_000, value: 0 },
      ],
      { lastSeconds: 5, maxGapSeconds: 10 },
    );
    expect(out[0]).toEqual({ badPercent: 50, seconds: 10 });
  });
});
