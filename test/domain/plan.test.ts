import { describe, expect, it } from "vitest";
import { validatePlan } from "../../src/domain/plan.js";
import type { Plan } from "../../src/domain/plan-types.js";

const SRC = "plans/api.json";

function validPlanJson(): any {
  return {
    tenant: "payments",
    rollouts: [
      {
        id: "api-v408",
        service: "api",
        version: "v408",
        previousVersion: "v407",
        kind: "code",
        killSwitch: { flag: "new_checkout" },
        errorBudget: { metric: "error_rate", objective: 99.9 },
        rings: [
          { name: "canary", traffic: 1, bake: "5m", slos: ["p99_latency_ms < 50 for 1m", "error_rate < 1%"] },
          { name: "early", traffic: 10, bakeSeconds: 300, slos: ["p99_latency_ms<baseline*1.2"] },
          { name: "all", traffic: 100 },
        ],
      },
    ],
  };
}

function ok(json: unknown): Plan {
  const r = validatePlan(json, SRC);
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.plan;
}

function errors(json: unknown): string[] {
  const r = validatePlan(json, SRC);
  if (r.ok) throw new Error("expected the plan to be refused");
  return r.errors;
}

function mutate(f: (p: any) => void): any {
  const p = validPlanJson();
  f(p);
  return p;
}

describe("validatePlan: valid plans", () => {
  it("reads a full plan and fills defaults", () => {
    const plan = ok(validPlanJson());
    expect(plan.tenant).toBe("payments");
    const r = plan.rollouts[0]!;
    expect(r).toMatchObject({
      id: "api-v408",
      service: "api",
      version: "v408",
      previousVersion: "v407",
      kind: "code",
      onBreach: "pause",
      startAfterSeconds: 0,
      breachAfter: 3,
      killSwitch: { flag: "new_checkout" },
      errorBudget: { metric: "error_rate", objective: 99.9 },
    });
    expect(r.rings).toEqual([
      { name: "canary", traffic: 1, bakeSeconds: 300, slos: ["p99_latency_ms < 50 for 1m", "error_rate < 1%"] },
      { name: "early", traffic: 10, bakeSeconds: 300, slos: ["p99_latency_ms < baseline * 1.2"] },
      { name: "all", traffic: 100, bakeSeconds: 0, slos: [] },
    ]);
  });

  it("reads explicit options", () => {
    const plan = ok(
      mutate((p) => {
        Object.assign(p.rollouts[0], { onBreach: "rollback", startAfter: "10s", breachAfter: 5 });
      }),
    );
    expect(plan.rollouts[0]).toMatchObject({ onBreach: "rollback", startAfterSeconds: 10, breachAfter: 5 });
  });

  it("reads commands in their three forms", () => {
    const plan = ok(
      mutate((p) => {
        p.rollouts[0].killSwitch = { flag: "f", engage: "flagctl set f off", release: ["flagctl", "set", "f", "on"] };
        p.rollouts[0].rings[0].apply = { argv: "kubectl apply -f canary.yaml", timeoutSeconds: 30 };
        p.rollouts[0].rings[0].rollback = { argv: "kubectl rollout undo deploy/api && echo done", shell: true };
        p.rollouts[0].rings[1].apply = { argv: ["deploy", "--ring", "early"], shell: false };
      }),
    );
    const r = plan.rollouts[0]!;
    expect(r.killSwitch).toEqual({ flag: "f", engage: { argv: ["flagctl", "set", "f", "off"] }, release: { argv: ["flagctl", "set", "f", "on"] } });
    expect(r.rings[0]!.apply).toEqual({ argv: ["kubectl", "apply", "-f", "canary.yaml"], timeoutSeconds: 30 });
    expect(r.rings[0]!.rollback).toEqual({ argv: ["kubectl rollout undo deploy/api && echo done"], shell: true });
    expect(r.rings[1]!.apply).toEqual({ argv: ["deploy", "--ring", "early"], shell: false });
  });

  it("lets equal traffic follow (a ring that only adds regions)", () => {
    expect(ok(mutate((p) => (p.rollouts[0].rings[1].traffic = 1))).rollouts[0]!.rings[1]!.traffic).toBe(1);
  });

  it("ignores $-prefixed keys", () => {
    expect(ok(mutate((p) => (p.$comment = "for people"))).tenant).toBe("payments");
  });
});

describe("validatePlan: errors", () => {
  it("refuses a file that is not an object", () => {
    expect(errors([1, 2])).toEqual([`${SRC}: (top level): must be a plan object {"tenant", "rollouts": [...]} (got a list of 2)`]);
    expect(errors(null)).toEqual([`${SRC}: (top level): must be a plan object {"tenant", "rollouts": [...]} (got null)`]);
  });

  it("names a bad traffic with its path, expectation and value", () => {
    expect(errors(mutate((p) => (p.rollouts[0].rings[1].traffic = "ten")))).toEqual([
      `${SRC}: rollouts[0].rings[1].traffic: must be a number above 0 and at most 100 (got "ten")`,
    ]);
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].traffic = 0)))[0]).toBe(`${SRC}: rollouts[0].rings[0].traffic: must be a number above 0 and at most 100 (got 0)`);
    expect(errors(mutate((p) => (p.rollouts[0].rings[2].traffic = 101)))[0]).toBe(`${SRC}: rollouts[0].rings[2].traffic: must be a number above 0 and at most 100 (got 101)`);
  });

  it("refuses traffic that shrinks along the rings", () => {
    expect(errors(mutate((p) => (p.rollouts[0].rings[1].traffic = 0.5)))).toEqual([
      `${SRC}: rollouts[0].rings[1].traffic: must not be below the traffic of the ring before it (rings[0] "canary": 1); rings only widen (got 0.5)`,
    ]);
  });

  it("refuses duplicate ring names and rollout ids", () => {
    expect(errors(mutate((p) => (p.rollouts[0].rings[2].name = "canary")))).toEqual([
      `${SRC}: rollouts[0].rings[2].name: repeats the name of rings[0]; ring names must be unique in a rollout (got "canary")`,
    ]);
    const twice = mutate((p) => p.rollouts.push({ ...p.rollouts[0], version: "v409", previousVersion: "v408" }));
    expect(errors(twice)).toEqual([`${SRC}: rollouts[1].id: repeats the id of rollouts[0]; rollout ids must be unique (got "api-v408")`]);
  });

  it("refuses ids that do not match the id pattern", () => {
    const expected = 'must be 1 to 64 letters, digits, _, . or -, starting with a letter or digit, e.g. "api-v408"';
    expect(errors(mutate((p) => (p.rollouts[0].id = "-api")))).toEqual([`${SRC}: rollouts[0].id: ${expected} (got "-api")`]);
    expect(errors(mutate((p) => (p.rollouts[0].id = "a".repeat(65))))[0]).toContain(`${SRC}: rollouts[0].id: ${expected}`);
    expect(errors(mutate((p) => (p.rollouts[0].id = "api v408"))).length).toBe(1);
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].name = "can ary")))[0]).toBe(
      `${SRC}: rollouts[0].rings[0].name: must be 1 to 64 letters, digits, _, . or -, starting with a letter or digit, e.g. "canary" (got "can ary")`,
    );
    expect(errors(mutate((p) => (p.tenant = "")))[0]).toBe(
      `${SRC}: tenant: must be 1 to 64 letters, digits, _, . or -, starting with a letter or digit, e.g. "payments" (got "")`,
    );
  });

  it("names a missing field", () => {
    expect(errors(mutate((p) => delete p.rollouts[0].service))).toEqual([`${SRC}: rollouts[0].service: must be a non-empty string of at most 256 characters (got nothing)`]);
  });

  it("refuses unknown enum values", () => {
    expect(errors(mutate((p) => (p.rollouts[0].kind = "binary")))).toEqual([`${SRC}: rollouts[0].kind: must be one of code, config, flag (got "binary")`]);
    expect(errors(mutate((p) => (p.rollouts[0].onBreach = "panic")))).toEqual([`${SRC}: rollouts[0].onBreach: must be one of pause, rollback (got "panic")`]);
  });

  it("refuses a version equal to the previous one", () => {
    expect(errors(mutate((p) => (p.rollouts[0].previousVersion = "v408")))).toEqual([
      `${SRC}: rollouts[0].previousVersion: must differ from version (a rollout changes something) (got "v408")`,
    ]);
  });

  it("refuses bad durations and counts", () => {
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].bake = "5 minutes")))).toEqual([
      `${SRC}: rollouts[0].rings[0].bake: must be a duration like "90s", "5m", "1h30m" or a number of seconds (got "5 minutes")`,
    ]);
    expect(errors(mutate((p) => (p.rollouts[0].startAfter = -1)))[0]).toBe(
      `${SRC}: rollouts[0].startAfter: must be a duration like "90s", "5m", "1h30m" or a number of seconds (got -1)`,
    );
    expect(errors(mutate((p) => (p.rollouts[0].breachAfter = 0)))).toEqual([
      `${SRC}: rollouts[0].breachAfter: must be a whole number from 1 to 100 (failing evaluations before a breach) (got 0)`,
    ]);
    expect(errors(mutate((p) => (p.rollouts[0].rings[1].bakeSeconds = "300")))[0]).toBe(
      `${SRC}: rollouts[0].rings[1].bakeSeconds: must be a number of seconds, 0 or more (got "300")`,
    );
  });

  it("refuses bake and bakeSeconds together", () => {
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].bakeSeconds = 60)))).toEqual([
      `${SRC}: rollouts[0].rings[0].bakeSeconds: must not be given together with "bake"; keep one of them (got 60)`,
    ]);
  });

  it("reports an SLO parse error with its column", () => {
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].slos[1] = "p99_latency_ms = 50")))).toEqual([
      `${SRC}: rollouts[0].rings[0].slos[1]: expected a comparison operator (<, <=, >, >=) at column 16 (got "p99_latency_ms = 50")`,
    ]);
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].slos = [42])))[0]).toBe(
      `${SRC}: rollouts[0].rings[0].slos[0]: must be an assertion text like "p99_latency_ms < 50 for 1m" (got 42)`,
    );
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].slos = "p < 5")))[0]).toBe(
      `${SRC}: rollouts[0].rings[0].slos: must be a list of assertions like "p99_latency_ms < 50 for 1m" (got "p < 5")`,
    );
  });

  it("refuses the same SLO twice in a ring, however it is spaced", () => {
    expect(errors(mutate((p) => p.rollouts[0].rings[0].slos.push("error_rate<1%")))).toEqual([
      `${SRC}: rollouts[0].rings[0].slos[2]: repeats slos[1] ("error_rate < 1%") (got "error_rate<1%")`,
    ]);
  });

  it("refuses empty rollouts and rings lists", () => {
    expect(errors(mutate((p) => (p.rollouts = [])))).toEqual([`${SRC}: rollouts: must be a list of at least one rollout (got an empty list)`]);
    expect(errors(mutate((p) => (p.rollouts[0].rings = [])))).toEqual([`${SRC}: rollouts[0].rings: must be a list of at least one ring (got an empty list)`]);
    expect(errors(mutate((p) => (p.rollouts[0].rings = [5]))))
      .toEqual([`${SRC}: rollouts[0].rings[0]: must be a ring object {name, traffic, bake, slos} (got 5)`]);
  });

  it("refuses bad kill switches, error budgets and commands", () => {
    expect(errors(mutate((p) => (p.rollouts[0].killSwitch = { flag: "" })))).toEqual([
      `${SRC}: rollouts[0].killSwitch.flag: must be a non-empty string of at most 128 characters (got "")`,
    ]);
    expect(errors(mutate((p) => (p.rollouts[0].killSwitch = "new_checkout")))).toEqual([
      `${SRC}: rollouts[0].killSwitch: must be an object {"flag", "engage"?, "release"?} (got "new_checkout")`,
    ]);
    expect(errors(mutate((p) => (p.rollouts[0].errorBudget.objective = 100)))).toEqual([
      `${SRC}: rollouts[0].errorBudget.objective: must be a percentage above 0 and below 100, e.g. 99.9 (100 would leave no error budget) (got 100)`,
    ]);
    expect(errors(mutate((p) => (p.rollouts[0].errorBudget.metric = "5xx")))[0]).toBe(
      `${SRC}: rollouts[0].errorBudget.metric: must be a metric name (a letter or _ first, then letters, digits, _ or .), e.g. "error_rate" (got "5xx")`,
    );
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].apply = "   ")))[0]).toBe(
      `${SRC}: rollouts[0].rings[0].apply: must be a command: a string like "kubectl rollout undo deploy/api", a list of arguments, or {"argv", "shell"?, "timeoutSeconds"?} (got "   ")`,
    );
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].apply = ["kubectl", ""])))[0]).toBe(
      `${SRC}: rollouts[0].rings[0].apply: must be a list of at least one non-empty string (program, then arguments) (got a list of 2)`,
    );
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].apply = { argv: "x", timeoutSeconds: 0, shell: "yes" })))).toEqual([
      `${SRC}: rollouts[0].rings[0].apply.shell: must be true or false (got "yes")`,
      `${SRC}: rollouts[0].rings[0].apply.timeoutSeconds: must be a number of seconds above 0 (got 0)`,
    ]);
  });

  it("refuses unknown fields, naming the known ones", () => {
    expect(errors(mutate((p) => (p.rollouts[0].rings[0].bake_seconds = 5)))).toEqual([
      `${SRC}: rollouts[0].rings[0].bake_seconds: is not a known field; expected one of name, traffic, bake, bakeSeconds, slos, apply, rollback`,
    ]);
  });

  it("collects every problem, not just the first", () => {
    const errs = errors(
      mutate((p) => {
        p.tenant = 7;
        p.rollouts[0].kind = "binary";
        p.rollouts[0].rings[0].traffic = "ten";
        p.rollouts[0].rings[1].slos = ["p99 ~ 5"];
        p.rollouts[0].rings[2].name = "canary";
      }),
    );
    expect(errs).toHaveLength(5);
    expect(errs.every((e) => e.startsWith(`${SRC}: `))).toBe(true);
    expect(errs.map((e) => e.split(": ")[1])).toEqual([
      "tenant",
      "rollouts[0].kind",
      "rollouts[0].rings[0].traffic",
      "rollouts[0].rings[1].slos[0]",
      "rollouts[0].rings[2].name",
    ]);
  });
});
