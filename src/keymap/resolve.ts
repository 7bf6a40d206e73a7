import { ROLE_ACTIONS } from "../domain/transitions.js";
import type { Action, Role } from "../protocol/types.js";
import { KEYMAP, type KeyCommand, type KeyContext } from "./keymap.js";

// Reading the key table: which rows exist for this session (role, read-only,
// optional handlers), which are valid right now (mode, pane, selection), and
// which row a key press means. Pure: the App feeds it Ink's key events.

/** The subset of Ink's Key that naming needs (so tests need not build a whole one). */
export interface KeyLike {
  upArrow?: boolean;
  downArrow?: boolean;
  leftArrow?: boolean;
  rightArrow?: boolean;
  pageUp?: boolean;
  pageDown?: boolean;
  home?: boolean;
  end?: boolean;
  return?: boolean;
  escape?: boolean;
  ctrl?: boolean;
  shift?: boolean;
  tab?: boolean;
  backspace?: boolean;
  delete?: boolean;
  meta?: boolean;
}

/** The table's spelling of a key press: "up", "enter", "shift+tab", "ctrl+c", "p", "?"; "" for nothing nameable. */
export function keyName(input: string, key: KeyLike): string {
  if (key.upArrow) return "up";
  if (key.downArrow) return "down";
  if (key.leftArrow) return "left";
  if (key.rightArrow) return "right";
  if (key.pageUp) return "pageup";
  if (key.pageDown) return "pagedown";
  if (key.home) return "home";
  if (key.end) return "end";
  if (key.tab) return key.shift ? "shift+tab" : "tab";
  if (key.return) return "enter";
  if (key.escape) return "esc";
  // Terminals send DEL (0x7f) for the backspace key; Ink names it "delete" on some.
  if (key.backspace || key.delete) return "backspace";
  if (key.ctrl && input.length === 1) return `ctrl+${input.toLowerCase()}`;
  if (key.meta) return "";
  return input.length === 1 ? input : "";
}

/** The action a row sends in this context (a toggle flips pause to resume, etc.). */
export function effectiveAction(cmd: KeyCommand, ctx: KeyContext): Action | undefined {
  if (cmd.toggle && cmd.toggle.when(ctx)) return cmd.toggle.action;
  return cmd.action;
}

export function effectiveLabel(cmd: KeyCommand, ctx: KeyContext): string {
  if (cmd.toggle && cmd.toggle.when(ctx)) return cmd.toggle.label;
  return cmd.label;
}

/**
 * Whether the row exists for this session at all: a row that sends an action is
 * absent in read-only mode, before the server told us our role, and for roles
 * the protocol does not allow that action.
 */
export function permitted(cmd: KeyCommand, ctx: KeyContext): boolean {
  if (cmd.requires && !ctx.has[cmd.requires]) return false;
  if (cmd.action === undefined) return true;
  if (ctx.readonly || ctx.role === undefined) return false;
  const allowed = ROLE_ACTIONS[ctx.role];
  if (!allowed) return false;
  // Both faces of a toggle must be allowed for the row to show on either.
  if (!allowed.has(cmd.action)) return false;
  return cmd.toggle === undefined || allowed.has(cmd.toggle.action);
}

/** Valid right now: permitted, in this mode, in this pane, and its condition holds. */
export function validNow(cmd: KeyCommand, ctx: KeyContext): boolean {
  if (!cmd.modes.includes(ctx.mode)) return false;
  if (ctx.mode === "main" && cmd.panes && !cmd.panes.includes(ctx.pane)) return false;
  if (!permitted(cmd, ctx)) return false;
  return cmd.when === undefined || cmd.when(ctx);
}

/** Rows valid now, in table order (the footer). */
export function availableCommands(ctx: KeyContext, table: readonly KeyCommand[] = KEYMAP): KeyCommand[] {
  return table.filter((c) => validNow(c, ctx));
}

/** Every row this session may ever use, whatever the mode or pane (the help overlay). */
export function permittedCommands(ctx: KeyContext, table: readonly KeyCommand[] = KEYMAP): KeyCommand[] {
  return table.filter((c) => permitted(c, ctx));
}

/** The row a key press runs now, if any. */
export function resolveKey(name: string, ctx: KeyContext, table: readonly KeyCommand[] = KEYMAP): KeyCommand | undefined {
  if (name === "") return undefined;
  return table.find((c) => c.keys.includes(name) && validNow(c, ctx));
}

/**
 * Why a key that sends a command does nothing in this session, in words for
 * the status line ("read-only session: p (pause) sends nothing"); null when
 * the key is not such a key, or is permitted. A silent key at 3 a.m. reads
 * as a frozen screen or a lost command.
 */
export function refusal(name: string, ctx: KeyContext, table: readonly KeyCommand[] = KEYMAP): string | null {
  if (ctx.mode !== "main" || name === "") return null;
  const cmd = table.find((c) => c.keys.includes(name) && c.modes.includes("main") && c.action !== undefined);
  if (!cmd || permitted(cmd, ctx)) return null;
  const what = `${displayKey(name)} (${effectiveLabel(cmd, ctx)})`;
  if (ctx.readonly) return `read-only session: ${what} sends nothing`;
  if (ctx.role === undefined) return `${what}: not signed in yet, waiting for the backend's welcome`;
  const action = effectiveAction(cmd, ctx) ?? cmd.action!;
  const roles = (Object.keys(ROLE_ACTIONS) as Role[]).filter((r) => ROLE_ACTIONS[r].has(action));
  return `${what} is for ${roles.join(" or ")}: you are ${ctx.role}`;
}

const KEY_GLYPHS: Record<string, string> = {
  up: "↑",
  down: "↓",
  left: "←",
  right: "→",
  enter: "Enter",
  esc: "Esc",
  tab: "Tab",
  "shift+tab": "S-Tab",
  backspace: "Bksp",
  pageup: "PgUp",
  pagedown: "PgDn",
};

/** How a key is written on screen: "↑", "Enter", "^C", "p". */
export function displayKey(name: string): string {
  if (KEY_GLYPHS[name]) return KEY_GLYPHS[name]!;
  if (name.startsWith("ctrl+")) return `^${name.slice(5).toUpperCase()}`;
  return name;
}

/** All of a row's keys, as on screen: "↑/k", "q/^C". */
export function displayKeys(cmd: KeyCommand): string {
  return cmd.keys.map(displayKey).join("/");
}
