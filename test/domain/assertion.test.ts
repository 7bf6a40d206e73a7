import { describe, expect, it } from "vitest";
import { assertionThreshold, evaluateAssertion, formatAssertionError, parseAssertion, type Assertion } from "../../src/domain/assertion.js";

function parse(text: string): Assertion {
  const r = parseAssertion(text);
  if (!r.ok) throw new Error(`expected "${text}" to parse: ${r.error.message}`);
  return r.assertion;
}

function parseError(text: string): { message: string; column: number } {
  const r = parseAssertion(text);
  if (r.ok) throw new Error(`expected "${text}" to fail, got ${r.assertion.text}`);
  return r.error;
}

describe("parseAssertion: valid forms", () => {
  it("reads an absolute threshold", () => {
    expect(parse("p99_latency_ms < 50")).toEqual({
      text: "p99_latency_ms < 50",
      metric: "p99_latency_ms",
      op: "<",
      rhs: { kind: "absolute", value: 50 },
      forSeconds: null,
    });
  });

  it("reads a percentage as the number in percent units (1% is 1)", () => {
    const a = parse("error_rate < 1%");
    expect(a.rhs).toEqual({ kind: "absolute", value: 1 });
    expect(a.text).toBe("error_rate < 1%");
    expect(parse("error_rate < 0.5%").rhs).toEqual({ kind: "absolute", value: 0.5 });
  });

  it("reads >, >= and <=", () => {
    expect(parse("active_conns > 10").op).toBe(">");
    expect(parse("active_conns >= 10").op).toBe(">=");
    expect(parse("error_rate <= 2").op).toBe("<=");
  });

  it("reads a for window", () => {
    const a = parse("p99_latency_ms < 50 for 2m");
    expect(a.forSeconds).toBe(120);
    expect(a.text).toBe("p99_latency_ms < 50 for 2m");
    expect(parse("p < 5 for 1h30m").forSeconds).toBe(5400);
  });

  it("reads baseline forms", () => {
    expect(parse("p99_latency_ms < baseline * 1.2").rhs).toEqual({ kind: "baseline", factor: 1.2, offset: 0 });
    expect(parse("p99_latency_ms < baseline").rhs).toEqual({ kind: "baseline", factor: 1, offset: 0 });
    expect(parse("p99_latency_ms < baseline + 5").rhs).toEqual({ kind: "baseline", factor: 1, offset: 5 });
    expect(parse("p99_latency_ms < baseline - 5").rhs).toEqual({ kind: "baseline", factor: 1, offset: -5 });
    expect(parse("p99_latency_ms < baseline * 1.1 + 2").rhs).toEqual({ kind: "baseline", factor: 1.1, offset: 2 });
  });

  it("reads a baseline with a percent offset and a for window", () => {
    const a = parse("error_rate <= baseline + 0.1% for 30s");
    expect(a).toEqual({
      text: "error_rate <= baseline + 0.1% for 30s",
      metric: "error_rate",
      op: "<=",
      rhs: { kind: "baseline", factor: 1, offset: 0.1 },
      forSeconds: 30,
    });
  });

  it("unwraps assert( ... )", () => {
    expect(parse("assert(p99_latency < 50)")).toEqual(parse("p99_latency < 50"));
    expect(parse("assert ( p99_latency < 50 for 1m )").text).toBe("p99_latency < 50 for 1m");
  });

  it("takes a metric called assert when no parenthesis follows", () => {
    expect(parse("assert < 5").metric).toBe("assert");
  });

  it("accepts dotted metric names, negative numbers and no spaces", () => {
    expect(parse("http.server.p99 < 50").metric).toBe("http.server.p99");
    expect(parse("temp_delta > -3").rhs).toEqual({ kind: "absolute", value: -3 });
    expect(parse("p99<50").text).toBe("p99 < 50");
  });

  it("normalizes spacing and durations, and the normalized text parses to the same assertion", () => {
    const a = parse("  p99_latency_ms<baseline*1.20+0.5%   for 120s ");
    expect(a.text).toBe("p99_latency_ms < baseline * 1.2 + 0.5% for 2m");
    expect(parse(a.text)).toEqual(a);
    for (const t of ["error_rate <= baseline + 0.1% for 30s", "x >= baseline - 2", "assert(y > 3 for 1h)", "z < 0.25%"]) {
      const once = parse(t);
      expect(parse(once.text)).toEqual(once);
    }
  });
});

describe("parseAssertion: errors point at the column", () => {
  it.each([
    ["p99_latency_ms = 50", 16, "expected a comparison operator (<, <=, >, >=) at column 16"],
    ["p99_latency_ms == 50", 16, "expected a comparison operator (<, <=, >, >=) at column 16"],
    ["p99_latency_ms <> 50", 16, "expected a comparison operator (<, <=, >, >=) at column 16"],
    ["p99_latency_ms => 50", 16, "expected a comparison operator (<, <=, >, >=) at column 16"],
    ["p99_latency_ms", 15, "expected a comparison operator (<, <=, >, >=) at column 15"],
    ["", 1, "expected a metric name (the assertion is empty) at column 1"],
    ["   ", 4, "expected a metric name (the assertion is empty) at column 4"],
    ["9lives < 5", 1, "expected a metric name (a letter or _ first, then letters, digits, _ or .) at column 1"],
    ["< 5", 1, "expected a metric name (a letter or _ first, then letters, digits, _ or .) at column 1"],
    ["p99 < ", 7, "expected a number or baseline after < at column 7"],
    ["p99 < fifty", 7, "expected a number or baseline after < at column 7"],
    ["p99 < baselin", 7, "expected a number or baseline after < at column 7"],
    ["p99 < 1e999", 7, "the number is too large at column 7"],
    ["p99 < 50ms", 9, 'unexpected "ms" at column 9; expected "for <duration>" or the end'],
    ["p99 < 50 within 2m", 10, 'unexpected "within" at column 10; expected "for <duration>" or the end'],
    ["p99 < 50 for", 13, "expected a duration after for (like 30s or 2m) at column 13"],
    ["p99 < 50 for 2x", 14, '"2x" is not a duration (like 30s or 2m) at column 14'],
    ["p99 < 50 for 0s", 14, "the for window must be longer than 0 at column 14"],
    ["p99 < 50 for 2m extra", 17, 'unexpected "extra" at column 17; expected "for <duration>" or the end'],
    ["p99 < baseline *", 17, "expected a number (the factor) after * at column 17"],
    ["p99 < baseline * 1.2%", 21, "the factor after * is a plain number, not a percentage at column 21"],
    ["p99 < baseline * 0", 18, "the factor after * must be above 0 at column 18"],
    ["p99 < baseline +", 17, "expected a number after + at column 17"],
    ["assert(p99 < 5", 15, 'expected ")" to close "assert(" at column 15'],
    ["assert(p99 < 5) now", 17, 'unexpected "now" after the closing ")" at column 17'],
    ["p99 < 5)", 8, 'unexpected ")" at column 8; expected "for <duration>" or the end'],
  ])("%j fails at column %d", (text, column, message) => {
    expect(parseError(text)).toEqual({ message, column });
  });
});

describe("formatAssertionError", () => {
  it("puts a caret under the column, with the message", () => {
    const text = "p99_latency_ms = 50";
    const out = formatAssertionError(text, parseError(text));
    expect(out).toBe("p99_latency_ms = 50\n               ^ expected a comparison operator (<, <=, >, >=) at column 16");
    const caretLine = out.split("\n")[1]!;
    expect(caretLine.indexOf("^")).toBe(15);
  });

  it("keeps tabs before the column so the caret lines up", () => {
    const text = "\tp99 = 5";
    const err = parseError(text);
    expect(err.column).toBe(6);
    expect(formatAssertionError(text, err).split("\n")[1]).toBe("\t    ^ " + err.message);
  });

  it("can point one past the end (a missing part)", () => {
    const text = "p99 <";
    const err = parseError(text);
    expect(formatAssertionError(text, err).split("\n")[1]!.indexOf("^")).toBe(text.length);
  });
});

describe("evaluateAssertion", () => {
  it("passes and fails an absolute threshold by its operator", () => {
    const lt = parse("p99 < 50");
    expect(evaluateAssertion(lt, 49, null)).toEqual({ status: "pass", threshold: 50 });
    expect(evaluateAssertion(lt, 50, null)).toEqual({ status: "fail", threshold: 50 });
    const le = parse("p99 <= 50");
    expect(evaluateAssertion(le, 50, null).status).toBe("pass");
    expect(evaluateAssertion(le, 50.01, null).status).toBe("fail");
    const gt = parse("conns > 10");
    expect(evaluateAssertion(gt, 11, null).status).toBe("pass");
    expect(evaluateAssertion(gt, 10, null).status).toBe("fail");
    const ge = parse("conns >= 10");
    expect(evaluateAssertion(ge, 10, null).status).toBe("pass");
    expect(evaluateAssertion(ge, 9, null).status).toBe("fail");
  });

  it("compares percentages in percent units", () => {
    const a = parse("error_rate < 1%");
    expect(evaluateAssertion(a, 0.5, null).status).toBe("pass");
    expect(evaluateAssertion(a, 1.5, null).status).toBe("fail");
  });

  it("computes the threshold from the baseline", () => {
    const a = parse("p99 < baseline * 1.2");
    expect(evaluateAssertion(a, 59, 50)).toEqual({ status: "pass", threshold: 60 });
    expect(evaluateAssertion(a, 61, 50)).toEqual({ status: "fail", threshold: 60 });
    const b = parse("error_rate <= baseline + 0.1%");
    expect(evaluateAssertion(b, 0.3, 0.2).status).toBe("pass");
    expect(evaluateAssertion(b, 0.31, 0.2).status).toBe("fail");
    expect(assertionThreshold(parse("x < baseline * 2 - 1"), 10)).toBe(19);
  });

  it("is no_data for a missing or NaN value, never pass", () => {
    const a = parse("p99 < 50");
    expect(evaluateAssertion(a, null, null)).toEqual({ status: "no_data", threshold: 50 });
    expect(evaluateAssertion(a, Number.NaN, null)).toEqual({ status: "no_data", threshold: 50 });
  });

  it("is no_data for a baseline assertion without a baseline", () => {
    const a = parse("p99 < baseline * 1.2");
    expect(evaluateAssertion(a, 10, null)).toEqual({ status: "no_data", threshold: null });
    expect(evaluateAssertion(a, 10, Number.NaN)).toEqual({ status: "no_data", threshold: null });
  });
});
