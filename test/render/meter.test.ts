import { describe, expect, it } from "vitest";
import { progressBar, ringMeter, ringGlyph } from "../../src/render/meter.js";
import type { RingState, RingStateName } from "../../src/protocol/types.js";

const rings = (...states: string[]): RingState[] => states.map((state, i) => ({ name: `r${i}`, traffic: i + 1, state: state as RingStateName }));

describe("ringMeter", () => {
  it("draws one distinct glyph per ring state", () => {
    expect(ringMeter(rings("completed", "completed", "baking", "pending"))).toBe("■■▣□");
    expect(ringMeter(rings("completed", "progressing", "pending"))).toBe("■▣□");
    expect(ringMeter(rings("rolled_back", "rolled_back", "pending"))).toBe("✗✗□");
  });

  it("gives every state its own shape (readable without colour)", () => {
    const glyphs = ["completed", "progressing", "pending", "rolled_back"].map(ringGlyph);
    expect(new Set(glyphs).size).toBe(4);
  });

  it("shows a state it does not know as ?", () => {
    expect(ringMeter(rings("completed", "quarantined"))).toBe("■?");
    expect(ringGlyph("toString")).toBe("?");
  });

  it("draws nothing for no rings", () => {
    expect(ringMeter([])).toBe("");
  });

  it("with too little width, keeps the current ring in view and marks hidden rings with …", () => {
    const eight = rings("completed", "completed", "completed", "completed", "baking", "pending", "pending", "pending");
    expect(ringMeter(eight, 8)).toBe("■■■■▣□□□");
    expect(ringMeter(eight, 5)).toBe("…▣□□□");
    expect(ringMeter(eight, 3)).toBe("…▣…");
    expect(ringMeter(eight, 2)).toBe("▣…");
    expect(ringMeter(eight, 1)).toBe("▣");
    expect(ringMeter(eight, 0)).toBe("");
  });

  it("centres the current ring when rings are hidden on both sides", () => {
    const ten = rings("completed", "completed", "completed", "completed", "completed", "baking", "pending", "pending", "pending", "pending");
    expect(ringMeter(ten, 5)).toBe("…■▣□…");
    expect(ringMeter(ten, 6)).toBe("…▣□□□□"); // the rest fits after it: only one side hidden
  });

  it("hides only the far side when the current ring is near an end", () => {
    expect(ringMeter(rings("progressing", "pending", "pending", "pending", "pending"), 4)).toBe("▣□□…");
    expect(ringMeter(rings("completed", "completed", "completed", "completed", "baking"), 4)).toBe("…■■▣");
    expect(ringMeter(rings("completed", "completed", "completed", "completed", "completed"), 3)).toBe("…■■");
  });
});

describe("progressBar", () => {
  it("fills whole cells and ░ for the rest, exactly width cells", () => {
    expect(progressBar(0, 4)).toBe("░░░░");
    expect(progressBar(0.5, 4)).toBe("██░░");
    expect(progressBar(1, 4)).toBe("████");
  });

  it("draws the edge in eighths of a cell", () => {
    expect(progressBar(0.3, 4)).toBe("█▎░░"); // 1.2 cells: one full, then 2/8
    expect(progressBar(0.5, 3)).toBe("█▌░");
  });

  it("clamps fractions outside 0..1 and reads NaN as 0", () => {
    expect(progressBar(1.7, 3)).toBe("███");
    expect(progressBar(-1, 3)).toBe("░░░");
    expect(progressBar(NaN, 3)).toBe("░░░");
  });

  it("draws nothing at width 0", () => {
    expect(progressBar(0.5, 0)).toBe("");
  });
});
