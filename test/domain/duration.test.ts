import { describe, expect, it } from "vitest";
import { formatDurationShort, parseDuration } from "../../src/domain/duration.js";

function seconds(v: unknown): number {
  const r = parseDuration(v);
  if (!r.ok) throw new Error(`expected ${String(v)} to parse: ${r.error}`);
  return r.seconds;
}

describe("parseDuration", () => {
  it.each([
    [90, 90],
    [0, 0],
    [2.5, 2.5],
    ["90s", 90],
    ["5m", 300],
    ["1h", 3600],
    ["1h30m", 5400],
    ["2d", 172800],
    ["500ms", 0.5],
    ["1m500ms", 60.5],
    ["1.5h", 5400],
    ["300", 300],
    [" 2m ", 120],
    ["1h 30m", 5400],
    ["30m1h", 5400],
  ])("reads %j as %d seconds", (input, expected) => {
    expect(seconds(input)).toBe(expected);
  });

  it.each([["abc"], ["5 minutes"], ["5x"], [""], ["m"], ["1h30"], ["-5s"], [-1], [Number.NaN], [Infinity], [null], [undefined], [true], [[5]], [{ s: 5 }]])(
    "refuses %j and says what it expected",
    (input) => {
      const r = parseDuration(input);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/^expected a duration like "90s", "5m", "1h30m", "500ms" or a number of seconds/);
    },
  );

  it("names the value it got", () => {
    const r = parseDuration("5 minutes");
    expect(r).toEqual({ ok: false, error: 'expected a duration like "90s", "5m", "1h30m", "500ms" or a number of seconds (got "5 minutes")' });
  });

  it("refuses a unit given twice, which is a typo more often than a sum", () => {
    const r = parseDuration("1m5m");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain('the unit "m" appears twice');
  });

  it("says negative durations are not allowed", () => {
    const r = parseDuration(-5);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain("not negative (got -5)");
  });
});

describe("formatDurationShort", () => {
  it.each([
    [60, "1m"],
    [90, "1m30s"],
    [0, "0s"],
    [45, "45s"],
    [3600, "1h"],
    [5400, "1h30m"],
    [86400 + 3600, "1d1h"],
    [0.5, "500ms"],
    [61.25, "1m1s250ms"],
    [-90, "-1m30s"],
  ])("writes %d seconds as %s", (input, expected) => {
    expect(formatDurationShort(input)).toBe(expected);
  });

  it("writes what parseDuration reads back", () => {
    for (const s of [1, 59, 60, 61, 3599, 3600, 3661, 86399, 90061, 0.25, 12.5]) {
      expect(seconds(formatDurationShort(s))).toBe(s);
    }
  });
});
