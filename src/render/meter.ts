import type { RingState, RingStateName } from "../protocol/types.js";

// Every state has its own shape, so the meter reads the same with and without colour.

export const RING_GLYPHS: Readonly<Record<RingStateName, string>> = {
  completed: "■",
  progressing: "▣",
  baking: "▣",
  pending: "□",
  rolled_back: "✗",
};
/** A ring state this build does not know (a newer backend): shown, not hidden. */
export const RING_GLYPH_UNKNOWN = "?";
const MORE = "…";

export function ringGlyph(state: string): string {
  return Object.hasOwn(RING_GLYPHS, state) ? RING_GLYPHS[state as RingStateName] : RING_GLYPH_UNKNOWN;
}

/** The ring an operator cares about: the first one not yet completed (else the last). */
function focusIndex(rings: readonly RingState[]): number {
  const i = rings.findIndex((r) => r.state !== "completed");
  return i >= 0 ? i : rings.length - 1;
}

/**
 * One cell per ring, e.g. "■■▣□" (completed, completed, current, pending) or "✗✗□" after a rollback.
 * With more rings than `width`, the window keeps the current ring in view and "…" marks the hidden side(s).
 */
export function ringMeter(rings: readonly RingState[], width: number = Infinity): string {
  const cells = Number.isNaN(width) ? 0 : Math.max(0, Math.floor(width));
  const glyphs = (from: number, to: number): string => {
    let s = "";
    for (let i = from; i < to; i++) s += ringGlyph(rings[i]!.state);
    return s;
  };
  const n = rings.length;
  if (n <= cells) return glyphs(0, n);
  if (cells === 0) return "";
  const focus = focusIndex(rings);
  if (cells === 1) return glyphs(focus, focus + 1);
  const oneSide = cells - 1;
  if (focus < oneSide) return glyphs(0, oneSide) + MORE;
  if (focus >= n - oneSide) return MORE + glyphs(n - oneSide, n);
  const size = Math.max(1, cells - 2);
  const start = Math.max(1, Math.min(focus - Math.floor((size - 1) / 2), n - 1 - size));
  // With two cells there is room for only one marker: the rings ahead matter more than those behind.
  if (cells === 2) return glyphs(focus, focus + 1) + MORE;
  return MORE + glyphs(start, start + size) + MORE;
}

const PARTIAL = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"] as const;
const FULL = "█";
const EMPTY = "░";

/** Exactly `width` cells: filled █ with an eighth-block edge, the rest ░ (visible without colour). */
export function progressBar(fraction: number, width: number): string {
  const cells = Number.isFinite(width) ? Math.max(0, Math.floor(width)) : 0;
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const eighths = Math.round(f * cells * 8);
  const full = Math.floor(eighths / 8);
  const part = PARTIAL[eighths % 8]!;
  const empty = cells - full - (part ? 1 : 0);
  return FULL.repeat(full) + part + EMPTY.repeat(empty);
}
