import { parseAssertion } from "./assertion.js";
import { METRIC_EXPECTED, METRIC_PATTERN, ObjectReader, Problems, childPath, isObject, readRoot } from "./json-check.js";
import { readPlan } from "./plan.js";
import type { Plan } from "./plan-types.js";
import type { Effect, MetricModel, Scenario, ScriptedCommand } from "./scenario-types.js";
import { checkCommandShape } from "./transitions.js";
import { ACTIONS, ROLES, type Action, type Role, type Target } from "../protocol/types.js";

// Scenario files: a simulated incident for the reference backend.
//
// {
//   "name": "latency-regression",               // required
//   "description": "v408 slows the canary",     // default ""
//   "seed": 1,                                  // whole number; same seed, same event log
//   "speed": 10,                                // simulated seconds per real second, > 0
//   "sampleEverySeconds": 5,                    // duration > 0 ("5s" works too)
//   "burnWindowScale": 1,                       // > 0; a number or "1/60" (1h of burn windows becomes 1m)
//   "recoverySeconds": 20,                      // duration >= 0: effects fade over this after a mitigation
//   "durationSeconds": 600,                     // duration > 0: length of an unattended run
//   "metrics": {                                // at least one; names as in assertions
//     "p99_latency_ms": { "unit": "ms", "baseline": 42, "noise": 0.05,
//                         "perTraffic"?: false, "min"?: 0, "max"?: 10000 }
//   },
//   "effects": [                                // default []
//     { "rollout": "api-v408", "ring": "canary", "metric": "p99_latency_ms",
//       "at": "40s",                            // after the ring starts; default 0
//       "factor": 1.6, "delta": 0,              // level = baseline * factor + delta; at least one of them
//       "rampSeconds": "20s" }                  // default 0 (a step)
//   ],
//   "script": [                                 // default []: commands as if typed by people
//     { "at": "2m", "actor": { "name": "alice", "role": "operator" },
//       "action": "pause", "target": { "rollout": "api-v408" }, "reason"?: "...", "args"?: {...} }
//   ],
//   "plan": { ... }                             // an inline plan, as in plan.ts
// }
//
// Errors name the file and the JSON path like plan errors do, with "plan."
// in front of paths inside the plan. Effects, SLOs and the error budget must
// name metrics the scenario models: an unmodelled metric would never have
// data, and missing data is never green, so the run would breach at once.

export type ScenarioValidation = { ok: true; scenario: Scenario } | { ok: false; errors: string[] };

export const SCENARIO_DEFAULTS = {
  description: "",
  seed: 1,
  speed: 10,
  sampleEverySeconds: 5,
  burnWindowScale: 1,
  recoverySeconds: 20,
  durationSeconds: 600,
} as const;

const SCENARIO_KEYS = [
  "name",
  "description",
  "seed",
  "speed",
  "sampleEverySeconds",
  "burnWindowScale",
  "recoverySeconds",
  "durationSeconds",
  "metrics",
  "effects",
  "script",
  "plan",
];

export function validateScenario(json: unknown, source: string): ScenarioValidation {
  const problems = new Problems(source);
  const root = readRoot(json, "", problems, 'must be a scenario object {"name", "metrics", "plan", ...}');
  if (!root) return { ok: false, errors: problems.list };
  root.onlyKeys(SCENARIO_KEYS);

  const name = root.string("name");
  let description: string = SCENARIO_DEFAULTS.description;
  const rawDescription = root.obj.description;
  if (typeof rawDescription === "string" && rawDescription.length <= 4096) description = rawDescription;
  else if (rawDescription !== undefined) problems.add(root.at("description"), "must be a string of at most 4096 characters", rawDescription);
  const seed = root.number("seed", { optional: true, integer: true, min: 0, max: 2 ** 32 - 1, expected: "must be a whole number from 0 to 4294967295" }) ?? SCENARIO_DEFAULTS.seed;
  const speed = root.number("speed", { optional: true, min: 0, minExclusive: true, max: 100_000, expected: "must be a number above 0 and at most 100000 (simulated seconds per real second)" }) ?? SCENARIO_DEFAULTS.speed;
  const sampleEverySeconds = root.duration("sampleEverySeconds", { optional: true, positive: true }) ?? SCENARIO_DEFAULTS.sampleEverySeconds;
  const burnWindowScale = readScale(root) ?? SCENARIO_DEFAULTS.burnWindowScale;
  const recoverySeconds = root.duration("recoverySeconds", { optional: true }) ?? SCENARIO_DEFAULTS.recoverySeconds;
  const durationSeconds = root.duration("durationSeconds", { optional: true, positive: true }) ?? SCENARIO_DEFAULTS.durationSeconds;

  const metrics = readMetrics(root);
  const plan = readPlan(root.obj.plan, "plan", problems);
  if (plan && metrics) checkPlanMetrics(plan, metrics, problems);
  const effects = readEffects(root, plan, metrics);
  const script = readScript(root, plan, durationSeconds);

  if (!problems.ok || name === undefined || !metrics || !plan || !effects || !script) return { ok: false, errors: problems.list };
  return {
    ok: true,
    scenario: { name, description, seed, speed, sampleEverySeconds, burnWindowScale, recoverySeconds, metrics, effects, plan, script, durationSeconds },
  };
}

/** A number above 0, or "a/b" (JSON has no 1/60 and 0.016666... hides the intent). */
function readScale(root: ObjectReader): number | undefined {
  const v = root.obj.burnWindowScale;
  if (v === undefined) return undefined;
  let n = typeof v === "number" ? v : NaN;
  if (typeof v === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*$/.exec(v);
    if (m) n = Number(m[1]) / Number(m[2]);
  }
  if (!(Number.isFinite(n) && n > 0)) {
    root.problems.add(root.at("burnWindowScale"), 'must be a number above 0, or a fraction like "1/60"', v);
    return undefined;
  }
  return n;
}

function readMetrics(root: ObjectReader): Record<string, MetricModel> | undefined {
  const problems = root.problems;
  const m = root.object("metrics", { expected: 'must be an object of metric models {"p99_latency_ms": {"unit", "baseline", "noise"}}' });
  if (!m) return undefined;
  const before = problems.list.length;
  const names = Object.keys(m.obj);
  if (names.length === 0) problems.add(m.path, "must model at least one metric", m.obj);
  const out: Record<string, MetricModel> = {};
  for (const name of names) {
    const path = m.at(name);
    if (!METRIC_PATTERN.test(name)) {
      problems.add(path, `is not a metric name: ${METRIC_EXPECTED.replace(/^must be /, "")}`);
      continue;
    }
    const mm = m.object(name, { expected: 'must be a metric model {"unit", "baseline", "noise", "perTraffic"?, "min"?, "max"?}' });
    if (!mm) continue;
    mm.onlyKeys(["unit", "baseline", "noise", "perTraffic", "min", "max"]);
    const unit = mm.obj.unit;
    if (typeof unit !== "string" || unit.length > 32) problems.add(mm.at("unit"), 'must be a unit of at most 32 characters, e.g. "ms", "%", "req/s" ("" for none)', unit);
    const baseline = mm.number("baseline", { expected: "must be a number (the level with the old version)" });
    const noise = mm.number("noise", { optional: true, min: 0, max: 10, expected: "must be a number from 0 to 10 (relative standard deviation, 0.05 for 5%)" }) ?? 0;
    const perTraffic = mm.boolean("perTraffic");
    const min = mm.number("min", { optional: true, expected: "must be a number (the lowest value the metric can take)" });
    const max = mm.number("max", { optional: true, expected: "must be a number (the highest value the metric can take)" });
    if (min !== undefined && max !== undefined && min > max) problems.add(mm.at("max"), `must be at least min (${min})`, max);
    else if (baseline !== undefined && ((min !== undefined && baseline < min) || (max !== undefined && baseline > max)))
      problems.add(mm.at("baseline"), `must lie between min and max (${min ?? "-∞"} to ${max ?? "∞"})`, baseline);
    if (typeof unit !== "string" || baseline === undefined) continue;
    const model: MetricModel = { unit, baseline, noise };
    if (perTraffic !== undefined) model.perTraffic = perTraffic;
    if (min !== undefined) model.min = min;
    if (max !== undefined) model.max = max;
    out[name] = model;
  }
  return problems.list.length > before ? undefined : out;
}

function knownList(names: Iterable<string>): string {
  const list = [...names];
  return list.length > 0 ? list.join(", ") : "none";
}

/** SLOs and error budgets must name modelled metrics (see the header). */
function checkPlanMetrics(plan: Plan, metrics: Record<string, MetricModel>, problems: Problems): void {
  const known = Object.keys(metrics);
  plan.rollouts.forEach((r, ri) => {
    const rPath = childPath(childPath("plan", "rollouts"), ri);
    r.rings.forEach((g, gi) => {
      g.slos.forEach((text, si) => {
        const parsed = parseAssertion(text);
        if (parsed.ok && !(parsed.assertion.metric in metrics))
          problems.add(
            childPath(childPath(childPath(childPath(rPath, "rings"), gi), "slos"), si),
            `names the metric ${parsed.assertion.metric}, which metrics does not model (known: ${knownList(known)})`,
            text,
          );
      });
    });
    if (r.errorBudget && !(r.errorBudget.metric in metrics))
      problems.add(childPath(childPath(rPath, "errorBudget"), "metric"), `must be a metric that metrics models (known: ${knownList(known)})`, r.errorBudget.metric);
  });
}

function readEffects(root: ObjectReader, plan: Plan | undefined, metrics: Record<string, MetricModel> | undefined): Effect[] | undefined {
  const problems = root.problems;
  const list = root.list("effects", { optional: true, expected: "must be a list of effects" }) ?? [];
  const before = problems.list.length;
  const out: Effect[] = [];
  list.forEach((item, i) => {
    const path = childPath(root.at("effects"), i);
    if (!isObject(item)) {
      problems.add(path, 'must be an effect {"rollout", "ring", "metric", "at", "factor"?, "delta"?, "rampSeconds"?}', item);
      return;
    }
    const e = new ObjectReader(item, path, problems);
    e.onlyKeys(["rollout", "ring", "metric", "at", "factor", "delta", "rampSeconds"]);
    const rollout = e.string("rollout");
    const ring = e.string("ring");
    const metric = e.string("metric", { pattern: METRIC_PATTERN, expected: METRIC_EXPECTED });
    const at = e.duration("at", { optional: true }) ?? 0;
    const factor = e.number("factor", { optional: true, min: 0, expected: "must be a number, 0 or more (the level becomes baseline * factor)" });
    const delta = e.number("delta", { optional: true, expected: "must be a number (added to the level, in the metric's unit)" });
    const rampSeconds = e.duration("rampSeconds", { optional: true }) ?? 0;
    if (!e.has("factor") && !e.has("delta")) problems.add(path, 'must change the metric: give "factor", "delta" or both');

    if (plan && rollout !== undefined) {
      const r = plan.rollouts.find((x) => x.id === rollout);
      if (!r) problems.add(e.at("rollout"), `must name a rollout of the plan (known: ${knownList(plan.rollouts.map((x) => x.id))})`, rollout);
      else if (ring !== undefined && !r.rings.some((g) => g.name === ring))
        problems.add(e.at("ring"), `must name a ring of rollout ${rollout} (known: ${knownList(r.rings.map((g) => g.name))})`, ring);
    }
    if (metrics && metric !== undefined && !(metric in metrics))
      problems.add(e.at("metric"), `must name a metric that metrics models (known: ${knownList(Object.keys(metrics))})`, metric);

    if (rollout === undefined || ring === undefined || metric === undefined) return;
    const effect: Effect = { rollout, ring, metric, at, rampSeconds };
    if (factor !== undefined) effect.factor = factor;
    if (delta !== undefined) effect.delta = delta;
    out.push(effect);
  });
  return problems.list.length > before ? undefined : out;
}

function readScript(root: ObjectReader, plan: Plan | undefined, durationSeconds: number): ScriptedCommand[] | undefined {
  const problems = root.problems;
  const list = root.list("script", { optional: true, expected: "must be a list of scripted commands" }) ?? [];
  const before = problems.list.length;
  const out: ScriptedCommand[] = [];
  list.forEach((item, i) => {
    const path = childPath(root.at("script"), i);
    if (!isObject(item)) {
      problems.add(path, 'must be a scripted command {"at", "actor": {"name", "role"}, "action", "target", "reason"?, "args"?}', item);
      return;
    }
    const s = new ObjectReader(item, path, problems);
    const itemBefore = problems.list.length;
    s.onlyKeys(["at", "actor", "action", "target", "reason", "args"]);
    const at = s.duration("at");
    if (at !== undefined && at > durationSeconds)
      problems.add(s.at("at"), `is after durationSeconds (${durationSeconds}), so it would never run`, item.at);
    let actor: ScriptedCommand["actor"] | undefined;
    const a = s.object("actor", { expected: 'must be {"name", "role"}' });
    if (a) {
      a.onlyKeys(["name", "role"]);
      const name = a.string("name", { maxLength: 128 });
      const role = a.oneOf<Role>("role", ROLES);
      if (name !== undefined && role !== undefined) actor = { name, role };
    }
    const action = s.oneOf<Action>("action", ACTIONS);
    const target = s.object("target", { optional: true, expected: 'must be an object like {"rollout": "api-v408"} or {}' });
    const reason = s.string("reason", { optional: true, maxLength: 4096 });
    const args = s.object("args", { optional: true });
    if (problems.list.length > itemBefore || at === undefined || !actor || !action) return;

    const cmd: ScriptedCommand = { at, actor, action, target: (target?.obj ?? {}) as Target };
    if (reason !== undefined) cmd.reason = reason;
    if (args) cmd.args = args.obj;
    // The same well-formedness check the backend applies, so a typo fails at load, not mid-run.
    const shape = checkCommandShape(cmd);
    if (shape) {
      problems.add(path, shape.message);
      return;
    }
    if (plan && cmd.target.rollout !== undefined && !plan.rollouts.some((r) => r.id === cmd.target.rollout))
      problems.add(childPath(s.at("target"), "rollout"), `must name a rollout of the plan (known: ${knownList(plan.rollouts.map((r) => r.id))})`, cmd.target.rollout);
    out.push(cmd);
  });
  return problems.list.length > before ? undefined : out;
}
