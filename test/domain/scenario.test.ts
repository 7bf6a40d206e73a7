import { describe, expect, it } from "vitest";
import { validateScenario } from "../../src/domain/scenario.js";
import type { Scenario } from "../../src/domain/scenario-types.js";

const SRC = "fixtures/scenarios/latency.json";

function validScenarioJson(): any {
  return {
    name: "latency-regression",
    description: "v408 slows the canary down",
    metrics: {
      p99_latency_ms: { unit: "ms", baseline: 42, noise: 0.05, min: 0 },
      error_rate: { unit: "%", baseline: 0.05, noise: 0.1, min: 0, max: 100 },
      rps: { unit: "req/s", baseline: 1200, noise: 0.02, perTraffic: true },
    },
    effects: [{ rollout: "api-v408", ring: "canary", metric: "p99_latency_ms", at: "40s", factor: 1.6, rampSeconds: "20s" }],
    script: [{ at: "2m", actor: { name: "alice", role: "operator" }, action: "pause", target: { rollout: "api-v408" }, reason: "looks slow" }],
    plan: {
      tenant: "payments",
      rollouts: [
        {
          id: "api-v408",
          service: "api",
          version: "v408",
          previousVersion: "v407",
          kind: "code",
          errorBudget: { metric: "error_rate", objective: 99.9 },
          rings: [
            { name: "canary", traffic: 1, bake: "2m", slos: ["p99_latency_ms < 50 for 30s", "error_rate < 1%"] },
            { name: "all", traffic: 100, bake: "2m" },
          ],
        },
      ],
    },
  };
}

function ok(json: unknown): Scenario {
  const r = validateScenario(json, SRC);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.scenario;
}

function errors(json: unknown): string[] {
  const r = validateScenario(json, SRC);
  if (r.ok) throw new Error("expected the scenario to be refused");
  return r.errors;
}

function mutate(f: (s: any) => void): any {
  const s = validScenarioJson();
  f(s);
  return s;
}

describe("validateScenario: valid scenarios", () => {
  it("reads a scenario and fills the defaults", () => {
    const s = ok(validScenarioJson());
    expect(s).toMatchObject({
      name: "latency-regression",
      description: "v408 slows the canary down",
      seed: 1,
      speed: 10,
      sampleEverySeconds: 5,
      burnWindowScale: 1,
      recoverySeconds: 20,
      durationSeconds: 600,
    });
    expect(s.metrics.rps).toEqual({ unit: "req/s", baseline: 1200, noise: 0.02, perTraffic: true });
    expect(s.metrics.error_rate).toEqual({ unit: "%", baseline: 0.05, noise: 0.1, min: 0, max: 100 });
    expect(s.effects).toEqual([{ rollout: "api-v408", ring: "canary", metric: "p99_latency_ms", at: 40, factor: 1.6, rampSeconds: 20 }]);
    expect(s.script).toEqual([{ at: 120, actor: { name: "alice", role: "operator" }, action: "pause", target: { rollout: "api-v408" }, reason: "looks slow" }]);
    expect(s.plan.rollouts[0]!.rings[0]!.slos).toEqual(["p99_latency_ms < 50 for 30s", "error_rate < 1%"]);
  });

  it("reads explicit settings, durations and a fractional window scale", () => {
    const s = ok(
      mutate((j) => {
        Object.assign(j, { seed: 42, speed: 60, sampleEverySeconds: "2s", burnWindowScale: "1/60", recoverySeconds: "1m", durationSeconds: "15m", description: "" });
        j.script = [];
        j.effects = [{ rollout: "api-v408", ring: "all", metric: "error_rate", delta: 2 }];
      }),
    );
    expect(s).toMatchObject({ seed: 42, speed: 60, sampleEverySeconds: 2, recoverySeconds: 60, durationSeconds: 900, description: "" });
    expect(s.burnWindowScale).toBeCloseTo(1 / 60, 12);
    expect(s.effects).toEqual([{ rollout: "api-v408", ring: "all", metric: "error_rate", delta: 2, at: 0, rampSeconds: 0 }]);
  });

  it("takes scripted commands with args and an empty target", () => {
    const s = ok(
      mutate((j) => {
        j.script = [
          { at: 30, actor: { name: "carol", role: "commander" }, action: "declare_incident", args: { severity: "SEV2", title: "checkout slow" } },
          { at: "45s", actor: { name: "bob", role: "viewer" }, action: "note", target: {}, args: { text: "watching" } },
        ];
      }),
    );
    expect(s.script[0]).toEqual({ at: 30, actor: { name: "carol", role: "commander" }, action: "declare_incident", target: {}, args: { severity: "SEV2", title: "checkout slow" } });
    expect(s.script[1]!.target).toEqual({});
  });
});

describe("validateScenario: errors", () => {
  it("refuses a file that is not an object", () => {
    expect(errors("hello")).toEqual([`${SRC}: (top level): must be a scenario object {"name", "metrics", "plan", ...} (got "hello")`]);
  });

  it("prefixes plan errors with plan.", () => {
    expect(errors(mutate((j) => (j.plan.rollouts[0].rings[1].traffic = "ten")))).toEqual([
      `${SRC}: plan.rollouts[0].rings[1].traffic: must be a number above 0 and at most 100 (got "ten")`,
    ]);
    expect(errors(mutate((j) => (j.plan.rollouts[0].rings[0].slos[0] = "p99_latency_ms = 50")))).toEqual([
      `${SRC}: plan.rollouts[0].rings[0].slos[0]: expected a comparison operator (<, <=, >, >=) at column 16 (got "p99_latency_ms = 50")`,
    ]);
    expect(errors(mutate((j) => delete j.plan))).toEqual([`${SRC}: plan: must be a plan object {"tenant", "rollouts": [...]} (got nothing)`]);
  });

  it("refuses bad settings", () => {
    expect(errors(mutate((j) => (j.speed = 0)))).toEqual([`${SRC}: speed: must be a number above 0 and at most 100000 (simulated seconds per real second) (got 0)`]);
    expect(errors(mutate((j) => (j.seed = 1.5)))).toEqual([`${SRC}: seed: must be a whole number from 0 to 4294967295 (got 1.5)`]);
    expect(errors(mutate((j) => (j.sampleEverySeconds = "0s")))).toEqual([`${SRC}: sampleEverySeconds: must be a duration longer than 0 (got "0s")`]);
    expect(errors(mutate((j) => (j.recoverySeconds = "soon")))).toEqual([
      `${SRC}: recoverySeconds: must be a duration like "90s", "5m", "1h30m" or a number of seconds (got "soon")`,
    ]);
    expect(errors(mutate((j) => (j.burnWindowScale = "1/0")))).toEqual([`${SRC}: burnWindowScale: must be a number above 0, or a fraction like "1/60" (got "1/0")`]);
    expect(errors(mutate((j) => (j.burnWindowScale = -1)))).toEqual([`${SRC}: burnWindowScale: must be a number above 0, or a fraction like "1/60" (got -1)`]);
    expect(errors(mutate((j) => delete j.name))).toEqual([`${SRC}: name: must be a non-empty string of at most 256 characters (got nothing)`]);
    expect(errors(mutate((j) => (j.description = 5)))).toEqual([`${SRC}: description: must be a string of at most 4096 characters (got 5)`]);
    expect(errors(mutate((j) => (j.speedup = 5)))[0]).toMatch(/^fixtures\/scenarios\/latency\.json: speedup: is not a known field; expected one of name, description, seed, speed/);
  });

  it("refuses bad metric models", () => {
    expect(errors(mutate((j) => (j.metrics = {})))).toEqual([`${SRC}: metrics: must model at least one metric (got an object)`]);
    expect(errors(mutate((j) => (j.metrics.rps.noise = -0.1)))).toEqual([
      `${SRC}: metrics.rps.noise: must be a number from 0 to 10 (relative standard deviation, 0.05 for 5%) (got -0.1)`,
    ]);
    expect(errors(mutate((j) => delete j.metrics.rps.baseline))).toEqual([`${SRC}: metrics.rps.baseline: must be a number (the level with the old version) (got nothing)`]);
    expect(errors(mutate((j) => (j.metrics.rps.unit = 5)))).toEqual([
      `${SRC}: metrics.rps.unit: must be a unit of at most 32 characters, e.g. "ms", "%", "req/s" ("" for none) (got 5)`,
    ]);
    expect(errors(mutate((j) => Object.assign(j.metrics.rps, { min: 10, max: 5 })))).toEqual([`${SRC}: metrics.rps.max: must be at least min (10) (got 5)`]);
    expect(errors(mutate((j) => (j.metrics.error_rate.baseline = 200)))).toEqual([`${SRC}: metrics.error_rate.baseline: must lie between min and max (0 to 100) (got 200)`]);
    expect(errors(mutate((j) => (j.metrics["9lives"] = { unit: "", baseline: 1 })))).toEqual([
      `${SRC}: metrics.9lives: is not a metric name: a metric name (a letter or _ first, then letters, digits, _ or .)`,
    ]);
  });

  it("refuses SLOs and error budgets on metrics the scenario does not model", () => {
    expect(errors(mutate((j) => delete j.metrics.error_rate))).toEqual([
      `${SRC}: plan.rollouts[0].rings[0].slos[1]: names the metric error_rate, which metrics does not model (known: p99_latency_ms, rps) (got "error_rate < 1%")`,
      `${SRC}: plan.rollouts[0].errorBudget.metric: must be a metric that metrics models (known: p99_latency_ms, rps) (got "error_rate")`,
    ]);
  });

  it("refuses effects that name nothing in the plan or metrics", () => {
    expect(errors(mutate((j) => (j.effects[0].rollout = "web-v2")))).toEqual([`${SRC}: effects[0].rollout: must name a rollout of the plan (known: api-v408) (got "web-v2")`]);
    expect(errors(mutate((j) => (j.effects[0].ring = "beta")))).toEqual([`${SRC}: effects[0].ring: must name a ring of rollout api-v408 (known: canary, all) (got "beta")`]);
    expect(errors(mutate((j) => (j.effects[0].metric = "cpu")))).toEqual([
      `${SRC}: effects[0].metric: must name a metric that metrics models (known: p99_latency_ms, error_rate, rps) (got "cpu")`,
    ]);
  });

  it("refuses effects without a change, or with bad numbers", () => {
    expect(errors(mutate((j) => delete j.effects[0].factor))).toEqual([`${SRC}: effects[0]: must change the metric: give "factor", "delta" or both`]);
    expect(errors(mutate((j) => (j.effects[0].at = "later")))).toEqual([`${SRC}: effects[0].at: must be a duration like "90s", "5m", "1h30m" or a number of seconds (got "later")`]);
    expect(errors(mutate((j) => (j.effects[0].factor = -1)))).toEqual([`${SRC}: effects[0].factor: must be a number, 0 or more (the level becomes baseline * factor) (got -1)`]);
    expect(errors(mutate((j) => (j.effects = [null])))).toEqual([
      `${SRC}: effects[0]: must be an effect {"rollout", "ring", "metric", "at", "factor"?, "delta"?, "rampSeconds"?} (got null)`,
    ]);
  });

  it("refuses malformed scripted commands", () => {
    expect(errors(mutate((j) => (j.script[0].action = "explode")))).toEqual([
      `${SRC}: script[0].action: must be one of pause, resume, rollback, kill_switch, release_kill_switch, promote, ack_alert, note, declare_incident, resolve_incident, assign_role, set_milestone (got "explode")`,
    ]);
    expect(errors(mutate((j) => (j.script[0].actor.role = "admin")))).toEqual([`${SRC}: script[0].actor.role: must be one of viewer, operator, commander (got "admin")`]);
    expect(errors(mutate((j) => delete j.script[0].at))).toEqual([
      `${SRC}: script[0].at: must be a duration like "90s", "5m", "1h30m" or a number of seconds (got nothing)`,
    ]);
    expect(errors(mutate((j) => (j.script[0] = { at: 5, actor: { name: "a", role: "operator" }, action: "note", target: {}, args: { text: "" } })))).toEqual([
      `${SRC}: script[0]: note needs args.text: non-empty text of at most 4096 characters (got "")`,
    ]);
    expect(errors(mutate((j) => (j.script[0].target = { alert: "a-1" })))).toEqual([`${SRC}: script[0]: pause takes a target {"rollout": id} (got an alert)`]);
    expect(errors(mutate((j) => (j.script[0].target = { rollout: "web-v2" })))).toEqual([
      `${SRC}: script[0].target.rollout: must name a rollout of the plan (known: api-v408) (got "web-v2")`,
    ]);
    expect(errors(mutate((j) => (j.script[0].at = "11m")))).toEqual([`${SRC}: script[0].at: is after durationSeconds (600), so it would never run (got "11m")`]);
  });

  it("collects problems from every part at once", () => {
    const errs = errors(
      mutate((j) => {
        j.speed = -1;
        j.metrics.rps.noise = "low";
        j.plan.rollouts[0].kind = "binary";
        j.effects[0].at = "soon";
        j.script[0].action = "explode";
      }),
    );
    expect(errs.map((e) => e.split(": ")[1])).toEqual(["speed", "metrics.rps.noise", "plan.rollouts[0].kind", "effects[0].at", "script[0].action"]);
  });
});
