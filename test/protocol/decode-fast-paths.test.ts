import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { checkEventData, decodeClientFrame, decodeServerFrame, FAST_PATHS_FOR_TESTS, MAX_FRAME_DEPTH } from "../../src/protocol/decode.js";
import { MAX_TEXT_CHARS } from "../../src/protocol/sanitize.js";
import { anyText, cleanText, clientFrame, event, hostileText, hex64, isoTime, mutate, mutation, serverFrame } from "../hostile/arbitraries.js";
import { PAYLOADS } from "../hostile/payloads.js";

// decode.ts takes shortcuts on the hot path (nearly every frame is a clean
// sli.sample event): it reads "nothing to clean, nothing to drop, not too deep"
// off the frame's text instead of walking the parsed value, and it tests the
// sli.sample data inline instead of through the generic shape. Each shortcut
// must give the very answer of the code it stands in for; these tests hold
// them to it, on valid, mutated and hostile frames.

vi.setConfig({ testTimeout: 60_000 });

const RUNS = { numRuns: 300 };
const { plainFrame, walk, sliSampleData } = FAST_PATHS_FOR_TESTS;

type Obj = Record<string, unknown>;

/** An sli.sample event frame like the engine's, with text from `t` in every string field. */
function sampleFrame(t: fc.Arbitrary<string>): fc.Arbitrary<Obj> {
  return fc
    .record(
      {
        seq: fc.integer({ min: 1, max: 2 ** 40 }),
        time: isoTime,
        tenant: t,
        rollout: t,
        ring: t,
        metric: t,
        unit: t,
        value: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
        baseline: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
        withBaseline: fc.boolean(),
        prev: hex64,
        hash: hex64,
      },
      { requiredKeys: ["seq", "time", "tenant", "ring", "metric", "unit", "value", "withBaseline", "prev", "hash"] },
    )
    .map((f) => {
      const data: Obj = { ring: f.ring, metric: f.metric, value: f.value, unit: f.unit };
      if (f.withBaseline) data.baseline = f.baseline ?? null;
      const e: Obj = { seq: f.seq, id: `evt_${f.seq}`, time: f.time, tenant: f.tenant, type: "sli.sample" };
      if (f.rollout !== undefined) e.rollout = f.rollout;
      e.ring = f.ring;
      e.actor = { kind: "engine", name: "engine" };
      e.data = data;
      e.prev = f.prev;
      e.hash = f.hash;
      return { type: "event", event: e };
    });
}

/** A hostile payload from test/hostile/payloads.ts, in any string field of a sample frame. */
const payloadText = fc.constantFrom(...PAYLOADS.map((p) => p.text));

/** Frames of every kind: valid, with clean or hostile text, and each mutated once. */
const frameText: fc.Arbitrary<string> = fc.oneof(
  sampleFrame(cleanText).map((f) => JSON.stringify(f)),
  sampleFrame(anyText).map((f) => JSON.stringify(f)),
  sampleFrame(fc.oneof(cleanText, payloadText)).map((f) => JSON.stringify(f)),
  fc.tuple(sampleFrame(anyText), fc.nat(), mutation).map(([f, pick, m]) => JSON.stringify(mutate(f, pick, m))),
  fc.tuple(sampleFrame(cleanText), fc.nat(), mutation).map(([f, pick, m]) => JSON.stringify(mutate(f, pick, m))),
  serverFrame(anyText).map((f) => JSON.stringify(f)),
  fc.tuple(serverFrame(cleanText), fc.nat(), mutation).map(([f, pick, m]) => JSON.stringify(mutate(f, pick, m))),
  clientFrame(anyText).map((f) => JSON.stringify(f)),
  fc.json({ maxDepth: 4 }),
  // pretty-printed: JSON whitespace (newlines, tabs) between tokens
  sampleFrame(cleanText).map((f) => JSON.stringify(f, null, "\t")),
);

/**
 * The same frame, spelled so that the text shortcut cannot be taken: the first
 * key's first character written as a \u escape. JSON.parse reads both texts to
 * the same value, so the decoders must give the same answer for both.
 */
function spelledForTheGenericPath(text: string): string | null {
  const m = /^\{"([^"\\])/.exec(text);
  if (m === null) return null;
  const code = m[1]!.charCodeAt(0).toString(16).padStart(4, "0");
  return `{"\\u${code}${text.slice(3)}`;
}

/** Whether the decoders get as far as the walk: the text is JSON and an object. */
function parses(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** What walk does to a parsed text: its answer, or the error it throws, and whether it changed the value. */
function walked(text: string): { dirty?: boolean; threw?: string; changed: boolean } {
  const parsed = JSON.parse(text) as Obj;
  const out: { dirty?: boolean; threw?: string; changed: boolean } = { changed: false };
  try {
    out.dirty = walk(parsed);
  } catch (e) {
    out.threw = (e as Error).message;
  }
  out.changed = JSON.stringify(parsed) !== JSON.stringify(JSON.parse(text));
  return out;
}

describe("plainFrame: read off the text, what walking the parsed frame would find", () => {
  it("when it says plain, walk finds no string to clean, no key to drop, no nesting too deep", () => {
    let plain = 0;
    fc.assert(
      fc.property(frameText, (text) => {
        if (!parses(text) || !plainFrame(text)) return;
        plain++;
        expect(walked(text)).toEqual({ dirty: false, changed: false });
      }),
      { numRuns: 1000 },
    );
    // The property says nothing unless the shortcut is actually taken, often.
    expect(plain).toBeGreaterThan(200);
  });

  it("says plain for the frames the engine sends, compact or pretty-printed", () => {
    const frame = {
      type: "event",
      event: {
        seq: 11,
        id: "evt_000000000011",
        time: "2026-11-21T14:00:10.000Z",
        tenant: "payments",
        type: "sli.sample",
        rollout: "api-v408",
        ring: "internal",
        actor: { kind: "engine", name: "engine" },
        data: { ring: "internal", metric: "cpu_saturation", value: 46.226, unit: "%", baseline: 44.488 },
        prev: "18166ddf043422b12ace6c5d8cab3127bfe3b38ca598ad7282a36619a541d255",
        hash: "25ab2e6cce7781326bac69591eae2cb0c0e02173ebd6f8de99936c9253d91257",
      },
    };
    expect(plainFrame(JSON.stringify(frame))).toBe(true);
    expect(plainFrame(JSON.stringify(frame, null, 2))).toBe(true);
    expect(plainFrame(JSON.stringify(frame, null, "\t").replace(/\n/g, "\r\n"))).toBe(true);
  });

  it.each([
    ["an escape (it can spell a control)", '{"type":"error","code":"x","message":"\\u001b[2J"}'],
    ["an escaped quote, harmless but an escape", '{"type":"error","code":"x","message":"say \\"hi\\""}'],
    ["a raw DEL inside a string", '{"type":"error","code":"x","message":"a\u007fb"}'],
    ["a raw C1 control inside a string", '{"type":"error","code":"x","message":"a\u009bb"}'],
    ["a bidi override", '{"type":"error","code":"x","message":"a\u202eb"}'],
    ["any non-ASCII text, even harmless", '{"type":"error","code":"x","message":"日本語"}'],
    ["a lone surrogate", '{"type":"error","code":"x","message":"a\ud800b"}'],
    ["a __proto__ key", '{"type":"ack","__proto__":{"x":1},"id":"c","seq":1,"duplicate":false}'],
    ["__proto__ anywhere, even inside a string", '{"type":"error","code":"x","message":"__proto__"}'],
    ["a text longer than MAX_TEXT_CHARS", JSON.stringify({ type: "error", code: "x", message: "a".repeat(MAX_TEXT_CHARS) })],
  ])("is not plain with %s, and leaves it to the walk", (_what, text) => {
    expect(parses(text)).toBe(true);
    expect(plainFrame(text)).toBe(false);
  });

  it("counts nesting: MAX_FRAME_DEPTH levels are plain and walk agrees; one more is not, and walk refuses it", () => {
    const nested = (levels: number) => `{"type":"error","code":"x","message":"m","extra":${"[".repeat(levels - 1)}${"]".repeat(levels - 1)}}`;
    const atLimit = nested(MAX_FRAME_DEPTH);
    expect(plainFrame(atLimit)).toBe(true);
    expect(walked(atLimit)).toEqual({ dirty: false, changed: false });
    expect(decodeServerFrame(atLimit).ok).toBe(true);
    const over = nested(MAX_FRAME_DEPTH + 1);
    expect(plainFrame(over)).toBe(false);
    expect(walked(over).threw).toBe(`frame nests deeper than ${MAX_FRAME_DEPTH} levels`);
    expect(decodeServerFrame(over)).toEqual({ ok: false, error: `frame nests deeper than ${MAX_FRAME_DEPTH} levels` });
  });

  it("a frame the shortcut declines is still cleaned: an escape in a sample's metric never reaches the store raw", () => {
    const text = '{"type":"event","event":{"seq":1,"id":"e1","time":"2026-11-21T14:00:10.000Z","tenant":"t","type":"sli.sample","rollout":"r","actor":{"kind":"engine","name":"engine"},"data":{"ring":"canary\\u202e","metric":"p99\\u001b]52;c;Y3VybA==\\u0007","value":1,"unit":"ms"},"prev":"' + "0".repeat(64) + '","hash":"' + "a".repeat(64) + '"}}';
    expect(plainFrame(text)).toBe(false);
    const r = decodeServerFrame(text);
    expect(r.ok).toBe(true);
    const data = r.ok && r.msg.type === "event" ? (r.msg.event.data as Obj) : {};
    expect(data.metric).toBe("p99␛]52;c;Y3VybA==␇");
    expect(data.ring).toBe("canary");
  });
});

describe("decoders: the text shortcut gives the answer of the generic walk", () => {
  it("spelledForTheGenericPath keeps the value and defeats the shortcut", () => {
    const text = JSON.stringify({ type: "pong", t: 1 });
    const generic = spelledForTheGenericPath(text)!;
    expect(generic).toBe('{"\\u0074ype":"pong","t":1}');
    expect(JSON.parse(generic)).toEqual(JSON.parse(text));
    expect(plainFrame(text)).toBe(true);
    expect(plainFrame(generic)).toBe(false);
  });

  it.each([
    ["decodeServerFrame", decodeServerFrame],
    ["decodeClientFrame", decodeClientFrame],
  ] as const)("%s: the same result (accepted value or error) either way", (_name, decode) => {
    fc.assert(
      fc.property(frameText, (text) => {
        const generic = spelledForTheGenericPath(text);
        if (generic === null) return;
        expect(decode(text)).toEqual(decode(generic));
      }),
      { numRuns: 1000 },
    );
  });

  it("hostile strings in a sample's metric, ring, unit, rollout or tenant: refused or cleaned the same either way", () => {
    const fields = ["metric", "ring", "unit", "rollout", "tenant"] as const;
    fc.assert(
      fc.property(sampleFrame(cleanText), fc.constantFrom(...fields), fc.oneof(payloadText, hostileText), (frame, field, text) => {
        const e = frame.event as Obj;
        if (field === "metric" || field === "ring" || field === "unit") (e.data as Obj)[field] = text;
        else e[field] = text;
        const raw = JSON.stringify(frame);
        const r = decodeServerFrame(raw);
        expect(r).toEqual(decodeServerFrame(spelledForTheGenericPath(raw)!));
        expect(r.ok).toBe(true);
      }),
      RUNS,
    );
  });
});

describe("sli.sample data: the inline check gives the generic shape's answer", () => {
  const sampleData = fc.record(
    {
      ring: anyText,
      metric: anyText,
      value: fc.option(fc.double(), { nil: null }),
      unit: anyText,
      baseline: fc.option(fc.double(), { nil: null }),
    },
    { requiredKeys: ["ring", "metric", "value", "unit"] },
  );
  const odd = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(undefined, null, NaN, Infinity, -Infinity, -0, 0, 1e308, "", "1", true, false, [], {}, ["a"], { ring: "a" }),
  );
  const dataLike: fc.Arbitrary<unknown> = fc.oneof(
    sampleData,
    fc.tuple(sampleData, fc.nat(), mutation).map(([d, pick, m]) => mutate(d as Obj, pick, m)),
    fc.tuple(sampleData, fc.constantFrom("ring", "metric", "value", "unit", "baseline"), odd).map(([d, k, v]) => ({ ...d, [k]: v })),
    fc.tuple(sampleData, fc.constantFrom("ring", "metric", "value", "unit", "baseline")).map(([d, k]) => {
      const copy: Obj = { ...d };
      delete copy[k];
      return copy;
    }),
    odd,
  );

  it("accepts and refuses exactly what the generic shape does, with its error", () => {
    let accepted = 0;
    fc.assert(
      fc.property(dataLike, (d) => {
        const fast = sliSampleData.fast(d);
        expect(fast).toBe(sliSampleData.generic(d));
        if (fast === null) accepted++;
        expect(checkEventData("sli.sample", d)).toBe(fast === null ? null : `data${fast}`);
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it.each([
    ["a value that is a string", { ring: "c", metric: "m", value: "1", unit: "ms" }, ".value: expected a finite number or null, got the string \"1\""],
    ["a missing metric", { ring: "c", value: 1, unit: "ms" }, ".metric: missing, expected a string"],
    ["a baseline that is not a number", { ring: "c", metric: "m", value: 1, unit: "ms", baseline: true }, ".baseline: expected a finite number or null, got true"],
    ["a unit that is a number", { ring: "c", metric: "m", value: 1, unit: 5 }, ".unit: expected a string, got the number 5"],
    ["an array instead of an object", [], ": expected an object, got an array"],
  ])("refuses %s, naming the field", (_what, d, error) => {
    expect(sliSampleData.fast(d)).toBe(error);
  });

  it("accepts value null and an absent or null baseline", () => {
    expect(sliSampleData.fast({ ring: "c", metric: "m", value: null, unit: "ms" })).toBeNull();
    expect(sliSampleData.fast({ ring: "c", metric: "m", value: 1, unit: "ms", baseline: null })).toBeNull();
  });

  it("an event's own hostile data field is refused with a printable error through the whole decoder", () => {
    const frame = { type: "event", event: { seq: 3, id: "e3", time: "2026-11-21T14:00:10.000Z", tenant: "t", type: "sli.sample", actor: { kind: "engine", name: "engine" }, data: { ring: "c", metric: "m", value: "\u001b[2J", unit: "ms" }, prev: "0".repeat(64), hash: "b".repeat(64) } };
    expect(decodeServerFrame(JSON.stringify(frame))).toEqual({ ok: false, error: 'event frame: event 3: data.value: expected a finite number or null, got the string "\\u001b[2J"' });
  });
});

describe("event frames of every type: decoded the same whether or not the sample shortcut applies", () => {
  it("valid and mutated events of any type give the same result through both spellings", () => {
    fc.assert(
      fc.property(event(anyText), fc.nat(), fc.option(mutation, { nil: undefined }), (e, pick, m) => {
        const frame = { type: "event", event: m === undefined ? e : mutate(e, pick, m) };
        const text = JSON.stringify(frame);
        expect(decodeServerFrame(text)).toEqual(decodeServerFrame(spelledForTheGenericPath(text)!));
      }),
      RUNS,
    );
  });
});
