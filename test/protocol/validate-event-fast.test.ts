import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { eventEnvelopeError, isHex64, validateEvent, type EventCheck } from "../../src/protocol/validate-event.js";
import type { CockpitEvent } from "../../src/protocol/types.js";
import { hex64, isoTime } from "../hostile/arbitraries.js";

// validate-event.ts checks prev and hash with a char-code loop, and skips the
// check for a prev, hash or time equal to the last one that passed (an event's
// prev is the previous event's hash; samples share their time). These tests
// hold it to the plain regex-and-Date.parse checks it replaced, over sequences
// of events where good and bad strings repeat, so the remembered strings are
// exercised both ways.

/** The checks as they read before the fast paths: the reference. */
const HEX64 = /^[0-9a-f]{64}$/;
function referenceValidateEvent(v: unknown): EventCheck {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObj(v)) return { ok: false, error: "event is not a JSON object" };
  if (typeof v.seq !== "number" || !Number.isSafeInteger(v.seq) || v.seq < 1) return { ok: false, error: "event.seq must be a positive integer" };
  if (typeof v.id !== "string" || v.id.length === 0) return { ok: false, error: `event ${v.seq}: id must be a non-empty string` };
  if (typeof v.time !== "string" || Number.isNaN(Date.parse(v.time))) return { ok: false, error: `event ${v.seq}: time must be an ISO-8601 timestamp` };
  if (typeof v.tenant !== "string") return { ok: false, error: `event ${v.seq}: tenant must be a string` };
  if (typeof v.type !== "string" || v.type.length === 0) return { ok: false, error: `event ${v.seq}: type must be a non-empty string` };
  if (!isObj(v.actor) || typeof v.actor.kind !== "string" || typeof v.actor.name !== "string") return { ok: false, error: `event ${v.seq}: actor must be {kind, name}` };
  if (!isObj(v.data)) return { ok: false, error: `event ${v.seq}: data must be an object` };
  for (const ref of ["rollout", "ring", "alert", "incident", "command"] as const) {
    if (v[ref] !== undefined && typeof v[ref] !== "string") return { ok: false, error: `event ${v.seq}: ${ref} must be a string` };
  }
  if (typeof v.prev !== "string" || !HEX64.test(v.prev)) return { ok: false, error: `event ${v.seq}: prev must be 64 hex digits` };
  if (typeof v.hash !== "string" || !HEX64.test(v.hash)) return { ok: false, error: `event ${v.seq}: hash must be 64 hex digits` };
  return { ok: true, event: v as unknown as CockpitEvent };
}

/** Almost-hex strings: one character off, a length off, upper case, non-ASCII look-alikes. */
const nearHex = fc.oneof(
  hex64,
  fc.tuple(hex64, fc.nat(63), fc.constantFrom("A", "F", "g", "G", "z", " ", "\n", "\u0000", "０", "٣", "\u00e9", "-", "x")).map(([h, i, c]) => h.slice(0, i) + c + h.slice(i + 1)),
  hex64.map((h) => h.slice(1)),
  hex64.map((h) => h + "0"),
  hex64.map((h) => h.toUpperCase()),
  hex64.map((h) => ` ${h.slice(1)}`),
  hex64.map((h) => `${h.slice(0, 63)}\n`),
  fc.string({ maxLength: 70 }),
  fc.constantFrom("", "0".repeat(64), "0".repeat(63)),
);

describe("isHex64", () => {
  it("says what /^[0-9a-f]{64}$/ says", () => {
    fc.assert(
      fc.property(nearHex, (s) => {
        expect(isHex64(s)).toBe(HEX64.test(s));
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    ["lower-case hex", "0123456789abcdef".repeat(4), true],
    ["upper case", "0123456789ABCDEF".repeat(4), false],
    ["63 digits", "a".repeat(63), false],
    ["65 digits", "a".repeat(65), false],
    ["a full-width digit", "０" + "a".repeat(63), false],
    ["a trailing newline in place of a digit", "a".repeat(63) + "\n", false],
  ])("%s: %s", (_what, s, ok) => {
    expect(isHex64(s)).toBe(ok);
  });
});

const base = {
  id: "evt_1",
  tenant: "payments",
  type: "sli.sample",
  rollout: "api-v408",
  actor: { kind: "engine", name: "engine" },
  data: { ring: "canary", metric: "p99_latency_ms", value: 40, unit: "ms" },
};

/** Times that pass and that do not, including the epoch (the remembered time a fresh module starts with). */
const anyTime = fc.oneof(
  isoTime,
  fc.constantFrom("1970-01-01T00:00:00.000Z", "2026-11-21T14:00:00.000Z", "", "not a time", "2026-13-01T00:00:00.000Z", "2026-11-21T25:00:00Z", "2026-11-21", 'x"'),
);

describe("validateEvent with remembered strings", () => {
  it("gives the reference's answer for every event of a stream where good and bad prev, hash and time repeat", () => {
    fc.assert(
      fc.property(
        fc.array(nearHex, { minLength: 1, maxLength: 4 }),
        fc.array(anyTime, { minLength: 1, maxLength: 3 }),
        fc.array(fc.record({ prev: fc.nat(), hash: fc.nat(), time: fc.nat(), chained: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        (hashes, times, picks) => {
          let lastHash: string | undefined;
          picks.forEach((p, i) => {
            const hash = hashes[p.hash % hashes.length]!;
            // "chained": the prev is the hash of the event before, as in a real stream (valid or not).
            const prev = p.chained && lastHash !== undefined ? lastHash : hashes[p.prev % hashes.length]!;
            const e = { ...base, seq: i + 1, time: times[p.time % times.length]!, prev, hash };
            lastHash = hash;
            const ref = referenceValidateEvent(e);
            expect(validateEvent(e)).toEqual(ref);
            expect(eventEnvelopeError(e)).toBe(ref.ok ? null : ref.error);
          });
        },
      ),
      { numRuns: 500 },
    );
  });

  it.each(["prev", "hash", "time"])("a fresh module refuses an empty %s on its first call (what it starts out remembering passes the full check)", async (field) => {
    vi.resetModules();
    const fresh = await import("../../src/protocol/validate-event.js");
    const e = { ...base, seq: 1, time: "2026-11-21T14:00:00.000Z", prev: "0".repeat(64), hash: "1".repeat(64), [field]: "" };
    expect(fresh.validateEvent(e).ok).toBe(false);
  });

  it("a bad hash after a good one is refused, though its prev matches the good one", () => {
    const good = "a".repeat(64);
    const first = { ...base, seq: 1, time: "2026-11-21T14:00:00.000Z", prev: "0".repeat(64), hash: good };
    expect(validateEvent(first).ok).toBe(true);
    expect(validateEvent({ ...first, seq: 2, prev: good, hash: "A".repeat(64) })).toEqual({ ok: false, error: "event 2: hash must be 64 hex digits" });
    expect(validateEvent({ ...first, seq: 3, prev: good.slice(1), hash: good })).toEqual({ ok: false, error: "event 3: prev must be 64 hex digits" });
  });

  it("a bad time after a good one is refused", () => {
    const e = { ...base, seq: 1, time: "2026-11-21T14:00:00.000Z", prev: "0".repeat(64), hash: "1".repeat(64) };
    expect(validateEvent(e).ok).toBe(true);
    expect(validateEvent({ ...e, time: "2026-11-21T14:00:00.000Zz" })).toEqual({ ok: false, error: "event 1: time must be an ISO-8601 timestamp" });
    expect(validateEvent({ ...e, time: "" })).toEqual({ ok: false, error: "event 1: time must be an ISO-8601 timestamp" });
  });

  it.each(["rollout", "ring", "alert", "incident", "command"])("refuses a %s that is not a string, naming it", (field) => {
    const e = { ...base, seq: 4, time: "2026-11-21T14:00:00.000Z", prev: "0".repeat(64), hash: "1".repeat(64), [field]: 7 };
    expect(validateEvent(e)).toEqual({ ok: false, error: `event 4: ${field} must be a string` });
  });
});
