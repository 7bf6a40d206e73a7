import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkSetup } from "../../src/backend/serve-cli.js";
import { validatePlan } from "../../src/domain/plan.js";

// docs/operations.md shows a complete plan for a real service: it must stay a
// plan the backend accepts, with every gate fed by a query.

const DOC = readFileSync(join(import.meta.dirname, "..", "..", "docs", "operations.md"), "utf8");

describe("docs/operations.md", () => {
  it("holds a plan that validates and can be served with --prometheus", () => {
    const block = /```json\n(\{\n  "\$comment"[\s\S]*?)\n```/.exec(DOC)?.[1];
    expect(block).toBeDefined();
    const r = validatePlan(JSON.parse(block!), "docs/operations.md");
    if (!r.ok) throw new Error(r.errors.join("\n"));
    const rollout = r.plan.rollouts[0]!;
    expect(rollout.rings.map((g) => [g.name, g.apply !== undefined, g.rollback !== undefined])).toEqual([
      ["canary", true, true],
      ["eu-west", true, true],
      ["global", true, true],
    ]);
    expect(Object.keys(rollout.slis ?? {})).toEqual(["p99_latency_ms", "error_rate"]);
    expect(r.plan.alertmanager).toEqual({ silenceOnAckSeconds: 7200 });
    expect(() => checkSetup({ plans: [r.plan], scenario: null }, { prometheus: true, env: { DEPLOY_HOOK_SECRET: "x" } })).not.toThrow();
  });
});
