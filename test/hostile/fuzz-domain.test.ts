import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { formatAssertionError, parseAssertion } from "../../src/domain/assertion.js";
import { formatDurationShort, parseDuration } from "../../src/domain/duration.js";
import { validatePlan } from "../../src/domain/plan.js";
import type { Plan } from "../../src/domain/plan-types.js";
import { validateScenario } from "../../src/domain/scenario.js";
import { anyText, hostileText, mutate, mutation } from "./arbitraries.js";
import { assertionText, durationText, planJson, scenarioJson } from "./domain-arbitraries.js";
import { BIDI_OR_INVISIBLE, CONTROL_EXCEPT_NEWLINE, LONE_SURROGATE } from "./payloads.js";

// Property-based fuzzing of the file and text validators: plan files,
// scenario files, SLO assertions and durations. They are fed by people and by
// repositories, and their errors are printed to a terminal: nothing may
// throw, every refusal says where and what, and it is safe to print.

// Property runs are bounded by count, not time; a loaded machine (CI) may take longer than the default 5 s.
vi.setConfig({ testTimeout: 60_000 });

const RUNS = { numRuns: 200 };

/** Printed as is by `cockpit serve`: one line, no control or bidi characters. */
function expectPrintable(message: string): void {
  expect(message.trim().length).toBeGreaterThan(0);
  expect(message).not.toMatch(CONTROL_EXCEPT_NEWLINE);
  expect(message).not.toContain("\n");
  expect(message).not.toMatch(BIDI_OR_INVISIBLE);
  expect(message).not.toMatch(LONE_SURROGATE);
}

function expectFileErrors(r: { ok: true } | { ok: false; errors: string[] }, source: string): void {
  if (r.ok) return;
  expect(r.errors.length).toBeGreaterThan(0);
  for (const e of r.errors) {
    expect(e.startsWith(`${source}: `)).toBe(true);
    expectPrintable(e);
  }
}

const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.anything({ maxDepth: 3, withNullPrototype: true, withBoxedValues: true }));

// ---- durations ---------------------------------------------------------------------------------

describe("parseDuration", () => {
  it("never throws on anything; a result is a finite, non-negative number of seconds or a printable error", () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, anyText, fc.double(), durationText.map((d) => d.text)), (v) => {
        const r = parseDuration(v);
        if (r.ok) {
          expect(Number.isFinite(r.seconds)).toBe(true);
          expect(r.seconds).toBeGreaterThanOrEqual(0);
        } else expectPrintable(r.error);
      }),
      { numRuns: 500 },
    );
  });

  it("reads every duration people write, and formatDurationShort writes one that reads back the same", () => {
    fc.assert(
      fc.property(durationText, (d) => {
        const r = parseDuration(d.text);
        expect(r).toEqual({ ok: true, seconds: d.seconds });
        if (r.ok) expect(parseDuration(formatDurationShort(r.seconds))).toEqual({ ok: true, seconds: Math.round(r.seconds * 1000) / 1000 });
      }),
      { numRuns: 500 },
    );
  });

  it("refuses numbers too large to be a duration instead of returning Infinity", () => {
    for (const v of ["9".repeat(400), "9".repeat(400) + "s", "1" + "0".repeat(320) + "d", 1e309, Number.MAX_VALUE * 10]) {
      const r = parseDuration(v);
      expect(r.ok).toBe(false);
      if (!r.ok) expectPrintable(r.error);
    }
  });
});

// ---- assertions ----------------------------------------------------------------------------------

/** A valid assertion with hostile text spliced in somewhere: the parser gets far before it fails. */
const validThenHostile = fc
  .tuple(assertionText, hostileText, fc.nat())
  .map(([a, h, at]) => {
    const i = at % (a.text.length + 1);
    return a.text.slice(0, i) + h + a.text.slice(i);
  });
const tokenSoup = fc
  .array(fc.constantFrom("a", "p99", "<", "<=", ">", "=", " ", "(", ")", "%", "*", "+", "-", "1", "0", ".", "e", "for", "baseline", "assert", "30s", "1h", "\x1b", "\u009b"), { maxLength: 14 })
  .map((t) => t.join(""));

describe("parseAssertion", () => {
  it("never throws; a failure says at which column (within the text) and is printable", () => {
    fc.assert(
      fc.property(fc.oneof(anyText, hostileText, assertionText.map((a) => a.text), validThenHostile, tokenSoup), (text) => {
        const r = parseAssertion(text);
        if (r.ok) return;
        expect(r.error.column).toBeGreaterThanOrEqual(1);
        expect(r.error.column).toBeLessThanOrEqual(text.length + 1);
        expect(r.error.message).toContain(`at column ${r.error.column}`);
        expectPrintable(r.error.message);
        // the caret display never throws either, and keeps to two lines
        expect(formatAssertionError(text, r.error).split("\n").length).toBeLessThanOrEqual(2);
      }),
      { numRuns: 1000 },
    );
  });

  it("accepts every valid assertion, reads what it says, and its normalized text parses back to the same", () => {
    fc.assert(
      fc.property(assertionText, (a) => {
        const r = parseAssertion(a.text);
        if (!r.ok) throw new Error(`refused ${JSON.stringify(a.text)}: ${r.error.message}`);
        const got = r.assertion;
        expect(got.metric).toBe(a.metric);
        expect(got.op).toBe(a.op);
        expect(got.rhs).toEqual(a.rhs);
        expect(got.forSeconds).toBe(a.forSeconds);
        // (JSON.stringify: "baseline - 0" reads as an offset of -0, which normalizes away to 0)
        const again = parseAssertion(got.text);
        expect(JSON.stringify(again)).toBe(JSON.stringify({ ok: true, assertion: got }));
      }),
      { numRuns: 1000 },
    );
  });

  it("refuses absurd numbers with a message instead of Infinity", () => {
    for (const text of ["x < 1e400", "x < baseline * 1e999", "x < baseline + 9e999%", `x < ${"9".repeat(400)}`]) {
      const r = parseAssertion(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.message).toMatch(/too large/);
    }
  });
});

// ---- plan files ----------------------------------------------------------------------------------

/** The validated plan written back in the file format: it must validate to the same plan. */
function planToJson(p: Plan): unknown {
  return {
    tenant: p.tenant,
    rollouts: p.rollouts.map((r) => ({
      id: r.id,
      service: r.service,
      version: r.version,
      previousVersion: r.previousVersion,
      kind: r.kind,
      onBreach: r.onBreach,
      startAfter: r.startAfterSeconds,
      breachAfter: r.breachAfter,
      ...(r.killSwitch ? { killSwitch: r.killSwitch } : {}),
      ...(r.errorBudget ? { errorBudget: r.errorBudget } : {}),
      rings: r.rings.map((g) => ({ ...g })),
    })),
  };
}

describe("validatePlan", () => {
  it("never throws on arbitrary JSON; every error names the file and is printable", () => {
    fc.assert(fc.property(anyJson, (v) => expectFileErrors(validatePlan(v, "plans/x.json"), "plans/x.json")), RUNS);
  });

  it("accepts every valid plan, with ids, rings and normalized SLOs as written", () => {
    fc.assert(
      fc.property(planJson, (json) => {
        const r = validatePlan(json, "plan.json");
        if (!r.ok) throw new Error(r.errors.join("\n"));
        expect(r.plan.tenant).toBe(json.tenant);
        expect(r.plan.rollouts.map((x) => x.id)).toEqual(json.rollouts.map((x) => x.id));
        r.plan.rollouts.forEach((ro, i) => {
          const src = json.rollouts[i] as { service: string; rings: { name: string; traffic: number; slos: string[] }[] };
          expect(ro.service).toBe(src.service);
          expect(ro.rings.map((g) => [g.name, g.traffic])).toEqual(src.rings.map((g) => [g.name, g.traffic]));
          ro.rings.forEach((g, gi) => {
            const texts = src.rings[gi]!.slos.map((s) => {
              const a = parseAssertion(s);
              return a.ok ? a.assertion.text : "?";
            });
            expect(g.slos).toEqual(texts);
          });
        });
        // and round trip: what was read, written back, reads the same
        const again = validatePlan(JSON.parse(JSON.stringify(planToJson(r.plan))), "plan.json");
        expect(again).toEqual({ ok: true, plan: r.plan });
      }),
      RUNS,
    );
  });

  it("never throws on a valid plan with one thing changed, and a refusal names where", () => {
    fc.assert(
      fc.property(planJson, fc.nat(), mutation, (json, pick, m) => {
        const r = validatePlan(JSON.parse(JSON.stringify(mutate(json, pick, m))), "plan.json");
        expectFileErrors(r, "plan.json");
      }),
      { numRuns: 500 },
    );
  });

  it("quotes hostile keys and values in errors without letting them act on the terminal", () => {
    const key = "\x1b]0;owned\x07\u202e\u009b2J";
    const r = validatePlan({ tenant: "p", rollouts: [{ [key]: 1, id: "\u009d0;t\u009c", service: "\x1b[2J", rings: "\u202e" }], [key + "x"]: true }, "plan.json");
    expect(r.ok).toBe(false);
    expectFileErrors(r, "plan.json");
    // a hostile key is shown JSON-escaped, so it can still be found in the file
    if (!r.ok) expect(r.errors.join("\n")).toContain("\\u001b]0;owned\\u0007");
  });
});

// ---- scenario files ----------------------------------------------------------------------------

describe("validateScenario", () => {
  it("never throws on arbitrary JSON; every error names the file and is printable", () => {
    fc.assert(fc.property(anyJson, (v) => expectFileErrors(validateScenario(v, "s.json"), "s.json")), RUNS);
  });

  it("accepts every valid scenario and keeps its plan, metrics, effects and script", () => {
    fc.assert(
      fc.property(scenarioJson, (json) => {
        const r = validateScenario(json, "s.json");
        if (!r.ok) throw new Error(r.errors.join("\n"));
        expect(r.scenario.name).toBe(json.name);
        expect(Object.keys(r.scenario.metrics).sort()).toEqual(Object.keys(json.metrics).sort());
        expect(r.scenario.effects.map((e) => [e.rollout, e.ring, e.metric])).toEqual(json.effects.map((e) => [e.rollout, e.ring, e.metric]));
        expect(r.scenario.script.map((c) => [c.at, c.action, c.target.rollout, c.actor.name])).toEqual(json.script.map((c) => [c.at, c.action, c.target.rollout, c.actor.name]));
        expect(validatePlan(json.plan, "s.json")).toEqual({ ok: true, plan: r.scenario.plan });
      }),
      { numRuns: 100 },
    );
  });

  it("never throws on a valid scenario with one thing changed", () => {
    fc.assert(
      fc.property(scenarioJson, fc.nat(), mutation, (json, pick, m) => {
        expectFileErrors(validateScenario(JSON.parse(JSON.stringify(mutate(json as Record<string, unknown>, pick, m))), "s.json"), "s.json");
      }),
      { numRuns: 300 },
    );
  });
});
