import { parseAssertion } from "./assertion.js";
import { ObjectReader, Problems, ID_EXPECTED, ID_PATTERN, METRIC_EXPECTED, METRIC_PATTERN, childPath, isObject, readRoot } from "./json-check.js";
import type { CommandSpec, Plan, RingPlan, RolloutPlan } from "./plan-types.js";
import { DEFAULT_BREACH_AFTER } from "./gate.js";
import type { OnBreach, RolloutKind } from "../protocol/types.js";

// Plan files: what to roll out, ring by ring, and what must hold in each ring.
//
// {
//   "tenant": "payments",                       // id: 1-64 of [A-Za-z0-9_.-], letter or digit first
//   "rollouts": [                               // at least one
//     {
//       "id": "api-v408",                       // id, unique in the plan
//       "service": "api",
//       "version": "v408",
//       "previousVersion": "v407",              // must differ from version
//       "kind": "code",                         // code | config | flag
//       "onBreach": "pause",                    // pause | rollback; default pause
//       "startAfter": "10s",                    // duration; default 0
//       "breachAfter": 3,                       // failing evaluations before an SLO without "for" breaches; 1-100, default 3
//       "killSwitch": { "flag": "new_checkout", "engage": CMD, "release": CMD },   // optional; engage/release optional
//       "errorBudget": { "metric": "error_rate", "objective": 99.9 },             // optional; objective in percent, 0 < x < 100
//       "rings": [                              // at least one; traffic never decreases along the list
//         {
//           "name": "canary",                   // id, unique in the rollout
//           "traffic": 1,                       // percent of all traffic, 0 < traffic <= 100
//           "bake": "5m",                       // duration, or "bakeSeconds": 300 (not both); default 0
//           "slos": ["p99_latency_ms < 50 for 1m", "error_rate < 1%"],   // assertions (assertion.ts); default []
//           "apply": CMD, "rollback": CMD       // optional: run when the ring starts / is rolled back
//         }
//       ]
//     }
//   ]
// }
//
// CMD is a string (split on whitespace, never given to a shell), a list of
// arguments ["kubectl", "rollout", "undo", "deploy/api"], or an object
// {"argv": string | [..], "shell"?: boolean, "timeoutSeconds"?: number > 0};
// with "shell": true a string argv is kept whole, as one script for the shell.
//
// Durations: a number of seconds or "500ms", "90s", "5m", "1h30m", "2d".
// Keys starting with "$" ("$comment") are ignored; any other unknown key is an
// error, because it is almost always a misspelt one.
// SLO texts are stored normalized (assertion.ts), so events name an assertion
// the same way whatever spacing the file used.

export type PlanValidation = { ok: true; plan: Plan } | { ok: false; errors: string[] };

const ROLLOUT_KINDS: readonly RolloutKind[] = ["code", "config", "flag"];
const ON_BREACH: readonly OnBreach[] = ["pause", "rollback"];
const COMMAND_EXPECTED = 'must be a command: a string like "kubectl rollout undo deploy/api", a list of arguments, or {"argv", "shell"?, "timeoutSeconds"?}';
const MAX_BREACH_AFTER = 100;

export function validatePlan(json: unknown, source: string): PlanValidation {
  const problems = new Problems(source);
  const plan = readPlan(json, "", problems);
  if (!plan || !problems.ok) return { ok: false, errors: problems.list };
  return { ok: true, plan };
}

/**
 * Read a plan found at `path` of a larger file (a scenario's "plan"), reporting
 * into `problems`. Returns a plan only when this part had no problem.
 */
export function readPlan(json: unknown, path: string, problems: Problems): Plan | undefined {
  const before = problems.list.length;
  const root = readRoot(json, path, problems, 'must be a plan object {"tenant", "rollouts": [...]}');
  if (!root) return undefined;
  root.onlyKeys(["tenant", "rollouts"]);
  const tenant = root.string("tenant", { pattern: ID_PATTERN, expected: `${ID_EXPECTED}, e.g. "payments"` });
  const list = root.list("rollouts", { nonEmpty: true, expected: "must be a list of at least one rollout" });
  const rollouts: RolloutPlan[] = [];
  const seenIds = new Map<string, number>();
  list?.forEach((item, i) => {
    const itemPath = childPath(root.at("rollouts"), i);
    const rollout = readRollout(item, itemPath, problems);
    // Checked on the raw id, so a rollout with other problems still counts.
    const id = isObject(item) && typeof item.id === "string" ? item.id : undefined;
    if (id !== undefined) {
      const first = seenIds.get(id);
      if (first !== undefined) problems.add(childPath(itemPath, "id"), `repeats the id of rollouts[${first}]; rollout ids must be unique`, id);
      else seenIds.set(id, i);
    }
    if (rollout) rollouts.push(rollout);
  });
  if (problems.list.length > before || tenant === undefined) return undefined;
  return { tenant, rollouts };
}

function readRollout(item: unknown, path: string, problems: Problems): RolloutPlan | undefined {
  const before = problems.list.length;
  if (!isObject(item)) {
    problems.add(path, "must be a rollout object {id, service, version, previousVersion, kind, rings}", item);
    return undefined;
  }
  const r = new ObjectReader(item, path, problems);
  r.onlyKeys(["id", "service", "version", "previousVersion", "kind", "onBreach", "startAfter", "breachAfter", "killSwitch", "errorBudget", "rings"]);
  const id = r.string("id", { pattern: ID_PATTERN, expected: `${ID_EXPECTED}, e.g. "api-v408"` });
  const service = r.string("service");
  const version = r.string("version", { maxLength: 128 });
  const previousVersion = r.string("previousVersion", { maxLength: 128 });
  if (version !== undefined && version === previousVersion) {
    problems.add(r.at("previousVersion"), "must differ from version (a rollout changes something)", previousVersion);
  }
  const kind = r.oneOf("kind", ROLLOUT_KINDS);
  const onBreach = r.oneOf("onBreach", ON_BREACH, { optional: true }) ?? "pause";
  const startAfterSeconds = r.duration("startAfter", { optional: true }) ?? 0;
  const breachAfter =
    r.number("breachAfter", {
      optional: true,
      integer: true,
      min: 1,
      max: MAX_BREACH_AFTER,
      expected: `must be a whole number from 1 to ${MAX_BREACH_AFTER} (failing evaluations before a breach)`,
    }) ?? DEFAULT_BREACH_AFTER;

  let killSwitch: RolloutPlan["killSwitch"];
  const ks = r.object("killSwitch", { optional: true, expected: 'must be an object {"flag", "engage"?, "release"?}' });
  if (ks) {
    ks.onlyKeys(["flag", "engage", "release"]);
    const flag = ks.string("flag", { maxLength: 128 });
    const engage = readOptionalCommand(ks, "engage");
    const release = readOptionalCommand(ks, "release");
    if (flag !== undefined) {
      killSwitch = { flag };
      if (engage) killSwitch.engage = engage;
      if (release) killSwitch.release = release;
    }
  }

  let errorBudget: RolloutPlan["errorBudget"];
  const eb = r.object("errorBudget", { optional: true, expected: 'must be an object {"metric", "objective"}' });
  if (eb) {
    eb.onlyKeys(["metric", "objective"]);
    const metric = eb.string("metric", { pattern: METRIC_PATTERN, expected: `${METRIC_EXPECTED}, e.g. "error_rate"` });
    const objective = eb.number("objective", {
      min: 0,
      minExclusive: true,
      max: 100,
      maxExclusive: true,
      expected: "must be a percentage above 0 and below 100, e.g. 99.9 (100 would leave no error budget)",
    });
    if (metric !== undefined && objective !== undefined) errorBudget = { metric, objective };
  }

  const ringList = r.list("rings", { nonEmpty: true, expected: "must be a list of at least one ring" });
  const rings: RingPlan[] = [];
  const ringNames = new Map<string, number>();
  let previous: { traffic: number; index: number; name: string } | undefined;
  ringList?.forEach((ringItem, i) => {
    const ringPath = childPath(r.at("rings"), i);
    const ring = readRing(ringItem, ringPath, problems);
    if (ring) rings.push(ring);
    // Names and traffic are compared on the raw values, so a ring with other
    // problems still takes part (one run of the validator shows them all).
    if (!isObject(ringItem)) return;
    const name = typeof ringItem.name === "string" ? ringItem.name : `#${i}`;
    if (typeof ringItem.name === "string") {
      const first = ringNames.get(name);
      if (first !== undefined) problems.add(childPath(ringPath, "name"), `repeats the name of rings[${first}]; ring names must be unique in a rollout`, name);
      else ringNames.set(name, i);
    }
    const traffic = ringItem.traffic;
    if (typeof traffic !== "number" || !(traffic > 0 && traffic <= 100)) return;
    if (previous && traffic < previous.traffic) {
      problems.add(
        childPath(ringPath, "traffic"),
        `must not be below the traffic of the ring before it (rings[${previous.index}] "${previous.name}": ${previous.traffic}); rings only widen`,
        traffic,
      );
    }
    previous = { traffic, index: i, name };
  });

  if (problems.list.length > before) return undefined;
  const plan: RolloutPlan = {
    id: id!,
    service: service!,
    version: version!,
    previousVersion: previousVersion!,
    kind: kind!,
    onBreach,
    rings,
    startAfterSeconds,
    breachAfter,
  };
  if (killSwitch) plan.killSwitch = killSwitch;
  if (errorBudget) plan.errorBudget = errorBudget;
  return plan;
}

function readRing(item: unknown, path: string, problems: Problems): RingPlan | undefined {
  const before = problems.list.length;
  if (!isObject(item)) {
    problems.add(path, "must be a ring object {name, traffic, bake, slos}", item);
    return undefined;
  }
  const g = new ObjectReader(item, path, problems);
  g.onlyKeys(["name", "traffic", "bake", "bakeSeconds", "slos", "apply", "rollback"]);
  const name = g.string("name", { pattern: ID_PATTERN, expected: `${ID_EXPECTED}, e.g. "canary"` });
  const traffic = g.number("traffic", { min: 0, minExclusive: true, max: 100, expected: "must be a number above 0 and at most 100" });

  let bakeSeconds = 0;
  if (g.has("bake") && g.has("bakeSeconds")) {
    problems.add(g.at("bakeSeconds"), 'must not be given together with "bake"; keep one of them', item.bakeSeconds);
  } else if (g.has("bakeSeconds")) {
    bakeSeconds = g.number("bakeSeconds", { min: 0, expected: "must be a number of seconds, 0 or more" }) ?? 0;
  } else if (g.has("bake")) {
    bakeSeconds = g.duration("bake") ?? 0;
  }

  const slos: string[] = [];
  const sloList = g.list("slos", { optional: true, expected: 'must be a list of assertions like "p99_latency_ms < 50 for 1m"' }) ?? [];
  const seen = new Map<string, number>();
  sloList.forEach((text, i) => {
    const sloPath = childPath(g.at("slos"), i);
    if (typeof text !== "string") {
      problems.add(sloPath, 'must be an assertion text like "p99_latency_ms < 50 for 1m"', text);
      return;
    }
    const parsed = parseAssertion(text);
    if (!parsed.ok) {
      problems.add(sloPath, parsed.error.message, text);
      return;
    }
    const normalized = parsed.assertion.text;
    const first = seen.get(normalized);
    if (first !== undefined) {
      problems.add(sloPath, `repeats slos[${first}] ("${normalized}")`, text);
      return;
    }
    seen.set(normalized, i);
    slos.push(normalized);
  });

  const apply = readOptionalCommand(g, "apply");
  const rollback = readOptionalCommand(g, "rollback");
  if (problems.list.length > before) return undefined;
  const ring: RingPlan = { name: name!, traffic: traffic!, bakeSeconds, slos };
  if (apply) ring.apply = apply;
  if (rollback) ring.rollback = rollback;
  return ring;
}

function readOptionalCommand(parent: ObjectReader, key: string): CommandSpec | undefined {
  const v = parent.obj[key];
  if (v === undefined) return undefined;
  return readCommand(v, parent.at(key), parent.problems);
}

function splitArgs(s: string): string[] {
  return s.trim().split(/\s+/).filter((a) => a !== "");
}

function isArgv(v: unknown): v is string[] {
  return Array.isArray(v) && v.length > 0 && v.every((a) => typeof a === "string" && a !== "");
}

/** A command to run: a string (split on whitespace), an argv list, or {argv, shell?, timeoutSeconds?}. */
export function readCommand(v: unknown, path: string, problems: Problems): CommandSpec | undefined {
  if (typeof v === "string") {
    const argv = splitArgs(v);
    if (argv.length > 0) return { argv };
    problems.add(path, COMMAND_EXPECTED, v);
    return undefined;
  }
  if (Array.isArray(v)) {
    if (isArgv(v)) return { argv: [...v] };
    problems.add(path, "must be a list of at least one non-empty string (program, then arguments)", v);
    return undefined;
  }
  if (!isObject(v)) {
    problems.add(path, COMMAND_EXPECTED, v);
    return undefined;
  }
  const before = problems.list.length;
  const c = new ObjectReader(v, path, problems);
  c.onlyKeys(["argv", "shell", "timeoutSeconds"]);
  const shell = c.boolean("shell");
  const timeoutSeconds = c.number("timeoutSeconds", { optional: true, min: 0, minExclusive: true, expected: "must be a number of seconds above 0" });
  let argv: string[] | undefined;
  if (typeof v.argv === "string" && v.argv.trim() !== "") argv = shell ? [v.argv] : splitArgs(v.argv);
  else if (isArgv(v.argv)) argv = [...v.argv];
  else problems.add(c.at("argv"), "must be a command string or a list of at least one non-empty string", v.argv);
  if (problems.list.length > before || !argv) return undefined;
  const spec: CommandSpec = { argv };
  if (shell !== undefined) spec.shell = shell;
  if (timeoutSeconds !== undefined) spec.timeoutSeconds = timeoutSeconds;
  return spec;
}
