// How the terminal is shared between panes, from 80x24 to 250x70 and on every
// resize. The root is kept one row shorter than the terminal: an output as tall
// as the screen makes Ink clear and redraw everything each frame (flicker).
// Each pane gets a number of content lines below its one-line title; the panes
// render exactly that many, so the sum is known before React draws anything.

export const MIN_COLUMNS = 60;
export const MIN_ROWS = 12;
/**
 * At this width and up, rollouts and detail sit left of alerts and timeline.
 * Below it the panes stack at full width: split at 120 columns, a ring row's
 * gates and every timeline sentence were cut (71 and 48 columns), while
 * stacked they are whole; at 160 the columns are 95 and 64.
 */
export const WIDE_COLUMNS = 160;

export interface PaneBox {
  width: number;
  /** content lines, not counting the title line */
  lines: number;
}

export interface Layout {
  columns: number;
  /** lines the root may use: rows - 1 */
  height: number;
  tooSmall: boolean;
  wide: boolean;
  /** lines of the banner under the header (0: none) */
  bannerLines: number;
  /** lines taken by a dialog or pick list drawn above the panes */
  overlay: number;
  footerLines: number;
  rollouts: PaneBox;
  detail: PaneBox;
  alerts: PaneBox;
  timeline: PaneBox;
  /** width of the left column in the wide layout (the right one starts after a one-column gap) */
  leftWidth: number;
  rightWidth: number;
}

export interface LayoutInput {
  columns: number;
  rows: number;
  /** lines of the banner under the header (stale, not connected, a source failing); 0: none */
  bannerLines: number;
  /** lines a dialog needs above the panes (0: none) */
  overlay?: number;
  /** content lines each pane could use */
  want: { rollouts: number; detail: number; alerts: number };
}

const HEADER = 1;
const STATUS = 1;

/**
 * Share `total` lines: every pane first gets its minimum, then in order each
 * takes what it wants up to its cap; the last pane takes what is left.
 */
function share(total: number, panes: { min: number; want: number; cap: number }[]): number[] {
  const got = panes.map((p) => p.min);
  let left = total - got.reduce((a, b) => a + b, 0);
  // Not even the minimums fit: take lines back from the last panes first.
  for (let i = got.length - 1; left < 0 && i >= 0; i--) {
    const give = Math.min(got[i]!, -left);
    got[i]! -= give;
    left += give;
  }
  for (let i = 0; i < panes.length - 1 && left > 0; i++) {
    const p = panes[i]!;
    const more = Math.max(0, Math.min(p.want, p.cap) - got[i]!);
    const take = Math.min(more, left);
    got[i]! += take;
    left -= take;
  }
  got[got.length - 1]! += Math.max(0, left);
  return got;
}

const isWide = (columns: number, rows: number) => columns >= WIDE_COLUMNS && rows >= 20;
/** The left column holds the sparklines, which need the width most. */
const leftColumn = (columns: number) => Math.floor((columns - 1) * 0.6);

/** The detail pane's width at this terminal size, known before its height is shared out. */
export function detailWidth(columns: number, rows: number): number {
  const c = Math.max(1, Math.floor(columns || 80));
  return isWide(c, Math.floor(rows || 24)) ? leftColumn(c) : c;
}

export function computeLayout(input: LayoutInput): Layout {
  const columns = Math.max(1, Math.floor(input.columns || 80));
  const rows = Math.max(2, Math.floor(input.rows || 24));
  const height = rows - 1;
  const overlay = Math.max(0, input.overlay ?? 0);
  const tooSmall = columns < MIN_COLUMNS || rows < MIN_ROWS;
  const wide = isWide(columns, rows);
  const footerLines = rows >= 40 ? 2 : 1;
  const bannerLines = Math.max(0, Math.floor(input.bannerLines));
  const fixed = HEADER + bannerLines + STATUS + footerLines + overlay;
  const want = input.want;
  const common = { columns, height, tooSmall, wide, bannerLines, overlay, footerLines };

  if (!wide) {
    const titles = 4;
    const c = Math.max(0, height - fixed - titles);
    const [r, d, a, t] = share(c, [
      { min: 1, want: Math.max(1, want.rollouts), cap: Math.max(1, Math.floor(c * 0.3)) },
      { min: 2, want: Math.max(2, want.detail), cap: Math.max(2, Math.floor(c * 0.45)) },
      { min: 1, want: Math.max(1, want.alerts), cap: Math.max(1, Math.floor(c * 0.2)) },
      { min: 2, want: Infinity, cap: Infinity },
    ]) as [number, number, number, number];
    return { ...common, ...panes(columns, columns, [r, d, a, t]) };
  }

  const leftWidth = leftColumn(columns);
  const rightWidth = columns - 1 - leftWidth;
  const c = Math.max(0, height - fixed - 2);
  const [r, d] = share(c, [
    { min: 1, want: Math.max(1, want.rollouts), cap: Math.max(1, Math.floor(c * 0.4)) },
    { min: 2, want: Infinity, cap: Infinity },
  ]) as [number, number];
  const [a, t] = share(c, [
    { min: 1, want: Math.max(1, want.alerts), cap: Math.max(1, Math.floor(c * 0.35)) },
    { min: 2, want: Infinity, cap: Infinity },
  ]) as [number, number];
  return { ...common, ...panes(leftWidth, rightWidth, [r, d, a, t]) };
}

/** Rollouts and detail on the left, alerts and timeline on the right (one column when narrow: both widths the same). */
function panes(leftWidth: number, rightWidth: number, [r, d, a, t]: [number, number, number, number]) {
  return {
    rollouts: { width: leftWidth, lines: r },
    detail: { width: leftWidth, lines: d },
    alerts: { width: rightWidth, lines: a },
    timeline: { width: rightWidth, lines: t },
    leftWidth,
    rightWidth,
  };
}
