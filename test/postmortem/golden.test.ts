import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ScriptedCommand } from "../../src/domain/scenario-types.js";
import { draftFromSource } from "../../src/postmortem/run.js";
import { runScenarioOffline } from "../backend/scenario-helpers.js";

// Golden drafts: each bundled scenario run by the real engine with a fixed seed,
// clock and scripted people; the recorded log and its draft are kept in
// fixtures/. A change to the engine, the renderer or the drafting shows up here
// as a diff to read. Regenerate on purpose with: UPDATE_GOLDEN=1 npx vitest run test/postmortem/golden.test.ts

const ROOT = join(import.meta.dirname, "..", "..");
const update = process.env.UPDATE_GOLDEN === "1";

const alice = { name: "alice", role: "operator" } as const;
const carol = { name: "carol", role: "commander" } as const;

const SCRIPTS: Record<string, { seconds: number; script: ScriptedCommand[] }> = {
  "canary-latency": {
    seconds: 720,
    script: [
      { at: 190, actor: carol, action: "declare_incident", target: { rollout: "api-v408" }, args: { severity: "SEV2", title: "api p99 latency doubled in canary" } },
      { at: 200, actor: alice, action: "note", target: { rollout: "api-v408" }, args: { text: "canary p99 ~75ms; DB looks fine (postgres://svc:s3cret@db.internal:5432/api). Human error in the pool config? I should have checked." } },
      { at: 240, actor: alice, action: "rollback", target: { rollout: "api-v408" }, reason: "p99 doubled in canary" },
      { at: 700, actor: carol, action: "resolve_incident", target: { incident: "inc-1" } },
    ],
  },
  "regional-5xx": {
    seconds: 600,
    script: [{ at: 300, actor: alice, action: "note", target: { rollout: "checkout-v231" }, args: { text: "eu-west 5xx up 0.1pp after v231; automatic rollback held the rest" } }],
  },
  "flag-misconfig": {
    seconds: 600,
    script: [
      { at: 50, actor: carol, action: "declare_incident", target: { rollout: "new-checkout-flow" }, args: { severity: "SEV1", title: "checkout errors at 8%" } },
      { at: 60, actor: alice, action: "kill_switch", target: { rollout: "new-checkout-flow" }, reason: "flag at 100% instead of 1%; CHECKOUT_API_TOKEN=abc123def456 rotated" },
      { at: 300, actor: carol, action: "set_milestone", target: { incident: "inc-1" }, args: { milestone: "mitigated", at: "2026-11-21T14:01:30.000Z" } },
      { at: 560, actor: carol, action: "resolve_incident", target: { incident: "inc-1" } },
    ],
  },
  "slow-burn": {
    seconds: 420,
    script: [{ at: 150, actor: alice, action: "pause", target: { rollout: "search-v77" }, reason: "burn-rate page: 16x on canary" }],
  },
};

function golden(path: string, actual: string): void {
  const full = join(ROOT, path);
  if (update || !existsSync(full)) {
    writeFileSync(full, actual);
    if (!update) throw new Error(`${path} did not exist; wrote it. Read it, then run the test again.`);
    return;
  }
  expect(actual).toBe(readFileSync(full, "utf8"));
}

describe("golden post-mortem drafts from the real engine", () => {
  for (const [name, { seconds, script }] of Object.entries(SCRIPTS)) {
    it(`${name}: the recorded log and its draft are unchanged`, async () => {
      const run = await runScenarioOffline(name, { seconds, script });
      golden(`fixtures/logs/${name}.jsonl`, run.raw);
      const r = await draftFromSource(run.dataDir, { format: "md" });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      golden(`fixtures/golden/${name}.md`, r.text);
      // blameless and safe whatever the golden says
      expect(r.text).not.toMatch(/\b(alice|carol)\b/);
      expect(r.text).not.toMatch(/s3cret|abc123def456/);
    }, 30_000);
  }

  it("healthy: nothing to draft, and it says what the log holds", async () => {
    const run = await runScenarioOffline("healthy", { seconds: 400 });
    const r = await draftFromSource(run.dataDir, { format: "md" });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe(1);
      expect(r.message.length).toBeGreaterThan(20);
    }
  });
});
