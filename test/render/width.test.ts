import fc from "fast-check";
import stringWidth from "string-width";
import { describe, expect, it } from "vitest";
import { asciiStandIn, displayWidth, oneLine, padEnd, padStart, truncate, truncateStart } from "../../src/render/width.js";

describe("displayWidth", () => {
  it("counts terminal columns, not UTF-16 units", () => {
    expect(displayWidth("api-v408")).toBe(8);
    expect(displayWidth("日本語")).toBe(6);
    expect(displayWidth("👍")).toBe(2);
    expect(displayWidth("👨‍👩‍👧")).toBe(2);
    expect(displayWidth("e\u0301")).toBe(1);
    expect(displayWidth("")).toBe(0);
  });
});

describe("displayWidth and truncate agree with string-width (Ink's measure)", () => {
  // The fast path sums per-character widths; these pieces try to break it: joiners, combining
  // marks, variation selectors, keycaps, emoji, CJK and the symbol blocks the cockpit draws with.
  const PIECES = ["a", " ", "~", "é", "\u00ad", "…", "‖", "·", "→", "↩", "✓", "✗", "⚠", "◷", "■", "▣", "□", "▁", "█", "│", "─", "⌚", "⏳", "☕", "★", "漢", "ｱ", "\u0301", "\u20e3", "\u20dd", "\u200d", "\ufe0f", "\ufe0e", "\u200b", "\u202e", "👍", "🏽", "1", "#", "\u1100", "\u1161", "\u0915", "\u094d", "\u093f"];
  const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((a) => a.join(""));
  it("measures every string as string-width does", () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(displayWidth(s)).toBe(stringWidth(s));
      }),
      { numRuns: 5000 },
    );
  });
  it("cuts to the same widths it measures", () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 20 }), (s, w) => {
        const cut = truncate(s, w);
        expect(stringWidth(cut)).toBeLessThanOrEqual(w);
        if (stringWidth(s) <= w) expect(cut).toBe(s);
        else expect(cut.endsWith("…")).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe("asciiStandIn (what Ink is given to measure a line by)", () => {
  const PIECES = ["a", " ", "~", "é", "\u00ad", "…", "‖", "·", "→", "✓", "✗", "⚠", "■", "▁", "█", "│", "⌚", "★", "⬛", "漢", "\u0301", "\u200d", "\ufe0f", "👍"];
  const text = fc.array(fc.constantFrom(...PIECES), { maxLength: 30 }).map((a) => a.join(""));

  it("is as wide as the text column for column, so Ink lays the line out and clips it where the text would be", () => {
    fc.assert(
      fc.property(text, (s) => {
        const standIn = asciiStandIn(s);
        expect(standIn).toHaveLength(s.length);
        for (let i = 0; i <= s.length; i++) expect(stringWidth(standIn.slice(0, i))).toBe(stringWidth(s.slice(0, i)));
      }),
      { numRuns: 3000 },
    );
  });

  it("is printable ASCII for a line of words and the cockpit's glyphs, and the text itself where a character may join another", () => {
    expect(asciiStandIn("✓ api v408 ▁▂█ 63ms › 50 … ⚠")).toBe("? api v408 ??? 63ms ? 50 ? ?");
    expect(asciiStandIn("plain ascii")).toBe("plain ascii");
    // an emoji, a wide character or a combining mark anywhere: measured as it is
    for (const s of ["✓ 👍", "✓ 漢", "✓ e\u0301", "⬛"]) expect(asciiStandIn(s)).toBe(s);
  });
});

describe("oneLine", () => {
  it("turns every newline convention and tabs into single spaces", () => {
    expect(oneLine("a\nb\r\nc\rd\te")).toBe("a b c d e");
    expect(oneLine("plain")).toBe("plain");
  });
});

describe("truncate", () => {
  it("leaves text that fits alone", () => {
    expect(truncate("canary", 6)).toBe("canary");
    expect(truncate("canary", 20)).toBe("canary");
  });

  it("cuts ASCII and ends with an ellipsis, within the width", () => {
    expect(truncate("p99_latency_ms", 8)).toBe("p99_lat…");
    expect(displayWidth(truncate("p99_latency_ms", 8))).toBe(8);
  });

  it("cuts CJK by columns and never splits a wide character", () => {
    expect(truncate("日本語のテキスト", 7)).toBe("日本語…");
    // 6 columns: "日本" is 4, "語" would make 6 and leave no room for "…"
    expect(truncate("日本語のテキスト", 6)).toBe("日本…");
    expect(displayWidth(truncate("日本語のテキスト", 6))).toBe(5);
  });

  it("keeps emoji and ZWJ sequences whole", () => {
    expect(truncate("👍👍👍", 5)).toBe("👍👍…");
    expect(truncate("👨‍👩‍👧 family", 4)).toBe("👨‍👩‍👧 …");
    expect(truncate("👨‍👩‍👧 family", 2)).toBe("…");
  });

  it("keeps a letter with its combining accent", () => {
    expect(truncate("e\u0301e\u0301e\u0301e\u0301", 3)).toBe("e\u0301e\u0301…");
  });

  it("makes multi-line input one line before measuring", () => {
    expect(truncate("first\nsecond", 20)).toBe("first second");
    expect(truncate("first\nsecond", 8)).toBe("first s…");
  });

  it("gives just the ellipsis at width 1 and nothing at 0, negative or NaN", () => {
    expect(truncate("canary", 1)).toBe("…");
    expect(truncate("canary", 0)).toBe("");
    expect(truncate("canary", -3)).toBe("");
    expect(truncate("canary", NaN)).toBe("");
  });

  it("treats a fractional width as the whole columns it holds", () => {
    expect(truncate("canary", 4.9)).toBe("can…");
  });
});

describe("truncateStart", () => {
  it("keeps the end of a path and marks the cut at its start", () => {
    expect(truncateStart("/tmp/demo/postmortem-x.md", 16)).toBe("…postmortem-x.md");
    expect(truncateStart("/tmp/a.md", 16)).toBe("/tmp/a.md");
    expect(truncateStart("/tmp/a.md", 1)).toBe("…");
    expect(truncateStart("/tmp/a.md", 0)).toBe("");
  });
  it("never splits a wide character or a grapheme, and stays within the width", () => {
    const s = "/data/事件/👩‍👩‍👧/draft.md";
    for (let w = 1; w <= 24; w++) {
      const cut = truncateStart(s, w);
      expect(displayWidth(cut)).toBeLessThanOrEqual(w);
      expect(s.endsWith(cut.replace(/^…/, ""))).toBe(true);
    }
  });
});

describe("padEnd / padStart", () => {
  it("pad to exactly the width", () => {
    expect(padEnd("ok", 5)).toBe("ok   ");
    expect(padStart("42", 5)).toBe("   42");
  });

  it("pad by columns, so wide text lines up", () => {
    expect(padEnd("日本", 6)).toBe("日本  ");
    expect(padStart("👍", 4)).toBe("  👍");
  });

  it("truncate text that is too long, and fill the column a wide character left", () => {
    expect(padEnd("canary-eu-west", 8)).toBe("canary-…");
    expect(padEnd("日本語のテキスト", 6)).toBe("日本… ");
    expect(padStart("日本語のテキスト", 6)).toBe(" 日本…");
  });

  it("make multi-line input one line", () => {
    expect(padEnd("a\nb", 5)).toBe("a b  ");
  });

  it("give an empty string for no width, and do not pad to infinity", () => {
    expect(padEnd("x", 0)).toBe("");
    expect(padEnd("x", Infinity)).toBe("x");
    expect(padStart("x", Infinity)).toBe("x");
  });
});
