import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { checkEventData, decodeClientFrame, decodeServerFrame, MAX_FRAME_DEPTH } from "../../src/protocol/decode.js";
import { isCleanText, MAX_COMBINING_MARKS, MULTILINE_KEYS, quoteText, sanitizeDeep, sanitizeText } from "../../src/protocol/sanitize.js";
import { EVENT_TYPES, MAX_FRAME_BYTES } from "../../src/protocol/types.js";
import { validateEvent } from "../../src/protocol/validate-event.js";
import { anyText, cleanText, clientFrame, commandId, event, hostileText, mutate, mutation, serverFrame } from "./arbitraries.js";
import { BIDI_OR_INVISIBLE, CONTROL_EXCEPT_NEWLINE, LONE_SURROGATE, MARK_FLOOD } from "./payloads.js";

// Property-based fuzzing of the network boundary (src/protocol/decode.ts) and
// of validateEvent, which also reads log lines. Whatever arrives: nothing
// throws, a refusal is a typed result with a message that is safe to print,
// an accepted frame holds only clean text, and valid frames come back unchanged.

// Property runs are bounded by count, not time; a loaded machine (CI) may take longer than the default 5 s.
vi.setConfig({ testTimeout: 60_000 });

const RUNS = { numRuns: 250 };

type Decode = { ok: true; msg: unknown } | { ok: false; error: string };

/** A refusal's message goes to a terminal or a log: one line, no control or bidi characters. */
function expectPrintableError(error: unknown): void {
  expect(typeof error).toBe("string");
  const e = error as string;
  expect(e.trim().length).toBeGreaterThan(0);
  expect(e).not.toMatch(CONTROL_EXCEPT_NEWLINE);
  expect(e).not.toContain("\n");
  expect(e).not.toMatch(BIDI_OR_INVISIBLE);
  expect(e).not.toMatch(LONE_SURROGATE);
  expect(e.length).toBeLessThan(2000);
}

/** Every string (keys too) of an accepted frame is what sanitizeText leaves: nothing a terminal would act on. */
function expectCleanStrings(v: unknown, key = ""): void {
  if (typeof v === "string") {
    expect(v).not.toMatch(CONTROL_EXCEPT_NEWLINE);
    if (!MULTILINE_KEYS.has(key)) expect(v).not.toContain("\n");
    expect(v).not.toMatch(BIDI_OR_INVISIBLE);
    expect(v).not.toMatch(LONE_SURROGATE);
    expect(v).not.toMatch(MARK_FLOOD);
    return;
  }
  if (Array.isArray(v)) return v.forEach((x) => expectCleanStrings(x, key));
  if (v !== null && typeof v === "object") {
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    for (const [k, x] of Object.entries(v)) {
      expect(k).not.toBe("__proto__");
      expectCleanStrings(k, "");
      expectCleanStrings(x, k);
    }
  }
}

function expectTyped(r: Decode): void {
  expect(typeof r.ok).toBe("boolean");
  if (r.ok) expectCleanStrings(r.msg);
  else expectPrintableError(r.error);
}

const decoders: [string, (raw: string | Buffer) => Decode][] = [
  ["decodeServerFrame", decodeServerFrame],
  ["decodeClientFrame", decodeClientFrame],
];

const SERVER_TYPES = ["welcome", "snapshot", "event", "ack", "reject", "error", "pong"];
const CLIENT_TYPES = ["hello", "command", "ping"];

/** A JSON object whose `type` is one the decoders read, the rest anything. */
const typedJunk = fc
  .tuple(fc.constantFrom(...SERVER_TYPES, ...CLIENT_TYPES), fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 }), { maxKeys: 8 }))
  .map(([type, rest]) => JSON.stringify({ ...rest, type }));

describe.each(decoders)("%s never throws and refuses with a typed, printable error", (_name, decode) => {
  it("on arbitrary text", () => {
    fc.assert(fc.property(fc.oneof(fc.string(), hostileText, fc.string({ unit: "binary" })), (s) => expectTyped(decode(s))), RUNS);
  });

  it("on arbitrary JSON, including objects with a known type", () => {
    fc.assert(fc.property(fc.oneof(fc.json({ maxDepth: 5 }), typedJunk), (s) => expectTyped(decode(s))), RUNS);
  });

  it("on arbitrary bytes (invalid UTF-8 included), as Buffer, ArrayBuffer or fragments", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat({ max: 2 }), (bytes, form) => {
        const buf = Buffer.from(bytes);
        const raw = form === 0 ? buf : form === 1 ? (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as unknown as Buffer) : ([buf.subarray(0, 3), buf.subarray(3)] as unknown as Buffer);
        expectTyped(decode(raw));
      }),
      RUNS,
    );
  });

  it("on valid frames of the other side (a confused peer)", () => {
    const other = decode === decodeServerFrame ? clientFrame(anyText) : serverFrame(anyText);
    fc.assert(fc.property(other, (f) => expectTyped(decode(JSON.stringify(f)))), RUNS);
  });

  it("on nesting far past the depth limit, of arrays and of objects", () => {
    for (const depth of [MAX_FRAME_DEPTH, MAX_FRAME_DEPTH + 1, 1_000, 100_000]) {
      const arrays = `{"type":"error","code":"x","message":"m","extra":${"[".repeat(depth)}${"]".repeat(depth)}}`;
      const objects = `{"type":"ping","t":1,"x":${'{"a":'.repeat(depth)}1${"}".repeat(depth)}}`;
      for (const text of [arrays, objects]) {
        const r = decode(text);
        expectTyped(r);
        if (depth > MAX_FRAME_DEPTH + 1) expect(r.ok).toBe(false);
      }
    }
  });

  it("on frames just over the 1 MiB limit, as text, bytes and fragments", () => {
    const big = JSON.stringify({ type: "error", code: "x", message: "é".repeat(MAX_FRAME_BYTES / 2) });
    for (const raw of [big, Buffer.from(big), [Buffer.from(big.slice(0, 10)), Buffer.from(big.slice(10))]]) {
      const r = decode(raw as Buffer);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/1 MiB/);
    }
  });

  it("on huge, tiny and non-finite numbers where numbers go", () => {
    const numbers = ["1e309", "-1e309", "9007199254740993", "1e-400", "-0", "123456789012345678901234567890", "0.1e1", "1E2"];
    for (const n of numbers) {
      for (const text of [
        `{"type":"pong","t":${n}}`,
        `{"type":"ping","t":${n}}`,
        `{"type":"ack","id":"c","seq":${n},"duplicate":false}`,
        `{"type":"hello","protocol":1,"client":"x","resumeFrom":${n}}`,
        `{"type":"welcome","protocol":${n},"server":"s","session":{"actor":"a","role":"viewer","tenant":"t"},"headSeq":${n}}`,
      ]) {
        const r = decode(text);
        expectTyped(r);
        // JSON numbers beyond double range parse to ±Infinity, never accepted where a finite number goes.
        if (n === "1e309" || n === "-1e309") expect(r.ok).toBe(false);
      }
    }
  });
});

describe("decodeServerFrame accepts valid frames", () => {
  it("unchanged when their text is clean", () => {
    fc.assert(
      fc.property(serverFrame(cleanText), (f) => {
        const r = decodeServerFrame(JSON.stringify(f));
        expect(r).toEqual({ ok: true, msg: JSON.parse(JSON.stringify(f)) });
      }),
      RUNS,
    );
  });

  it("sanitized when their text is hostile: the same frame, every string cleaned", () => {
    fc.assert(
      fc.property(serverFrame(hostileText), (f) => {
        const r = decodeServerFrame(JSON.stringify(f));
        if (!r.ok) throw new Error(`refused a valid frame: ${r.error}\n${JSON.stringify(f)}`);
        expect(r.msg).toEqual(sanitizeDeep(JSON.parse(JSON.stringify(f))));
        expectCleanStrings(r.msg);
      }),
      RUNS,
    );
  });

  it("as Buffers, the way ws hands them over", () => {
    fc.assert(
      fc.property(serverFrame(anyText), (f) => {
        const r = decodeServerFrame(Buffer.from(JSON.stringify(f), "utf8"));
        expect(r.ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe("decodeClientFrame accepts valid frames", () => {
  it("unchanged when their text is clean", () => {
    fc.assert(
      fc.property(clientFrame(cleanText), (f) => {
        expect(decodeClientFrame(JSON.stringify(f))).toEqual({ ok: true, msg: JSON.parse(JSON.stringify(f)) });
      }),
      RUNS,
    );
  });

  it("sanitized when their text is hostile", () => {
    fc.assert(
      fc.property(clientFrame(hostileText), (f) => {
        const r = decodeClientFrame(JSON.stringify(f));
        if (!r.ok) {
          // The one length rule of a client frame: a reason over 4096 characters.
          expect(typeof f.reason === "string" && f.reason.length > 4096).toBe(true);
          return;
        }
        expect(r.msg).toEqual(sanitizeDeep(JSON.parse(JSON.stringify(f))));
      }),
      RUNS,
    );
  });

  it("gives back a command's id when only the rest of the command is wrong, so the server can reject that id", () => {
    fc.assert(
      fc.property(commandId, fc.jsonValue({ maxDepth: 2 }), (id, target) => {
        fc.pre(typeof target !== "object" || target === null || Array.isArray(target));
        const r = decodeClientFrame(JSON.stringify({ type: "command", id, action: "pause", target }));
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.code).toBe("bad_request");
          expect(r.id).toBe(id);
          expectPrintableError(r.error);
        }
      }),
      RUNS,
    );
  });
});

describe("mutated valid frames", () => {
  it("decodeServerFrame: one field deleted, replaced, wrapped or shadowed by __proto__ never throws", () => {
    fc.assert(
      fc.property(serverFrame(anyText), fc.nat(), mutation, (f, pick, m) => {
        expectTyped(decodeServerFrame(JSON.stringify(mutate(f, pick, m))));
      }),
      { numRuns: 600 },
    );
  });

  it("decodeClientFrame: the same", () => {
    fc.assert(
      fc.property(clientFrame(anyText), fc.nat(), mutation, (f, pick, m) => {
        expectTyped(decodeClientFrame(JSON.stringify(mutate(f, pick, m))));
      }),
      { numRuns: 600 },
    );
  });

  it("a required field removed from a frame is refused even when a __proto__ key carries it", () => {
    const ack = { type: "ack", id: "c-1", seq: 4, duplicate: false };
    for (const field of ["id", "seq", "duplicate"] as const) {
      const { [field]: moved, ...rest } = ack;
      const text = JSON.stringify(rest).replace(/^\{/, `{"__proto__":${JSON.stringify({ [field]: moved })},`);
      const r = decodeServerFrame(text);
      expect(r.ok).toBe(false);
    }
    // and a frame that is fine apart from a __proto__ key comes back without it, on a normal prototype
    const r = decodeServerFrame(`{"__proto__":{"polluted":true},"type":"ack","id":"c-1","seq":4,"duplicate":false}`);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(Object.getPrototypeOf(r.msg)).toBe(Object.prototype);
      expect(Object.keys(r.msg)).not.toContain("__proto__");
      expect((r.msg as unknown as Record<string, unknown>).polluted).toBeUndefined();
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("nothing a frame holds pollutes Object.prototype", () => {
    fc.assert(
      fc.property(serverFrame(anyText), fc.nat(), fc.jsonValue({ maxDepth: 2 }), (f, pick, value) => {
        const text = JSON.stringify(mutate(f, pick, { kind: "proto", value }));
        decodeServerFrame(text);
        decodeClientFrame(text);
        expect(Object.prototype).not.toHaveProperty("role");
        expect(Object.prototype).not.toHaveProperty("type");
      }),
      { numRuns: 300 },
    );
  });
});

describe("validateEvent and checkEventData (wire events and log lines)", () => {
  it("accept every valid event as the same object", () => {
    fc.assert(
      fc.property(event(anyText), (e) => {
        const r = validateEvent(e);
        expect(r).toEqual({ ok: true, event: e });
        if (r.ok) expect(r.event).toBe(e);
        expect(checkEventData(e.type as string, e.data)).toBeNull();
      }),
      RUNS,
    );
  });

  it("never throw on anything, and refuse with a typed, printable error", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.anything({ maxDepth: 3 })), (v) => {
        const r = validateEvent(v);
        if (!r.ok) expectPrintableError(r.error);
        for (const type of [...EVENT_TYPES, "x.unknown"]) {
          const err = checkEventData(type, v);
          if (err !== null) expectPrintableError(err);
        }
      }),
      RUNS,
    );
  });

  it("never throw on mutated events; a refusal names the field", () => {
    fc.assert(
      fc.property(event(anyText), fc.nat(), mutation, (e, pick, m) => {
        const bent = mutate(e, pick, m);
        const r = validateEvent(bent);
        if (!r.ok) expectPrintableError(r.error);
        else {
          const err = checkEventData(String(r.event.type), r.event.data);
          if (err !== null) {
            expectPrintableError(err);
            expect(err.startsWith("data")).toBe(true);
          }
        }
      }),
      { numRuns: 600 },
    );
  });
});

describe("the sanitizer itself (src/protocol/sanitize.ts)", () => {
  it("is idempotent, and what it returns needs no more cleaning", () => {
    fc.assert(
      fc.property(anyText, fc.boolean(), (s, multiline) => {
        const once = sanitizeText(s, { multiline });
        expect(sanitizeText(once, { multiline })).toBe(once);
        // (isCleanText is a conservative fast path: any astral character sends text through the full sanitizer)
        if (!multiline && !/[\uD800-\uDFFF]/.test(once)) expect(isCleanText(once)).toBe(true);
        expectCleanStrings(once, multiline ? "text" : "");
      }),
      { numRuns: 500 },
    );
  });

  it("quoteText gives a printable quote of anything, for error messages", () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 1, max: 80 }), (s, max) => {
        const q = quoteText(s, max);
        expect(q.startsWith('"')).toBe(true);
        expect(q).not.toMatch(CONTROL_EXCEPT_NEWLINE);
        expect(q).not.toContain("\n");
        expect(q).not.toMatch(BIDI_OR_INVISIBLE);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps at most 8 combining marks on a character (a Zalgo flood), and leaves real accents alone", () => {
    expect(sanitizeText("Z" + "\u0301".repeat(5000) + "ok")).toBe("Z" + "\u0301".repeat(MAX_COMBINING_MARKS) + "ok");
    expect(isCleanText("Z" + "\u0301".repeat(9))).toBe(false);
    for (const real of ["Zürich café", "नमस्ते", "Tiếng Việt", "1️⃣ keycap", "ḉ̄ stacked"]) {
      expect(sanitizeText(real)).toBe(real);
      expect(isCleanText(real)).toBe(true);
    }
  });
});
