import { createHash } from "node:crypto";
import type { CockpitEvent } from "./types.js";

// Canonical JSON as PROTOCOL.md defines it: keys sorted by UTF-16 code units at
// every level, no whitespace, strings and numbers as JSON.stringify writes them.
// Anyone holding the log recomputes the chain with this, so it must not drift.
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    const s = JSON.stringify(value);
    // undefined and functions have no JSON form; callers drop such keys first.
    return s === undefined ? "null" : s;
  }
  if (Array.isArray(value)) return "[" + value.map((v) => canonicalJson(v)).join(",") + "]";
  const obj = value as Record<string, unknown>;
  // Array.prototype.sort with no comparator compares UTF-16 code units.
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return "{" + keys.map((k) => JSON.stringify(k) + ":" + canonicalJson(obj[k])).join(",") + "}";
}

/** sha256 hex of the event's canonical JSON without its `hash` field. */
export function eventHash(event: Omit<CockpitEvent, "hash"> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = event;
  return createHash("sha256").update(canonicalJson(rest), "utf8").digest("hex");
}
