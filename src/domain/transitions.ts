import {
  ACTIONS,
  INCIDENT_ROLES,
  MILESTONES,
  type Action,
  type CockpitState,
  type RejectCode,
  type Role,
  type RolloutState,
  type Target,
} from "../protocol/types.js";

// Whether a command may change the folded state, and if not, why, in a
// sentence a person can act on. Checks run in a fixed order so the answer
// never leaks more than the asker may know:
//   1. bad_request    the command is malformed (unknown action, bad target or args)
//   2. forbidden      the role may not do this at all
//   3. not_found      the rollout/alert/incident does not exist for this tenant
//                     ("no rollout named X": nothing hints at other tenants)
//   4. invalid_state  it exists, but its state does not allow this now
//
// Decisions where the protocol is silent:
// - A pending rollout (created, no ring started) may be paused: that holds it
//   before it starts; resume lets it start. It may not be rolled back, because
//   nothing was deployed yet: pause it to hold it.
// - A completed rollout may be rolled back (a regression found after the last
//   ring); only pause, resume and promote are over once it completed.
// - The kill switch may be engaged or released in any rollout state: it is the
//   emergency lever and must not depend on where the rollout is.
// - Milestones and roles may still be set on a resolved incident (post-incident
//   corrections); only resolving it again is refused.
// Times in messages are HH:MM UTC from the rollout's `since`.

export type CommandCheck = { code: RejectCode; message: string } | null;

export interface CommandRequest {
  /** an Action; anything else is a bad_request (the wire may carry anything) */
  action: Action | string;
  target: Target;
  reason?: string | undefined;
  args?: Record<string, unknown> | undefined;
}

const OPERATOR_ACTIONS: readonly Action[] = ["pause", "resume", "promote", "rollback", "kill_switch", "release_kill_switch", "ack_alert", "note"];
const COMMANDER_ONLY: readonly Action[] = ["declare_incident", "resolve_incident", "assign_role", "set_milestone"];

/** What each role may send; the keymap hides keys outside it. */
export const ROLE_ACTIONS: Record<Role, ReadonlySet<Action>> = {
  viewer: new Set<Action>(),
  operator: new Set<Action>(OPERATOR_ACTIONS),
  commander: new Set<Action>([...OPERATOR_ACTIONS, ...COMMANDER_ONLY]),
};

export const INCIDENT_SEVERITIES = ["SEV1", "SEV2", "SEV3", "SEV4", "critical", "warning", "info"] as const;
export const MAX_NOTE_CHARS = 4096;
export const MAX_TITLE_CHARS = 256;
export const MAX_NAME_CHARS = 128;
export const MAX_ID_CHARS = 128;

const ACTION_SET: ReadonlySet<string> = new Set(ACTIONS);

/** What the action does, as the end of "cannot ..." and "may not ..." sentences. */
const DOING: Record<Action, string> = {
  pause: "pause a rollout",
  resume: "resume a rollout",
  rollback: "roll back a rollout",
  kill_switch: "use a kill switch",
  release_kill_switch: "release a kill switch",
  promote: "promote a rollout",
  ack_alert: "acknowledge alerts",
  note: "add notes",
  declare_incident: "declare incidents",
  resolve_incident: "resolve incidents",
  assign_role: "assign incident roles",
  set_milestone: "set incident milestones",
};

type TargetKind = "rollout" | "alert" | "incident";

/** Which targets each action takes; "none" means the empty target {}. */
const TARGETS: Record<Action, readonly (TargetKind | "none")[]> = {
  pause: ["rollout"],
  resume: ["rollout"],
  rollback: ["rollout"],
  kill_switch: ["rollout"],
  release_kill_switch: ["rollout"],
  promote: ["rollout"],
  ack_alert: ["alert"],
  note: ["none", "rollout", "alert", "incident"],
  declare_incident: ["none", "rollout", "alert"],
  resolve_incident: ["incident"],
  assign_role: ["incident"],
  set_milestone: ["incident"],
};

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function bad(message: string): CommandCheck {
  return { code: "bad_request", message };
}

function invalid(message: string): CommandCheck {
  return { code: "invalid_state", message };
}

function quoted(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 39) + "…" : v);
  if (v === undefined) return "nothing";
  return Array.isArray(v) ? "a list" : v === null ? "null" : typeof v === "object" ? "an object" : String(v);
}

function nonEmptyText(v: unknown, max: number): v is string {
  return typeof v === "string" && v.trim() !== "" && v.length <= max;
}

function describeTargets(kinds: readonly (TargetKind | "none")[]): string {
  return kinds.map((k) => (k === "none" ? "{}" : `{"${k}": id}`)).join(" or ");
}

/** The target kind named, or a bad_request message. */
function checkTarget(action: Action, target: unknown): { kind: TargetKind | "none"; id: string } | string {
  const allowed = TARGETS[action];
  const expected = `${action} takes a target ${describeTargets(allowed)}`;
  if (!isObject(target)) return `${expected} (got ${quoted(target)})`;
  const named = (["rollout", "alert", "incident"] as const).filter((k) => target[k] !== undefined);
  if (named.length > 1) return `${expected}, naming one thing (got ${named.join(" and ")})`;
  const kind = named[0] ?? "none";
  if (!allowed.includes(kind)) return `${expected} (got ${kind === "none" ? "{}" : kind === "rollout" ? "a rollout" : `an ${kind}`})`;
  if (kind === "none") return { kind, id: "" };
  const id = target[kind];
  if (!nonEmptyText(id, MAX_ID_CHARS)) return `target.${kind} must be a non-empty id of at most ${MAX_ID_CHARS} characters (got ${quoted(id)})`;
  return { kind, id };
}

function checkArgs(action: Action, args: Record<string, unknown>): string | null {
  switch (action) {
    case "note":
      if (!nonEmptyText(args.text, MAX_NOTE_CHARS)) return `note needs args.text: non-empty text of at most ${MAX_NOTE_CHARS} characters (got ${quoted(args.text)})`;
      return null;
    case "declare_incident":
      if (typeof args.severity !== "string" || !(INCIDENT_SEVERITIES as readonly string[]).includes(args.severity))
        return `declare_incident needs args.severity: one of ${INCIDENT_SEVERITIES.join(", ")} (got ${quoted(args.severity)})`;
      if (!nonEmptyText(args.title, MAX_TITLE_CHARS)) return `declare_incident needs args.title: non-empty text of at most ${MAX_TITLE_CHARS} characters (got ${quoted(args.title)})`;
      return null;
    case "assign_role":
      if (typeof args.role !== "string" || !(INCIDENT_ROLES as readonly string[]).includes(args.role))
        return `assign_role needs args.role: one of ${INCIDENT_ROLES.join(", ")} (got ${quoted(args.role)})`;
      if (!nonEmptyText(args.name, MAX_NAME_CHARS)) return `assign_role needs args.name: a non-empty name of at most ${MAX_NAME_CHARS} characters (got ${quoted(args.name)})`;
      return null;
    case "set_milestone":
      if (typeof args.milestone !== "string" || !(MILESTONES as readonly string[]).includes(args.milestone))
        return `set_milestone needs args.milestone: one of ${MILESTONES.join(", ")} (got ${quoted(args.milestone)})`;
      if (args.at !== undefined && (typeof args.at !== "string" || !ISO_TIME.test(args.at) || Number.isNaN(Date.parse(args.at))))
        return `set_milestone args.at must be an ISO-8601 time like "2026-11-21T14:05:00Z" (got ${quoted(args.at)})`;
      return null;
    case "rollback": {
      const scope = args.scope;
      if (scope === undefined) return null;
      if (!Array.isArray(scope) || scope.length === 0 || !scope.every((s) => nonEmptyText(s, MAX_ID_CHARS)))
        return `rollback args.scope must be a list of at least one ring name (got ${quoted(scope)})`;
      return null;
    }
    default:
      // The other actions take no args; extra ones are ignored so older
      // servers accept newer clients.
      return null;
  }
}

/**
 * Step 1 alone: is the command well formed, whatever the state and role?
 * (Scenario files check their scripted commands with it.)
 */
export function checkCommandShape(cmd: CommandRequest): CommandCheck {
  if (typeof cmd.action !== "string" || !ACTION_SET.has(cmd.action)) return bad(`unknown action ${quoted(cmd.action)}; expected one of ${ACTIONS.join(", ")}`);
  const action = cmd.action as Action;
  const target = checkTarget(action, cmd.target);
  if (typeof target === "string") return bad(target);
  if (cmd.reason !== undefined && (typeof cmd.reason !== "string" || cmd.reason.length > MAX_NOTE_CHARS))
    return bad(`reason must be text of at most ${MAX_NOTE_CHARS} characters (got ${quoted(cmd.reason)})`);
  if (cmd.args !== undefined && !isObject(cmd.args)) return bad(`args must be an object (got ${quoted(cmd.args)})`);
  const argProblem = checkArgs(action, cmd.args ?? {});
  return argProblem === null ? null : bad(argProblem);
}

/** "14:05" for an ISO time, in UTC; null when there is no usable time. */
export function formatClockUtc(iso: string | undefined): string | null {
  if (iso === undefined) return null;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const d = new Date(ms);
  return `${String(d.getUTCHours()).padStart(2, "0")}:${String(d.getUTCMinutes()).padStart(2, "0")}`;
}

function article(role: Role): string {
  return role === "operator" ? "an" : "a";
}

function rolesFor(action: Action): string {
  const roles = (Object.keys(ROLE_ACTIONS) as Role[]).filter((r) => ROLE_ACTIONS[r].has(action));
  return roles.join(" or ");
}

function shortReason(reason: string | undefined): string {
  if (!reason) return "";
  const oneLine = reason.replace(/\s+/g, " ").trim();
  return oneLine ? ` (${oneLine.length > 120 ? oneLine.slice(0, 119) + "…" : oneLine})` : "";
}

/**
 * Why the rollout's state ends the question, as the part after "cannot <verb> <id>: ",
 * for the states no rollout action can change: rolling back, rolled back, completed.
 */
function settledState(r: RolloutState): string | null {
  const t = formatClockUtc(r.since);
  switch (r.state) {
    case "rolling_back":
      return t ? `it is rolling back (since ${t})` : "it is rolling back";
    case "rolled_back":
      return t ? `it was rolled back at ${t}` : "it was rolled back";
    case "completed":
      return t ? `it completed at ${t}` : "it completed";
    default:
      return null;
  }
}

function pausedSince(r: RolloutState): string {
  const t = formatClockUtc(r.since);
  return `paused${t ? ` since ${t}` : ""}${shortReason(r.pausedReason)}`;
}

function checkRolloutState(action: Action, r: RolloutState, args: Record<string, unknown>): CommandCheck {
  const id = r.id;
  switch (action) {
    case "pause": {
      if (r.state === "pending" || r.state === "progressing") return null;
      if (r.state === "paused") return invalid(`cannot pause ${id}: it is already ${pausedSince(r)}`);
      return invalid(`cannot pause ${id}: ${settledState(r)}`);
    }
    case "resume": {
      if (r.state === "paused") return null;
      if (r.state === "pending" || r.state === "progressing") return invalid(`cannot resume ${id}: it is ${r.state}, not paused`);
      return invalid(`cannot resume ${id}: ${settledState(r)}`);
    }
    case "promote": {
      if (r.state === "paused") return invalid(`cannot promote ${id}: it is ${pausedSince(r)}; resume it first`);
      if (r.state === "pending") return invalid(`cannot promote ${id}: it has not started yet`);
      if (r.state !== "progressing") return invalid(`cannot promote ${id}: ${settledState(r)}`);
      const ring = r.rings.find((g) => g.name === r.ring);
      if (!ring) return invalid(`cannot promote ${id}: no ring has started yet`);
      if (ring.state !== "baking" && ring.state !== "progressing")
        return invalid(`cannot promote ${id}: its current ring ${ring.name} is ${ring.state.replace("_", " ")}, not baking or progressing`);
      return null;
    }
    case "rollback": {
      const t = formatClockUtc(r.since);
      if (r.state === "pending") return invalid(`cannot roll back ${id}: it has not started, so nothing was deployed (pause it to hold it)`);
      if (r.state === "rolling_back") return invalid(`cannot roll back ${id}: it is already rolling back${t ? ` (since ${t})` : ""}`);
      if (r.state === "rolled_back") return invalid(`cannot roll back ${id}: it is already rolled back${t ? ` (${t})` : ""}`);
      const started = r.rings.filter((g) => g.state !== "pending");
      if (started.length === 0) return invalid(`cannot roll back ${id}: no ring has started, so nothing was deployed`);
      if (Array.isArray(args.scope)) {
        for (const name of args.scope as string[]) {
          const ring = r.rings.find((g) => g.name === name);
          if (!ring) return { code: "not_found", message: `${id} has no ring named ${name}` };
          if (ring.state === "pending") return invalid(`cannot roll back ring ${name} of ${id}: it has not started`);
          if (ring.state === "rolled_back") return invalid(`cannot roll back ring ${name} of ${id}: it is already rolled back`);
        }
      } else if (started.every((g) => g.state === "rolled_back")) {
        return invalid(`cannot roll back ${id}: every ring that started is already rolled back`);
      }
      return null;
    }
    case "kill_switch": {
      if (!r.killSwitch) return invalid(`cannot use the kill switch on ${id}: its plan names no kill-switch flag`);
      if (r.killSwitch.engaged) return invalid(`cannot use the kill switch on ${id}: flag ${r.killSwitch.flag} is already engaged`);
      return null;
    }
    case "release_kill_switch": {
      if (!r.killSwitch) return invalid(`cannot release the kill switch on ${id}: its plan names no kill-switch flag`);
      if (!r.killSwitch.engaged) return invalid(`cannot release the kill switch on ${id}: flag ${r.killSwitch.flag} is not engaged`);
      return null;
    }
    default:
      return null;
  }
}

export function checkCommand(state: CockpitState, cmd: CommandRequest, role: Role): CommandCheck {
  const shape = checkCommandShape(cmd);
  if (shape) return shape;
  const action = cmd.action as Action;

  const allowed = ROLE_ACTIONS[role];
  if (!allowed || !allowed.has(action)) {
    const who = ROLE_ACTIONS[role] ? `${article(role)} ${role}` : `the role ${quoted(role)}`;
    return { code: "forbidden", message: `${who} cannot ${DOING[action]}: that needs the ${rolesFor(action)} role` };
  }

  const target = checkTarget(action, cmd.target) as { kind: TargetKind | "none"; id: string };
  const args = cmd.args ?? {};
  switch (target.kind) {
    case "rollout": {
      const r = state.rollouts.find((x) => x.id === target.id);
      if (!r) return { code: "not_found", message: `no rollout named ${target.id}` };
      return checkRolloutState(action, r, args);
    }
    case "alert": {
      const a = state.alerts.find((x) => x.id === target.id);
      if (!a) return { code: "not_found", message: `no alert named ${target.id}` };
      if (action === "ack_alert") {
        if (a.state === "resolved") return invalid(`cannot acknowledge alert ${a.id}: it is already resolved`);
        if (a.ackedBy !== undefined) return invalid(`cannot acknowledge alert ${a.id}: ${a.ackedBy} already acknowledged it`);
      }
      return null;
    }
    case "incident": {
      const i = state.incidents.find((x) => x.id === target.id);
      if (!i) return { code: "not_found", message: `no incident named ${target.id}` };
      if (action === "resolve_incident" && i.status === "resolved") return invalid(`cannot resolve incident ${i.id}: it is already resolved`);
      return null;
    }
    case "none":
      return null;
  }
}
