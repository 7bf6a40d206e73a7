import { describe, expect, it } from "vitest";
import type { CockpitEvent } from "../../src/protocol/types.js";
import { FIXED_START, nonSample, runScenarioOffline } from "./scenario-helpers.js";

const types = (events: CockpitEvent[]) => nonSample(events).map((e) => e.type);
const at = (s: number) => s;

describe("scenarios run by the engine on a fixed clock", () => {
  it("canary-latency: the canary's p99 gate breaches, the engine pauses and alerts; a human rollback lands", async () => {
    const { events } = await runScenarioOffline("canary-latency", {
      seconds: 400,
      script: [
        { at: at(240), actor: { name: "alice", role: "operator" }, action: "rollback", target: { rollout: "api-v408" }, reason: "p99 doubled in canary" },
      ],
    });
    const breach = events.find((e) => e.type === "slo.breached")!;
    expect(breach.ring).toBe("canary");
    expect((breach.data as { assertion: string }).assertion).toBe("p99_latency_ms < 50 for 1m");
    expect((breach.data as { value: number }).value).toBeGreaterThan(50);
    const paused = events.find((e) => e.type === "rollout.paused")!;
    expect(paused.data).toMatchObject({ automatic: true });
    expect((paused.data as { reason: string }).reason).toMatch(/p99_latency_ms < 50 for 1m breached in canary \(\d+(\.\d+)? > 50\)/);
    expect(events.some((e) => e.type === "alert.firing" && e.ring === "canary" && (e.data as { severity: string }).severity === "critical")).toBe(true);
    const rb = events.find((e) => e.type === "rollout.rollback_started")!;
    expect(rb.actor).toEqual({ kind: "human", name: "alice", role: "operator" });
    expect(rb.data).toMatchObject({ fromVersion: "v408", toVersion: "v407", scope: ["internal", "canary"], automatic: false });
    expect(types(events)).toContain("rollout.rolled_back");
    // the region ring never started: the pause held the rollout
    expect(events.some((e) => e.type === "ring.started" && e.ring === "region-1")).toBe(false);
    // after the rollback the canary recovers and the alert resolves
    expect(events.some((e) => e.type === "slo.recovered" && e.ring === "canary")).toBe(true);
    expect(events.some((e) => e.type === "alert.resolved")).toBe(true);
  });

  it("regional-5xx: the canary stays green, only the region's baseline-relative SLO breaches and the plan rolls back", async () => {
    const { events } = await runScenarioOffline("regional-5xx", { seconds: 420 });
    expect(events.some((e) => e.type === "ring.completed" && e.ring === "canary")).toBe(true);
    const breaches = events.filter((e) => e.type === "slo.breached");
    expect(breaches.length).toBeGreaterThan(0);
    expect(breaches.every((e) => e.ring === "eu-west")).toBe(true);
    const rb = events.find((e) => e.type === "rollout.rollback_started")!;
    expect(rb.actor.kind).toBe("engine");
    expect(rb.data).toMatchObject({ automatic: true, toVersion: "v230" });
    expect(types(events)).toContain("rollout.rolled_back");
    expect(events.some((e) => e.type === "ring.started" && e.ring === "global")).toBe(false);
  });

  it("flag-misconfig: the flag at 100% breaches at once; the kill switch brings errors back under the SLO", async () => {
    const { events } = await runScenarioOffline("flag-misconfig", {
      seconds: 300,
      script: [{ at: at(90), actor: { name: "bob", role: "operator" }, action: "kill_switch", target: { rollout: "new-checkout-flow" }, reason: "errors at 8%" }],
    });
    const created = events.find((e) => e.type === "rollout.created")!;
    expect((created.data as { rings: { traffic: number }[] }).rings[0]!.traffic).toBe(100);
    const ks = events.find((e) => e.type === "killswitch.engaged")!;
    expect(ks.data).toMatchObject({ flag: "checkout.new_flow" });
    const recovered = events.find((e) => e.type === "slo.recovered" && (e.data as { assertion: string }).assertion.startsWith("error_rate"));
    expect(recovered).toBeDefined();
    expect(recovered!.seq).toBeGreaterThan(ks.seq);
    const lastErr = [...events].reverse().find((e) => e.type === "sli.sample" && (e.data as { metric: string }).metric === "error_rate")!;
    expect((lastErr.data as { value: number }).value).toBeLessThan(1);
  });

  it("slow-burn: the gates stay green while the burn-rate alert pages", async () => {
    const { events } = await runScenarioOffline("slow-burn", { seconds: 300 });
    expect(events.some((e) => e.type === "slo.breached")).toBe(false);
    const page = events.find((e) => e.type === "alert.firing" && (e.data as { source: string }).source === "burn-rate" && (e.data as { severity: string }).severity === "critical");
    expect(page).toBeDefined();
    expect((page!.data as { title: string }).title).toMatch(/error budget burning/);
  });

  it("healthy: both rollouts complete every ring with no breach and no alert", async () => {
    const { events } = await runScenarioOffline("healthy", { seconds: 400 });
    const done = events.filter((e) => e.type === "rollout.completed").map((e) => e.rollout);
    expect(done.sort()).toEqual(["rate-limits-v3", "web-v12"]);
    expect(events.some((e) => e.type === "slo.breached" || e.type === "alert.firing")).toBe(false);
  });

  it("marking an incident's 'resolved' milestone resolves it, once", async () => {
    const carol = { name: "carol", role: "commander" } as const;
    const { events } = await runScenarioOffline("canary-latency", {
      seconds: 300,
      script: [
        { at: 190, actor: carol, action: "declare_incident", target: { rollout: "api-v408" }, args: { severity: "SEV2", title: "p99 doubled" } },
        { at: 200, actor: carol, action: "set_milestone", target: { incident: "inc-1" }, args: { milestone: "mitigated" } },
        { at: 250, actor: carol, action: "set_milestone", target: { incident: "inc-1" }, args: { milestone: "resolved" } },
        // said again later (a correction of the time): the milestone moves, the incident is not resolved twice
        { at: 260, actor: carol, action: "set_milestone", target: { incident: "inc-1" }, args: { milestone: "resolved", at: "2026-11-21T14:04:05.000Z" } },
      ],
    });
    const ofIncident = nonSample(events).filter((e) => e.incident === "inc-1").map((e) => `${e.type}${e.type === "incident.milestone" ? `:${(e.data as { milestone: string }).milestone}` : ""}`);
    expect(ofIncident).toEqual([
      "incident.declared",
      "incident.role_assigned",
      "incident.milestone:mitigated",
      "incident.milestone:resolved",
      "incident.resolved",
      "incident.milestone:resolved",
    ]);
    const resolved = events.find((e) => e.type === "incident.resolved")!;
    expect(resolved.actor).toEqual({ kind: "human", ...carol });
    // both events of the one command carry its id
    const milestone = events.find((e) => e.type === "incident.milestone" && (e.data as { milestone: string }).milestone === "resolved")!;
    expect(resolved.command).toBe(milestone.command);
  });

  it("the same seed gives the same log twice, byte for byte", async () => {
    const a = await runScenarioOffline("canary-latency", { seconds: 200 });
    const b = await runScenarioOffline("canary-latency", { seconds: 200 });
    expect(a.raw.length).toBeGreaterThan(1000);
    expect(a.raw).toBe(b.raw);
    expect(a.events[0]!.time).toBe(new Date(FIXED_START).toISOString());
  });
});
