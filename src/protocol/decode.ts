import { isCleanText, MAX_TEXT_CHARS, sanitizeDeep, sanitizeText } from "./sanitize.js";
import {
  ACTIONS,
  EVENT_TYPES,
  INCIDENT_ROLES,
  MAX_FRAME_BYTES,
  MILESTONES,
  PROTOCOL_VERSION,
  REJECT_CODES,
  ROLES,
  type ClientMsg,
  type EventType,
  type ServerMsg,
} from "./types.js";
import { eventEnvelopeError } from "./validate-event.js";

// The untrusted input boundary: every frame from the network passes here once.
// A frame is parsed, its shape checked against PROTOCOL.md field by field, and
// its strings sanitized, so everything behind this module (store, components,
// engine) may trust types and text. Nothing here throws: a bad frame becomes
// {ok: false} with an error naming the field and what was expected.
//
// Speed: this sits on the decode -> store path, benchmarked against bare
// JSON.parse. A clean frame is parsed once, checked once, and the parsed
// object itself is returned: no clone unless a string actually needs cleaning.
// Whether any does is read off the frame's text in one pass when the text is
// plain (see plainFrame), else found by walking the parsed value. Checks
// allocate only when they fail (error text is built on the way out).

export type ServerDecode = { ok: true; msg: ServerMsg } | { ok: false; error: string };
export type ClientDecode =
  | { ok: true; msg: ClientMsg }
  | { ok: false; code: "bad_request"; error: string; /** the command's id, when it was readable, so the server can reject it */ id?: string };

/** Deeper than any protocol message nests (snapshot.state.rollouts[].rings[].slos[] is 6); bounds the walk and sanitizeDeep's recursion. */
export const MAX_FRAME_DEPTH = 64;
export const COMMAND_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
export const MAX_REASON_CHARS = 4096;

// ---- checks -------------------------------------------------------------------------
// A Check returns null when the value is fine, else the error's tail: a field
// path (".session.role", "[2]") and ": what was expected, what came".

type Check = (v: unknown) => string | null;
type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A string quoted for an error message: at most 40 characters of it, controls made visible. */
function quoted(s: string): string {
  // JSON.stringify escapes C0 controls as visible \u001b; sanitizeText catches the rest (C1, bidi).
  const q = JSON.stringify(s.length > 40 ? s.slice(0, 40) + "…" : s);
  return sanitizeText(q, { maxChars: 64 });
}

/** What came, for an error message: short, and safe to print (the value is untrusted). */
function shown(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  switch (typeof v) {
    case "string":
      return `the string ${quoted(v)}`;
    case "number":
      return `the number ${String(v)}`;
    case "boolean":
      return String(v);
    default:
      return "an object";
  }
}

function problem(expected: string, got: unknown): string {
  return got === undefined ? `: missing, expected ${expected}` : `: expected ${expected}, got ${shown(got)}`;
}

const str: Check = (v) => (typeof v === "string" ? null : problem("a string", v));
const finite: Check = (v) => (typeof v === "number" && Number.isFinite(v) ? null : problem("a finite number", v));
const numOrNull: Check = (v) => (v === null || (typeof v === "number" && Number.isFinite(v)) ? null : problem("a finite number or null", v));
const bool: Check = (v) => (typeof v === "boolean" ? null : problem("true or false", v));
const count: Check = (v) => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? null : problem("a non-negative integer", v));
const timestamp: Check = (v) => (typeof v === "string" && !Number.isNaN(Date.parse(v)) ? null : problem("an ISO-8601 timestamp", v));
const positiveNumber: Check = (v) => (typeof v === "number" && Number.isFinite(v) && v > 0 ? null : problem("a number above 0", v));
const anyObject: Check = (v) => (isObj(v) ? null : problem("an object", v));

function maxLen(max: number): Check {
  const expected = `a string of at most ${max} characters`;
  return (v) => {
    if (typeof v !== "string") return problem(expected, v);
    return v.length <= max ? null : `: expected ${expected}, got ${v.length}`;
  };
}

function oneOf(values: readonly string[]): Check {
  const set: ReadonlySet<string> = new Set(values);
  const expected = `one of ${values.join(", ")}`;
  return (v) => (typeof v === "string" && set.has(v) ? null : problem(expected, v));
}

function optional(check: Check): Check {
  return (v) => (v === undefined ? null : check(v));
}

function nullable(check: Check, expected: string): Check {
  return (v) => (v === null ? null : check(v) === null ? null : problem(expected, v));
}

function arrayOf(check: Check, expected: string): Check {
  return (v) => {
    if (!Array.isArray(v)) return problem(expected, v);
    for (let i = 0; i < v.length; i++) {
      const err = check(v[i]);
      if (err !== null) return `[${i}]${err}`;
    }
    return null;
  };
}

/** An object whose own values all pass (labels, incident roles and milestones). */
function recordOf(check: Check, expected: string): Check {
  return (v) => {
    if (!isObj(v)) return problem(expected, v);
    for (const k of Object.keys(v)) {
      const err = check(v[k]);
      if (err !== null) return `${keyPath(k)}${err}`;
    }
    return null;
  };
}

/** A key from the frame in an error path: ".commander", or ["a b"] quoted and cleaned when it is not a plain name. */
function keyPath(k: string): string {
  return /^[A-Za-z0-9_$-]{1,64}$/.test(k) ? `.${k}` : `[${quoted(k)}]`;
}

/** An object with these fields; other fields pass untouched (the protocol grows by adding fields). */
function shape(fields: Record<string, Check>): Check {
  // Two flat arrays and an index: no iterator or destructuring per field, per frame.
  const keys = Object.keys(fields);
  const checks = keys.map((k) => fields[k]!);
  return (v) => {
    if (!isObj(v)) return problem("an object", v);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const err = checks[i]!(v[k]);
      if (err !== null) return `.${k}${err}`;
    }
    return null;
  };
}

const strings = arrayOf(str, "a list of strings");

// ---- event data, per type (PROTOCOL.md "Events") --------------------------------------

const severity = oneOf(["critical", "warning", "info"]);
const ringTraffic = shape({ ring: str, traffic: finite });
const sloChange = shape({ ring: str, assertion: str, value: numOrNull, threshold: numOrNull, consecutive: finite });
const pauseResume = shape({ reason: str, automatic: bool });
const rollback = shape({ fromVersion: str, toVersion: str, scope: strings, automatic: bool });
const flag = shape({ flag: str });
const alertData = shape({ severity, title: str, source: str, labels: optional(recordOf(str, "an object of strings")) });
const incidentData = shape({ severity: str, title: str });
const textData = shape({ text: str });
const sourceData = shape({ source: str, message: str });
const sliSampleShape = shape({ ring: str, metric: str, value: numOrNull, unit: str, baseline: optional(numOrNull) });

function isNumberOrNull(v: unknown): boolean {
  return v === null || (typeof v === "number" && Number.isFinite(v));
}

/**
 * sli.sample is nearly all of the stream: its fields are tested inline, and
 * only data that fails goes through the generic shape, which finds the field
 * to name. The inline test is the shape's own, field by field, so both say yes
 * to the same data (test/protocol/decode-fast-paths.test.ts holds them to it).
 */
const checkSliSampleData: Check = (v) => {
  if (
    isObj(v) &&
    typeof v.ring === "string" &&
    typeof v.metric === "string" &&
    isNumberOrNull(v.value) &&
    typeof v.unit === "string" &&
    (v.baseline === undefined || isNumberOrNull(v.baseline))
  ) {
    return null;
  }
  return sliSampleShape(v);
};

const commandRun = {
  step: str,
  argv: strings,
  exitCode: nullable(finite, "an exit code or null"),
  outputTail: str,
  durationMs: optional(finite),
  status: optional(finite),
};

const EVENT_DATA: Readonly<Record<EventType, Check>> = {
  "rollout.created": shape({
    service: str,
    version: str,
    previousVersion: str,
    kind: oneOf(["code", "config", "flag"]),
    rings: arrayOf(shape({ name: str, traffic: finite, bakeSeconds: finite, slos: strings }), "a list of rings"),
    killSwitch: optional(flag),
    onBreach: oneOf(["pause", "rollback"]),
  }),
  "ring.started": ringTraffic,
  "ring.baking": shape({ ring: str, traffic: finite, until: timestamp }),
  "ring.completed": ringTraffic,
  "rollout.completed": shape({ version: str }),
  "sli.sample": checkSliSampleData,
  "slo.breached": sloChange,
  "slo.recovered": sloChange,
  "rollout.paused": pauseResume,
  "rollout.resumed": pauseResume,
  "rollout.promoted": shape({ ring: str }),
  "rollout.rollback_started": rollback,
  "rollout.rolled_back": rollback,
  "killswitch.engaged": flag,
  "killswitch.released": flag,
  "alert.firing": alertData,
  "alert.resolved": alertData,
  "alert.acknowledged": alertData,
  "incident.declared": incidentData,
  "incident.resolved": incidentData,
  "incident.role_assigned": shape({ role: oneOf(INCIDENT_ROLES), name: str }),
  "incident.milestone": shape({ milestone: oneOf(MILESTONES), at: timestamp }),
  "incident.status_update": textData,
  "note.added": textData,
  "command.rejected": shape({ action: str, code: oneOf(REJECT_CODES), message: str }),
  "source.degraded": sourceData,
  "source.recovered": sourceData,
  "command.executed": shape(commandRun),
  "command.failed": shape({ ...commandRun, reason: str }),
};
// A Map: one lookup answers both "known?" and "how to check", whatever the type string is.
const EVENT_DATA_CHECKS: ReadonlyMap<string, Check> = new Map(EVENT_TYPES.map((t) => [t, EVENT_DATA[t]]));

/**
 * The `data` of a known event type against PROTOCOL.md; unknown types pass (the protocol grows by adding).
 * Returns null or an error such as "data.rings[0].traffic: missing, expected a finite number".
 * validateEvent checks the envelope only; a log reader can call this for the rest.
 */
export function checkEventData(type: string, data: unknown): string | null {
  const check = type === "sli.sample" ? checkSliSampleData : EVENT_DATA_CHECKS.get(type);
  if (check === undefined) return null;
  const err = check(data);
  return err === null ? null : `data${err}`;
}

/** The whole `event` frame: envelope as validateEvent checks it, then data by type. Errors read "event 12: data.ring: ...". */
const eventFrame: Check = (msg) => {
  const event = (msg as Obj).event;
  const envelopeErr = eventEnvelopeError(event);
  if (envelopeErr !== null) return `: ${envelopeErr}`;
  const e = event as Obj;
  const err = checkEventData(e.type as string, e.data);
  return err === null ? null : `: event ${e.seq as number}: ${err}`;
};

// ---- snapshot state ---------------------------------------------------------------------

const ringState = shape({
  name: str,
  traffic: finite,
  state: oneOf(["pending", "progressing", "baking", "completed", "rolled_back"]),
  bakeUntil: optional(str),
  bakeSeconds: optional(finite),
  slos: optional(strings),
  breaches: optional(strings),
});
const rolloutState = shape({
  id: str,
  service: str,
  version: str,
  previousVersion: str,
  kind: oneOf(["code", "config", "flag"]),
  state: oneOf(["pending", "progressing", "paused", "rolling_back", "rolled_back", "completed"]),
  ring: nullable(str, "a string or null"),
  rings: arrayOf(ringState, "a list of rings"),
  killSwitch: optional(shape({ flag: str, engaged: bool })),
  pausedReason: optional(str),
  pausedAutomatic: optional(bool),
  onBreach: oneOf(["pause", "rollback"]),
  since: optional(str),
});
const alertState = shape({
  id: str,
  severity,
  title: str,
  state: oneOf(["firing", "resolved"]),
  rollout: optional(str),
  ring: optional(str),
  since: str,
  ackedBy: optional(str),
  source: optional(str),
});
const incidentState = shape({
  id: str,
  severity: str,
  title: str,
  status: oneOf(["open", "resolved"]),
  roles: recordOf(str, "an object of names by role"),
  milestones: recordOf(str, "an object of times by milestone"),
});

// ---- frames -----------------------------------------------------------------------------

const protocolOne: Check = (v) => {
  if (v === PROTOCOL_VERSION) return null;
  if (typeof v === "number") return `: this build speaks protocol ${PROTOCOL_VERSION}, the peer speaks ${String(v)}; use matching versions`;
  return problem(String(PROTOCOL_VERSION), v);
};

const SERVER_FRAMES: Readonly<Record<ServerMsg["type"], Check>> = {
  welcome: shape({
    protocol: protocolOne,
    server: str,
    session: shape({ actor: str, role: oneOf(ROLES), tenant: str }),
    headSeq: count,
    clock: optional(shape({ time: timestamp, speed: positiveNumber })),
  }),
  snapshot: shape({
    seq: count,
    state: shape({
      rollouts: arrayOf(rolloutState, "a list of rollouts"),
      alerts: arrayOf(alertState, "a list of alerts"),
      incidents: arrayOf(incidentState, "a list of incidents"),
      degradedSources: optional(arrayOf(shape({ source: str, message: str, since: timestamp }), "a list of failing sources")),
    }),
  }),
  event: eventFrame,
  ack: shape({ id: str, seq: count, duplicate: bool }),
  reject: shape({ id: str, code: oneOf(REJECT_CODES), message: str, duplicate: optional(bool) }),
  error: shape({ code: str, message: str }),
  pong: shape({ t: finite }),
};

const commandId: Check = (v) => (typeof v === "string" && COMMAND_ID_PATTERN.test(v) ? null : problem("1 to 128 characters of A-Z a-z 0-9 _ . : -", v));

const CLIENT_FRAMES: Readonly<Record<ClientMsg["type"], Check>> = {
  hello: shape({
    protocol: protocolOne,
    client: str,
    resumeFrom: nullable(count, "null or a non-negative integer"),
    token: optional(str),
  }),
  // The id is checked on its own first (see decodeClientFrame), so a bad id and a bad rest read differently.
  command: shape({
    action: oneOf(ACTIONS),
    target: shape({ rollout: optional(str), alert: optional(str), incident: optional(str) }),
    reason: optional(maxLen(MAX_REASON_CHARS)),
    args: optional(anyObject),
  }),
  ping: shape({ t: finite }),
};

// ---- parse and walk ---------------------------------------------------------------------

class FrameError extends Error {}

/** The frame's text; refuses frames over MAX_FRAME_BYTES before decoding or parsing them. */
function frameText(raw: unknown): string {
  if (typeof raw === "string") {
    // UTF-16 length <= UTF-8 bytes <= 3 x length: count bytes only when it could matter.
    if (raw.length > MAX_FRAME_BYTES || (raw.length * 3 > MAX_FRAME_BYTES && Buffer.byteLength(raw, "utf8") > MAX_FRAME_BYTES)) throw tooBig();
    return raw;
  }
  let bytes: Buffer;
  if (Buffer.isBuffer(raw)) bytes = raw;
  else if (raw instanceof ArrayBuffer) bytes = Buffer.from(raw);
  else if (ArrayBuffer.isView(raw)) bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  else if (Array.isArray(raw) && raw.every((b) => b instanceof Uint8Array)) {
    // ws hands over a fragmented message as a list of Buffers.
    const total = raw.reduce((n: number, b: Uint8Array) => n + b.byteLength, 0);
    if (total > MAX_FRAME_BYTES) throw tooBig();
    bytes = Buffer.concat(raw);
  } else throw new FrameError(`frame must be text, got ${raw === null ? "null" : typeof raw}`);
  if (bytes.byteLength > MAX_FRAME_BYTES) throw tooBig();
  return bytes.toString("utf8");
}

function tooBig(): FrameError {
  return new FrameError(`frame is over ${MAX_FRAME_BYTES} bytes (1 MiB), the protocol's limit`);
}

function parse(text: string): Obj {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // The parser quotes the input in its message: clean it before it reaches a log or a terminal.
    const why = e instanceof Error ? e.message : String(e);
    throw new FrameError(`frame is not valid JSON: ${sanitizeText(why, { maxChars: 200 })}`);
  }
  if (!isObj(value)) throw new FrameError(`frame must be a JSON object, got ${shown(value)}`);
  return value;
}

/**
 * One pass over the parsed frame, without recursion: bounds the depth, drops own
 * "__proto__" keys (a later copy by assignment would turn one into the copy's
 * prototype, and unchecked fields could be inherited through it), and reports
 * whether any string or key needs sanitizing.
 */
function walk(root: Obj): boolean {
  let dirty = false;
  const stack: unknown[] = [root];
  const depths: number[] = [1];
  while (stack.length > 0) {
    const v = stack.pop();
    const depth = depths.pop()!;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof x === "string") {
          if (!dirty && !isCleanText(x)) dirty = true;
        } else if (typeof x === "object" && x !== null) {
          if (depth >= MAX_FRAME_DEPTH) throw tooDeep();
          stack.push(x);
          depths.push(depth + 1);
        }
      }
    } else {
      const o = v as Obj;
      for (const k of Object.keys(o)) {
        if (k === "__proto__") {
          delete o[k];
          continue;
        }
        if (!dirty && !isCleanText(k)) dirty = true;
        const x = o[k];
        if (typeof x === "string") {
          if (!dirty && !isCleanText(x)) dirty = true;
        } else if (typeof x === "object" && x !== null) {
          if (depth >= MAX_FRAME_DEPTH) throw tooDeep();
          stack.push(x);
          depths.push(depth + 1);
        }
      }
    }
  }
  return dirty;
}

/**
 * True when walk(JSON.parse(text)) is sure to find nothing, read off the text
 * alone; call it only on text JSON.parse accepted. Nearly every frame passes,
 * and this costs a few native scans instead of a walk and a test per key and
 * per string. Why each condition is enough:
 * - every character is ASCII (as many UTF-8 bytes as characters), and there is
 *   no backslash (no escape) and no DEL: JSON.parse refuses raw controls inside
 *   strings, so each key and string in the value is a run of printable ASCII
 *   copied from the text, no longer than the text: isCleanText holds for it;
 * - no "__proto__" key: without escapes, one would be spelled out in the text;
 * - no nesting past MAX_FRAME_DEPTH: each level opens with a { or [ in the text.
 */
function plainFrame(text: string): boolean {
  if (text.length > MAX_TEXT_CHARS || Buffer.byteLength(text, "utf8") !== text.length) return false;
  if (text.indexOf("\\") !== -1 || text.indexOf("\x7f") !== -1 || text.includes("__proto__")) return false;
  let opens = 0;
  for (let i = text.indexOf("{"); i !== -1; i = text.indexOf("{", i + 1)) opens++;
  for (let i = text.indexOf("["); i !== -1; i = text.indexOf("[", i + 1)) opens++;
  return opens <= MAX_FRAME_DEPTH;
}

function tooDeep(): FrameError {
  return new FrameError(`frame nests deeper than ${MAX_FRAME_DEPTH} levels`);
}

/** "welcome frame: session.role: expected ..." from the frame type and a Check's error tail. */
function frameError(type: string, tail: string): string {
  return tail.startsWith(".") ? `${type} frame: ${tail.slice(1)}` : `${type} frame${tail}`;
}

/** The frame's `type`, when it is one this side reads. */
function typeOf(msg: Obj, frames: Readonly<Record<string, Check>>): string {
  const t = msg.type;
  if (typeof t === "string" && Object.hasOwn(frames, t)) return t;
  const kinds = `one of ${Object.keys(frames).join(", ")}`;
  if (typeof t !== "string") throw new FrameError(`frame type${problem(kinds, t)}`);
  throw new FrameError(`unknown frame type ${quoted(t)}: expected ${kinds}`);
}

function clean<T>(msg: Obj, dirty: boolean): T {
  return (dirty ? sanitizeDeep(msg) : msg) as T;
}

function message(e: unknown): string {
  if (e instanceof FrameError) return e.message;
  // Not expected (everything above checks before it touches), but this boundary never throws.
  return `frame could not be decoded: ${e instanceof RangeError ? "too deeply nested" : sanitizeText(String(e), { maxChars: 200 })}`;
}

// ---- the two entry points ---------------------------------------------------------------

/** A frame from the backend, for the cockpit. Unknown frame types are errors (log and carry on); unknown event types pass. */
export function decodeServerFrame(raw: string | Buffer): ServerDecode {
  try {
    const text = frameText(raw);
    const msg = parse(text);
    const dirty = plainFrame(text) ? false : walk(msg);
    const type = msg.type === "event" ? "event" : typeOf(msg, SERVER_FRAMES); // nearly every frame is an event
    const err = SERVER_FRAMES[type as ServerMsg["type"]](msg);
    if (err !== null) return { ok: false, error: frameError(type, err) };
    return { ok: true, msg: clean<ServerMsg>(msg, dirty) };
  } catch (e) {
    return { ok: false, error: message(e) };
  }
}

/** A frame from a cockpit, for the backend. Any failure is a bad_request; a command's id comes back when it was readable. */
export function decodeClientFrame(raw: string | Buffer): ClientDecode {
  try {
    const text = frameText(raw);
    const msg = parse(text);
    const dirty = plainFrame(text) ? false : walk(msg);
    const type = typeOf(msg, CLIENT_FRAMES);
    if (type === "command") {
      const idErr = commandId(msg.id);
      if (idErr !== null) return { ok: false, code: "bad_request", error: frameError(type, `.id${idErr}`) };
      const err = CLIENT_FRAMES.command(msg);
      if (err !== null) return { ok: false, code: "bad_request", error: frameError(type, err), id: msg.id as string };
    } else {
      const err = CLIENT_FRAMES[type as ClientMsg["type"]](msg);
      if (err !== null) return { ok: false, code: "bad_request", error: frameError(type, err) };
    }
    return { ok: true, msg: clean<ClientMsg>(msg, dirty) };
  } catch (e) {
    return { ok: false, code: "bad_request", error: message(e) };
  }
}

/**
 * For tests only: each fast path of this module with the generic code it
 * stands in for, so a test can hold the two to the same answers.
 */
export const FAST_PATHS_FOR_TESTS = {
  /** true promises that walk(JSON.parse(text)) finds nothing: returns false, throws not, deletes nothing */
  plainFrame,
  walk,
  sliSampleData: { fast: checkSliSampleData, generic: sliSampleShape },
} as const;
