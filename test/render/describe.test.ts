import { describe, expect, it } from "vitest";
import { defaultActorLabel, describeBreach, describeEvent } from "../../src/render/describe.js";
import { EVENT_TYPES, type Actor, type CockpitEvent, type EventType } from "../../src/protocol/types.js";
import { ALICE, makeEvent, VALID_DATA } from "../protocol/event-fixtures.js";

const BOB_VIEWER: Actor = { kind: "human", name: "bob", role: "viewer" };
const CAROL: Actor = { kind: "human", name: "carol", role: "commander" };

function line<T extends EventType>(type: T, data: Partial<CockpitEvent<T>["data"]> = {}, extra: Partial<CockpitEvent> = {}): string | null {
  return describeEvent(makeEvent(type, { ...VALID_DATA[type], ...data } as CockpitEvent<T>["data"], extra));
}

describe("defaultActorLabel", () => {
  it("names people with their role, the engine and integrations", () => {
    expect(defaultActorLabel(ALICE)).toBe("alice (operator)");
    expect(defaultActorLabel({ kind: "human", name: "dave" })).toBe("dave");
    expect(defaultActorLabel({ kind: "engine", name: "engine" })).toBe("the engine");
    expect(defaultActorLabel({ kind: "integration", name: "prometheus" })).toBe("integration prometheus");
  });
});

describe("describeEvent: one sentence per event type", () => {
  const expected: Record<EventType, [Partial<CockpitEvent>, string | null]> = {
    "rollout.created": [
      { actor: ALICE },
      "alice (operator) created rollout api-v408: api v407 → v408 (code) through canary 1%, region-1 10%, global 100%; on breach: pause",
    ],
    "ring.started": [{}, "canary started taking 1% of traffic for api-v408"],
    "ring.baking": [{}, "canary baking until 14:10:00 for api-v408"],
    "ring.completed": [{}, "canary completed at 1% of traffic for api-v408"],
    "rollout.completed": [{}, "api-v408 completed: v408 is in every ring"],
    "sli.sample": [{}, null],
    "slo.breached": [{}, "api-v408: p99_latency_ms < 50 for 1m breached in canary (63.2 > 50)"],
    "slo.recovered": [{}, "api-v408: p99_latency_ms < 50 for 1m recovered in canary (41.5 < 50)"],
    "rollout.paused": [{ actor: ALICE }, "alice (operator) paused api-v408: checking canary latency"],
    "rollout.resumed": [{ actor: ALICE }, "alice (operator) resumed api-v408: latency back to normal"],
    "rollout.promoted": [{ actor: ALICE }, "alice (operator) promoted api-v408 in canary, skipping the rest of its bake"],
    "rollout.rollback_started": [{}, "the engine started rolling api-v408 back from v408 to v407 in canary, region-1 (automatic)"],
    "rollout.rolled_back": [{}, "api-v408 rolled back to v407 in canary, region-1 (automatic)"],
    "killswitch.engaged": [{ rollout: "checkout-flag" }, "kill switch new-checkout engaged on checkout-flag"],
    "killswitch.released": [{ rollout: "checkout-flag", actor: ALICE }, "kill switch new-checkout released on checkout-flag by alice (operator)"],
    "alert.firing": [{ ring: "canary", alert: "al-1" }, "alert firing (critical): Canary p99 latency over SLO [canary]"],
    "alert.resolved": [{ alert: "al-1" }, "alert resolved (critical): Canary p99 latency over SLO"],
    "alert.acknowledged": [{ alert: "al-1", ring: "canary", actor: ALICE }, "alice (operator) acknowledged alert (critical): Canary p99 latency over SLO [canary]"],
    "incident.declared": [{ incident: "inc-1", actor: CAROL }, "incident inc-1 declared (SEV2) by carol (commander): Checkout latency"],
    "incident.resolved": [{ incident: "inc-1", actor: CAROL }, "incident inc-1 resolved (SEV2) by carol (commander): Checkout latency"],
    "incident.role_assigned": [{ incident: "inc-1", actor: CAROL }, "carol (commander) made bob scribe of incident inc-1"],
    "incident.milestone": [{ incident: "inc-1", actor: CAROL }, "carol (commander) recorded for incident inc-1: impact started at 14:02:00"],
    "incident.status_update": [{ incident: "inc-1", actor: CAROL }, "status update on incident inc-1 by carol (commander): rolled back, watching error rate"],
    "note.added": [{ actor: ALICE }, "note by alice (operator): looking at canary dashboards"],
    "command.rejected": [{ actor: BOB_VIEWER }, "command pause on api-v408 by bob (viewer) refused: forbidden — viewer may not pause"],
    "source.degraded": [
      { rollout: undefined, actor: { kind: "integration", name: "prometheus" } },
      "source prometheus is failing: cannot reach Prometheus at http://127.0.0.1:9090 (connect ECONNREFUSED); rollouts reading it hold until it answers",
    ],
    "source.recovered": [{ rollout: undefined, actor: { kind: "integration", name: "prometheus" } }, "source prometheus answers again: answering again after 42s"],
    "command.executed": [{ ring: "canary" }, "apply for canary of api-v408 succeeded (exit 0): bin/ship --version v408 --ring canary"],
    "command.failed": [{ ring: "canary" }, "apply for canary of api-v408 failed: exit 3: quota exceeded — bin/ship --version v408 --ring canary"],
  };

  it("covers every event type of the protocol", () => {
    expect(Object.keys(expected).sort()).toEqual([...EVENT_TYPES].sort());
  });

  it.each(Object.entries(expected))("%s", (type, [extra, sentence]) => {
    expect(line(type as EventType, {}, extra)).toBe(sentence);
  });
});

describe("describeEvent: variants", () => {
  it("says when the engine paused on its own, with the breach as the reason", () => {
    const reason = describeBreach("p99_latency_ms < 50 for 1m", "canary", 63.2, 50);
    expect(line("rollout.paused", { reason, automatic: true })).toBe(
      "the engine paused api-v408 automatically: p99_latency_ms < 50 for 1m breached in canary (63.2 > 50)",
    );
  });

  it("leaves out an empty reason", () => {
    expect(line("rollout.paused", { reason: "  " }, { actor: ALICE })).toBe("alice (operator) paused api-v408");
  });

  it("names who asked for a manual rollback, and says 'all rings' for an empty scope", () => {
    expect(line("rollout.rolled_back", { automatic: false, scope: [] }, { actor: ALICE })).toBe(
      "api-v408 rolled back to v407 in all rings (requested by alice (operator))",
    );
    expect(line("rollout.rollback_started", { automatic: false, scope: ["canary"] }, { actor: ALICE })).toBe(
      "alice (operator) started rolling api-v408 back from v408 to v407 in canary",
    );
  });

  it("gives the reason a person typed in the confirmation for a rollback or a kill switch", () => {
    expect(line("rollout.rollback_started", { automatic: false, scope: ["canary"], reason: "p99 doubled\nin canary" }, { actor: ALICE })).toBe(
      "alice (operator) started rolling api-v408 back from v408 to v407 in canary: p99 doubled in canary",
    );
    expect(line("killswitch.engaged", { reason: "flag at 100%" }, { rollout: "checkout-flag", actor: ALICE })).toBe(
      "kill switch new-checkout engaged on checkout-flag by alice (operator): flag at 100%",
    );
    expect(line("killswitch.released", { reason: "  " }, { rollout: "checkout-flag", actor: ALICE })).toBe(
      "kill switch new-checkout released on checkout-flag by alice (operator)",
    );
  });

  it("prints percent metrics with %, a missing value as no data, and a breach streak", () => {
    expect(line("slo.breached", { assertion: "error_rate <= 0.1%", value: 0.12, threshold: 0.1, consecutive: 3 })).toBe(
      "api-v408: error_rate <= 0.1% breached in canary (0.12% > 0.1%, 3 checks in a row)",
    );
    expect(line("slo.breached", { value: null })).toBe("api-v408: p99_latency_ms < 50 for 1m breached in canary (no data, threshold 50)");
    expect(line("slo.breached", { threshold: null as unknown as number, value: 70.123 })).toBe("api-v408: p99_latency_ms < 50 for 1m breached in canary (70.1)");
    expect(line("slo.recovered", { value: 50 })).toBe("api-v408: p99_latency_ms < 50 for 1m recovered in canary (50 = 50)");
  });

  it("uses the given rollout and actor labels", () => {
    const opts = { rolloutLabel: (id: string) => id.replace("-", " "), actorLabel: (a: Actor) => a.name.toUpperCase() };
    expect(describeEvent(makeEvent("ring.started", VALID_DATA["ring.started"]), opts)).toBe("canary started taking 1% of traffic for api v408");
    expect(describeEvent(makeEvent("rollout.paused", VALID_DATA["rollout.paused"], { actor: ALICE }), opts)).toBe("ALICE paused api v408: checking canary latency");
  });

  it("names integrations and the engine in notes and kill switches", () => {
    const pager: Actor = { kind: "integration", name: "pagerduty" };
    expect(line("note.added", {}, { actor: pager })).toBe("note by integration pagerduty: looking at canary dashboards");
    expect(line("note.added")).toBe("note: looking at canary dashboards");
  });

  it("keeps every sentence on one line", () => {
    expect(line("note.added", { text: "first\nsecond\r\nthird" }, { actor: ALICE })).toBe("note by alice (operator): first second third");
    expect(line("rollout.paused", { reason: "a\nb" }, { actor: ALICE })).toBe("alice (operator) paused api-v408: a b");
  });

  it("adds the kill switch to a created rollout that has one, and reads ring events without a rollout", () => {
    expect(line("rollout.created", { kind: "flag", killSwitch: { flag: "new-checkout" }, onBreach: "rollback", rings: [] }, { rollout: "checkout-flag" })).toBe(
      "the engine created rollout checkout-flag: api v407 → v408 (flag) through no rings; on breach: rollback; kill switch new-checkout",
    );
    expect(line("ring.baking", {}, { rollout: undefined })).toBe("canary baking until 14:10:00");
  });

  it("names the target of a refused command on an alert or an incident", () => {
    expect(line("command.rejected", { action: "ack_alert", code: "not_found", message: "" }, { rollout: undefined, alert: "al-9", actor: ALICE })).toBe(
      "command ack_alert on alert al-9 by alice (operator) refused: not_found",
    );
  });

  it("gives a generic sentence for an event type it does not know", () => {
    const e = makeEvent("canary.analysis" as EventType, {} as never, { ring: "canary", actor: ALICE });
    expect(describeEvent(e)).toBe("canary.analysis event (api-v408, canary) by alice (operator)");
    expect(describeEvent({ ...e, rollout: undefined, ring: undefined, actor: { kind: "engine", name: "engine" } })).toBe("canary.analysis event");
  });

  it("puts ? in place of missing data instead of throwing", () => {
    const broken = (type: EventType): string | null => describeEvent(makeEvent(type, {} as never, { rollout: undefined }));
    for (const t of EVENT_TYPES) expect(() => broken(t)).not.toThrow();
    expect(broken("ring.started")).toBe("? started taking — of traffic");
    expect(broken("rollout.rolled_back")).toBe("? rolled back to ? in all rings (manual)");
    expect(broken("incident.milestone")).toBe("the engine recorded for incident ?: ? at ?");
    expect(describeEvent(makeEvent("rollout.created", { rings: [null, 5] } as never))).toBe(
      "the engine created rollout api-v408: ? ? → ? (?) through ? —, ? —; on breach: ?",
    );
  });
});

describe("describeBreach", () => {
  it("writes the assertion, the ring and how value and threshold compare", () => {
    expect(describeBreach("p99_latency_ms < 50 for 1m", "canary", 63.2, 50)).toBe("p99_latency_ms < 50 for 1m breached in canary (63.2 > 50)");
    expect(describeBreach("success_rate >= 99.5%", "region-1", 98.75, 99.5)).toBe("success_rate >= 99.5% breached in region-1 (98.8% < 99.5%)");
    expect(describeBreach("p99_latency_ms < baseline * 1.2", "canary", null, null)).toBe("p99_latency_ms < baseline * 1.2 breached in canary (no data)");
  });
});
