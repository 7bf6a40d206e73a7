import { describe, expect, it } from "vitest";
import { PAYLOADS, SMALL_PAYLOADS } from "./payloads.js";
import { checkPayload } from "./screen-helpers.js";

// Terminal injection, part 1: the escape-sequence payloads (OSC, CSI, DCS,
// APC, PM, SOS, C1) in every text field of an incident, through the real
// decoder and store into the real components (see screen-helpers.tsx). The
// other payloads are in screen-text.test.tsx: two files run in parallel.

const ESCAPES = SMALL_PAYLOADS.filter((p) => /[\x1b\u0080-\u009f]/.test(p.text));

describe("escape-sequence payloads in every text field render inert and readable", () => {
  it("the payload list covers at least 30 payloads of the kinds the issue names", () => {
    expect(PAYLOADS.length).toBeGreaterThanOrEqual(30);
    const names = PAYLOADS.map((p) => p.name).join("\n");
    for (const kind of ["OSC 52", "OSC 0", "OSC 2", "OSC 8", "6n", "ESC c", "DCS", "APC", "PM", "SOS", "unterminated OSC", "C1 CSI", "C1 OSC", "carriage return", "backspace", "bidi", "zero-width", "NUL", "DEL", "1 MB", "combining", "wide"])
      expect(names).toContain(kind);
    expect(ESCAPES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(ESCAPES.map((p) => [p.name, p] as const))("%s", async (_name, p) => checkPayload(p), 30_000);
});
