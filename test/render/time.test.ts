import { describe, expect, it } from "vitest";
import { formatAge, formatClock, formatCountdown, formatDuration, toEpochMs } from "../../src/render/time.js";

const NOW = Date.parse("2026-11-21T14:05:40.000Z");

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [999, "0s"],
    [12_000, "12s"],
    [59_999, "59s"],
    [60_000, "1m00s"],
    [192_000, "3m12s"],
    [3_599_000, "59m59s"],
    [3_600_000, "1h00m"],
    [3_840_000, "1h04m"],
    [86_399_000, "23h59m"],
    [90_000_000, "1d01h"],
    [-5_000, "-5s"],
    [-500, "0s"],
    [NaN, "—"],
    [Infinity, "—"],
  ])("%d ms -> %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe("formatClock", () => {
  it("shows the UTC time of day of an ISO timestamp or epoch ms", () => {
    expect(formatClock("2026-11-21T14:05:40.123Z")).toBe("14:05:40");
    expect(formatClock(NOW)).toBe("14:05:40");
    expect(formatClock("2026-11-21T09:05:04+02:00")).toBe("07:05:04");
    expect(formatClock(0)).toBe("00:00:00");
  });

  it("shows dashes for a time it cannot read", () => {
    expect(formatClock("soon")).toBe("--:--:--");
    expect(formatClock(NaN)).toBe("--:--:--");
    expect(formatClock(1e20)).toBe("--:--:--");
  });
});

describe("toEpochMs", () => {
  it("reads ISO text and numbers, NaN otherwise", () => {
    expect(toEpochMs("1970-01-01T00:00:01Z")).toBe(1000);
    expect(toEpochMs(5)).toBe(5);
    expect(toEpochMs(Infinity)).toBeNaN();
    expect(toEpochMs("x")).toBeNaN();
  });
});

describe("formatAge", () => {
  it.each([
    [0, "just now"],
    [999, "just now"],
    [1_000, "1s ago"],
    [59_000, "59s ago"],
    [192_000, "3m ago"],
    [3_600_000, "1h ago"],
    [7_500_000, "2h ago"],
    [3 * 86_400_000, "3d ago"],
  ])("%d ms ago -> %s", (ago, text) => {
    expect(formatAge(new Date(NOW - ago).toISOString(), NOW)).toBe(text);
  });

  it("says just now for a time ahead of the clock (skew), and — when unreadable", () => {
    expect(formatAge(NOW + 30_000, NOW)).toBe("just now");
    expect(formatAge("yesterday", NOW)).toBe("—");
    expect(formatAge(NOW, NaN)).toBe("—");
  });
});

describe("formatCountdown", () => {
  it("shows the time left, rounded up to the second", () => {
    expect(formatCountdown(new Date(NOW + 192_000).toISOString(), NOW)).toBe("3m12s left");
    expect(formatCountdown(NOW + 191_100, NOW)).toBe("3m12s left");
    expect(formatCountdown(NOW + 1, NOW)).toBe("1s left");
    expect(formatCountdown(NOW + 3_840_000, NOW)).toBe("1h04m left");
  });

  it("says due at and after the deadline", () => {
    expect(formatCountdown(NOW, NOW)).toBe("due");
    expect(formatCountdown("2026-11-21T14:00:00Z", NOW)).toBe("due");
  });

  it("shows — for a deadline it cannot read", () => {
    expect(formatCountdown("later", NOW)).toBe("—");
  });
});
