import { describe, expect, it } from "vitest";
import { computeLayout, WIDE_COLUMNS, type Layout } from "../../src/tui/layout.js";

function used(l: Layout): number {
  const fixed = 1 + l.bannerLines + l.overlay + 1 + l.footerLines;
  if (l.wide) return fixed + Math.max(2 + l.rollouts.lines + l.detail.lines, 2 + l.alerts.lines + l.timeline.lines);
  return fixed + 4 + l.rollouts.lines + l.detail.lines + l.alerts.lines + l.timeline.lines;
}

describe("computeLayout", () => {
  it("uses exactly rows - 1 lines at every size from 80x24 to 250x70, with or without banner and dialog", () => {
    for (let columns = 80; columns <= 250; columns += 17) {
      for (let rows = 24; rows <= 70; rows += 5) {
        for (const bannerLines of [0, 1, 2]) {
          for (const overlay of [0, 7]) {
            for (const want of [
              { rollouts: 0, detail: 0, alerts: 0 },
              { rollouts: 3, detail: 10, alerts: 2 },
              { rollouts: 40, detail: 80, alerts: 30 },
            ]) {
              const l = computeLayout({ columns, rows, bannerLines, overlay, want });
              expect(l.height).toBe(rows - 1);
              expect(l.tooSmall).toBe(false);
              expect(used(l), `${columns}x${rows} banner=${bannerLines} overlay=${overlay}`).toBe(rows - 1);
              for (const p of [l.rollouts, l.detail, l.alerts, l.timeline]) expect(p.lines).toBeGreaterThanOrEqual(0);
              if (l.wide) expect(l.leftWidth + 1 + l.rightWidth).toBe(columns);
            }
          }
        }
      }
    }
  });

  it("80x24: one column; the timeline keeps at least two lines", () => {
    const l = computeLayout({ columns: 80, rows: 24, bannerLines: 1, want: { rollouts: 10, detail: 20, alerts: 10 } });
    expect(l.wide).toBe(false);
    expect(l.timeline.lines).toBeGreaterThanOrEqual(2);
    expect(l.rollouts.width).toBe(80);
  });

  it("wide terminals put alerts and timeline on the right", () => {
    const l = computeLayout({ columns: WIDE_COLUMNS, rows: 40, bannerLines: 0, want: { rollouts: 2, detail: 5, alerts: 1 } });
    expect(l.wide).toBe(true);
    expect(l.alerts.width).toBe(l.rightWidth);
    expect(l.footerLines).toBe(2);
  });

  it("panes get no more than they want, the timeline takes the rest", () => {
    const l = computeLayout({ columns: 100, rows: 50, bannerLines: 0, want: { rollouts: 2, detail: 4, alerts: 1 } });
    expect(l.rollouts.lines).toBe(2);
    expect(l.detail.lines).toBe(4);
    expect(l.alerts.lines).toBe(1);
    expect(l.timeline.lines).toBe(49 - 1 - 1 - 2 - 4 - 2 - 4 - 1);
  });

  it("a terminal below 60x12 is too small; a missing size is taken as 80x24", () => {
    expect(computeLayout({ columns: 50, rows: 30, bannerLines: 0, want: { rollouts: 1, detail: 1, alerts: 1 } }).tooSmall).toBe(true);
    expect(computeLayout({ columns: 100, rows: 10, bannerLines: 0, want: { rollouts: 1, detail: 1, alerts: 1 } }).tooSmall).toBe(true);
    const l = computeLayout({ columns: 0, rows: 0, bannerLines: 0, want: { rollouts: 1, detail: 1, alerts: 1 } });
    expect(l.columns).toBe(80);
    expect(l.height).toBe(23);
  });
});
