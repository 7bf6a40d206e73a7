import fc from "fast-check";
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { canonicalJson, canonicalJsonOfText, eventHash, sha256Hex, TemplateCache } from "../../src/protocol/canonical.js";

// src/protocol/canonical.ts: every hash in every log depends on it. The
// definition the logs were written with is kept here as the reference; each
// faster path must give the same string, or refuse (null) and leave the work
// to the one that does.

function referenceCanonical(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const s = JSON.stringify(value);
    return s === undefined ? "null" : s;
  }
  if (Array.isArray(value)) return "[" + value.map((v) => referenceCanonical(v)).join(",") + "]";
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + referenceCanonical(obj[k])).join(",") + "}";
}

function referenceHash(event: Record<string, unknown>): string {
  const { hash: _ignored, ...rest } = event;
  return createHash("sha256").update(referenceCanonical(rest), "utf8").digest("hex");
}

/** The reference's answer for a text: the canonical JSON of what it parses to, without `omit` at the top; null if it is not a JSON object. */
function referenceOfText(text: string, omit: string | null = null): string | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
  const copy = { ...(v as Record<string, unknown>) };
  if (omit !== null) delete copy[omit];
  return referenceCanonical(copy);
}

function outcome(f: () => string): { ok: string } | { threw: string } {
  try {
    return { ok: f() };
  } catch (err) {
    return { threw: (err as Error).constructor.name };
  }
}

/** Keys that make trouble: ones the writer uses, integer-like ones (enumerated first), __proto__, controls, surrogates. */
const key = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 6 }) },
  { weight: 2, arbitrary: fc.constantFrom("seq", "id", "time", "type", "data", "hash", "prev", "actor", "kind", "name", "value") },
  { weight: 1, arbitrary: fc.constantFrom("__proto__", "0", "1", "9", "10", "01", "-1", "4294967295", "a\u0000b", "é", "\ud800", "\u2028", 'q"', "b\\") },
);

/** Numbers whose text is tricky: negative zero, exponents, long fractions, the edges of the fixed notation. */
const number = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.constantFrom(0, -0, 1e21, 1e-7, 1e-6, 123e-20, 0.1 + 0.2, 2 ** 53 + 2, 5e-324, 1.7976931348623157e308, 39.553, 24000.125),
);

const scalar = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: "binary", maxLength: 4 }), number, fc.boolean(), fc.constant(null));

const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("array"), tie("object")),
  array: fc.array(tie("value"), { maxLength: 4 }),
  object: fc.dictionary(key, tie("value"), { maxKeys: 6, noNullPrototype: true }),
})).value;

const jsonObject = fc.dictionary(key, json, { maxKeys: 8, noNullPrototype: true });

/** JSON text with each object's keys in a shuffled order (as another writer might order them). */
function shuffledText(v: unknown, rnd: () => number): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v);
  if (Array.isArray(v)) return "[" + v.map((x) => shuffledText(x, rnd)).join(",") + "]";
  const keys = Object.keys(v);
  for (let i = keys.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [keys[i], keys[j]] = [keys[j]!, keys[i]!];
  }
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + shuffledText((v as Record<string, unknown>)[k], rnd)).join(",") + "}";
}

function seeded(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

/** Edits that turn JSON into near-JSON: structural characters, whitespace, escapes, digits. */
const edit = fc.record({
  at: fc.nat(),
  op: fc.constantFrom("insert", "delete", "replace"),
  ch: fc.constantFrom("{", "}", "[", "]", '"', ":", ",", " ", "\t", "\\", "\\u0041", "0", "1", ".", "e", "-", "+", "n", "t", "\u0000", "\ud800", "é"),
});

function mutate(text: string, edits: { at: number; op: string; ch: string }[]): string {
  let out = text;
  for (const e of edits) {
    const at = out.length === 0 ? 0 : e.at % out.length;
    if (e.op === "insert") out = out.slice(0, at) + e.ch + out.slice(at);
    else if (e.op === "delete") out = out.slice(0, at) + out.slice(at + 1);
    else out = out.slice(0, at) + e.ch + out.slice(at + 1);
  }
  return out;
}

describe("canonicalJson", () => {
  it("writes what the reference writes for any JSON value", () => {
    fc.assert(
      fc.property(json, (v) => {
        expect(canonicalJson(v)).toBe(referenceCanonical(v));
      }),
      { numRuns: 2000, seed: 20261121 },
    );
  });

  it("and for values no JSON text gives: undefined, holes, functions, boxed values, dates, bigints", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withBoxedValues: true, withDate: true, withMap: true, withSet: true, withSparseArray: true, withTypedArray: true, withNullPrototype: true, withObjectString: true }), (v) => {
        expect(outcome(() => canonicalJson(v))).toEqual(outcome(() => referenceCanonical(v)));
      }),
      { numRuns: 2000, seed: 20261121 },
    );
    const sparse: unknown[] = [1, , 3]; // eslint-disable-line no-sparse-arrays
    expect(canonicalJson(sparse)).toBe(referenceCanonical(sparse));
    expect(canonicalJson({ a: undefined, b: () => 1, c: [undefined], d: Symbol("x") })).toBe(referenceCanonical({ a: undefined, b: () => 1, c: [undefined], d: Symbol("x") }));
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });

  it("is not fooled by key lists that join to the same text", () => {
    // "a\u0000b" alone and "a", "b" together share a joined signature in the shape cache.
    expect(canonicalJson({ "a\u0000b": 1 })).toBe('{"a\\u0000b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe('{"a":1,"b":2}');
    expect(canonicalJson({ "a\u0000b": 1 })).toBe('{"a\\u0000b":1}');
  });
});

describe("eventHash and sha256Hex", () => {
  it("hash what the reference hashes, without the event's own hash", () => {
    fc.assert(
      fc.property(jsonObject, fc.option(fc.string({ maxLength: 64 })), (v, hash) => {
        const event = hash === null ? v : { ...v, hash };
        expect(eventHash(event as never)).toBe(referenceHash(event));
      }),
      { numRuns: 500, seed: 20261121 },
    );
  });

  it("sha256Hex is the sha256 of the UTF-8 bytes", () => {
    for (const s of ["", "abc", "déploiement ✓ 🚀", "\ud800"]) expect(sha256Hex(s)).toBe(createHash("sha256").update(s, "utf8").digest("hex"));
  });
});

describe("canonicalJsonOfText", () => {
  it("gives the reference's canonical JSON of the text, or null, whatever the key order", () => {
    let answered = 0;
    fc.assert(
      fc.property(jsonObject, fc.integer(), fc.constantFrom(null, "hash", "seq", "__proto__"), (v, seed, omit) => {
        const text = shuffledText(v, seeded(seed));
        const got = canonicalJsonOfText(text, omit);
        if (got !== null) {
          answered++;
          expect(got).toBe(referenceOfText(text, omit));
        }
      }),
      { numRuns: 3000, seed: 20261121 },
    );
    // Most random texts are plain enough for the fast path: the property is not won by refusing.
    expect(answered).toBeGreaterThan(1000);
  });

  it("takes the fast path for lines as the backend writes them", () => {
    const line = JSON.stringify({
      seq: 4,
      id: "evt_000000000004",
      time: "2026-11-21T14:00:05.000Z",
      tenant: "payments",
      type: "sli.sample",
      rollout: "api-v408",
      ring: "internal",
      actor: { kind: "engine", name: "engine" },
      data: { ring: "internal", metric: "p99_latency_ms", value: 39.553, unit: "ms", baseline: 34.26, tags: ["a", 1, null, { z: true, a: [] }] },
      prev: "f".repeat(64),
      hash: "0".repeat(64),
    });
    expect(canonicalJsonOfText(line, "hash")).toBe(referenceOfText(line, "hash"));
    expect(canonicalJsonOfText(line)).toBe(referenceOfText(line));
    expect(canonicalJsonOfText('{"b":[{"d":1,"c":2}],"a":{}}')).toBe('{"a":{},"b":[{"c":2,"d":1}]}');
  });

  it("refuses what it does not handle rather than guess: escapes, whitespace, repeated keys, long forms of numbers, deep nesting", () => {
    for (const text of [
      '{"a":"x\\ny"}',
      '{"a":"\\u0041"}',
      '{ "a":1}',
      '{"a":1,"a":2}',
      '{"b":1,"a":2,"b":3}',
      '{"a":1.0}',
      '{"a":-0}',
      '{"a":1e5}',
      '{"a":01}',
      '{"a":"\ud800"}',
      '{"a":1}x',
      "[1]",
      '{"a":' + "[".repeat(100) + "]".repeat(100) + "}",
    ]) {
      expect(canonicalJsonOfText(text), text).toBeNull();
    }
  });

  it("never accepts a text JSON.parse refuses, and never answers differently from the reference", () => {
    fc.assert(
      fc.property(jsonObject, fc.array(edit, { minLength: 1, maxLength: 3 }), (v, edits) => {
        const text = mutate(JSON.stringify(v), edits);
        const got = canonicalJsonOfText(text, "hash");
        if (got !== null) expect(got).toBe(referenceOfText(text, "hash"));
      }),
      { numRuns: 3000, seed: 20261121 },
    );
  });

  it("accepts a number exactly when it is written as JSON.stringify writes it", () => {
    const token = fc.oneof(
      number.map((n) => String(n)),
      fc.tuple(fc.double({ min: 0, max: 1e17, noNaN: true }), fc.integer({ min: 0, max: 20 })).map(([n, d]) => n.toFixed(d)),
      fc.stringMatching(/^-?[0-9]{1,20}(\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?$/),
    );
    fc.assert(
      fc.property(token, (t) => {
        const text = `{"n":${t}}`;
        const canonical = referenceOfText(text);
        expect(canonicalJsonOfText(text)).toBe(canonical === text ? text : null);
      }),
      { numRuns: 5000, seed: 20261121 },
    );
  });
});

/** The same structure with other scalars: what a later line of the same shape looks like. */
function sameShape(v: unknown, fill: () => unknown): unknown {
  if (v === null || typeof v !== "object") return fill();
  if (Array.isArray(v)) return v.map((x) => sameShape(x, fill));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) Object.defineProperty(out, k, { value: sameShape((v as Record<string, unknown>)[k], fill), enumerable: true, writable: true, configurable: true });
  return out;
}

describe("TemplateCache", () => {
  it("answers for lines of a learnt shape what the reference gives, or null", () => {
    let matched = 0;
    fc.assert(
      fc.property(jsonObject, fc.array(scalar, { minLength: 1, maxLength: 30 }), fc.array(edit, { maxLength: 2 }), (v, fills, edits) => {
        const cache = new TemplateCache("hash");
        const first = JSON.stringify(v);
        if (canonicalJsonOfText(first, "hash") === null) return;
        cache.learn(first);
        let i = 0;
        const other = sameShape(v, () => fills[i++ % fills.length]);
        for (const text of [first, JSON.stringify(other), mutate(JSON.stringify(other), edits)]) {
          const m = cache.match(text);
          if (m !== null) {
            matched++;
            expect(m.canonical).toBe(referenceOfText(text, "hash"));
          }
        }
      }),
      { numRuns: 2000, seed: 20261121 },
    );
    expect(matched).toBeGreaterThan(500);
  });

  it("serves every later line of the shape, with its strings and numbers in slots", () => {
    const cache = new TemplateCache("hash");
    const line = (n: number, name: string, value: number | null) =>
      JSON.stringify({ seq: n, id: `evt_${n}`, actor: { kind: "engine", name }, data: { value, unit: "ms", ok: true }, hash: "ab".repeat(32) });
    expect(cache.match(line(1, "engine", 1.5))).toBeNull();
    expect(cache.learn(line(1, "engine", 1.5))).not.toBeNull();
    for (const [n, name, value] of [
      [2, "a|b", 41.25],
      [3, "(.*)", 0],
      [12345, "ünï", -7.5],
    ] as const) {
      const text = line(n, name, value);
      const m = cache.match(text);
      expect(m?.canonical).toBe(referenceOfText(text, "hash"));
      expect(m!.values[m!.template.slots.get("actor\u0000name")!.slot + 1]).toBe(name);
    }
    // Another shape of the same keys: null where a number was, a long form of a number, an escape.
    expect(cache.match(line(4, "engine", null))).toBeNull();
    expect(cache.match(line(5, "engine", 1.5).replace("1.5", "1.50"))).toBeNull();
    expect(cache.match(line(6, "tab\there", 1))).toBeNull();
  });

  it("does not learn shapes it cannot serve: integer-like keys (JSON.parse reorders them), text JSON.parse refuses", () => {
    const cache = new TemplateCache(null);
    expect(cache.learn('{"b":1,"10":2}')).toBeNull();
    expect(cache.learn('{"b":1,')).toBeNull();
    expect(cache.match('{"b":1,"10":2}')).toBeNull();
  });

  it("keeps at most its limit of shapes", () => {
    const cache = new TemplateCache(null, 2);
    expect(cache.learn('{"a":1}')).not.toBeNull();
    expect(cache.learn('{"b":1}')).not.toBeNull();
    expect(cache.learn('{"c":1}')).toBeNull();
    expect(cache.match('{"a":2}')?.canonical).toBe('{"a":2}');
    expect(cache.match('{"c":2}')).toBeNull();
  });
});
