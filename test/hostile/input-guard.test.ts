import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { dropNonKeySequences } from "../../src/tui/input-guard.js";
// Ink's own key parsing, exactly as its useInput runs it (not public API: the files, by path).
import { createInputParser } from "../../node_modules/ink/build/input-parser.js";
import parseKeypress from "../../node_modules/ink/build/parse-keypress.js";
import { PAYLOADS } from "./payloads.js";

// Property runs are bounded by count, not time: a loaded machine (CI) may take longer than the default 5 s.
vi.setConfig({ testTimeout: 60_000 });

// Keyboard input is untrusted too: a pasted log line or a terminal's answer to
// a status request can hold escape sequences. Ink 6.8's useInput throws on
// some of them (ctrl set, no key name: "\x1b[8m", "\x1b[6n", "\x1bO5n"), and
// a throw there ends the cockpit. The guard drops every sequence that is not
// a key before Ink reads it; these tests run Ink's own parser on what passes.

/** What Ink's useInput computes for one input event (build/hooks/use-input.js); a non-string here is the crash. */
function inkInput(event: string): unknown {
  const k = parseKeypress(event) as { isKittyProtocol?: boolean; isPrintable?: boolean; text?: string; ctrl: boolean; name?: string; sequence?: string };
  if (k.isKittyProtocol) return k.isPrintable ? (k.text ?? k.name) : k.ctrl && k.name?.length === 1 ? k.name : "";
  return k.ctrl ? k.name : k.sequence;
}

function inkEvents(chunk: string): string[] {
  const parser = createInputParser();
  const events = parser.push(chunk);
  const pending = parser.flushPendingEscape();
  return pending ? [...events, pending] : events;
}

const CRASHERS = ["\x1b[8m", "\x1b[6n", "\x1b[0n", "\x1b[5n", "\x1b[38;5;196m", "\x1bO5n", "\x1b[[5n", "\x1b[2J", "\x1b[?1049l", "\x1b[0m"];

describe("dropNonKeySequences", () => {
  it("Ink alone cannot take some of these (why the guard exists)", () => {
    const crashing = CRASHERS.filter((s) => inkEvents(s).some((e) => typeof inkInput(e) !== "string"));
    expect(crashing.length).toBeGreaterThan(0);
  });

  it("drops those that are not keys, so Ink reads every event of what is left as a string", () => {
    for (const s of CRASHERS) {
      const left = dropNonKeySequences(`a${s}b`);
      // CSI sequences that are not keys go; ESC O ... stays (Ink reads it as Alt+O and text, harmlessly)
      if (s.startsWith("\x1b[")) expect(left).toBe("ab");
      for (const e of inkEvents(left)) expect(typeof inkInput(e)).toBe("string");
    }
  });

  it("keeps the keys terminals send: arrows, home/end, page keys, shift+tab, modifiers, kitty, Esc, text", () => {
    for (const key of ["q", "?", "\r", "\t", "\x7f", "\x1b", "\x1b[A", "\x1b[B", "\x1b[C", "\x1b[D", "\x1b[1;5A", "\x1b[H", "\x1b[F", "\x1b[5~", "\x1b[6~", "\x1b[3~", "\x1b[Z", "\x1bOA", "\x1b[13;5u", "\x1b[99u", "\x1b[200~", "日本"])
      expect(dropNonKeySequences(key)).toBe(key);
  });

  it("on any mix of escapes, brackets, digits and letters in one chunk, Ink never meets an event it would throw on", () => {
    const unit = fc.constantFrom("\x1b", "[", "[[", "O", "?", ">", ";", "0", "1", "5", "6", "8", "38", "m", "n", "A", "~", "u", "R", "J", "h", "l", "q", " ", "\x07", "]");
    fc.assert(
      fc.property(fc.array(unit, { maxLength: 24 }), (parts) => {
        for (const e of inkEvents(dropNonKeySequences(parts.join("")))) expect(typeof inkInput(e), JSON.stringify(e)).toBe("string");
      }),
      { numRuns: 1000 },
    );
  });

  it("on every payload, pasted whole", () => {
    for (const p of PAYLOADS) for (const e of inkEvents(dropNonKeySequences(p.text.slice(0, 5000)))) expect(typeof inkInput(e), p.name).toBe("string");
  });
});
