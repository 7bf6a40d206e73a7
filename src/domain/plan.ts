import { parseAssertion } from "./assertion.js";
import { ObjectReader, Problems, ID_EXPECTED, ID_PATTERN, METRIC_EXPECTED, METRIC_PATTERN, childPath, isObject, readRoot } from "./json-check.js";
import { COMMAND_PLACEHOLDERS, QUERY_PLACEHOLDERS, type AlertmanagerPlan, type CommandSpec, type Plan, type RingPlan, type RolloutPlan, type SliQuery } from "./plan-types.js";
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
//       "slis": {                               // optional: real SLIs read from Prometheus (serve --prometheus)
//         "p99_latency_ms": {                   // metric name, as the SLOs name it
//           "query": "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{ring=\"{ring}\"}[1m]))) * 1000",
//           "baseline": "... {ring!=\"{ring}\"} ...",   // optional: the same metric outside the ring
//           "unit": "ms"                        // optional, default ""
//         }
//       },                                      // when given, every metric an SLO or the error budget names needs a query
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
//   ],
//   "alertmanager": { "silenceOnAck": "2h" }   // optional: an ack in the cockpit also silences the alert in Alertmanager
// }
//
// Queries may hold {ring}, {rollout}, {service}, {version}, {previousVersion}
// and {tenant}; the value is filled in as a PromQL string's content (quotes
// and backslashes escaped). A query must hold {ring}: without it every ring
// would read the same series.
//
// CMD is a string (split on whitespace, never given to a shell), a list of
// arguments ["kubectl", "rollout", "undo", "deploy/api"], or an object
// {"argv": string | [..], "shell"?: boolean, "timeoutSeconds"?: number > 0};
// with "shell": true a string argv is kept whole, as one script for the shell.
// Or a webhook: {"webhook": "https://deploy.example.com/hook", "secretEnv": "SHIP_HOOK_SECRET",
// "timeoutSeconds"?: number}: a JSON POST signed with HMAC-SHA256 of the body, the
// secret read from that environment variable (a plan file is no place for it).
// Arguments may hold {version}, {previousVersion}, {ring}, {traffic}, {flag},
// {rollout}, {service} and {tenant}, filled in per argument (never through a shell).
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
  root.onlyKeys(["tenant", "rollouts", "alertmanager"]);
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
  const alertmanager = readAlertmanager(root);
  if (problems.list.length > before || tenant === undefined) return undefined;
  const plan: Plan = { tenant, rollouts };
  if (alertmanager) plan.alertmanager = alertmanager;
  return plan;
}

function readAlertmanager(root: ObjectReader): AlertmanagerPlan | undefined {
  const am = root.object("alertmanager", { optional: true, expected: 'must be an object {"silenceOnAck"?: duration}' });
  if (!am) return undefined;
  am.onlyKeys(["silenceOnAck"]);
  const out: AlertmanagerPlan = {};
  const seconds = am.duration("silenceOnAck", { optional: true, positive: true });
  if (seconds !== undefined) out.silenceOnAckSeconds = seconds;
  return out;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Placeholders in `text` that are not in `known`, e.g. a misspelt {rign}. */
function unknownPlaceholders(text: string, known: readonly string[]): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(PLACEHOLDER)) if (!known.includes(m[1]!)) out.push(`{${m[1]}}`);
  return out;
}

const MAX_QUERY_CHARS = 4096;

function readSlis(r: ObjectReader): Record<string, SliQuery> | undefined {
  const obj = r.object("slis", { optional: true, expected: 'must be an object of queries by metric: {"p99_latency_ms": {"query", "baseline"?, "unit"?}}' });
  if (!obj) return undefined;
  const out: Record<string, SliQuery> = {};
  const known = QUERY_PLACEHOLDERS.map((p) => `{${p}}`).join(", ");
  for (const metric of Object.keys(obj.obj)) {
    if (metric.startsWith("$")) continue;
    const at = obj.at(metric);
    if (!METRIC_PATTERN.test(metric)) {
      obj.problems.add(at, `is not a metric name ${METRIC_EXPECTED.replace(/^must be a metric name /, "")}`);
      continue;
    }
    const q = obj.object(metric, { expected: 'must be an object {"query", "baseline"?, "unit"?}' });
    if (!q) continue;
    q.onlyKeys(["query", "baseline", "unit"]);
    const query = q.string("query", { maxLength: MAX_QUERY_CHARS, expected: `must be a PromQL query of at most ${MAX_QUERY_CHARS} characters` });
    const baseline = q.string("baseline", { optional: true, maxLength: MAX_QUERY_CHARS, expected: `must be a PromQL query of at most ${MAX_QUERY_CHARS} characters` });
    const unit = q.string("unit", { optional: true, maxLength: 16, expected: 'must be a unit of at most 16 characters, e.g. "ms" or "%"' }) ?? "";
    if (query !== undefined && !query.includes("{ring}")) {
      q.problems.add(q.at("query"), 'must hold the {ring} placeholder (e.g. ring="{ring}"), or every ring would read the same series', query);
    }
    for (const [key, text] of [["query", query], ["baseline", baseline]] as const) {
      if (text === undefined) continue;
      const unknown = unknownPlaceholders(text, QUERY_PLACEHOLDERS);
      if (unknown.length > 0) q.problems.add(q.at(key), `holds unknown placeholder ${unknown.join(", ")}; known: ${known}`);
    }
    if (query === undefined) continue;
    out[metric] = baseline !== undefined ? { query, baseline, unit } : { query, unit };
  }
  return out;
}

function readRollout(item: unknown, path: string, problems: Problems): RolloutPlan | undefined {
  const before = problems.list.length;
  if (!isObject(item)) {
    problems.add(path, "must be a rollout object {id, service, version, previousVersion, kind, rings}", item);
    return undefined;
  }
  const r = new ObjectReader(item, path, problems);
  r.onlyKeys(["id", "service", "version", "previousVersion", "kind", "onBreach", "startAfter", "breachAfter", "killSwitch", "errorBudget", "slis", "rings"]);
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

  const slis = readSlis(r);
  if (slis) checkSliCoverage(slis, rings, errorBudget, r, ringList);

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
  if (slis) plan.slis = slis;
  return plan;
}

/**
 * With real SLIs, a gate on a metric without a query would never get a reading:
 * its ring would hold forever for want of evidence. Say so at load time.
 */
function checkSliCoverage(
  slis: Record<string, SliQuery>,
  rings: RingPlan[],
  errorBudget: RolloutPlan["errorBudget"],
  r: ObjectReader,
  ringList: unknown[] | undefined,
): void {
  const where = r.at("slis");
  rings.forEach((ring) => {
    const i = (ringList ?? []).findIndex((x) => isObject(x) && x.name === ring.name);
    ring.slos.forEach((text, j) => {
      const parsed = parseAssertion(text);
      if (!parsed.ok || slis[parsed.assertion.metric]) return;
      const at = childPath(childPath(childPath(r.at("rings"), i), "slos"), j);
      r.problems.add(at, `names metric ${parsed.assertion.metric}, which has no query in ${where}; add one (or drop "slis" to use the simulated fleet)`);
    });
  });
  if (errorBudget && !slis[errorBudget.metric]) {
    r.problems.add(childPath(r.at("errorBudget"), "metric"), `names metric ${errorBudget.metric}, which has no query in ${where}; add one`);
  }
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

/** A command to run: a string (split on whitespace), an argv list, {argv, shell?, timeoutSeconds?} or {webhook, secretEnv, timeoutSeconds?}. */
export function readCommand(v: unknown, path: string, problems: Problems): CommandSpec | undefined {
  const spec = readCommandShape(v, path, problems);
  if (!spec) return undefined;
  const known = COMMAND_PLACEHOLDERS.map((p) => `{${p}}`).join(", ");
  // A shell script has its own braces (${HOME}); only plain argv and URLs are checked.
  const texts = "argv" in spec ? (spec.shell ? [] : spec.argv) : [spec.webhook];
  const unknown = texts.flatMap((a) => unknownPlaceholders(a, COMMAND_PLACEHOLDERS));
  if (unknown.length > 0) {
    problems.add(path, `holds unknown placeholder ${[...new Set(unknown)].join(", ")}; known: ${known}`);
    return undefined;
  }
  return spec;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function readCommandShape(v: unknown, path: string, problems: Problems): CommandSpec | undefined {
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
  if (v.webhook !== undefined) return readWebhook(c, before);
  c.onlyKeys(["argv", "shell", "timeoutSeconds", "webhook", "secretEnv"]);
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

function readWebhook(c: ObjectReader, before: number): CommandSpec | undefined {
  c.onlyKeys(["webhook", "secretEnv", "timeoutSeconds"]);
  const url = c.string("webhook", { maxLength: 2048, expected: 'must be an http(s) URL, e.g. "https://deploy.example.com/hooks/ship"' });
  if (url !== undefined && !isHttpUrl(url)) c.problems.add(c.at("webhook"), 'must be an http(s) URL, e.g. "https://deploy.example.com/hooks/ship"', url);
  const secretEnv = c.string("secretEnv", {
    pattern: ENV_NAME,
    maxLength: 128,
    expected: 'must name the environment variable that holds the HMAC secret, e.g. "SHIP_HOOK_SECRET" (webhooks are always signed)',
  });
  const timeoutSeconds = c.number("timeoutSeconds", { optional: true, min: 0, minExclusive: true, expected: "must be a number of seconds above 0" });
  if (c.problems.list.length > before || url === undefined || secretEnv === undefined) return undefined;
  const spec: CommandSpec = { webhook: url, secretEnv };
  if (timeoutSeconds !== undefined) spec.timeoutSeconds = timeoutSeconds;
  return spec;
}

function isHttpUrl(text: string): boolean {
  try {
    const u = new URL(text.replace(/\{[A-Za-z]+\}/g, "x"));
    return u.protocol === "http:" || u.protocol === "https:";
  } catch {
    return false;
  }
}
