import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { asciiRuns, sameLine } from "../../components/Line.js";
import { span, type Span } from "../../src/tui/spans.js";

// A line is drawn as one Ink Text per run: printable ASCII apart from glyphs
// (Ink measures a Text holding any non-ASCII character the slow way), and
// neighbours of one style joined. The text and each character's style must
// come out as they went in.

const styleOf = (s: Span) => JSON.stringify([s.tone, s.bold, s.dim, s.inverse, s.underline]);
const perChar = (spans: readonly Span[]) => spans.flatMap((s) => Array.from(s.text, (c) => `${c}${styleOf(s)}`));

describe("asciiRuns", () => {
  it("cuts a glyph away from the words after it and joins same-style neighbours", () => {
    const out = asciiRuns([span("✓ completed", { tone: "ok" }), span("  "), span("api"), span(" ▁▂█", { tone: "bad" })]);
    expect(out.map((s) => s.text)).toEqual(["✓", " completed", "  api", " ", "▁▂█"]);
    expect(out.map((s) => s.tone)).toEqual(["ok", "ok", undefined, "bad", "bad"]);
  });

  it("keeps every character with its style, in order, and never mixes ASCII with other characters in a run", () => {
    const piece = fc.array(fc.constantFrom("a", " ", "Z", "✓", "…", "▁", "漢", "é"), { maxLength: 8 }).map((a) => a.join(""));
    const spanArb = fc.record({ text: piece, tone: fc.constantFrom(undefined, "ok", "bad"), bold: fc.constantFrom(undefined, true) }).map(({ text, tone, bold }) => span(text, { ...(tone ? { tone } : {}), ...(bold ? { bold } : {}) } as Omit<Span, "text">));
    fc.assert(
      fc.property(fc.array(spanArb, { maxLength: 8 }), (spans) => {
        const out = asciiRuns(spans);
        expect(perChar(out)).toEqual(perChar(spans));
        for (const s of out) {
          expect(s.text).not.toBe("");
          expect(/^[\x20-\x7e]+$/.test(s.text) || /^[^\x20-\x7e]+$/.test(s.text)).toBe(true);
        }
        for (let i = 1; i < out.length; i++) {
          const joinable = styleOf(out[i - 1]!) === styleOf(out[i]!) && /^[\x20-\x7e]/.test(out[i - 1]!.text) === /^[\x20-\x7e]/.test(out[i]!.text);
          expect(joinable).toBe(false);
        }
      }),
    );
  });
});

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
