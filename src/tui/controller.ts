import { createStore, type StoreApi } from "zustand/vanilla";
import type { CommandRequest } from "../client/connection.js";
import { commandById, type CommandId, type KeyContext, type Mode, type Pane, PANES } from "../keymap/keymap.js";
import { effectiveAction, keyName, refusal, resolveKey, type KeyLike } from "../keymap/resolve.js";
import { MILESTONES, type AlertState, type Milestone, type RolloutState, type Target } from "../protocol/types.js";
import type { CockpitView } from "../store/cockpit-store.js";
import { ringsWithTraffic, rolloutName } from "../store/command-label.js";
import { selectAlertsSorted, selectOpenIncident, selectRolloutsSorted, filterTimeline } from "../store/selectors.js";

// What the keyboard does. The UI's own state (mode, focus, selection, the open
// dialog) lives in a small zustand store next to the cockpit's, and key presses
// are handled here, outside React, against the newest state: keys that arrive
// in one chunk act in order, never on a stale render. One exception keeps a
// paste from misfiring: once a key opens a confirmation, the rest of its chunk
// is dropped, so "ray" pasted by mistake asks instead of rolling back. The keymap table decides what a key means; this file only
// says what each command id does.

export type PromptPurpose = "note" | "incident_title" | "filter";

export interface PromptState {
  purpose: PromptPurpose;
  label: string;
  text: string;
  /** filter: what to go back to on Esc */
  previous?: string;
}

export interface ConfirmState {
  /** the question, naming what will happen: "Roll back api v408 → v407 in canary, region-1?" */
  question: string;
  /** what it does, in one sentence */
  consequence: string;
  /** the word on the go button: "roll back" */
  goLabel: string;
  request: CommandRequest;
  reason: string;
}

export interface ChooseState {
  purpose: "milestone";
  title: string;
  items: { value: string; label: string; done: boolean }[];
  index: number;
  incident: string;
}

export interface Flash {
  text: string;
  tone: "info" | "error";
  /** a file path after the text; on a short line it is cut from its start, so its name stays */
  path?: string;
}

export interface UiState {
  mode: Mode;
  pane: Pane;
  /** chosen by the person; undefined: the first (most urgent) rollout */
  rolloutId?: string;
  alertId?: string;
  /** timeline lines scrolled back from the newest (0: following) */
  timelineScroll: number;
  /** SLI rows scrolled in the detail pane */
  detailScroll: number;
  filter: string;
  prompt?: PromptState;
  confirm?: ConfirmState;
  choose?: ChooseState;
  /** one line of feedback until the next key (export result, "nothing selected") */
  flash?: Flash;
  /** the mode to go back to when help closes */
  helpFrom?: Mode;
}

export function initialUi(): UiState {
  return { mode: "main", pane: "rollouts", timelineScroll: 0, detailScroll: 0, filter: "" };
}

export interface ControllerOptions {
  cockpit: StoreApi<CockpitView>;
  sender: (cmd: CommandRequest) => string;
  onExportDraft?: () => Promise<string>;
  onQuit: () => void;
  /** force read-only whatever the store says (startCockpit's --readonly) */
  readonly?: boolean;
}

export interface Controller {
  ui: StoreApi<UiState>;
  /** Ink's useInput handler */
  handleInput(input: string, key: KeyLike): void;
  /** the key context now (footer, help) */
  context(): KeyContext;
  run(id: CommandId): void;
}

const MAX_TEXT = 500;
// Typed or pasted text is shown on screen as it is typed: controls never get
// there, nor half of a surrogate pair (a terminal draws garbage for one).
const UNTYPEABLE = /[\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** At most `max` UTF-16 units, never ending in the first half of a surrogate pair. */
function cutText(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}

export function selectedRollout(view: CockpitView, ui: Pick<UiState, "rolloutId">): RolloutState | undefined {
  const list = selectRolloutsSorted(view);
  return (ui.rolloutId !== undefined ? list.find((r) => r.id === ui.rolloutId) : undefined) ?? list[0];
}

export function selectedAlert(view: CockpitView, ui: Pick<UiState, "alertId">): AlertState | undefined {
  const list = selectAlertsSorted(view);
  return (ui.alertId !== undefined ? list.find((a) => a.id === ui.alertId) : undefined) ?? list[0];
}

export function buildContext(view: CockpitView, ui: UiState, has: KeyContext["has"], forceReadonly = false): KeyContext {
  const ctx: KeyContext = { mode: ui.mode, pane: ui.pane, readonly: view.readonly || forceReadonly, has };
  const session = view.connection.session;
  if (session) {
    ctx.role = session.role;
    ctx.actor = session.actor;
  }
  const rollout = selectedRollout(view, ui);
  if (rollout) ctx.rollout = rollout;
  const alert = selectedAlert(view, ui);
  if (alert) ctx.alert = alert;
  const incident = selectOpenIncident(view);
  if (incident) ctx.incident = incident;
  return ctx;
}

/** Split a chunk of keys typed outside a text field ("ry") into single key presses. */
function splitChunk(input: string): { input: string; key: KeyLike }[] {
  const out: { input: string; key: KeyLike }[] = [];
  for (const ch of input) {
    if (ch === "\r" || ch === "\n") out.push({ input: "", key: { return: true } });
    else if (ch === "\t") out.push({ input: "", key: { tab: true } });
    else if (ch === "\x7f" || ch === "\b") out.push({ input: "", key: { backspace: true } });
    else out.push({ input: ch, key: {} });
  }
  return out;
}

function milestoneLabel(m: string): string {
  // The backend resolves an open incident when this milestone is marked: say so before it is chosen.
  return m === "resolved" ? "resolved (closes the incident)" : m.replace(/_/g, " ");
}

export function createController(opts: ControllerOptions): Controller {
  const ui = createStore<UiState>()(() => initialUi());
  const has = { exportDraft: opts.onExportDraft !== undefined };
  const view = () => opts.cockpit.getState();
  const set = (patch: Partial<UiState>) => ui.setState(patch);
  const context = () => buildContext(view(), ui.getState(), has, opts.readonly === true);

  function flash(text: string, tone: Flash["tone"] = "info"): void {
    set({ flash: { text, tone } });
  }

  function send(req: CommandRequest): void {
    try {
      opts.sender(req);
    } catch (e) {
      // The connection never throws by contract; if one does, say so instead of crashing the UI.
      flash(`could not send ${req.action}: ${(e as Error).message}`, "error");
    }
  }

  function move(delta: number): void {
    const s = ui.getState();
    const v = view();
    if (s.mode === "choose" && s.choose) {
      const n = s.choose.items.length;
      set({ choose: { ...s.choose, index: Math.max(0, Math.min(n - 1, s.choose.index + delta)) } });
      return;
    }
    switch (s.pane) {
      case "rollouts": {
        const list = selectRolloutsSorted(v);
        if (list.length === 0) return;
        const cur = selectedRollout(v, s);
        const i = Math.max(0, list.findIndex((r) => r.id === cur?.id));
        const next = list[Math.max(0, Math.min(list.length - 1, i + delta))]!;
        set({ rolloutId: next.id, detailScroll: 0 });
        return;
      }
      case "alerts": {
        const list = selectAlertsSorted(v);
        if (list.length === 0) return;
        const cur = selectedAlert(v, s);
        const i = Math.max(0, list.findIndex((a) => a.id === cur?.id));
        set({ alertId: list[Math.max(0, Math.min(list.length - 1, i + delta))]!.id });
        return;
      }
      case "detail":
        set({ detailScroll: Math.max(0, s.detailScroll + delta) });
        return;
      case "timeline": {
        const total = filterTimeline(v.timeline, s.filter).length;
        // Up goes back in time: the scroll counts lines hidden below.
        set({ timelineScroll: Math.max(0, Math.min(Math.max(0, total - 1), s.timelineScroll - delta)) });
        return;
      }
    }
  }

  function rolloutTarget(r: RolloutState): Target {
    return { rollout: r.id };
  }

  function askRollback(r: RolloutState): void {
    const rings = ringsWithTraffic(r);
    const where = rings.length > 0 ? ` in ${rings.join(", ")}` : "";
    set({
      mode: "confirm",
      confirm: {
        question: `Roll back ${rolloutName(r)} → ${r.previousVersion}${where}?`,
        consequence: `Traffic${where} goes back to ${r.previousVersion}; the rollout stops.`,
        goLabel: "roll back",
        request: { action: "rollback", target: rolloutTarget(r) },
        reason: "",
      },
    });
  }

  function askKillSwitch(r: RolloutState, ctx: KeyContext): void {
    const action = effectiveAction(commandById("kill_switch"), ctx);
    const flag = r.killSwitch?.flag ?? "?";
    const engage = action === "kill_switch";
    set({
      mode: "confirm",
      confirm: engage
        ? {
            question: `Engage kill switch ${flag} for ${rolloutName(r)}?`,
            consequence: `Flag ${flag} turns off for all traffic: the new behaviour stops everywhere at once.`,
            goLabel: "engage",
            request: { action: "kill_switch", target: rolloutTarget(r) },
            reason: "",
          }
        : {
            question: `Release kill switch ${flag} for ${rolloutName(r)}?`,
            consequence: `Flag ${flag} turns back on: the new behaviour returns where the rollout has reached.`,
            goLabel: "release",
            request: { action: "release_kill_switch", target: rolloutTarget(r) },
            reason: "",
          },
    });
  }

  function noteTarget(ctx: KeyContext): Target {
    if (ctx.rollout && (ctx.pane === "rollouts" || ctx.pane === "detail")) return { rollout: ctx.rollout.id };
    if (ctx.incident) return { incident: ctx.incident.id };
    if (ctx.rollout) return { rollout: ctx.rollout.id };
    return {};
  }

  function incidentSeverity(): string {
    const firing = view().state.alerts.filter((a) => a.state === "firing");
    if (firing.some((a) => a.severity === "critical")) return "critical";
    if (firing.some((a) => a.severity === "warning")) return "warning";
    return "info";
  }

  function submitPrompt(p: PromptState): void {
    const text = p.text.trim();
    const ctx = context();
    set({ mode: "main", prompt: undefined });
    switch (p.purpose) {
      case "filter":
        set({ filter: p.text, timelineScroll: 0 });
        return;
      case "note":
        if (text === "") return flash("empty note: nothing sent");
        send({ action: "note", target: noteTarget(ctx), args: { text } });
        return;
      case "incident_title": {
        if (text === "") return flash("an incident needs a title: nothing sent");
        const target: Target = ctx.rollout ? { rollout: ctx.rollout.id } : {};
        send({ action: "declare_incident", target, args: { severity: incidentSeverity(), title: text } });
        return;
      }
    }
  }

  function run(id: CommandId): void {
    const s = ui.getState();
    const ctx = context();
    switch (id) {
      case "up":
        return move(-1);
      case "down":
        return move(1);
      case "next_pane":
      case "prev_pane": {
        const i = PANES.indexOf(s.pane);
        const n = PANES.length;
        set({ pane: PANES[(i + (id === "next_pane" ? 1 : n - 1)) % n]! });
        return;
      }
      case "focus":
        if (s.pane === "alerts") {
          const rollout = ctx.alert?.rollout;
          if (rollout) set({ rolloutId: rollout, pane: "detail", detailScroll: 0 });
          return;
        }
        if (ctx.rollout) set({ rolloutId: ctx.rollout.id, pane: "detail" });
        return;
      case "back":
        if (s.pane === "timeline" && s.filter !== "") return set({ filter: "", timelineScroll: 0 });
        set({ pane: "rollouts" });
        return;
      case "pause": {
        if (!ctx.rollout) return;
        const action = effectiveAction(commandById("pause"), ctx);
        if (action) send({ action, target: rolloutTarget(ctx.rollout) });
        return;
      }
      case "rollback":
        if (ctx.rollout) askRollback(ctx.rollout);
        return;
      case "kill_switch":
        if (ctx.rollout) askKillSwitch(ctx.rollout, ctx);
        return;
      case "ack_alert":
        if (ctx.alert) send({ action: "ack_alert", target: { alert: ctx.alert.id } });
        return;
      case "note":
        set({ mode: "text", prompt: { purpose: "note", label: "Note", text: "" } });
        return;
      case "incident": {
        const action = effectiveAction(commandById("incident"), ctx);
        if (action === "assign_role" && ctx.incident) {
          if (!ctx.actor) return flash("your name is not known yet (no welcome from the server)", "error");
          send({ action: "assign_role", target: { incident: ctx.incident.id }, args: { role: "commander", name: ctx.actor } });
          return;
        }
        set({ mode: "text", prompt: { purpose: "incident_title", label: "Declare incident, title", text: "" } });
        return;
      }
      case "milestone": {
        const inc = ctx.incident;
        if (!inc) return;
        const items = MILESTONES.map((m: Milestone) => ({ value: m, label: milestoneLabel(m), done: inc.milestones[m] !== undefined }));
        const next = items.findIndex((it) => !it.done);
        set({
          mode: "choose",
          choose: { purpose: "milestone", title: `Milestone for ${inc.id} “${inc.title}”, now`, items, index: next < 0 ? items.length - 1 : next, incident: inc.id },
        });
        return;
      }
      case "filter":
        set({ mode: "text", pane: "timeline", prompt: { purpose: "filter", label: "Filter timeline", text: s.filter, previous: s.filter } });
        return;
      case "export_draft": {
        const exp = opts.onExportDraft;
        if (!exp) return;
        flash("writing the post-mortem draft…");
        exp().then(
          (where) => set({ flash: { text: "post-mortem draft written:", tone: "info", path: where.replace(UNTYPEABLE, "") } }),
          (e: unknown) => flash(`post-mortem draft failed: ${e instanceof Error ? e.message : String(e)}`, "error"),
        );
        return;
      }
      case "help":
        set({ mode: "help", helpFrom: s.mode });
        return;
      case "help_close":
        set({ mode: s.helpFrom && s.helpFrom !== "help" ? s.helpFrom : "main", helpFrom: undefined });
        return;
      case "quit":
      case "interrupt":
        opts.onQuit();
        return;
      case "confirm_go": {
        const c = s.confirm;
        set({ mode: "main", confirm: undefined });
        if (!c) return;
        const reason = c.reason.trim();
        send(reason === "" ? c.request : { ...c.request, reason });
        return;
      }
      case "confirm_cancel":
      case "reason_cancel":
        set({ mode: "main", confirm: undefined, flash: { text: "cancelled: nothing sent", tone: "info" } });
        return;
      case "confirm_reason":
        set({ mode: "reason" });
        return;
      case "reason_done":
        set({ mode: "confirm" });
        return;
      case "text_submit":
        if (s.prompt) submitPrompt(s.prompt);
        return;
      case "text_cancel":
        if (s.prompt?.purpose === "filter") set({ filter: "", timelineScroll: 0 });
        set({ mode: "main", prompt: undefined });
        return;
      case "text_erase":
        if (s.mode === "reason" && s.confirm) set({ confirm: { ...s.confirm, reason: Array.from(s.confirm.reason).slice(0, -1).join("") } });
        else if (s.prompt) {
          const text = Array.from(s.prompt.text).slice(0, -1).join("");
          set({ prompt: { ...s.prompt, text } });
          if (s.prompt.purpose === "filter") set({ filter: text, timelineScroll: 0 });
        }
        return;
      case "choose_pick": {
        const c = s.choose;
        set({ mode: "main", choose: undefined });
        if (!c) return;
        const item = c.items[c.index];
        if (item) send({ action: "set_milestone", target: { incident: c.incident }, args: { milestone: item.value } });
        return;
      }
      case "choose_cancel":
        set({ mode: "main", choose: undefined });
        return;
    }
  }

  function typeText(input: string): void {
    const clean = input.replace(/\r\n|\r|\n|\t/g, " ").replace(UNTYPEABLE, "");
    if (clean === "") return;
    const s = ui.getState();
    if (s.mode === "reason" && s.confirm) {
      set({ confirm: { ...s.confirm, reason: cutText(s.confirm.reason + clean, MAX_TEXT) } });
    } else if (s.mode === "text" && s.prompt) {
      const text = cutText(s.prompt.text + clean, MAX_TEXT);
      set({ prompt: { ...s.prompt, text } });
      if (s.prompt.purpose === "filter") set({ filter: text, timelineScroll: 0 });
    }
  }

  function handleOne(input: string, key: KeyLike): void {
    const ctx = context();
    const name = keyName(input, key);
    if (ui.getState().flash && name !== "") set({ flash: undefined });
    const cmd = resolveKey(name, ctx);
    if (cmd) return run(cmd.id);
    const refused = refusal(name, ctx);
    if (refused) return flash(refused);
    const textMode = ctx.mode === "text" || ctx.mode === "reason";
    // In a text field, what is not a command of that mode is text (so "q" types a q).
    if (textMode && !key.ctrl && !key.meta) typeText(input);
  }

  function handleInput(input: string, key: KeyLike): void {
    const mode = ui.getState().mode;
    const textMode = mode === "text" || mode === "reason";
    const plain = !key.ctrl && !key.meta && !key.upArrow && !key.downArrow && !key.return && !key.escape && !key.tab;
    // A chunk of several keys outside a text field: one key press each, in order.
    if (plain && !textMode && Array.from(input).length > 1) {
      const keys = splitChunk(input);
      const chars = Array.from(input);
      for (const [i, k] of keys.entries()) {
        handleOne(k.input, k.key);
        // A confirmation must be seen before it is answered.
        if (ui.getState().mode === "confirm") return;
        // Text typed after a key that opened a prompt ("nhello⏎") goes to the prompt.
        const now = ui.getState().mode;
        if (now === "text" || now === "reason") {
          const rest = chars.slice(i + 1).join("");
          if (rest) handleInput(rest, {});
          return;
        }
      }
      return;
    }
    // Typed text and Enter in one read ("engine⏎"): the text, then the Enter.
    if (textMode && plain && /[\r\n]/.test(input) && input.length > 1) {
      const at = input.search(/[\r\n]/);
      if (at > 0) handleOne(input.slice(0, at), {});
      handleOne("", { return: true });
      const rest = input.slice(at + 1).replace(/^\n/, "");
      if (rest) handleInput(rest, {});
      return;
    }
    handleOne(input, key);
  }

  return { ui, handleInput, context, run };
}
