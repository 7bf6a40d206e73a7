import { describe, expect, it } from "vitest";
import { createCommandIds, nextCommandId, randomIdPrefix } from "../../src/client/command-ids.js";
import { COMMAND_ID_PATTERN } from "../../src/protocol/decode.js";

describe("command ids", () => {
  it("counts up under one prefix", () => {
    const next = createCommandIds("ab12");
    expect([next(), next(), next()]).toEqual(["c-ab12-1", "c-ab12-2", "c-ab12-3"]);
  });

  it("gives separate generators separate counters", () => {
    const a = createCommandIds("aa");
    const b = createCommandIds("bb");
    a();
    expect(a()).toBe("c-aa-2");
    expect(b()).toBe("c-bb-1");
  });

  it("makes a fresh random prefix per call (per process)", () => {
    const seen = new Set(Array.from({ length: 50 }, () => randomIdPrefix()));
    expect(seen.size).toBe(50);
    for (const p of seen) expect(p).toMatch(/^[0-9a-f]{10}$/);
  });

  it("process-wide ids are unique and match what the server accepts", () => {
    const ids = Array.from({ length: 100 }, () => nextCommandId());
    expect(new Set(ids).size).toBe(100);
    for (const id of ids) {
      expect(id).toMatch(/^c-[0-9a-f]{10}-\d+$/);
      expect(id).toMatch(COMMAND_ID_PATTERN);
    }
  });

  it("refuses a prefix that would make ambiguous ids", () => {
    expect(() => createCommandIds("a-b")).toThrow(/prefix/);
    expect(() => createCommandIds("")).toThrow(/prefix/);
  });
});
