import { createHash } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { EVENTS_FILE, eventId, serializeEvent } from "../../src/backend/eventlog.js";
import { canonicalJson, eventHash } from "../../src/protocol/canonical.js";
import { GENESIS_HASH, type CockpitEvent } from "../../src/protocol/types.js";
import { emitResult } from "../lib/child.js";
import { EventStream, scenarioEvents } from "../lib/events.js";

// A long event log with a valid hash chain: the canary-latency run repeated,
// each repetition a rollout of its own (new ids), as a backend that has run
// rollout after rollout for days. Lines are the backend's own serializeEvent;
// the first --prefix-events lines also go to --prefix-dir (a prefix of a valid
// chain is a valid log).
//
// Why not EventLog.append: it normalizes (JSON round trip), validates and
// freezes every draft and hashes with the generic canonicalJson, ~13k events/s
// here, over a minute for 1M. This writer hashes the same canonical JSON built
// from per-event pieces (actor and data canonicalized once per scenario event)
// and checks itself against eventHash on the first cycles and every 997th
// event; the post-mortem's own chain check then verifies every line.

const { values } = parseArgs({
  options: {
    dir: { type: "string" },
    events: { type: "string", default: "1000000" },
    "prefix-dir": { type: "string" },
    "prefix-events": { type: "string", default: "100000" },
  },
});
if (!values.dir) throw new Error("make-log: give --dir DIR");
const total = Number(values.events);
const prefixEvents = values["prefix-dir"] ? Number(values["prefix-events"]) : 0;

/** Canonical JSON of an event whose top-level values are primitives except actor and data, given those two already canonical. */
function canonicalOf(e: Record<string, unknown>, actor: string, data: string): string {
  const keys = Object.keys(e).sort();
  let out = "{";
  for (const k of keys) {
    const v = e[k];
    if (v === undefined || k === "hash") continue;
    if (out.length > 1) out += ",";
    out += JSON.stringify(k) + ":" + (k === "actor" ? actor : k === "data" ? data : JSON.stringify(v));
  }
  return out + "}";
}

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await new Promise<void>((r) => out.once("drain", () => r()));
}

async function end(out: WriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    out.once("error", reject);
    out.end(() => resolve());
  });
}

const t0 = performance.now();
const base = await scenarioEvents();
const stream = new EventStream(base, { distinct: true });
const actors = base.events.map((e) => canonicalJson(e.actor));
const datas = base.events.map((e) => canonicalJson(e.data));
await mkdir(values.dir, { recursive: true });
const out = createWriteStream(join(values.dir, EVENTS_FILE));
let prefix: WriteStream | null = null;
if (values["prefix-dir"]) {
  await mkdir(values["prefix-dir"], { recursive: true });
  prefix = createWriteStream(join(values["prefix-dir"], EVENTS_FILE));
}

let prev = GENESIS_HASH;
let chunk = "";
let prefixChunk = "";
for (let i = 0; i < total; i++) {
  const j = i % base.events.length;
  const draft = stream.draft(i);
  const seq = i + 1;
  const event = { seq, id: eventId(seq), ...draft, prev } as Record<string, unknown>;
  // data differs from the scenario's only where a time inside it was moved (ring.baking, incident.milestone).
  const data = draft.data === base.events[j]!.data ? datas[j]! : canonicalJson(draft.data);
  const hash = createHash("sha256").update(canonicalOf(event, actors[j]!, data), "utf8").digest("hex");
  event.hash = hash;
  if (i < 3 * base.events.length || i % 997 === 0) {
    const expected = eventHash(event as unknown as CockpitEvent);
    if (expected !== hash) throw new Error(`make-log: hash of seq ${seq} is ${hash}, eventHash says ${expected}: the fast canonical form drifted from canonical.ts`);
  }
  prev = hash;
  const line = serializeEvent(event as unknown as CockpitEvent) + "\n";
  chunk += line;
  if (i < prefixEvents) prefixChunk += line;
  if (chunk.length > 1 << 20) {
    await write(out, chunk);
    chunk = "";
  }
  if (prefix && (prefixChunk.length > 1 << 20 || i === prefixEvents - 1)) {
    await write(prefix, prefixChunk);
    prefixChunk = "";
  }
}
await write(out, chunk);
await end(out);
if (prefix) await end(prefix);
emitResult({ events: total, prefixLines: Math.min(prefixEvents, total), cycle: stream.cycleLength, seconds: (performance.now() - t0) / 1000 });
