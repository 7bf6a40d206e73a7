import { describe, expect, it } from "vitest";
import { sameLine } from "../../components/Line.js";
import { span } from "../../src/tui/spans.js";

// A Line is memoised on its pieces: a line that did not change is skipped by
// React and Ink alike, and one that did must never be skipped.

describe("sameLine", () => {
  it("tells a redraw is needed when any text, style or width differs", () => {
    const base = { spans: [span("a"), span("b", { tone: "bad" })], width: 10 };
    expect(sameLine(base, { spans: [span("a"), span("b", { tone: "bad" })], width: 10 })).toBe(true);
    expect(sameLine(base, { spans: [span("a"), span("c", { tone: "bad" })], width: 10 })).toBe(false);
    expect(sameLine(base, { spans: [span("a"), span("b", { tone: "ok" })], width: 10 })).toBe(false);
    expect(sameLine(base, { spans: [span("a"), span("b", { tone: "bad" })], width: 11 })).toBe(false);
    expect(sameLine(base, { ...base, dim: true })).toBe(false);
  });
});
