import type { KeyCommand, KeyContext } from "./keymap.js";
import { availableCommands, displayKeys, effectiveLabel } from "./resolve.js";
import { displayWidth } from "../render/width.js";

// The footer: the keys valid now, straight from the table. Commands that act
// come first (they are why the footer exists during an incident); help and quit
// are kept at the end of the last line whatever the width, so a person can
// always find the rest.

export interface FooterItem {
  id: KeyCommand["id"];
  keys: string;
  label: string;
  dangerous: boolean;
  acts: boolean;
}

const TAIL_IDS: ReadonlySet<string> = new Set(["help", "quit", "help_close"]);
const SEP = "  ";

export function itemText(i: FooterItem): string {
  // A dangerous command's label ends with "…": it asks before it acts.
  return `${i.keys} ${i.label}${i.dangerous ? "…" : ""}`;
}

export function footerItems(ctx: KeyContext): FooterItem[] {
  const items = availableCommands(ctx)
    .filter((c) => !c.hideInFooter)
    .map((c) => ({ id: c.id, keys: displayKeys(c), label: effectiveLabel(c, ctx), dangerous: c.dangerous, acts: c.action !== undefined }));
  const acting = items.filter((i) => i.acts);
  const rest = items.filter((i) => !i.acts && !TAIL_IDS.has(i.id));
  const tail = items.filter((i) => TAIL_IDS.has(i.id));
  return [...acting, ...rest, ...tail];
}

/** Items laid out on at most `lines` lines of `width`; what does not fit is left to the help screen. */
export function packFooter(items: readonly FooterItem[], width: number, lines: number): FooterItem[][] {
  const out: FooterItem[][] = Array.from({ length: Math.max(1, lines) }, () => []);
  const used = out.map(() => 0);
  const tail = items.filter((i) => TAIL_IDS.has(i.id));
  const body = items.filter((i) => !TAIL_IDS.has(i.id));
  const last = out.length - 1;
  const tailWidth = tail.reduce((w, i) => w + displayWidth(itemText(i)) + SEP.length, 0);
  const fits = (line: number, w: number) => used[line]! + w + (used[line]! > 0 ? SEP.length : 0) <= width - (line === last ? tailWidth : 0);
  for (const item of body) {
    const w = displayWidth(itemText(item));
    const line = out.findIndex((_, n) => fits(n, w));
    if (line < 0) continue;
    used[line]! += w + (used[line]! > 0 ? SEP.length : 0);
    out[line]!.push(item);
  }
  out[last]!.push(...tail);
  return out;
}
