import { describe, expect, it } from "vitest";
import { formatNumber, formatPercent } from "../../src/render/number.js";

describe("formatNumber", () => {
  it.each([
    [63.2, "63.2"],
    [63.2456, "63.2"],
    [0.12, "0.12"],
    [0.1234, "0.123"],
    [0.0012345, "0.00123"],
    [50, "50"],
    [-3, "-3"],
    [1234.56, "1235"],
    [999.95, "1000"],
    [1.005, "1"],
    [-0.0001, "-0.0001"],
  ])("%d -> %s", (v, text) => {
    expect(formatNumber(v)).toBe(text);
  });

  it("shows — for no number", () => {
    expect(formatNumber(null)).toBe("—");
    expect(formatNumber(undefined)).toBe("—");
    expect(formatNumber(NaN)).toBe("—");
    expect(formatNumber(Infinity)).toBe("—");
  });
});

describe("formatPercent", () => {
  it("adds % to a value already in percent units", () => {
    expect(formatPercent(0.12)).toBe("0.12%");
    expect(formatPercent(100)).toBe("100%");
    expect(formatPercent(null)).toBe("—");
  });
});
