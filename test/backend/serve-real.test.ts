import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { checkSetup, runServe } from "../../src/backend/serve-cli.js";
import { validatePlan } from "../../src/domain/plan.js";
import type { Plan } from "../../src/domain/plan-types.js";

// Real processes and sockets: generous per-test time on a loaded machine (no test asserts a duration).
vi.setConfig({ testTimeout: 30_000 });

// `cockpit serve` with real backends refuses, at start, what would otherwise
// hold a rollout forever or fail at the worst moment.

function plan(rollout: Record<string, unknown>): Plan {
  const r = validatePlan({ tenant: "payments", rollouts: [{ id: "api-v2", service: "api", version: "v2", previousVersion: "v1", kind: "code", ...rollout }] }, "plan.json");
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.plan;
}

const RINGS = [{ name: "canary", traffic: 5, slos: ["p99_latency_ms < 50 for 1m"] }];

describe("checkSetup", () => {
  it("asks for PromQL for every gated metric when serving with --prometheus", () => {
    expect(() => checkSetup({ plans: [plan({ rings: RINGS })], scenario: null }, { prometheus: true })).toThrow(
      'cannot serve this plan:\n  rollout api-v2: no PromQL for p99_latency_ms; add "slis" to the plan (see docs/operations.md)',
    );
    expect(() => checkSetup({ plans: [plan({ rings: RINGS, slis: { p99_latency_ms: { query: 'x{ring="{ring}"}' } } })], scenario: null }, { prometheus: true })).not.toThrow();
  });

  it("refuses gates on metrics the simulated fleet does not model", () => {
    expect(() => checkSetup({ plans: [plan({ rings: [{ name: "canary", traffic: 5, slos: ["checkout_errors < 1"] }] })], scenario: null }, { prometheus: false })).toThrow(
      /rollout api-v2: the simulated fleet models p99_latency_ms, .*, not checkout_errors; serve with --prometheus to read real SLIs/,
    );
  });

  it("refuses a webhook whose secret is not in the environment", () => {
    const p = plan({ rings: [{ name: "canary", traffic: 5, slos: [], apply: { webhook: "https://deploy.example.com/ship", secretEnv: "SHIP_SECRET_X" } }] });
    expect(() => checkSetup({ plans: [p], scenario: null }, { prometheus: false, env: {} })).toThrow(
      "cannot serve this plan:\n  webhook https://deploy.example.com/ship: environment variable SHIP_SECRET_X (its HMAC secret) is not set",
    );
    expect(() => checkSetup({ plans: [p], scenario: null }, { prometheus: false, env: { SHIP_SECRET_X: "k" } })).not.toThrow();
  });
});

describe("cockpit serve options for real backends", () => {
  async function serve(args: string[]): Promise<{ code: number; err: string }> {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = "";
    stderr.on("data", (d: Buffer) => (err += d.toString()));
    const code = await runServe(args, { stdout, stderr });
    return { code, err };
  }

  function planFile(): string {
    const dir = mkdtempSync(join(tmpdir(), "cockpit-serve-real-"));
    const path = join(dir, "plan.json");
    writeFileSync(path, JSON.stringify({ tenant: "payments", rollouts: [{ id: "api-v2", service: "api", version: "v2", previousVersion: "v1", kind: "code", rings: RINGS }] }));
    return path;
  }

  it("exits 2 for --prometheus with a scenario", async () => {
    const r = await serve(["--scenario", "healthy", "--prometheus", "http://127.0.0.1:9090", "--data-dir", mkdtempSync(join(tmpdir(), "cockpit-x-"))]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--prometheus reads a real service's SLIs: give --plan FILE, not --scenario");
  });

  it("exits 2 for a plan without queries, a bad URL, or options without their URL", async () => {
    const file = planFile();
    const noSlis = await serve(["--plan", file, "--prometheus", "http://127.0.0.1:9090", "--data-dir", mkdtempSync(join(tmpdir(), "cockpit-x-"))]);
    expect(noSlis.code).toBe(2);
    expect(noSlis.err).toContain("no PromQL for p99_latency_ms");
    const badUrl = await serve(["--plan", file, "--prometheus", "prometheus:9090"]);
    expect(badUrl).toEqual({ code: 2, err: "cockpit serve: --prometheus prometheus:9090: not an http(s) URL; give one like http://127.0.0.1:9090\n" });
    const lonely = await serve(["--plan", file, "--sample-every", "1"]);
    expect(lonely).toEqual({ code: 2, err: "cockpit serve: --prometheus-timeout and --sample-every go with --prometheus URL\n" });
    const poll = await serve(["--plan", file, "--alertmanager-poll", "1"]);
    expect(poll).toEqual({ code: 2, err: "cockpit serve: --alertmanager-poll goes with --alertmanager URL\n" });
  });

  it("exits 2 for a webhook secret file that is missing or too short", async () => {
    const file = planFile();
    const missing = await serve(["--plan", file, "--alertmanager-secret-file", "/nonexistent/secret"]);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^cockpit serve: cannot read --alertmanager-secret-file \/nonexistent\/secret: ENOENT/);
    const short = join(mkdtempSync(join(tmpdir(), "cockpit-x-")), "secret");
    writeFileSync(short, "abc\n");
    expect(await serve(["--plan", file, "--alertmanager-secret-file", short])).toEqual({
      code: 2,
      err: `cockpit serve: --alertmanager-secret-file ${short}: the secret must be at least 16 characters (e.g. openssl rand -hex 32)\n`,
    });
  });
});
