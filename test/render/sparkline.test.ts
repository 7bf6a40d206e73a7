import { describe, expect, it } from "vitest";
import { sparkline } from "../../src/render/sparkline.js";

describe("sparkline", () => {
  it("maps the lowest value to ▁ and the highest to █", () => {
    expect(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 8).text).toBe("▁▂▃▄▅▆▇█");
  });

  it("shows only the newest `width` samples, oldest on the left", () => {
    expect(sparkline([7, 7, 7, 0, 7], 2).text).toBe("▁█");
    expect(sparkline([1, 2, 3], 10).text).toBe("▁▅█");
  });

  it("draws NaN (and other non-numbers) as · and never marks it as a breach", () => {
    const s = sparkline([0, NaN, 7, Infinity, null as unknown as number], 5, { threshold: 5 });
    expect(s.text).toBe("▁·█··");
    expect(s.breachMask).toEqual([false, false, true, false, false]);
  });

  it("draws a series with no data at all as dots", () => {
    expect(sparkline([NaN, NaN], 4)).toEqual({ text: "··", breachMask: [false, false] });
  });

  it("draws a flat series at the bottom", () => {
    expect(sparkline([5, 5, 5], 3).text).toBe("▁▁▁");
  });

  it("stretches the scale to take in the threshold, so distance from it shows", () => {
    // Values 10..12 under a threshold of 50: low bars, not a full-height swing.
    const s = sparkline([10, 11, 12], 3, { threshold: 50 });
    expect(s.text).toBe("▁▁▁");
    expect(s.thresholdLevel).toBe(7);
    expect(s.breachMask).toEqual([false, false, false]);
  });

  it("marks cells over the threshold by default", () => {
    const s = sparkline([40, 50, 63.2], 3, { threshold: 50 });
    expect(s.text).toBe("▁▄█");
    expect(s.breachMask).toEqual([false, false, true]);
  });

  it("follows the passing condition given by thresholdOp", () => {
    const values = [40, 50, 60];
    expect(sparkline(values, 3, { threshold: 50, thresholdOp: "<" }).breachMask).toEqual([false, true, true]);
    expect(sparkline(values, 3, { threshold: 50, thresholdOp: "<=" }).breachMask).toEqual([false, false, true]);
    // Lower-bound SLOs (success_rate >= 99.5): breaches are under the threshold.
    expect(sparkline(values, 3, { threshold: 50, thresholdOp: ">=" }).breachMask).toEqual([true, false, false]);
    expect(sparkline(values, 3, { threshold: 50, thresholdOp: ">" }).breachMask).toEqual([true, true, false]);
  });

  it("uses a fixed scale when min and max are given, clamping values outside it", () => {
    const s = sparkline([-5, 0, 50, 100, 150], 5, { min: 0, max: 100 });
    expect(s.text).toBe("▁▁▅██");
  });

  it("gives an empty line for width 0 or no samples", () => {
    expect(sparkline([1, 2], 0)).toEqual({ text: "", breachMask: [] });
    expect(sparkline([], 10)).toEqual({ text: "", breachMask: [] });
  });

  it("reads typed arrays", () => {
    expect(sparkline(new Float64Array([0, 7]), 2).text).toBe("▁█");
  });
});
