import { EVENT_TYPES, type CockpitEvent } from "./types.js";

// Structural check of one event (a log line or a wire frame's `event`). Unknown
// event types pass: the protocol grows by adding types and old readers must
// keep going. It does not sanitize: hashes are computed over the raw text.
//
// Speed: every event frame of the live stream passes here (decode.ts), tens
// of thousands a second, so the format checks avoid regexes and remember the
// last string that passed: an event's prev is the hash of the event before,
// and samples come in bursts that share one time, so the usual check is one
// string comparison. A remembered string passed the full check before, so
// the answer is the same as checking it again.

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** 1 at the char code of each lowercase hex digit (0-9, a-f). */
const HEX_DIGIT = new Uint8Array(128);
for (const c of "0123456789abcdef") HEX_DIGIT[c.charCodeAt(0)] = 1;

export type EventCheck = { ok: true; event: CockpitEvent } | { ok: false; error: string };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isKnownEventType(type: string): boolean {
  return KNOWN_TYPES.has(type);
}

/** Exactly 64 lowercase hex digits (a SHA-256 in hex), as /^[0-9a-f]{64}$/ would say. */
export function isHex64(s: string): boolean {
  if (s.length !== 64) return false;
  for (let i = 0; i < 64; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || HEX_DIGIT[c] !== 1) return false;
  }
  return true;
}

// Last strings that passed; each starts as one that passes (the genesis prev,
// the epoch), so the first comparison can never accept a string unchecked.
let lastHex64 = "0".repeat(64);
let lastTimestamp = "1970-01-01T00:00:00.000Z";

function isHashField(s: string): boolean {
  if (s === lastHex64) return true;
  if (!isHex64(s)) return false;
  lastHex64 = s;
  return true;
}

function isTimestampField(s: string): boolean {
  if (s === lastTimestamp) return true;
  if (Number.isNaN(Date.parse(s))) return false;
  lastTimestamp = s;
  return true;
}

function referenceError(seq: number, field: "rollout" | "ring" | "alert" | "incident" | "command"): string {
  return `event ${seq}: ${field} must be a string`;
}

/**
 * The envelope's first problem as a sentence ("event 12: prev must be 64 hex
 * digits"), or null when it is fine. validateEvent's check without the result
 * object, for the frame decoder's hot path.
 */
export function eventEnvelopeError(v: unknown): string | null {
  if (!isObj(v)) return "event is not a JSON object";
  const seq = v.seq;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) return "event.seq must be a positive integer";
  if (typeof v.id !== "string" || v.id.length === 0) return `event ${seq}: id must be a non-empty string`;
  if (typeof v.time !== "string" || !isTimestampField(v.time)) return `event ${seq}: time must be an ISO-8601 timestamp`;
  if (typeof v.tenant !== "string") return `event ${seq}: tenant must be a string`;
  if (typeof v.type !== "string" || v.type.length === 0) return `event ${seq}: type must be a non-empty string`;
  const actor = v.actor;
  if (!isObj(actor) || typeof actor.kind !== "string" || typeof actor.name !== "string") return `event ${seq}: actor must be {kind, name}`;
  if (!isObj(v.data)) return `event ${seq}: data must be an object`;
  // Spelled out, not looped over: a load by a variable name is the slow kind.
  if (v.rollout !== undefined && typeof v.rollout !== "string") return referenceError(seq, "rollout");
  if (v.ring !== undefined && typeof v.ring !== "string") return referenceError(seq, "ring");
  if (v.alert !== undefined && typeof v.alert !== "string") return referenceError(seq, "alert");
  if (v.incident !== undefined && typeof v.incident !== "string") return referenceError(seq, "incident");
  if (v.command !== undefined && typeof v.command !== "string") return referenceError(seq, "command");
  if (typeof v.prev !== "string" || !isHashField(v.prev)) return `event ${seq}: prev must be 64 hex digits`;
  if (typeof v.hash !== "string" || !isHashField(v.hash)) return `event ${seq}: hash must be 64 hex digits`;
  return null;
}

export function validateEvent(v: unknown): EventCheck {
  const error = eventEnvelopeError(v);
  return error === null ? { ok: true, event: v as CockpitEvent } : { ok: false, error };
}
