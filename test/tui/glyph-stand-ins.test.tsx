import fc from "fast-check";
import React from "react";
import { Box, Text } from "ink";
import { render } from "ink-testing-library";
import { afterAll, describe, expect, it } from "vitest";
import { Line } from "../../components/Line.js";
import { CockpitProvider, type CockpitContextValue } from "../../components/context.js";
import { span, type Span } from "../../src/tui/spans.js";
import { decodeGlyphs, encodeGlyphs } from "../../src/tui/glyph-stand-ins.js";

// Runs of the cockpit's glyphs reach Ink as letters and are swapped back when
// written. What a person sees must not change: same characters, same colours,
// same columns. Colour forced on, so a colour code in the wrong place shows.

const before = process.env.FORCE_COLOR;
process.env.FORCE_COLOR = "3";
afterAll(() => {
  if (before === undefined) delete process.env.FORCE_COLOR;
  else process.env.FORCE_COLOR = before;
});

describe("encodeGlyphs / decodeGlyphs", () => {
  it("turn a run of glyphs into as many letters and back", () => {
    const run = "✓▁▂▃█…‖";
    const letters = encodeGlyphs(run)!;
    expect(letters).toMatch(/^[A-Za-z]+$/);
    expect(letters).toHaveLength(Array.from(run).length);
    expect(decodeGlyphs(letters)).toBe(run);
  });

  it("leave escape sequences alone when swapping back", () => {
    const letters = encodeGlyphs("✓✗")!;
    const styled = `\x1b[1m\x1b[38;2;10;20;30m${letters}\x1b[39m\x1b[22m`;
    expect(decodeGlyphs(styled)).toBe("\x1b[1m\x1b[38;2;10;20;30m✓✗\x1b[39m\x1b[22m");
  });

  it("refuse a run holding any character without a stand-in (wide, emoji, text from the backend)", () => {
    for (const run of ["✓漢", "👍", "é", "✓a", "\u200d"]) expect(encodeGlyphs(run)).toBeNull();
  });
});

const context = (color: boolean): CockpitContextValue => ({ color, readonly: false }) as unknown as CockpitContextValue;

/** The same spans drawn the plain way: one Text per span, glyphs as they are. */
function Plain({ spans }: { spans: Span[] }) {
  return (
    <Box>
      {spans.map((s, i) => (
        <Text key={i} color={s.tone === "bad" ? "red" : s.tone === "ok" ? "green" : undefined} bold={s.bold ?? false} inverse={s.inverse ?? false}>
          {s.text}
        </Text>
      ))}
    </Box>
  );
}

describe("a Line with glyphs", () => {
  it("draws exactly what plain Texts draw, colours included", () => {
    const piece = fc.array(fc.constantFrom("a", " ", "✓", "▁", "█", "…", "‖", "x", "漢"), { minLength: 1, maxLength: 6 }).map((a) => a.join(""));
    const spanArb = fc.record({ text: piece, tone: fc.constantFrom(undefined, "ok", "bad"), bold: fc.boolean(), inverse: fc.boolean() });
    fc.assert(
      fc.property(fc.array(spanArb, { minLength: 1, maxLength: 5 }), (raw) => {
        const spans = raw.map((r) => span(r.text, { ...(r.tone ? { tone: r.tone as Span["tone"] & string } : {}), bold: r.bold, inverse: r.inverse }));
        const ours = render(
          <CockpitProvider value={context(true)}>
            <Line spans={spans} width={80} />
          </CockpitProvider>,
        );
        const plain = render(<Plain spans={spans} />);
        try {
          expect(ours.lastFrame()).toBe(plain.lastFrame());
        } finally {
          ours.unmount();
          plain.unmount();
        }
      }),
      { numRuns: 150 },
    );
  });
});
