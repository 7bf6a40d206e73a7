import { describe, expect, it } from "vitest";
import { parseAssertion, type Assertion } from "../../src/domain/assertion.js";
import { GateTracker, type GateTransition } from "../../src/domain/gate.js";

function assertion(text: string): Assertion {
  const r = parseAssertion(text);
  if (!r.ok) throw new Error(r.error.message);
  return r.assertion;
}

const PASS = 40;
const FAIL = 70;

/** Feed values every `stepMs`, returning each observation's transition (or null). */
function run(g: GateTracker, values: (number | null)[], stepMs = 5000, startMs = 0): (GateTransition | null)[] {
  return values.map((v, i) => g.observe(startMs + i * stepMs, v, null));
}

describe("GateTracker without a for window", () => {
  it("never breaches when pass and fail alternate (the flapping guard)", () => {
    const g = new GateTracker(assertion("p99 < 50"), { breachAfter: 3 });
    const values = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? FAIL : PASS));
    expect(run(g, values).filter((t) => t !== null)).toEqual([]);
    expect(g.state).toBe("ok");
  });

  it("never breaches on two failures in a row, again and again", () => {
    const g = new GateTracker(assertion("p99 < 50"), { breachAfter: 3 });
    const values = Array.from({ length: 90 }, (_, i) => (i % 3 === 2 ? PASS : FAIL));
    expect(run(g, values).every((t) => t === null)).toBe(true);
  });

  it("breaches on the Nth consecutive failure, once", () => {
    const g = new GateTracker(assertion("p99 < 50"), { breachAfter: 3 });
    const out = run(g, [FAIL, FAIL, FAIL, FAIL, FAIL]);
    expect(out[0]).toBeNull();
    expect(out[1]).toBeNull();
    expect(out[2]).toEqual({ kind: "breached", value: FAIL, threshold: 50, consecutive: 3, noData: false });
    expect(out[3]).toBeNull();
    expect(out[4]).toBeNull();
    expect(g.state).toBe("breached");
    expect(g.lastThreshold).toBe(50);
  });

  it("defaults breachAfter to 3", () => {
    const g = new GateTracker(assertion("p99 < 50"));
    const out = run(g, [FAIL, FAIL, FAIL]);
    expect(out.map((t) => t?.kind ?? null)).toEqual([null, null, "breached"]);
  });

  it("honours other breachAfter values", () => {
    const one = new GateTracker(assertion("p99 < 50"), { breachAfter: 1 });
    expect(one.observe(0, FAIL, null)?.kind).toBe("breached");
    const five = new GateTracker(assertion("p99 < 50"), { breachAfter: 5 });
    expect(run(five, [FAIL, FAIL, FAIL, FAIL, FAIL]).map((t) => t?.kind ?? null)).toEqual([null, null, null, null, "breached"]);
  });

  it("restarts the count after a pass", () => {
    const g = new GateTracker(assertion("p99 < 50"), { breachAfter: 3 });
    const out = run(g, [FAIL, FAIL, PASS, FAIL, FAIL, FAIL]);
    expect(out.map((t) => t?.kind ?? null)).toEqual([null, null, null, null, null, "breached"]);
  });

  it("recovers after as many consecutive passes, once", () => {
    const g = new GateTracker(assertion("p99 < 50"), { breachAfter: 3 });
    run(g, [FAIL, FAIL, FAIL]);
    const out = run(g, [PASS, PASS, FAIL, PASS, PASS, PASS, PASS], 5000, 15_000);
    expect(out.map((t) => t?.kind ?? null)).toEqual([null, null, null, null, null, "recovered", null]);
    expect(out[5]).toEqual({ kind: "recovered", value: PASS, threshold: 50, consecutive: 3, noData: false });
    expect(g.state).toBe("ok");
  });

  it("can breach again after recovering", () => {
    const g = new GateTracker(assertion("p99 < 50"), { breachAfter: 2 });
    const out = run(g, [FAIL, FAIL, PASS, PASS, FAIL, FAIL]);
    expect(out.map((t) => t?.kind ?? null)).toEqual([null, "breached", null, "recovered", null, "breached"]);
  });

  it("counts missing data as failing and says so", () => {
    const g = new GateTracker(assertion("p99 < 50"), { breachAfter: 3 });
    const out = run(g, [null, Number.NaN, null]);
    expect(out[2]).toEqual({ kind: "breached", value: null, threshold: 50, consecutive: 3, noData: true });
  });

  it("reports noData false when the breaching observation had data", () => {
    const g = new GateTracker(assertion("p99 < 50"), { breachAfter: 3 });
    const out = run(g, [null, null, FAIL]);
    expect(out[2]).toMatchObject({ kind: "breached", noData: false, value: FAIL });
  });

  it("does not recover on missing data", () => {
    const g = new GateTracker(assertion("p99 < 50"), { breachAfter: 2 });
    run(g, [FAIL, FAIL]);
    expect(run(g, [null, null, null, null], 5000, 10_000).every((t) => t === null)).toBe(true);
    expect(g.state).toBe("breached");
  });

  it("treats a baseline assertion without a baseline as no data", () => {
    const g = new GateTracker(assertion("p99 < baseline * 1.2"), { breachAfter: 2 });
    expect(g.observe(0, 10, null)).toBeNull();
    expect(g.lastThreshold).toBeNull();
    expect(g.observe(5000, 10, null)).toEqual({ kind: "breached", value: 10, threshold: null, consecutive: 2, noData: true });
    expect(g.observe(10_000, 10, 50)).toBeNull();
    expect(g.lastThreshold).toBe(60);
    expect(g.observe(15_000, 10, 50)?.kind).toBe("recovered");
  });

  it("refuses a breachAfter below 1 or not whole", () => {
    expect(() => new GateTracker(assertion("p < 1"), { breachAfter: 0 })).toThrow(RangeError);
    expect(() => new GateTracker(assertion("p < 1"), { breachAfter: 1.5 })).toThrow(/breachAfter must be a whole number/);
  });
});

describe("GateTracker with a for window", () => {
  it("breaches only when the failure held for the whole window", () => {
    const g = new GateTracker(assertion("p99 < 50 for 30s"), { breachAfter: 3 });
    // failing at 0, 10, 20 s: only 20 s of failure so far
    expect(run(g, [FAIL, FAIL, FAIL], 10_000).every((t) => t === null)).toBe(true);
    // at 30 s the streak started 30 s ago
    expect(g.observe(30_000, FAIL, null)).toEqual({ kind: "breached", value: FAIL, threshold: 50, consecutive: 4, noData: false });
  });

  it("ignores breachAfter when a for window is given", () => {
    const g = new GateTracker(assertion("p99 < 50 for 1m"), { breachAfter: 2 });
    const out = run(g, [FAIL, FAIL, FAIL, FAIL, FAIL, FAIL, FAIL], 10_000);
    expect(out.map((t) => t?.kind ?? null)).toEqual([null, null, null, null, null, null, "breached"]);
  });

  it("restarts the window on a pass", () => {
    const g = new GateTracker(assertion("p99 < 50 for 30s"));
    const out = run(g, [FAIL, FAIL, FAIL, PASS, FAIL, FAIL, FAIL, FAIL], 10_000);
    // the second streak starts at 40 s and reaches 30 s at 70 s
    expect(out.map((t) => t?.kind ?? null)).toEqual([null, null, null, null, null, null, null, "breached"]);
  });

  it("needs at least two observations even when samples are sparser than the window", () => {
    const g = new GateTracker(assertion("p99 < 50 for 10s"));
    expect(g.observe(0, FAIL, null)).toBeNull();
    expect(g.observe(60_000, FAIL, null)).toMatchObject({ kind: "breached", consecutive: 2 });
  });

  it("never breaches while pass and fail alternate", () => {
    const g = new GateTracker(assertion("p99 < 50 for 10s"));
    const values = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? FAIL : PASS));
    expect(run(g, values, 20_000).every((t) => t === null)).toBe(true);
  });

  it("recovers after the window of passes", () => {
    const g = new GateTracker(assertion("p99 < 50 for 20s"));
    run(g, [FAIL, FAIL, FAIL], 10_000);
    expect(g.state).toBe("breached");
    const out = run(g, [PASS, PASS, PASS, PASS], 10_000, 30_000);
    expect(out.map((t) => t?.kind ?? null)).toEqual([null, null, "recovered", null]);
    expect(out[2]).toMatchObject({ consecutive: 3, value: PASS });
  });

  it("counts missing data as failing inside the window", () => {
    const g = new GateTracker(assertion("p99 < 50 for 20s"));
    const out = run(g, [FAIL, null, null], 10_000);
    expect(out[2]).toEqual({ kind: "breached", value: null, threshold: 50, consecutive: 3, noData: true });
  });
});
