import { EVENT_TYPES, type CockpitEvent } from "./types.js";

// Structural check of one event (a log line or a wire frame's `event`). Unknown
// event types pass: the protocol grows by adding types and old readers must
// keep going. It does not sanitize: hashes are computed over the raw text.

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
const HEX64 = /^[0-9a-f]{64}$/;

export type EventCheck = { ok: true; event: CockpitEvent } | { ok: false; error: string };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isKnownEventType(type: string): boolean {
  return KNOWN_TYPES.has(type);
}

export function validateEvent(v: unknown): EventCheck {
  if (!isObj(v)) return { ok: false, error: "event is not a JSON object" };
  if (typeof v.seq !== "number" || !Number.isSafeInteger(v.seq) || v.seq < 1) return { ok: false, error: "event.seq must be a positive integer" };
  if (typeof v.id !== "string" || v.id.length === 0) return { ok: false, error: `event ${v.seq}: id must be a non-empty string` };
  if (typeof v.time !== "string" || Number.isNaN(Date.parse(v.time))) return { ok: false, error: `event ${v.seq}: time must be an ISO-8601 timestamp` };
  if (typeof v.tenant !== "string") return { ok: false, error: `event ${v.seq}: tenant must be a string` };
  if (typeof v.type !== "string" || v.type.length === 0) return { ok: false, error: `event ${v.seq}: type must be a non-empty string` };
  if (!isObj(v.actor) || typeof v.actor.kind !== "string" || typeof v.actor.name !== "string")
    return { ok: false, error: `event ${v.seq}: actor must be {kind, name}` };
  if (!isObj(v.data)) return { ok: false, error: `event ${v.seq}: data must be an object` };
  for (const ref of ["rollout", "ring", "alert", "incident", "command"] as const) {
    if (v[ref] !== undefined && typeof v[ref] !== "string") return { ok: false, error: `event ${v.seq}: ${ref} must be a string` };
  }
  if (typeof v.prev !== "string" || !HEX64.test(v.prev)) return { ok: false, error: `event ${v.seq}: prev must be 64 hex digits` };
  if (typeof v.hash !== "string" || !HEX64.test(v.hash)) return { ok: false, error: `event ${v.seq}: hash must be 64 hex digits` };
  return { ok: true, event: v as unknown as CockpitEvent };
}
