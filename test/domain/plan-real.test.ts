import { describe, expect, it } from "vitest";
import { validatePlan } from "../../src/domain/plan.js";

// The plan format's additions for real backends (issue 5): SLI queries,
// webhook commands, placeholders, and Alertmanager silences on ack.

const SRC = "plans/api.json";

function base(extra: Record<string, unknown> = {}, ring: Record<string, unknown> = {}) {
  return {
    tenant: "payments",
    rollouts: [
      {
        id: "api-v2",
        service: "api",
        version: "v2",
        previousVersion: "v1",
        kind: "code",
        rings: [{ name: "canary", traffic: 5, bake: "5m", slos: ["p99_latency_ms < 50 for 1m", "error_rate < baseline + 0.1%"], ...ring }],
        ...extra,
      },
    ],
  };
}

const SLIS = {
  p99_latency_ms: { query: 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{ring="{ring}"}[1m]))) * 1000', baseline: 'histogram_quantile(0.99, sum by (le) (rate(x_bucket{ring!="{ring}"}[1m]))) * 1000', unit: "ms" },
  error_rate: { query: 'sum(rate(errors{ring="{ring}",version="{version}"}[1m])) / sum(rate(requests{ring="{ring}"}[1m])) * 100', unit: "%" },
};

function errors(json: unknown): string[] {
  const r = validatePlan(json, SRC);
  return r.ok ? [] : r.errors;
}

describe("slis", () => {
  it("reads a query, an optional baseline and a unit per metric", () => {
    const r = validatePlan(base({ slis: SLIS }), SRC);
    if (!r.ok) throw new Error(r.errors.join("\n"));
    expect(r.plan.rollouts[0]!.slis).toEqual({
      p99_latency_ms: SLIS.p99_latency_ms,
      error_rate: SLIS.error_rate,
    });
  });

  it("defaults the unit to empty, and keeps plans without slis as they were", () => {
    const r = validatePlan(base({ slis: { p99_latency_ms: { query: 'a{ring="{ring}"}' }, error_rate: { query: 'b{ring="{ring}"}' } } }), SRC);
    expect(r.ok && r.plan.rollouts[0]!.slis!.p99_latency_ms).toEqual({ query: 'a{ring="{ring}"}', unit: "" });
    const plain = validatePlan(base(), SRC);
    expect(plain.ok && "slis" in plain.plan.rollouts[0]!).toBe(false);
  });

  it("requires the {ring} placeholder in a query", () => {
    expect(errors(base({ slis: { ...SLIS, error_rate: { query: "sum(rate(errors[1m]))" } } }))).toEqual([
      `${SRC}: rollouts[0].slis.error_rate.query: must hold the {ring} placeholder (e.g. ring="{ring}"), or every ring would read the same series (got "sum(rate(errors[1m]))")`,
    ]);
  });

  it("refuses an unknown placeholder, naming the known ones", () => {
    expect(errors(base({ slis: { ...SLIS, error_rate: { query: 'e{ring="{ring}",x="{rign}"}' } } }))).toEqual([
      `${SRC}: rollouts[0].slis.error_rate.query: holds unknown placeholder {rign}; known: {ring}, {rollout}, {service}, {version}, {previousVersion}, {tenant}`,
    ]);
  });

  it("requires a query for every metric the gates and the error budget name", () => {
    expect(errors(base({ slis: { p99_latency_ms: SLIS.p99_latency_ms }, errorBudget: { metric: "availability_errors", objective: 99.9 } }))).toEqual([
      `${SRC}: rollouts[0].rings[0].slos[1]: names metric error_rate, which has no query in rollouts[0].slis; add one (or drop "slis" to use the simulated fleet)`,
      `${SRC}: rollouts[0].errorBudget.metric: names metric availability_errors, which has no query in rollouts[0].slis; add one`,
    ]);
  });

  it("refuses a bad metric name, a missing query and unknown fields", () => {
    expect(errors(base({ slis: { ...SLIS, "p99 latency": { query: "x" } } }))).toEqual([
      `${SRC}: rollouts[0].slis["p99 latency"]: is not a metric name (a letter or _ first, then letters, digits, _ or .)`,
    ]);
    expect(errors(base({ slis: { ...SLIS, error_rate: { promql: "x" } } }))).toEqual([
      `${SRC}: rollouts[0].slis.error_rate.promql: is not a known field; expected one of query, baseline, unit`,
      `${SRC}: rollouts[0].slis.error_rate.query: must be a PromQL query of at most 4096 characters (got nothing)`,
      `${SRC}: rollouts[0].rings[0].slos[1]: names metric error_rate, which has no query in rollouts[0].slis; add one (or drop "slis" to use the simulated fleet)`,
    ]);
    expect(errors(base({ slis: ["x"] }))).toEqual([
      `${SRC}: rollouts[0].slis: must be an object of queries by metric: {"p99_latency_ms": {"query", "baseline"?, "unit"?}} (got a list of 1)`,
    ]);
  });
});

describe("commands: placeholders and webhooks", () => {
  it("accepts the documented placeholders in argv", () => {
    const r = validatePlan(base({}, { apply: "bin/ship --component api --version {version} --ring {ring} --traffic {traffic} --from {previousVersion}" }), SRC);
    expect(r.ok && r.plan.rollouts[0]!.rings[0]!.apply).toEqual({
      argv: ["bin/ship", "--component", "api", "--version", "{version}", "--ring", "{ring}", "--traffic", "{traffic}", "--from", "{previousVersion}"],
    });
  });

  it("refuses an unknown placeholder in argv, but not shell syntax in a shell script", () => {
    expect(errors(base({}, { apply: ["bin/ship", "--ring={rin}"] }))).toEqual([
      `${SRC}: rollouts[0].rings[0].apply: holds unknown placeholder {rin}; known: {version}, {previousVersion}, {ring}, {traffic}, {flag}, {rollout}, {service}, {tenant}`,
    ]);
    expect(errors(base({}, { apply: { argv: "echo ${HOME} {ring}", shell: true } }))).toEqual([]);
  });

  it("reads a webhook with the environment variable holding its secret", () => {
    const r = validatePlan(
      base({ killSwitch: { flag: "new_checkout", engage: { webhook: "https://flags.example.com/flags/{flag}/off", secretEnv: "FLAGS_HMAC", timeoutSeconds: 10 } } }),
      SRC,
    );
    expect(r.ok && r.plan.rollouts[0]!.killSwitch!.engage).toEqual({ webhook: "https://flags.example.com/flags/{flag}/off", secretEnv: "FLAGS_HMAC", timeoutSeconds: 10 });
  });

  it("refuses a webhook without a secret, with a bad URL, or mixed with argv", () => {
    expect(errors(base({}, { apply: { webhook: "https://deploy.example.com/hook" } }))).toEqual([
      `${SRC}: rollouts[0].rings[0].apply.secretEnv: must name the environment variable that holds the HMAC secret, e.g. "SHIP_HOOK_SECRET" (webhooks are always signed) (got nothing)`,
    ]);
    expect(errors(base({}, { apply: { webhook: "ftp://deploy.example.com", secretEnv: "S" } }))).toEqual([
      `${SRC}: rollouts[0].rings[0].apply.webhook: must be an http(s) URL, e.g. "https://deploy.example.com/hooks/ship" (got "ftp://deploy.example.com")`,
    ]);
    expect(errors(base({}, { apply: { webhook: "https://d.example.com", secretEnv: "S", argv: ["x"] } }))).toEqual([
      `${SRC}: rollouts[0].rings[0].apply.argv: is not a known field; expected one of webhook, secretEnv, timeoutSeconds`,
    ]);
    expect(errors(base({}, { apply: { webhook: "https://d.example.com/{nope}", secretEnv: "S" } }))).toEqual([
      `${SRC}: rollouts[0].rings[0].apply: holds unknown placeholder {nope}; known: {version}, {previousVersion}, {ring}, {traffic}, {flag}, {rollout}, {service}, {tenant}`,
    ]);
  });
});

describe("alertmanager", () => {
  it("reads silenceOnAck as a duration", () => {
    const r = validatePlan({ ...base(), alertmanager: { silenceOnAck: "2h" } }, SRC);
    expect(r.ok && r.plan.alertmanager).toEqual({ silenceOnAckSeconds: 7200 });
  });

  it("refuses a zero or malformed duration and unknown fields", () => {
    expect(errors({ ...base(), alertmanager: { silenceOnAck: "0s" } })).toEqual([`${SRC}: alertmanager.silenceOnAck: must be a duration longer than 0 (got "0s")`]);
    expect(errors({ ...base(), alertmanager: { silence: true } })).toEqual([`${SRC}: alertmanager.silence: is not a known field; expected one of silenceOnAck`]);
    expect(errors({ ...base(), alertmanager: "yes" })).toEqual([`${SRC}: alertmanager: must be an object {"silenceOnAck"?: duration} (got "yes")`]);
  });
});
