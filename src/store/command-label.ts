import type { Action, AlertState, CockpitState, RolloutState, Target } from "../protocol/types.js";

// Words for a command, used by the status bar ("pause api v408 … acked") and the
// confirmation dialog. Built from the state at the time the command was sent,
// so the line keeps naming what the person acted on even after the state moves.

export function rolloutName(r: Pick<RolloutState, "service" | "version">): string {
  return `${r.service} ${r.version}`;
}

/** Rings that have taken traffic: what a rollback would take the new version out of. */
export function ringsWithTraffic(r: RolloutState): string[] {
  return r.rings.filter((g) => g.state !== "pending" && g.state !== "rolled_back").map((g) => g.name);
}

function quote(text: string, max = 40): string {
  const one = text.replace(/\s+/g, " ").trim();
  return `“${one.length > max ? one.slice(0, max - 1) + "…" : one}”`;
}

function findRollout(state: CockpitState, target: Target): RolloutState | undefined {
  return target.rollout === undefined ? undefined : state.rollouts.find((r) => r.id === target.rollout);
}

function findAlert(state: CockpitState, target: Target): AlertState | undefined {
  return target.alert === undefined ? undefined : state.alerts.find((a) => a.id === target.alert);
}

const VERBS: Record<Action, string> = {
  pause: "pause",
  resume: "resume",
  rollback: "roll back",
  kill_switch: "engage kill switch of",
  release_kill_switch: "release kill switch of",
  promote: "promote",
  ack_alert: "ack alert",
  note: "note",
  declare_incident: "declare incident",
  resolve_incident: "resolve incident",
  assign_role: "assign",
  set_milestone: "milestone",
};

export interface LabelledCommand {
  action: Action;
  target: Target;
  args?: Record<string, unknown>;
}

export function commandLabel(cmd: LabelledCommand, state: CockpitState): string {
  const verb = VERBS[cmd.action] ?? cmd.action;
  const args = cmd.args ?? {};
  const rollout = findRollout(state, cmd.target);
  const rolloutText = rollout ? rolloutName(rollout) : (cmd.target.rollout ?? "");
  switch (cmd.action) {
    case "pause":
    case "resume":
    case "promote":
    case "kill_switch":
    case "release_kill_switch":
      return `${verb} ${rolloutText}`.trim();
    case "rollback":
      return rollout ? `roll back ${rolloutName(rollout)} → ${rollout.previousVersion}` : `roll back ${rolloutText}`.trim();
    case "ack_alert": {
      const alert = findAlert(state, cmd.target);
      return alert ? `ack alert ${quote(alert.title)}` : `ack alert ${cmd.target.alert ?? ""}`.trim();
    }
    case "note":
      return typeof args.text === "string" ? `note ${quote(args.text)}` : "note";
    case "declare_incident":
      return typeof args.title === "string" ? `declare incident ${quote(args.title)}` : "declare incident";
    case "assign_role":
      return `assign ${String(args.role ?? "role")} → ${String(args.name ?? "?")}`;
    case "set_milestone":
      return `milestone ${String(args.milestone ?? "?")}`;
    case "resolve_incident":
      return `resolve incident ${cmd.target.incident ?? ""}`.trim();
    default:
      return verb;
  }
}
