import fc from "fast-check";
import React from "react";
import { afterAll, describe, expect, it } from "vitest";
import type { CockpitContextValue } from "../../components/context.js";
import { fitSpans, span, type Span, type Tone } from "../../src/tui/spans.js";

// A Line reaches Ink as one text node holding the line with its glyphs as "?",
// and is styled and given its glyphs back as it is written. What a person sees
// must be what plain Ink Texts would show: same characters, colours, columns.
// Colour is forced on, so a code in the wrong place shows.

const before = process.env.FORCE_COLOR;
process.env.FORCE_COLOR = "3";
afterAll(() => {
  if (before === undefined) delete process.env.FORCE_COLOR;
  else process.env.FORCE_COLOR = before;
});
// Loaded after FORCE_COLOR is set: chalk reads it once, when first imported.
const { Box, Text } = await import("ink");
const { render } = await import("ink-testing-library");
const { Line, Lines, TONE_COLORS } = await import("../../components/Line.js");
const { CockpitProvider } = await import("../../components/context.js");
const { cutStyled, styleSpans } = await import("../../src/tui/styled-line.js");

const context = (color: boolean): CockpitContextValue => ({ color, readonly: false }) as unknown as CockpitContextValue;

/** The pieces as Ink's own Texts, side by side: what a line looked like before it was one node. */
function Plain({ spans, color, dim }: { spans: Span[]; color: boolean; dim: boolean }) {
  return (
    <Box>
      {spans.map((s, i) => (
        <Text key={i} color={color && s.tone ? TONE_COLORS[s.tone] : undefined} bold={s.bold ?? false} dimColor={dim || (s.dim ?? false)} inverse={s.inverse ?? false} underline={s.underline ?? false}>
          {s.text}
        </Text>
      ))}
    </Box>
  );
}

const TONES: (Tone | undefined)[] = [undefined, "ok", "warn", "bad", "info", "muted", "accent"];
const piece = fc.array(fc.constantFrom("a", " ", "Z", "✓", "▁", "█", "…", "‖", "⚠", "漢", "é", "👍"), { minLength: 1, maxLength: 6 }).map((a) => a.join(""));
const spanArb = fc
  .record({ text: piece, tone: fc.constantFrom(...TONES), bold: fc.boolean(), dim: fc.boolean(), inverse: fc.boolean(), underline: fc.boolean() })
  .map(({ text, tone, ...style }) => span(text, { ...(tone ? { tone } : {}), ...style }));

function frameOf(node: React.ReactElement): string {
  const r = render(node);
  try {
    return r.lastFrame() ?? "";
  } finally {
    r.unmount();
  }
}

describe("a Line", () => {
  it("is coloured at all here (else the comparisons below would not see colour)", () => {
    expect(styleSpans([span("x", { tone: "bad" })], true, false)).toBe("\x1b[31mx\x1b[39m");
  });

  it("draws exactly what Ink's Texts draw for the same pieces: glyphs, colours, dimming, cut and padding", () => {
    fc.assert(
      fc.property(fc.array(spanArb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 40 }), fc.boolean(), fc.boolean(), fc.boolean(), (spans, width, color, dim, pad) => {
        const ours = frameOf(
          <CockpitProvider value={context(color)}>
            <Line spans={spans} width={width} dim={dim} pad={pad} />
          </CockpitProvider>,
        );
        const fitted = fitSpans(spans, width, pad);
        const plain = fitted.length === 0 ? frameOf(<Text> </Text>) : frameOf(<Plain spans={fitted} color={color} dim={dim} />);
        expect(ours).toBe(plain);
      }),
      { numRuns: 300 },
    );
  });

  it("is cut as Ink cuts a styled Text when its box is narrower than the width it was fitted to", () => {
    const spans = [span("✓ ", { tone: "ok" }), span("api v408", { bold: true }), span(" ▁▂▃▅▇█", { tone: "bad" })];
    const ours = frameOf(
      <CockpitProvider value={context(true)}>
        <Box width={10}>
          <Line spans={spans} width={20} />
        </Box>
      </CockpitProvider>,
    );
    const ink = frameOf(
      <Box width={10}>
        <Text wrap="truncate-end">
          {spans.map((s, i) => (
            <Text key={i} color={s.tone ? TONE_COLORS[s.tone] : undefined} bold={s.bold ?? false}>
              {s.text}
            </Text>
          ))}
        </Text>
      </Box>,
    );
    expect(ours).toBe(ink);
    expect(ours).toMatch(/\x1b\[32m/);
    expect(ours.replace(/\x1b\[[0-9;]*m/g, "")).toBe("✓ api v40…");
  });

  it("takes one row whatever its text holds, so the pane below stays where it is", () => {
    const frame = frameOf(
      <CockpitProvider value={context(false)}>
        <Box flexDirection="column" height={2}>
          <Line spans={[span("line one with\nan embedded break\tand a tab")]} width={30} />
          <Line spans={[span("second")]} width={30} />
        </Box>
      </CockpitProvider>,
    );
    expect(frame.split("\n")).toEqual(["line one with an embedded bre…", "second"]);
  });
});

describe("Lines: several rows as one text node", () => {
  it("draws exactly what one Line per row draws, dimming per row included", () => {
    fc.assert(
      fc.property(fc.array(fc.array(spanArb, { maxLength: 4 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 30 }), fc.boolean(), fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }), (rows, width, color, dims) => {
        const dim = dims.slice(0, rows.length);
        const ours = frameOf(
          <CockpitProvider value={context(color)}>
            <Box flexDirection="column">
              <Lines rows={rows} width={width} dim={dim} />
            </Box>
          </CockpitProvider>,
        );
        const each = frameOf(
          <CockpitProvider value={context(color)}>
            <Box flexDirection="column">
              {rows.map((r, i) => (
                <Line key={i} spans={r} width={width} dim={dim[i]} />
              ))}
            </Box>
          </CockpitProvider>,
        );
        expect(ours).toBe(each);
      }),
      { numRuns: 200 },
    );
  });

  it("keeps its first rows when its pane is shorter, as a pane of Lines does", () => {
    const rows = ["one", "two ✓", "three", "four"].map((t) => [span(t, { tone: "ok" })]);
    const pane = (body: React.ReactNode) =>
      frameOf(
        <CockpitProvider value={context(true)}>
          <Box flexDirection="column" height={2} overflowY="hidden">
            {body}
          </Box>
        </CockpitProvider>,
      );
    const ours = pane(<Lines rows={rows} width={10} />);
    expect(ours).toBe(pane(rows.map((r, i) => <Line key={i} spans={r} width={10} />)));
    expect(ours.replace(/\x1b\[[0-9;]*m/g, "")).toBe("one\ntwo ✓");
  });

  it("loses no row in a box narrower than its width (Ink would keep only the first line of a cut text)", () => {
    const frame = frameOf(
      <CockpitProvider value={context(false)}>
        <Box width={10} flexDirection="column">
          <Lines rows={[[span("first line here ok")], [span("second ✓ line here")], [span("third")]]} width={20} />
        </Box>
      </CockpitProvider>,
    );
    expect(frame.split("\n")).toEqual(["first line here ok", "second ✓ line here", "third"]);
  });

  it("draws a row again when its text, style or dimming changes, and only then", () => {
    const ctx = context(true);
    const r = render(
      <CockpitProvider value={ctx}>
        <Lines rows={[[span("a")], [span("b", { tone: "ok" })]]} width={5} />
      </CockpitProvider>,
    );
    try {
      const first = r.lastFrame();
      r.rerender(
        <CockpitProvider value={ctx}>
          <Lines rows={[[span("a")], [span("b", { tone: "bad" })]]} width={5} />
        </CockpitProvider>,
      );
      expect(r.lastFrame()).not.toBe(first);
      expect(r.lastFrame()).toContain("\x1b[31mb");
      r.rerender(
        <CockpitProvider value={ctx}>
          <Lines rows={[[span("a")], [span("b", { tone: "bad" })]]} width={5} dim={[false, true]} />
        </CockpitProvider>,
      );
      expect(r.lastFrame()).toContain("\x1b[2m");
    } finally {
      r.unmount();
    }
  });
});

describe("cutStyled", () => {
  it("keeps the styling of what is kept and ends with Ink's ellipsis", () => {
    const styled = styleSpans([span("ab", { bold: true }), span("cd", { tone: "bad" })], true, false);
    const cut = cutStyled(styled, "abc…");
    expect(cut.replace(/\x1b\[[0-9;]*m/g, "")).toBe("abc…");
    expect(cut.startsWith("\x1b[1m")).toBe(true);
    expect(cutStyled(styled, "ab")).toBe(styleSpans([span("ab", { bold: true })], true, false));
  });
});
