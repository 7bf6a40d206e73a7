import fc from "fast-check";
import { ACTIONS, EVENT_TYPES, INCIDENT_ROLES, MILESTONES, REJECT_CODES, ROLES } from "../../src/protocol/types.js";
import { PAYLOADS } from "./payloads.js";

// fast-check arbitraries: valid protocol objects (to prove the decoders accept
// what they must, unchanged), hostile text, and mutations of valid objects (to
// prove the decoders refuse what they must without throwing).

type Obj = Record<string, unknown>;

// ---- text ------------------------------------------------------------------------------------

/** Printable ASCII: text the sanitizer leaves as it is. */
export const cleanText = fc.string({ maxLength: 40 });
export const nonEmptyClean = fc.string({ minLength: 1, maxLength: 40 });

const HOSTILE_UNITS = [
  "\x1b", "\x07", "\r", "\n", "\r\n", "\t", "\b", "\x00", "\x7f", "\u0085", "\u009b", "\u009d", "\u009c",
  "\u202e", "\u2066", "\u2069", "\u200b", "\ufeff", "\ud800", "\udc00", "\u0301", "漢", "👨‍👩‍👧", "|", "\\", "<", "`", "\"",
];

/** Any UTF-16 text, weighted toward the characters that make trouble: controls, bidi, lone surrogates, wide and combining characters. */
export const hostileText = fc.string({
  unit: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_UNITS) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
    { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.constantFrom(...PAYLOADS.filter((p) => p.text.length < 200).map((p) => p.text)) },
  ),
  maxLength: 60,
});

/** Clean or hostile: what any string field of a frame may hold. */
export const anyText = fc.oneof(cleanText, hostileText);

const hexDigit = fc.constantFrom(..."0123456789abcdef".split(""));
export const hex64 = fc.string({ unit: hexDigit, minLength: 64, maxLength: 64 });
export const isoTime = fc
  .integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) })
  .map((ms) => new Date(ms).toISOString());
export const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
export const seq = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const count = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });

/** Keys of records (labels, roles): never "__proto__", which decode drops on purpose. */
function recordOf<T>(value: fc.Arbitrary<T>, key: fc.Arbitrary<string>): fc.Arbitrary<Record<string, T>> {
  return fc.dictionary(key.filter((k) => k !== "__proto__"), value, { maxKeys: 4, noNullPrototype: true });
}

// ---- events ----------------------------------------------------------------------------------

const severity = fc.constantFrom("critical", "warning", "info");

function ringPlan(t: fc.Arbitrary<string>) {
  return fc.record({ name: t, traffic: finite, bakeSeconds: finite, slos: fc.array(t, { maxLength: 3 }) });
}

/** A valid `data` for each event type of PROTOCOL.md (and the types issue 5 adds), its text from `t`. */
export function eventData(t: fc.Arbitrary<string>): Record<string, fc.Arbitrary<Obj>> {
  const ringTraffic = fc.record({ ring: t, traffic: finite });
  const slo = fc.record({ ring: t, assertion: t, value: fc.option(finite, { nil: null }), threshold: fc.option(finite, { nil: null }), consecutive: finite });
  const pause = fc.record({ reason: t, automatic: fc.boolean() });
  const rollback = fc.record({ fromVersion: t, toVersion: t, scope: fc.array(t, { maxLength: 3 }), automatic: fc.boolean() });
  const flag = fc.record({ flag: t });
  const alert = fc.record({ severity, title: t, source: t, labels: recordOf(t, t) }, { requiredKeys: ["severity", "title", "source"] });
  const incident = fc.record({ severity: t, title: t });
  const text = fc.record({ text: t });
  return {
    "rollout.created": fc.record(
      {
        service: t,
        version: t,
        previousVersion: t,
        kind: fc.constantFrom("code", "config", "flag"),
        rings: fc.array(ringPlan(t), { maxLength: 3 }),
        killSwitch: flag,
        onBreach: fc.constantFrom("pause", "rollback"),
      },
      { requiredKeys: ["service", "version", "previousVersion", "kind", "rings", "onBreach"] },
    ),
    "ring.started": ringTraffic,
    "ring.baking": fc.record({ ring: t, traffic: finite, until: isoTime }),
    "ring.completed": ringTraffic,
    "rollout.completed": fc.record({ version: t }),
    "sli.sample": fc.record(
      { ring: t, metric: t, value: fc.option(finite, { nil: null }), unit: t, baseline: fc.option(finite, { nil: null }) },
      { requiredKeys: ["ring", "metric", "value", "unit"] },
    ),
    "slo.breached": slo,
    "slo.recovered": slo,
    "rollout.paused": pause,
    "rollout.resumed": pause,
    "rollout.promoted": fc.record({ ring: t }),
    "rollout.rollback_started": rollback,
    "rollout.rolled_back": rollback,
    "killswitch.engaged": flag,
    "killswitch.released": flag,
    "alert.firing": alert,
    "alert.resolved": alert,
    "alert.acknowledged": alert,
    "incident.declared": incident,
    "incident.resolved": incident,
    "incident.role_assigned": fc.record({ role: fc.constantFrom(...INCIDENT_ROLES), name: t }),
    "incident.milestone": fc.record({ milestone: fc.constantFrom(...MILESTONES), at: isoTime }),
    "incident.status_update": text,
    "note.added": text,
    "command.rejected": fc.record({ action: t, code: fc.constantFrom(...REJECT_CODES), message: t }),
    "source.degraded": fc.record({ source: t, message: t }),
    "source.recovered": fc.record({ source: t, message: t }),
    "command.executed": commandRun(t),
    "command.failed": fc.tuple(commandRun(t), t).map(([run, reason]) => ({ ...run, reason })),
  };
}

function commandRun(t: fc.Arbitrary<string>) {
  return fc.record(
    { step: t, argv: fc.array(t, { maxLength: 3 }), exitCode: fc.option(fc.integer(), { nil: null }), outputTail: t, durationMs: finite, status: fc.integer({ min: 100, max: 599 }) },
    { requiredKeys: ["step", "argv", "exitCode", "outputTail"] },
  );
}

/** A valid event of any known type (or, sometimes, of a type this build does not know), text from `t`. */
export function event(t: fc.Arbitrary<string> = cleanText): fc.Arbitrary<Obj> {
  const byType = eventData(t);
  // Only the types this build knows are "valid": another's data would be checked as an unknown type's.
  const known = Object.entries(byType).filter(([type]) => (EVENT_TYPES as readonly string[]).includes(type));
  const typed = fc.oneof(
    ...known.map(([type, data]) => data.map((d) => ({ type, data: d }))),
    // The protocol grows by adding types: an unknown type with any object as data passes.
    fc.record({ type: t.map((s) => `x.future.${s}`), data: fc.dictionary(t.filter((k) => k !== "__proto__"), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3, noNullPrototype: true }) }),
  );
  return fc
    .record(
      {
        seq,
        id: t.map((s) => `evt_${s}`),
        time: isoTime,
        tenant: t,
        actor: fc.record({ kind: fc.constantFrom("engine", "human", "integration"), name: t, role: t }, { requiredKeys: ["kind", "name"] }),
        prev: hex64,
        hash: hex64,
        rollout: t,
        ring: t,
        alert: t,
        incident: t,
        command: t,
        typed,
      },
      { requiredKeys: ["seq", "id", "time", "tenant", "actor", "prev", "hash", "typed"] },
    )
    .map(({ typed: tp, ...rest }) => ({ ...rest, type: tp.type, data: tp.data }));
}

// ---- server frames ---------------------------------------------------------------------------

const ringState = (t: fc.Arbitrary<string>) =>
  fc.record(
    {
      name: t,
      traffic: finite,
      state: fc.constantFrom("pending", "progressing", "baking", "completed", "rolled_back"),
      bakeUntil: t,
      bakeSeconds: finite,
      slos: fc.array(t, { maxLength: 2 }),
      breaches: fc.array(t, { maxLength: 2 }),
    },
    { requiredKeys: ["name", "traffic", "state"] },
  );

const rolloutState = (t: fc.Arbitrary<string>) =>
  fc.record(
    {
      id: t,
      service: t,
      version: t,
      previousVersion: t,
      kind: fc.constantFrom("code", "config", "flag"),
      state: fc.constantFrom("pending", "progressing", "paused", "rolling_back", "rolled_back", "completed"),
      ring: fc.option(t, { nil: null }),
      rings: fc.array(ringState(t), { maxLength: 3 }),
      killSwitch: fc.record({ flag: t, engaged: fc.boolean() }),
      pausedReason: t,
      pausedAutomatic: fc.boolean(),
      onBreach: fc.constantFrom("pause", "rollback"),
      since: t,
    },
    { requiredKeys: ["id", "service", "version", "previousVersion", "kind", "state", "ring", "rings", "onBreach"] },
  );

const alertState = (t: fc.Arbitrary<string>) =>
  fc.record(
    { id: t, severity, title: t, state: fc.constantFrom("firing", "resolved"), rollout: t, ring: t, since: t, ackedBy: t, source: t },
    { requiredKeys: ["id", "severity", "title", "state", "since"] },
  );

const incidentState = (t: fc.Arbitrary<string>) =>
  fc.record({
    id: t,
    severity: t,
    title: t,
    status: fc.constantFrom("open", "resolved"),
    roles: recordOf(t, fc.constantFrom(...INCIDENT_ROLES)),
    milestones: recordOf(isoTime, fc.constantFrom(...MILESTONES)),
  });

/** Every server frame type of PROTOCOL.md, valid, text from `t`. */
export function serverFrame(t: fc.Arbitrary<string> = cleanText): fc.Arbitrary<Obj> {
  return fc.oneof(
    fc
      .record(
        {
          protocol: fc.constant(1),
          server: t,
          session: fc.record({ actor: t, role: fc.constantFrom(...ROLES), tenant: t }),
          headSeq: count,
          clock: fc.record({ time: isoTime, speed: fc.double({ min: 1e-6, max: 1e6, noNaN: true }) }),
        },
        { requiredKeys: ["protocol", "server", "session", "headSeq"] },
      )
      .map((f) => ({ type: "welcome", ...f })),
    fc
      .record({
        seq: count,
        state: fc.record({
          rollouts: fc.array(rolloutState(t), { maxLength: 2 }),
          alerts: fc.array(alertState(t), { maxLength: 2 }),
          incidents: fc.array(incidentState(t), { maxLength: 2 }),
        }),
      })
      .map((f) => ({ type: "snapshot", ...f })),
    event(t).map((e) => ({ type: "event", event: e })),
    fc.record({ id: t, seq: count, duplicate: fc.boolean() }).map((f) => ({ type: "ack", ...f })),
    fc
      .record({ id: t, code: fc.constantFrom(...REJECT_CODES), message: t, duplicate: fc.boolean() }, { requiredKeys: ["id", "code", "message"] })
      .map((f) => ({ type: "reject", ...f })),
    fc.record({ code: t, message: t }).map((f) => ({ type: "error", ...f })),
    fc.record({ t: finite }).map((f) => ({ type: "pong", ...f })),
  );
}

// ---- client frames ---------------------------------------------------------------------------

export const commandId = fc.string({ unit: fc.constantFrom(..."abcXYZ019_.:-".split("")), minLength: 1, maxLength: 128 });

export function clientFrame(t: fc.Arbitrary<string> = cleanText): fc.Arbitrary<Obj> {
  return fc.oneof(
    fc
      .record({ protocol: fc.constant(1), client: t, resumeFrom: fc.option(count, { nil: null }), token: t }, { requiredKeys: ["protocol", "client", "resumeFrom"] })
      .map((f) => ({ type: "hello", ...f })),
    fc
      .record(
        {
          id: commandId,
          action: fc.constantFrom(...ACTIONS),
          target: fc.record({ rollout: t, alert: t, incident: t }, { requiredKeys: [] }),
          reason: t,
          args: fc.dictionary(t.filter((k) => k !== "__proto__"), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3, noNullPrototype: true }),
        },
        { requiredKeys: ["id", "action", "target"] },
      )
      .map((f) => ({ type: "command", ...f })),
    fc.record({ t: finite }).map((f) => ({ type: "ping", ...f })),
  );
}

// ---- mutations -------------------------------------------------------------------------------

type Path = (string | number)[];

function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  if (at.length > 0) out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === "object") for (const k of Object.keys(v)) paths((v as Obj)[k], [...at, k], out);
  return out;
}

export type Mutation = { kind: "delete" } | { kind: "replace"; value: unknown } | { kind: "proto"; value: unknown } | { kind: "wrap" };

const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  hostileText,
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, -1, 0.5, -0, "", "1", true, [], {}, null),
);

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: "delete" }),
  oddValue.map((value): Mutation => ({ kind: "replace", value })),
  oddValue.map((value): Mutation => ({ kind: "proto", value })),
  fc.constant<Mutation>({ kind: "wrap" }),
);

/**
 * A deep copy of `value` with one thing changed at a position picked by `pick`:
 * a field deleted or replaced by an odd value, a "__proto__" key added, or a value wrapped in a list.
 */
export function mutate(value: Obj, pick: number, m: Mutation): Obj {
  const copy = JSON.parse(JSON.stringify(value)) as Obj;
  const all = paths(copy);
  if (all.length === 0) return copy;
  const path = all[pick % all.length]!;
  const parent = path.slice(0, -1).reduce<unknown>((o, k) => (o as Obj)[k as string], copy) as Obj | unknown[];
  const key = path[path.length - 1]!;
  switch (m.kind) {
    case "delete":
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Obj)[key as string];
      break;
    case "replace":
      (parent as Obj)[key as string] = m.value;
      break;
    case "proto": {
      // As JSON.parse makes it: an own data property named "__proto__", not a prototype.
      const target = Array.isArray(parent) ? copy : parent;
      Object.defineProperty(target, "__proto__", { value: { [String(key)]: m.value, role: "commander", type: "ack" }, enumerable: true, writable: true, configurable: true });
      break;
    }
    case "wrap":
      (parent as Obj)[key as string] = [(parent as Obj)[key as string]];
      break;
  }
  return copy;
}
