import { describe, expect, it } from "vitest";
import { sanitizeDeep, sanitizeText, MAX_TEXT_CHARS } from "../../src/protocol/sanitize.js";

describe("sanitizeText", () => {
  it("makes escape sequences visible and inert", () => {
    const out = sanitizeText("title\x1b]52;c;ZXZpbA==\x07 \x1b[2J\x1bc");
    expect(out).toBe("title␛]52;c;ZXZpbA==␇ ␛[2J␛c");
    expect(out).not.toMatch(/[\x00-\x1f\x7f-\x9f]/);
  });
  it("replaces C1 controls, drops bidi overrides and zero-width characters", () => {
    expect(sanitizeText("a\u009b31mb")).toBe("a\uFFFD31mb");
    expect(sanitizeText("safe\u202Egnp.exe\u200B")).toBe("safegnp.exe");
  });
  it("turns CR and backspace into pictures so text cannot overwrite itself", () => {
    expect(sanitizeText("ok\rFAIL\b")).toBe("ok␍FAIL␈");
  });
  it("keeps newlines only in multiline fields", () => {
    expect(sanitizeText("a\nb")).toBe("a b");
    expect(sanitizeText("a\r\nb", { multiline: true })).toBe("a\nb");
  });
  it("cuts very long text with an ellipsis", () => {
    const out = sanitizeText("x".repeat(1_000_000));
    expect(out.length).toBe(MAX_TEXT_CHARS);
    expect(out.endsWith("…")).toBe(true);
  });
  it("replaces lone surrogates", () => {
    expect(sanitizeText("a\uD800b")).toBe("a\uFFFDb");
  });
});

describe("sanitizeDeep", () => {
  it("cleans nested strings and keys, and a __proto__ key stays an own property", () => {
    const parsed = JSON.parse('{"a":["\\u001b[31mred"],"__proto__":{"polluted":true},"k\\u001b":"v"}') as object;
    const out = sanitizeDeep(parsed) as Record<string, unknown>;
    expect(out.a).toEqual(["␛[31mred"]);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect((out as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(out)).toContain("k␛");
  });
});
