// Wire protocol version 1: the types of ../shared/PROTOCOL.md, the contract.
// Names here are fixed: add fields or event types, never rename one.

export const PROTOCOL_VERSION = 1 as const;
export const STREAM_PATH = "/v1/stream";
export const MAX_FRAME_BYTES = 1024 * 1024;
export const PING_INTERVAL_MS = 5_000;
export const LIVENESS_TIMEOUT_MS = 15_000;
export const HELLO_TIMEOUT_MS = 5_000;
export const GENESIS_HASH = "0".repeat(64);

export const CLOSE = {
  goingAway: 1001,
  tooBig: 1009,
  badHandshake: 4400,
  unauthorized: 4401,
  forbidden: 4403,
  handshakeTimeout: 4408,
  tooSlow: 4409,
} as const;

export type Role = "viewer" | "operator" | "commander";
export const ROLES: readonly Role[] = ["viewer", "operator", "commander"];

export type ActorKind = "engine" | "human" | "integration";
export interface Actor {
  kind: ActorKind;
  name: string;
  role?: Role | string;
}

export type RolloutKind = "code" | "config" | "flag";
export type OnBreach = "pause" | "rollback";
export type Severity = "critical" | "warning" | "info";
export type IncidentRole = "commander" | "scribe" | "operator" | "liaison";
export type Milestone = "impact_started" | "detected" | "acknowledged" | "mitigated" | "resolved";
export const MILESTONES: readonly Milestone[] = ["impact_started", "detected", "acknowledged", "mitigated", "resolved"];
export const INCIDENT_ROLES: readonly IncidentRole[] = ["commander", "scribe", "operator", "liaison"];

export const ACTIONS = [
  "pause",
  "resume",
  "rollback",
  "kill_switch",
  "release_kill_switch",
  "promote",
  "ack_alert",
  "note",
  "declare_incident",
  "resolve_incident",
  "assign_role",
  "set_milestone",
] as const;
export type Action = (typeof ACTIONS)[number];

export const REJECT_CODES = ["forbidden", "invalid_state", "not_found", "bad_request", "rate_limited"] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

export interface Target {
  rollout?: string;
  alert?: string;
  incident?: string;
}

// ---- event data, per type ----------------------------------------------------------

export interface RingPlanData {
  name: string;
  traffic: number;
  bakeSeconds: number;
  slos: string[];
}

export interface EventDataMap {
  "rollout.created": {
    service: string;
    version: string;
    previousVersion: string;
    kind: RolloutKind;
    rings: RingPlanData[];
    killSwitch?: { flag: string };
    onBreach: OnBreach;
    /** added to v1: the error budget burn-rate alerts are computed against */
    errorBudget?: { metric: string; objective: number };
  };
  "ring.started": { ring: string; traffic: number };
  "ring.baking": { ring: string; traffic: number; until: string };
  "ring.completed": { ring: string; traffic: number };
  "rollout.completed": { version: string };
  "sli.sample": { ring: string; metric: string; value: number | null; unit: string; baseline?: number | null };
  "slo.breached": { ring: string; assertion: string; value: number | null; threshold: number; consecutive: number };
  "slo.recovered": { ring: string; assertion: string; value: number | null; threshold: number; consecutive: number };
  "rollout.paused": { reason: string; automatic: boolean };
  "rollout.resumed": { reason: string; automatic: boolean };
  "rollout.promoted": { ring: string };
  /** reason: what the person typed in the confirmation, or the engine's breach (docs/protocol.md "Additions") */
  "rollout.rollback_started": { fromVersion: string; toVersion: string; scope: string[]; automatic: boolean; reason?: string };
  "rollout.rolled_back": { fromVersion: string; toVersion: string; scope: string[]; automatic: boolean };
  "killswitch.engaged": { flag: string; reason?: string };
  "killswitch.released": { flag: string; reason?: string };
  "alert.firing": { severity: Severity; title: string; source: string; labels?: Record<string, string> };
  "alert.resolved": { severity: Severity; title: string; source: string; labels?: Record<string, string> };
  "alert.acknowledged": { severity: Severity; title: string; source: string; labels?: Record<string, string> };
  "incident.declared": { severity: string; title: string };
  "incident.resolved": { severity: string; title: string };
  "incident.role_assigned": { role: IncidentRole; name: string };
  "incident.milestone": { milestone: Milestone; at: string };
  "incident.status_update": { text: string };
  "note.added": { text: string };
  "command.rejected": { action: string; code: RejectCode; message: string };
  /** added to v1 (issue 5): an outside source (Prometheus, Alertmanager) stopped answering, or answers wrongly */
  "source.degraded": { source: string; message: string };
  /** added to v1 (issue 5): the source answers again */
  "source.recovered": { source: string; message: string };
  /** added to v1 (issue 5): a command of the plan ran on the world and succeeded */
  "command.executed": CommandRunData;
  /** added to v1 (issue 5): it failed (exit code, timeout, HTTP status); `reason` says how, in a sentence */
  "command.failed": CommandRunData & { reason: string };
}

/**
 * Which of the plan's commands ran: a ring's `apply` / `rollback`, the kill
 * switch's `engage` / `release`, or an Alertmanager `silence` made by an ack.
 */
export type CommandStep = "apply" | "rollback" | "engage" | "release" | "silence";
export const COMMAND_STEPS: readonly CommandStep[] = ["apply", "rollback", "engage", "release", "silence"];

export interface CommandRunData {
  step: CommandStep;
  /** what ran, placeholders filled in and secrets redacted; a webhook is ["POST", url] */
  argv: string[];
  /** the process's exit code; null when it never exited on its own (timeout, signal, could not start) or for HTTP */
  exitCode: number | null;
  /** the last lines of stdout and stderr together (or the HTTP response body), redacted */
  outputTail: string;
  durationMs?: number;
  /** HTTP status of a webhook or Alertmanager call */
  status?: number;
}

export type EventType = keyof EventDataMap;
export const EVENT_TYPES = [
  "rollout.created",
  "ring.started",
  "ring.baking",
  "ring.completed",
  "rollout.completed",
  "sli.sample",
  "slo.breached",
  "slo.recovered",
  "rollout.paused",
  "rollout.resumed",
  "rollout.promoted",
  "rollout.rollback_started",
  "rollout.rolled_back",
  "killswitch.engaged",
  "killswitch.released",
  "alert.firing",
  "alert.resolved",
  "alert.acknowledged",
  "incident.declared",
  "incident.resolved",
  "incident.role_assigned",
  "incident.milestone",
  "incident.status_update",
  "note.added",
  "command.rejected",
  "source.degraded",
  "source.recovered",
  "command.executed",
  "command.failed",
] as const satisfies readonly EventType[];

/** An event before the log gives it seq, id, prev and hash. */
export interface EventDraft<T extends EventType = EventType> {
  time: string;
  tenant: string;
  type: T;
  rollout?: string;
  ring?: string;
  alert?: string;
  incident?: string;
  actor: Actor;
  command?: string;
  data: EventDataMap[T];
}

/** One line of the event log, and the same object on the wire. */
export interface CockpitEvent<T extends EventType = EventType> extends EventDraft<T> {
  seq: number;
  id: string;
  prev: string;
  hash: string;
}

/** Narrow an event to its type, so `data` is typed. */
export function isEvent<T extends EventType>(e: CockpitEvent, type: T): e is CockpitEvent<T> {
  return e.type === type;
}

// ---- folded state (snapshot) ------------------------------------------------------

export type RolloutStateName = "pending" | "progressing" | "paused" | "rolling_back" | "rolled_back" | "completed";
export type RingStateName = "pending" | "progressing" | "baking" | "completed" | "rolled_back";

export interface RingState {
  name: string;
  traffic: number;
  state: RingStateName;
  bakeUntil?: string;
  bakeSeconds?: number;
  slos?: string[];
  /** assertions currently breached in this ring */
  breaches?: string[];
}

export interface RolloutState {
  id: string;
  service: string;
  version: string;
  previousVersion: string;
  kind: RolloutKind;
  state: RolloutStateName;
  ring: string | null;
  rings: RingState[];
  killSwitch?: { flag: string; engaged: boolean };
  pausedReason?: string;
  pausedAutomatic?: boolean;
  onBreach: OnBreach;
  /** time of the last state change (pause, rollback, completion) */
  since?: string;
}

export interface AlertState {
  id: string;
  severity: Severity;
  title: string;
  state: "firing" | "resolved";
  rollout?: string;
  ring?: string;
  since: string;
  ackedBy?: string;
  source?: string;
}

export interface IncidentState {
  id: string;
  severity: string;
  title: string;
  status: "open" | "resolved";
  roles: Partial<Record<IncidentRole, string>>;
  milestones: Partial<Record<Milestone, string>>;
}

/** An outside source (Prometheus, Alertmanager) that is failing now, from its source.degraded event. */
export interface DegradedSource {
  source: string;
  /** the latest failure, in the backend's words */
  message: string;
  /** event time of the first source.degraded since it last answered well */
  since: string;
}

export interface CockpitState {
  rollouts: RolloutState[];
  alerts: AlertState[];
  incidents: IncidentState[];
  /** added to v1 (issue 3 follow-up): sources failing now; absent when none is */
  degradedSources?: DegradedSource[];
}

// ---- frames -----------------------------------------------------------------------

export interface HelloMsg {
  type: "hello";
  protocol: 1;
  client: string;
  resumeFrom: number | null;
  token?: string;
}
export interface CommandMsg {
  type: "command";
  id: string;
  action: Action;
  target: Target;
  reason?: string;
  args?: Record<string, unknown>;
}
export interface PingMsg {
  type: "ping";
  t: number;
}
export type ClientMsg = HelloMsg | CommandMsg | PingMsg;

export interface Session {
  actor: string;
  role: Role;
  tenant: string;
}
export interface WelcomeMsg {
  type: "welcome";
  protocol: 1;
  server: string;
  session: Session;
  headSeq: number;
  /**
   * Added to v1: the backend's clock when it sent welcome, and how many of its
   * seconds pass per real second (a simulation runs faster). Event times are on
   * this clock, so countdowns must be too.
   */
  clock?: ServerClock;
}
export interface ServerClock {
  time: string;
  speed: number;
}
export interface SnapshotMsg {
  type: "snapshot";
  seq: number;
  state: CockpitState;
}
export interface EventMsg {
  type: "event";
  event: CockpitEvent;
}
export interface AckMsg {
  type: "ack";
  id: string;
  seq: number;
  duplicate: boolean;
}
export interface RejectMsg {
  type: "reject";
  id: string;
  code: RejectCode;
  message: string;
  duplicate?: boolean;
}
export interface ErrorMsg {
  type: "error";
  code: string;
  message: string;
}
export interface PongMsg {
  type: "pong";
  t: number;
}
export type ServerMsg = WelcomeMsg | SnapshotMsg | EventMsg | AckMsg | RejectMsg | ErrorMsg | PongMsg;
