import { describe, expect, it } from "vitest";
import { ROLE_ACTIONS, checkCommand, checkCommandShape, formatClockUtc, type CommandRequest } from "../../src/domain/transitions.js";
import { ACTIONS, type Action, type CockpitState, type RingState, type Role, type RolloutState } from "../../src/protocol/types.js";

function rings(states: RingState["state"][]): RingState[] {
  const names = ["canary", "early", "all"];
  const traffic = [1, 10, 100];
  return states.map((state, i) => ({ name: names[i]!, traffic: traffic[i]!, state }));
}

function rollout(id: string, over: Partial<RolloutState>): RolloutState {
  return {
    id,
    service: "api",
    version: "v408",
    previousVersion: "v407",
    kind: "code",
    state: "progressing",
    ring: "canary",
    rings: rings(["baking", "pending", "pending"]),
    onBreach: "pause",
    killSwitch: { flag: "new_checkout", engaged: false },
    since: "2026-11-21T14:00:00.000Z",
    ...over,
  };
}

function state(): CockpitState {
  return {
    rollouts: [
      rollout("api-v408", {}),
      rollout("api-paused", { state: "paused", since: "2026-11-21T14:05:40.123Z", pausedReason: "p99_latency_ms 63 > 50", pausedAutomatic: true }),
      rollout("api-rolled", { state: "rolled_back", since: "2026-11-21T14:09:12.000Z", rings: rings(["rolled_back", "pending", "pending"]), ring: "canary" }),
      rollout("api-rolling", { state: "rolling_back", since: "2026-11-21T14:08:00.000Z" }),
      rollout("api-done", { state: "completed", since: "2026-11-21T14:30:00.000Z", ring: "all", rings: rings(["completed", "completed", "completed"]) }),
      rollout("api-pending", { state: "pending", ring: null, rings: rings(["pending", "pending", "pending"]) }),
      rollout("api-early", { ring: "early", rings: rings(["completed", "progressing", "pending"]) }),
      rollout("api-noflag", { killSwitch: undefined }),
      rollout("api-flagged", { killSwitch: { flag: "new_checkout", engaged: true } }),
      rollout("api-between", { ring: "canary", rings: rings(["completed", "pending", "pending"]) }),
    ],
    alerts: [
      { id: "al-1", severity: "critical", title: "p99 high", state: "firing", since: "2026-11-21T14:05:00.000Z" },
      { id: "al-acked", severity: "critical", title: "p99 high", state: "firing", since: "2026-11-21T14:05:00.000Z", ackedBy: "alice" },
      { id: "al-old", severity: "warning", title: "burn", state: "resolved", since: "2026-11-21T13:00:00.000Z" },
    ],
    incidents: [
      { id: "inc-1", severity: "SEV2", title: "checkout slow", status: "open", roles: {}, milestones: {} },
      { id: "inc-old", severity: "SEV3", title: "old", status: "resolved", roles: {}, milestones: {} },
    ],
  };
}

function check(action: Action | string, target: CommandRequest["target"], args?: Record<string, unknown>, role: Role = "commander") {
  return checkCommand(state(), { action, target, args }, role);
}

function rejects(action: Action | string, target: CommandRequest["target"], args?: Record<string, unknown>, role: Role = "commander"): string {
  const r = check(action, target, args, role);
  if (r === null) throw new Error(`expected ${action} to be rejected`);
  return `${r.code}: ${r.message}`;
}

describe("checkCommand: allowed commands", () => {
  it.each<[Action, CommandRequest["target"], Record<string, unknown>?]>([
    ["pause", { rollout: "api-v408" }],
    ["pause", { rollout: "api-pending" }],
    ["resume", { rollout: "api-paused" }],
    ["promote", { rollout: "api-v408" }],
    ["promote", { rollout: "api-early" }],
    ["rollback", { rollout: "api-v408" }],
    ["rollback", { rollout: "api-paused" }],
    ["rollback", { rollout: "api-done" }],
    ["rollback", { rollout: "api-early" }, { scope: ["canary", "early"] }],
    ["kill_switch", { rollout: "api-v408" }],
    ["kill_switch", { rollout: "api-rolled" }],
    ["release_kill_switch", { rollout: "api-flagged" }],
    ["ack_alert", { alert: "al-1" }],
    ["note", {}, { text: "looking at the canary" }],
    ["note", { rollout: "api-v408" }, { text: "x" }],
    ["note", { incident: "inc-old" }, { text: "follow-up filed" }],
    ["note", { alert: "al-old" }, { text: "was noise" }],
    ["declare_incident", {}, { severity: "SEV2", title: "checkout slow" }],
    ["declare_incident", { rollout: "api-v408" }, { severity: "critical", title: "p99" }],
    ["resolve_incident", { incident: "inc-1" }],
    ["assign_role", { incident: "inc-1" }, { role: "scribe", name: "bob" }],
    ["set_milestone", { incident: "inc-1" }, { milestone: "detected" }],
    ["set_milestone", { incident: "inc-old" }, { milestone: "mitigated", at: "2026-11-21T14:10:00Z" }],
  ])("allows %s on %j", (action, target, args) => {
    expect(check(action, target, args)).toBeNull();
  });
});

describe("checkCommand: invalid_state sentences", () => {
  it.each<[Action, string, Record<string, unknown>?, string?]>([
    ["resume", "api-rolled", undefined, "cannot resume api-rolled: it was rolled back at 14:09"],
    ["resume", "api-v408", undefined, "cannot resume api-v408: it is progressing, not paused"],
    ["resume", "api-pending", undefined, "cannot resume api-pending: it is pending, not paused"],
    ["resume", "api-done", undefined, "cannot resume api-done: it completed at 14:30"],
    ["resume", "api-rolling", undefined, "cannot resume api-rolling: it is rolling back (since 14:08)"],
    ["pause", "api-paused", undefined, "cannot pause api-paused: it is already paused since 14:05 (p99_latency_ms 63 > 50)"],
    ["pause", "api-done", undefined, "cannot pause api-done: it completed at 14:30"],
    ["pause", "api-rolled", undefined, "cannot pause api-rolled: it was rolled back at 14:09"],
    ["pause", "api-rolling", undefined, "cannot pause api-rolling: it is rolling back (since 14:08)"],
    ["rollback", "api-rolled", undefined, "cannot roll back api-rolled: it is already rolled back (14:09)"],
    ["rollback", "api-rolling", undefined, "cannot roll back api-rolling: it is already rolling back (since 14:08)"],
    ["rollback", "api-pending", undefined, "cannot roll back api-pending: it has not started, so nothing was deployed (pause it to hold it)"],
    ["rollback", "api-early", { scope: ["all"] }, "cannot roll back ring all of api-early: it has not started"],
    ["kill_switch", "api-noflag", undefined, "cannot use the kill switch on api-noflag: its plan names no kill-switch flag"],
    ["kill_switch", "api-flagged", undefined, "cannot use the kill switch on api-flagged: flag new_checkout is already engaged"],
    ["release_kill_switch", "api-v408", undefined, "cannot release the kill switch on api-v408: flag new_checkout is not engaged"],
    ["release_kill_switch", "api-noflag", undefined, "cannot release the kill switch on api-noflag: its plan names no kill-switch flag"],
    ["promote", "api-paused", undefined, "cannot promote api-paused: it is paused since 14:05 (p99_latency_ms 63 > 50); resume it first"],
    ["promote", "api-pending", undefined, "cannot promote api-pending: it has not started yet"],
    ["promote", "api-done", undefined, "cannot promote api-done: it completed at 14:30"],
    ["promote", "api-rolled", undefined, "cannot promote api-rolled: it was rolled back at 14:09"],
    ["promote", "api-between", undefined, "cannot promote api-between: its current ring canary is completed, not baking or progressing"],
  ])("%s %s", (action, id, args, sentence) => {
    expect(rejects(action, { rollout: id }, args)).toBe(`invalid_state: ${sentence}`);
  });

  it("refuses a scope ring that is already rolled back", () => {
    const s = state();
    s.rollouts[0] = rollout("api-v408", { state: "paused", rings: rings(["rolled_back", "baking", "pending"]), ring: "early" });
    expect(checkCommand(s, { action: "rollback", target: { rollout: "api-v408" }, args: { scope: ["canary"] } }, "operator")).toEqual({
      code: "invalid_state",
      message: "cannot roll back ring canary of api-v408: it is already rolled back",
    });
  });

  it("refuses a rollback when no ring has started", () => {
    const s = state();
    s.rollouts[0] = rollout("api-v408", { state: "progressing", ring: null, rings: rings(["pending", "pending", "pending"]) });
    expect(checkCommand(s, { action: "rollback", target: { rollout: "api-v408" } }, "operator")?.message).toBe(
      "cannot roll back api-v408: no ring has started, so nothing was deployed",
    );
  });

  it("leaves the time out when the rollout has none", () => {
    const s = state();
    s.rollouts[0] = rollout("api-v408", { state: "rolled_back", since: undefined });
    expect(checkCommand(s, { action: "resume", target: { rollout: "api-v408" } }, "operator")?.message).toBe("cannot resume api-v408: it was rolled back");
  });

  it("refuses to acknowledge an acknowledged or resolved alert", () => {
    expect(rejects("ack_alert", { alert: "al-acked" })).toBe("invalid_state: cannot acknowledge alert al-acked: alice already acknowledged it");
    expect(rejects("ack_alert", { alert: "al-old" })).toBe("invalid_state: cannot acknowledge alert al-old: it is already resolved");
  });

  it("refuses to resolve a resolved incident", () => {
    expect(rejects("resolve_incident", { incident: "inc-old" })).toBe("invalid_state: cannot resolve incident inc-old: it is already resolved");
  });
});

describe("checkCommand: not_found", () => {
  it("names only the missing id, hinting at nothing else", () => {
    expect(rejects("pause", { rollout: "web-v9" })).toBe("not_found: no rollout named web-v9");
    expect(rejects("ack_alert", { alert: "al-9" })).toBe("not_found: no alert named al-9");
    expect(rejects("resolve_incident", { incident: "inc-9" })).toBe("not_found: no incident named inc-9");
    expect(rejects("note", { incident: "inc-9" }, { text: "x" })).toBe("not_found: no incident named inc-9");
    expect(rejects("declare_incident", { rollout: "web-v9" }, { severity: "SEV1", title: "t" })).toBe("not_found: no rollout named web-v9");
  });

  it("names a scope ring the rollout does not have", () => {
    expect(rejects("rollback", { rollout: "api-v408" }, { scope: ["beta"] })).toBe("not_found: api-v408 has no ring named beta");
  });
});

describe("checkCommand: bad_request", () => {
  it.each<[string, CommandRequest["target"], Record<string, unknown> | undefined, string]>([
    ["explode", { rollout: "api-v408" }, undefined, `unknown action "explode"; expected one of ${ACTIONS.join(", ")}`],
    ["pause", {}, undefined, 'pause takes a target {"rollout": id} (got {})'],
    ["pause", { alert: "al-1" }, undefined, 'pause takes a target {"rollout": id} (got an alert)'],
    ["pause", { rollout: "api-v408", incident: "inc-1" }, undefined, 'pause takes a target {"rollout": id}, naming one thing (got rollout and incident)'],
    ["pause", { rollout: "" }, undefined, 'target.rollout must be a non-empty id of at most 128 characters (got "")'],
    ["ack_alert", { rollout: "api-v408" }, undefined, 'ack_alert takes a target {"alert": id} (got a rollout)'],
    ["resolve_incident", {}, undefined, 'resolve_incident takes a target {"incident": id} (got {})'],
    ["declare_incident", { incident: "inc-1" }, { severity: "SEV1", title: "t" }, 'declare_incident takes a target {} or {"rollout": id} or {"alert": id} (got an incident)'],
    ["note", {}, undefined, 'note needs args.text: non-empty text of at most 4096 characters (got nothing)'],
    ["note", {}, { text: "   " }, 'note needs args.text: non-empty text of at most 4096 characters (got "   ")'],
    ["note", {}, { text: "x".repeat(4097) }, `note needs args.text: non-empty text of at most 4096 characters (got "${"x".repeat(39)}…")`],
    ["note", {}, { text: 5 }, "note needs args.text: non-empty text of at most 4096 characters (got 5)"],
    ["declare_incident", {}, { severity: "SEV9", title: "t" }, 'declare_incident needs args.severity: one of SEV1, SEV2, SEV3, SEV4, critical, warning, info (got "SEV9")'],
    ["declare_incident", {}, { severity: "SEV1" }, "declare_incident needs args.title: non-empty text of at most 256 characters (got nothing)"],
    ["assign_role", { incident: "inc-1" }, { role: "boss", name: "x" }, 'assign_role needs args.role: one of commander, scribe, operator, liaison (got "boss")'],
    ["assign_role", { incident: "inc-1" }, { role: "scribe", name: "" }, 'assign_role needs args.name: a non-empty name of at most 128 characters (got "")'],
    ["set_milestone", { incident: "inc-1" }, { milestone: "done" }, 'set_milestone needs args.milestone: one of impact_started, detected, acknowledged, mitigated, resolved (got "done")'],
    ["set_milestone", { incident: "inc-1" }, { milestone: "detected", at: "yesterday" }, 'set_milestone args.at must be an ISO-8601 time like "2026-11-21T14:05:00Z" (got "yesterday")'],
    ["set_milestone", { incident: "inc-1" }, { milestone: "detected", at: "2026-13-45T99:00:00Z" }, 'set_milestone args.at must be an ISO-8601 time like "2026-11-21T14:05:00Z" (got "2026-13-45T99:00:00Z")'],
    ["rollback", { rollout: "api-v408" }, { scope: [] }, "rollback args.scope must be a list of at least one ring name (got a list)"],
    ["rollback", { rollout: "api-v408" }, { scope: "canary" }, 'rollback args.scope must be a list of at least one ring name (got "canary")'],
  ])("%s %j %j", (action, target, args, message) => {
    expect(rejects(action, target, args)).toBe(`bad_request: ${message}`);
  });

  it("refuses a target that is not an object, args that are not an object, and a non-text reason", () => {
    const s = state();
    expect(checkCommand(s, { action: "pause", target: null as never }, "operator")).toEqual({ code: "bad_request", message: 'pause takes a target {"rollout": id} (got null)' });
    expect(checkCommand(s, { action: "note", target: {}, args: ["x"] as never }, "operator")).toEqual({ code: "bad_request", message: "args must be an object (got a list)" });
    expect(checkCommand(s, { action: "pause", target: { rollout: "api-v408" }, reason: 5 as never }, "operator")).toEqual({
      code: "bad_request",
      message: "reason must be text of at most 4096 characters (got 5)",
    });
  });

  it("comes before forbidden and not_found", () => {
    expect(check("note", { rollout: "nope" }, {}, "viewer")?.code).toBe("bad_request");
  });

  it("is what checkCommandShape reports, whatever the state", () => {
    expect(checkCommandShape({ action: "note", target: {}, args: {} })?.code).toBe("bad_request");
    expect(checkCommandShape({ action: "pause", target: { rollout: "anything" } })).toBeNull();
  });
});

describe("checkCommand: roles", () => {
  const operatorActions: Action[] = ["pause", "resume", "promote", "rollback", "kill_switch", "release_kill_switch", "ack_alert", "note"];
  const commanderOnly: Action[] = ["declare_incident", "resolve_incident", "assign_role", "set_milestone"];

  it("publishes the role matrix", () => {
    expect([...ROLE_ACTIONS.viewer]).toEqual([]);
    expect([...ROLE_ACTIONS.operator].sort()).toEqual([...operatorActions].sort());
    expect([...ROLE_ACTIONS.commander].sort()).toEqual([...ACTIONS].sort());
  });

  /** a well-formed command for each action, so only the role decides */
  const sample: Record<Action, [CommandRequest["target"], Record<string, unknown>?]> = {
    pause: [{ rollout: "api-v408" }],
    resume: [{ rollout: "api-paused" }],
    promote: [{ rollout: "api-v408" }],
    rollback: [{ rollout: "api-v408" }],
    kill_switch: [{ rollout: "api-v408" }],
    release_kill_switch: [{ rollout: "api-flagged" }],
    ack_alert: [{ alert: "al-1" }],
    note: [{}, { text: "hi" }],
    declare_incident: [{}, { severity: "SEV2", title: "t" }],
    resolve_incident: [{ incident: "inc-1" }],
    assign_role: [{ incident: "inc-1" }, { role: "scribe", name: "bob" }],
    set_milestone: [{ incident: "inc-1" }, { milestone: "detected" }],
  };

  it.each(ACTIONS.map((a) => [a]))("applies the matrix to %s", (action) => {
    const [target, args] = sample[action];
    for (const role of ["viewer", "operator", "commander"] as const) {
      const r = check(action, target, args, role);
      if (ROLE_ACTIONS[role].has(action)) expect(r, `${role} ${action}`).toBeNull();
      else expect(r?.code, `${role} ${action}`).toBe("forbidden");
    }
  });

  it("says who may do it instead", () => {
    expect(rejects("pause", { rollout: "api-v408" }, undefined, "viewer")).toBe("forbidden: a viewer cannot pause a rollout: that needs the operator or commander role");
    expect(rejects("declare_incident", {}, { severity: "SEV1", title: "t" }, "operator")).toBe(
      "forbidden: an operator cannot declare incidents: that needs the commander role",
    );
    expect(rejects("note", {}, { text: "x" }, "viewer")).toBe("forbidden: a viewer cannot add notes: that needs the operator or commander role");
  });

  it("comes before not_found, so a viewer learns nothing about ids", () => {
    expect(check("pause", { rollout: "web-v9" }, undefined, "viewer")?.code).toBe("forbidden");
    for (const a of commanderOnly) expect(ROLE_ACTIONS.operator.has(a)).toBe(false);
  });

  it("refuses a role it does not know", () => {
    expect(checkCommand(state(), { action: "note", target: {}, args: { text: "x" } }, "admin" as Role)).toEqual({
      code: "forbidden",
      message: 'the role "admin" cannot add notes: that needs the operator or commander role',
    });
  });
});

describe("formatClockUtc", () => {
  it("writes HH:MM in UTC whatever the offset", () => {
    expect(formatClockUtc("2026-11-21T14:05:40.123Z")).toBe("14:05");
    expect(formatClockUtc("2026-11-21T16:05:00+02:00")).toBe("14:05");
    expect(formatClockUtc("2026-11-21T00:00:00Z")).toBe("00:00");
    expect(formatClockUtc("not a time")).toBeNull();
    expect(formatClockUtc(undefined)).toBeNull();
  });
});
