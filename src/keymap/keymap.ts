import type { Action, AlertState, IncidentState, Role, RolloutState } from "../protocol/types.js";

// THE key table (ARCHITECTURE.md: one source of truth). Dispatch, the footer
// and the `?` help overlay all read it; no component compares a key itself.
// A row says which keys run it, in which input mode and pane it means
// something, which protocol action it sends (so read-only sessions and roles
// without that action never see it) and whether it is dangerous (asks first,
// naming what will happen, with Cancel as the default).

/** Where the cursor is in the main screen. */
export type Pane = "rollouts" | "detail" | "alerts" | "timeline";
export const PANES: readonly Pane[] = ["rollouts", "detail", "alerts", "timeline"];

/**
 * What the keyboard is doing now: the main screen, a confirmation, editing the
 * confirmation's reason, a one-line text prompt (note, incident title, filter),
 * a pick list (milestones) or the help overlay.
 */
export type Mode = "main" | "confirm" | "reason" | "text" | "choose" | "help";

export type CommandId =
  | "up"
  | "down"
  | "next_pane"
  | "prev_pane"
  | "focus"
  | "back"
  | "pause"
  | "rollback"
  | "kill_switch"
  | "ack_alert"
  | "note"
  | "incident"
  | "milestone"
  | "filter"
  | "export_draft"
  | "help"
  | "quit"
  | "confirm_go"
  | "confirm_cancel"
  | "confirm_reason"
  | "reason_done"
  | "reason_cancel"
  | "text_submit"
  | "text_cancel"
  | "text_erase"
  | "choose_pick"
  | "choose_cancel"
  | "help_close"
  | "interrupt";

/** What a command's availability may depend on: the mode, the focus, who you are, what is selected. */
export interface KeyContext {
  mode: Mode;
  pane: Pane;
  role?: Role;
  readonly: boolean;
  actor?: string;
  rollout?: RolloutState;
  alert?: AlertState;
  incident?: IncidentState;
  /** handlers that may be absent (the post-mortem export) */
  has: { exportDraft: boolean };
}

export interface KeyCommand {
  id: CommandId;
  /** key names as keyName() spells them: "p", "?", "up", "enter", "esc", "tab", "shift+tab", "ctrl+c" */
  keys: readonly string[];
  /** short word for the footer */
  label: string;
  /** sentence for the help overlay */
  description: string;
  /** asks for confirmation (default Cancel) before sending */
  dangerous: boolean;
  /** the protocol action it sends; absent for keys that only move around the screen */
  action?: Action;
  /** the action and label used instead when the target is already in that state (resume a paused rollout) */
  toggle?: { when: (ctx: KeyContext) => boolean; action: Action; label: string };
  modes: readonly Mode[];
  /** panes where it applies (main mode); absent: everywhere */
  panes?: readonly Pane[];
  /** an optional handler the command needs; without it the command does not exist */
  requires?: keyof KeyContext["has"];
  /** whether it makes sense now, beyond mode, pane, role and read-only (e.g. something is selected) */
  when?: (ctx: KeyContext) => boolean;
  /** left out of the footer (still in help); for keys everyone knows in a mode */
  hideInFooter?: boolean;
}

const TEXT_MODES: readonly Mode[] = ["text", "reason"];
const NOT_MAIN: readonly Mode[] = ["confirm", "reason", "text", "choose", "help"];

const isFiring = (a: AlertState | undefined): boolean => a?.state === "firing";
const rolloutActive = (r: RolloutState | undefined): boolean =>
  r !== undefined && (r.state === "pending" || r.state === "progressing" || r.state === "paused");
const hasTraffic = (r: RolloutState | undefined): boolean =>
  r !== undefined && r.state !== "rolled_back" && r.state !== "rolling_back" && r.rings.some((g) => g.state !== "pending" && g.state !== "rolled_back");

export const KEYMAP: readonly KeyCommand[] = [
  // ---- main screen: moving around ---------------------------------------------------
  { id: "up", keys: ["up", "k"], label: "up", description: "Move up (select a rollout or alert, scroll the timeline)", dangerous: false, modes: ["main", "choose"], hideInFooter: true },
  { id: "down", keys: ["down", "j"], label: "down", description: "Move down", dangerous: false, modes: ["main", "choose"], hideInFooter: true },
  { id: "next_pane", keys: ["tab"], label: "pane", description: "Next pane (rollouts, detail, alerts, timeline)", dangerous: false, modes: ["main"] },
  { id: "prev_pane", keys: ["shift+tab"], label: "prev pane", description: "Previous pane", dangerous: false, modes: ["main"], hideInFooter: true },
  {
    id: "focus",
    keys: ["enter"],
    label: "open",
    description: "Open the selected rollout's detail (from an alert: its rollout)",
    dangerous: false,
    modes: ["main"],
    panes: ["rollouts", "alerts"],
    when: (c) => (c.pane === "alerts" ? c.alert?.rollout !== undefined : c.rollout !== undefined),
  },
  {
    id: "back",
    keys: ["esc"],
    label: "back",
    description: "Back to the rollout list (in the timeline: clear the filter first)",
    dangerous: false,
    modes: ["main"],
    panes: ["detail", "alerts", "timeline"],
  },

  // ---- main screen: mitigations and incident work -----------------------------------
  {
    id: "pause",
    keys: ["p"],
    label: "pause",
    description: "Pause the selected rollout, or resume it when paused (no confirmation: stopping is always safe)",
    dangerous: false,
    action: "pause",
    toggle: { when: (c) => c.rollout?.state === "paused", action: "resume", label: "resume" },
    modes: ["main"],
    panes: ["rollouts", "detail"],
    when: (c) => rolloutActive(c.rollout),
  },
  {
    id: "rollback",
    keys: ["r"],
    label: "roll back",
    description: "Roll the selected rollout back to its previous version in every ring that has it (asks first)",
    dangerous: true,
    action: "rollback",
    modes: ["main"],
    panes: ["rollouts", "detail"],
    when: (c) => hasTraffic(c.rollout),
  },
  {
    id: "kill_switch",
    keys: ["x"],
    label: "kill switch",
    description: "Engage the selected rollout's kill switch (turns its feature flag off everywhere), or release it (asks first)",
    dangerous: true,
    action: "kill_switch",
    toggle: { when: (c) => c.rollout?.killSwitch?.engaged === true, action: "release_kill_switch", label: "release kill switch" },
    modes: ["main"],
    panes: ["rollouts", "detail"],
    when: (c) => c.rollout?.killSwitch !== undefined,
  },
  {
    id: "ack_alert",
    keys: ["a"],
    label: "ack",
    description: "Acknowledge the selected alert (you are looking at it)",
    dangerous: false,
    action: "ack_alert",
    modes: ["main"],
    panes: ["alerts"],
    when: (c) => isFiring(c.alert) && !c.alert?.ackedBy,
  },
  { id: "note", keys: ["n"], label: "note", description: "Add a note to the timeline (on the selected rollout, else the open incident)", dangerous: false, action: "note", modes: ["main"] },
  {
    id: "incident",
    keys: ["i"],
    label: "incident",
    description: "Declare an incident; with one open, make yourself its commander",
    dangerous: false,
    action: "declare_incident",
    toggle: { when: (c) => c.incident !== undefined, action: "assign_role", label: "take command" },
    modes: ["main"],
    when: (c) => c.incident === undefined || c.actor === undefined || c.incident.roles.commander !== c.actor,
  },
  {
    id: "milestone",
    keys: ["m"],
    label: "milestone",
    description: "Mark a milestone of the open incident (impact started, detected, acknowledged, mitigated; resolved closes it)",
    dangerous: false,
    action: "set_milestone",
    modes: ["main"],
    when: (c) => c.incident !== undefined,
  },
  { id: "filter", keys: ["/"], label: "filter", description: "Filter the timeline (Enter keeps it, Esc clears it)", dangerous: false, modes: ["main"] },
  {
    id: "export_draft",
    keys: ["e"],
    label: "post-mortem",
    description: "Write a post-mortem draft from the event log",
    dangerous: false,
    modes: ["main"],
    requires: "exportDraft",
  },
  { id: "help", keys: ["?"], label: "help", description: "Show or hide this help", dangerous: false, modes: ["main"] },
  { id: "quit", keys: ["q", "ctrl+c"], label: "quit", description: "Quit (the terminal is restored)", dangerous: false, modes: ["main"] },

  // ---- confirmation of a dangerous command ------------------------------------------
  { id: "confirm_go", keys: ["y"], label: "yes, do it", description: "Confirm: send the command", dangerous: false, modes: ["confirm"] },
  { id: "confirm_cancel", keys: ["enter", "esc", "n"], label: "cancel", description: "Cancel (the default)", dangerous: false, modes: ["confirm"] },
  { id: "confirm_reason", keys: ["tab"], label: "reason", description: "Write a reason (kept in the event log)", dangerous: false, modes: ["confirm"] },
  { id: "reason_done", keys: ["enter", "tab"], label: "done", description: "Keep the reason and go back to the question", dangerous: false, modes: ["reason"] },
  { id: "reason_cancel", keys: ["esc"], label: "cancel", description: "Cancel the command", dangerous: false, modes: ["reason"] },

  // ---- text prompts -----------------------------------------------------------------
  { id: "text_submit", keys: ["enter"], label: "ok", description: "Accept the text", dangerous: false, modes: ["text"] },
  { id: "text_cancel", keys: ["esc"], label: "cancel", description: "Cancel", dangerous: false, modes: ["text"] },
  { id: "text_erase", keys: ["backspace"], label: "erase", description: "Erase the last character", dangerous: false, modes: TEXT_MODES, hideInFooter: true },

  // ---- pick list ----------------------------------------------------------------------
  { id: "choose_pick", keys: ["enter"], label: "choose", description: "Choose the highlighted item", dangerous: false, modes: ["choose"] },
  { id: "choose_cancel", keys: ["esc"], label: "cancel", description: "Cancel", dangerous: false, modes: ["choose"] },

  // ---- help and the way out from anywhere --------------------------------------------
  { id: "help_close", keys: ["?", "esc", "q"], label: "close", description: "Close the help", dangerous: false, modes: ["help"] },
  { id: "interrupt", keys: ["ctrl+c"], label: "quit", description: "Quit from anywhere", dangerous: false, modes: NOT_MAIN, hideInFooter: true },
];

/** The row for an id (the table is the only place ids are defined). */
export function commandById(id: CommandId): KeyCommand {
  const c = KEYMAP.find((k) => k.id === id);
  if (!c) throw new Error(`keymap: no command ${id}`);
  return c;
}
