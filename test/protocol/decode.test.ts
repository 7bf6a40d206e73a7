import { describe, expect, it } from "vitest";
import { checkEventData, decodeClientFrame, decodeServerFrame, MAX_FRAME_DEPTH } from "../../src/protocol/decode.js";
import { EVENT_TYPES, MAX_FRAME_BYTES, type AlertState, type EventMsg, type SnapshotMsg } from "../../src/protocol/types.js";
import { makeEvent, VALID_DATA } from "./event-fixtures.js";

const frame = (o: unknown): string => JSON.stringify(o);

function serverError(raw: string | Buffer): string {
  const r = decodeServerFrame(raw);
  if (r.ok) throw new Error(`expected a decode failure, got ${JSON.stringify(r.msg)}`);
  return r.error;
}

function clientError(raw: string | Buffer): { error: string; id?: string } {
  const r = decodeClientFrame(raw);
  if (r.ok) throw new Error(`expected a decode failure, got ${JSON.stringify(r.msg)}`);
  expect(r.code).toBe("bad_request");
  return r.id === undefined ? { error: r.error } : { error: r.error, id: r.id };
}

const WELCOME = { type: "welcome", protocol: 1, server: "rollout-backend/0.1.0", session: { actor: "alice", role: "operator", tenant: "payments" }, headSeq: 42 };

const ROLLOUT = {
  id: "api-v408",
  service: "api",
  version: "v408",
  previousVersion: "v407",
  kind: "code",
  state: "progressing",
  ring: "canary",
  rings: [
    { name: "canary", traffic: 1, state: "baking", bakeUntil: "2026-11-21T14:10:00.000Z", bakeSeconds: 300, slos: ["p99_latency_ms < 50"], breaches: [] },
    { name: "global", traffic: 100, state: "pending" },
  ],
  killSwitch: { flag: "new-checkout", engaged: false },
  onBreach: "pause",
};
const ALERT: AlertState = { id: "al-1", severity: "critical", title: "Canary p99 latency over SLO", state: "firing", rollout: "api-v408", ring: "canary", since: "2026-11-21T14:05:40.123Z" };
const INCIDENT = { id: "inc-1", severity: "SEV2", title: "Checkout latency", status: "open", roles: { commander: "alice" }, milestones: { detected: "2026-11-21T14:06:00.000Z" } };
const SNAPSHOT = { type: "snapshot", seq: 42, state: { rollouts: [ROLLOUT], alerts: [ALERT], incidents: [INCIDENT] } };

const OTHER_VALID = {
  ack: { type: "ack", id: "c-1", seq: 43, duplicate: false },
  reject: { type: "reject", id: "c-2", code: "forbidden", message: "viewers cannot pause" },
  error: { type: "error", code: "bad_request", message: "frame could not be understood" },
  pong: { type: "pong", t: 1763733940123 },
};

describe("decodeServerFrame: valid frames", () => {
  it("accepts welcome and returns it unchanged", () => {
    expect(decodeServerFrame(frame(WELCOME))).toEqual({ ok: true, msg: WELCOME });
  });

  it("accepts a snapshot with rollouts, alerts and incidents", () => {
    expect(decodeServerFrame(frame(SNAPSHOT))).toEqual({ ok: true, msg: SNAPSHOT });
  });

  it("accepts a snapshot naming failing sources (an addition to v1), and refuses a malformed list", () => {
    const failing = { ...SNAPSHOT, state: { ...SNAPSHOT.state, degradedSources: [{ source: "prometheus", message: "HTTP 503", since: "2026-11-21T14:00:05.000Z" }] } };
    expect(decodeServerFrame(frame(failing))).toEqual({ ok: true, msg: failing });
    const bad = { ...SNAPSHOT, state: { ...SNAPSHOT.state, degradedSources: [{ source: "prometheus", message: 503, since: "2026-11-21T14:00:05.000Z" }] } };
    expect(serverError(frame(bad))).toBe("snapshot frame: state.degradedSources[0].message: expected a string, got the number 503");
    const hostile = { ...SNAPSHOT, state: { ...SNAPSHOT.state, degradedSources: [{ source: "prom\u001b]0;pwned\u0007", message: "x", since: "2026-11-21T14:00:05.000Z" }] } };
    const d = decodeServerFrame(JSON.stringify(hostile));
    expect(d.ok).toBe(true);
    if (d.ok && d.msg.type === "snapshot") expect(d.msg.state.degradedSources?.[0]?.source).not.toContain("\u001b");
  });

  it("accepts an empty snapshot at seq 0", () => {
    const empty = { type: "snapshot", seq: 0, state: { rollouts: [], alerts: [], incidents: [] } };
    expect(decodeServerFrame(frame(empty))).toEqual({ ok: true, msg: empty });
  });

  it.each(Object.entries(OTHER_VALID))("accepts %s", (_type, msg) => {
    expect(decodeServerFrame(frame(msg))).toEqual({ ok: true, msg });
  });

  it.each(EVENT_TYPES.map((t) => [t]))("accepts an event of type %s", (type) => {
    const msg = { type: "event", event: makeEvent(type, VALID_DATA[type]) };
    expect(decodeServerFrame(frame(msg))).toEqual({ ok: true, msg });
  });

  it("accepts an event type it does not know, with any data (the protocol grows by adding types)", () => {
    const msg = { type: "event", event: makeEvent("canary.analysis" as never, { score: "n/a" } as never) };
    expect(decodeServerFrame(frame(msg))).toEqual({ ok: true, msg });
  });

  it("keeps fields it does not know (the protocol grows by adding fields)", () => {
    const msg = { ...OTHER_VALID.ack, latencyMs: 3 };
    const r = decodeServerFrame(frame(msg));
    expect(r.ok && (r.msg as unknown as Record<string, unknown>).latencyMs).toBe(3);
  });

  it("reads a Buffer as UTF-8", () => {
    const msg = { type: "error", code: "x", message: "日本語 ✓" };
    expect(decodeServerFrame(Buffer.from(frame(msg), "utf8"))).toEqual({ ok: true, msg });
  });

  it("accepts threshold null in slo.breached (a baseline assertion with no baseline yet)", () => {
    const msg = { type: "event", event: makeEvent("slo.breached", { ...VALID_DATA["slo.breached"], value: null, threshold: null as unknown as number }) };
    expect(decodeServerFrame(frame(msg)).ok).toBe(true);
  });
});

describe("decodeServerFrame: frames that are not protocol messages", () => {
  it("rejects text that is not JSON, with the parser's reason", () => {
    expect(serverError('{"type": "pong", "t": ')).toMatch(/^frame is not valid JSON: /);
  });

  it.each([
    ["an array", "[1,2]"],
    ["a number", "42"],
    ["a string", '"welcome"'],
    ["null", "null"],
  ])("rejects %s at the top level", (what, raw) => {
    expect(serverError(raw)).toBe(`frame must be a JSON object, got ${what === "a number" ? "the number 42" : what === "a string" ? 'the string "welcome"' : what}`);
  });

  it("rejects a frame without a type", () => {
    expect(serverError(frame({ t: 1 }))).toBe("frame type: missing, expected one of welcome, snapshot, event, ack, reject, error, pong");
  });

  it("rejects a frame type it does not know, naming it", () => {
    expect(serverError(frame({ type: "hello", protocol: 1 }))).toBe('unknown frame type "hello": expected one of welcome, snapshot, event, ack, reject, error, pong');
  });

  it("rejects a frame over 1 MiB, as a string and as a Buffer", () => {
    const big = frame({ type: "error", code: "x", message: "a".repeat(MAX_FRAME_BYTES) });
    expect(serverError(big)).toMatch(/over 1048576 bytes/);
    expect(serverError(Buffer.from(big))).toMatch(/over 1048576 bytes/);
  });

  it("counts UTF-8 bytes, not characters, against the limit", () => {
    // 400k three-byte characters: 400k UTF-16 units, 1.2 MB on the wire.
    const big = frame({ type: "error", code: "x", message: "語".repeat(400_000) });
    expect(big.length).toBeLessThan(MAX_FRAME_BYTES);
    expect(serverError(big)).toMatch(/over 1048576 bytes/);
  });

  it("accepts a frame just under the limit", () => {
    const head = frame({ type: "error", code: "x", message: "" });
    const msg = { type: "error", code: "x", message: "a".repeat(MAX_FRAME_BYTES - head.length) };
    expect(frame(msg).length).toBe(MAX_FRAME_BYTES);
    expect(decodeServerFrame(frame(msg)).ok).toBe(true);
  });

  it("rejects nesting deeper than the limit instead of recursing into it", () => {
    const deep = { type: "error", code: "x", message: "m", extra: JSON.parse("[".repeat(MAX_FRAME_DEPTH + 5) + "]".repeat(MAX_FRAME_DEPTH + 5)) };
    expect(serverError(frame(deep))).toBe(`frame nests deeper than ${MAX_FRAME_DEPTH} levels`);
    expect(serverError("[".repeat(200_000) + "]".repeat(200_000))).toMatch(/^frame/);
  });

  it("never throws, whatever it is given", () => {
    const junk: unknown[] = [undefined, null, 0, NaN, {}, [], true, Symbol("s"), () => 1, new Uint8Array([0xff, 0xfe, 0x7b]), new ArrayBuffer(3), [Buffer.from("{")]];
    for (const raw of junk) {
      const r = decodeServerFrame(raw as string);
      expect(r.ok).toBe(false);
    }
  });

  it("never throws on any prefix of a valid frame, and accepts only the whole", () => {
    const whole = frame(SNAPSHOT);
    for (let n = 0; n < whole.length; n++) expect(decodeServerFrame(whole.slice(0, n)).ok).toBe(false);
    expect(decodeServerFrame(whole).ok).toBe(true);
  });
});

describe("decodeServerFrame: malformed fields name the field and what was expected", () => {
  const cases: [string, unknown, string][] = [
    ["welcome without server", { ...WELCOME, server: undefined }, "welcome frame: server: missing, expected a string"],
    ["welcome with an unknown role", { ...WELCOME, session: { ...WELCOME.session, role: "admin" } }, 'welcome frame: session.role: expected one of viewer, operator, commander, got the string "admin"'],
    ["welcome with session null", { ...WELCOME, session: null }, "welcome frame: session: expected an object, got null"],
    ["welcome with a negative headSeq", { ...WELCOME, headSeq: -1 }, "welcome frame: headSeq: expected a non-negative integer, got the number -1"],
    ["welcome for another protocol", { ...WELCOME, protocol: 2 }, "welcome frame: protocol: this build speaks protocol 1, the peer speaks 2; use matching versions"],
    ["welcome with protocol as a string", { ...WELCOME, protocol: "1" }, 'welcome frame: protocol: expected 1, got the string "1"'],
    ["snapshot with a fractional seq", { ...SNAPSHOT, seq: 1.5 }, "snapshot frame: seq: expected a non-negative integer, got the number 1.5"],
    ["snapshot without state", { type: "snapshot", seq: 1 }, "snapshot frame: state: missing, expected an object"],
    ["snapshot with rollouts as an object", { ...SNAPSHOT, state: { ...SNAPSHOT.state, rollouts: {} } }, "snapshot frame: state.rollouts: expected a list of rollouts, got an object"],
    [
      "snapshot with a bad ring state",
      { ...SNAPSHOT, state: { ...SNAPSHOT.state, rollouts: [{ ...ROLLOUT, rings: [ROLLOUT.rings[0], { name: "global", traffic: 100, state: "exploded" }] }] } },
      'snapshot frame: state.rollouts[0].rings[1].state: expected one of pending, progressing, baking, completed, rolled_back, got the string "exploded"',
    ],
    ["snapshot rollout without id", { ...SNAPSHOT, state: { ...SNAPSHOT.state, rollouts: [{ ...ROLLOUT, id: undefined }] } }, "snapshot frame: state.rollouts[0].id: missing, expected a string"],
    ["snapshot rollout with ring 3", { ...SNAPSHOT, state: { ...SNAPSHOT.state, rollouts: [{ ...ROLLOUT, ring: 3 }] } }, "snapshot frame: state.rollouts[0].ring: expected a string or null, got the number 3"],
    [
      "snapshot rollout with killSwitch.engaged as a string",
      { ...SNAPSHOT, state: { ...SNAPSHOT.state, rollouts: [{ ...ROLLOUT, killSwitch: { flag: "f", engaged: "yes" } }] } },
      'snapshot frame: state.rollouts[0].killSwitch.engaged: expected true or false, got the string "yes"',
    ],
    ["snapshot alert without since", { ...SNAPSHOT, state: { ...SNAPSHOT.state, alerts: [{ ...ALERT, since: undefined }] } }, "snapshot frame: state.alerts[0].since: missing, expected a string"],
    ["snapshot alert that is a string", { ...SNAPSHOT, state: { ...SNAPSHOT.state, alerts: ["al-1"] } }, 'snapshot frame: state.alerts[0]: expected an object, got the string "al-1"'],
    [
      "snapshot incident with a role that is not a name",
      { ...SNAPSHOT, state: { ...SNAPSHOT.state, incidents: [{ ...INCIDENT, roles: { commander: 7 } }] } },
      "snapshot frame: state.incidents[0].roles.commander: expected a string, got the number 7",
    ],
    ["event without event", { type: "event" }, "event frame: event is not a JSON object"],
    ["event with a bad envelope", { type: "event", event: { ...makeEvent("note.added", VALID_DATA["note.added"]), prev: "xyz" } }, "event frame: event 12: prev must be 64 hex digits"],
    [
      "event whose data misses a field",
      { type: "event", event: makeEvent("ring.started", { ring: "canary" } as never) },
      "event frame: event 12: data.traffic: missing, expected a finite number",
    ],
    [
      "rollout.created with a bad ring",
      { type: "event", event: makeEvent("rollout.created", { ...VALID_DATA["rollout.created"], rings: [{ name: "canary", traffic: "1%", bakeSeconds: 1, slos: [] }] } as never) },
      'event frame: event 12: data.rings[0].traffic: expected a finite number, got the string "1%"',
    ],
    [
      "alert.firing with an unknown severity",
      { type: "event", event: makeEvent("alert.firing", { ...VALID_DATA["alert.firing"], severity: "page" } as never) },
      'event frame: event 12: data.severity: expected one of critical, warning, info, got the string "page"',
    ],
    ["ack without duplicate", { type: "ack", id: "c-1", seq: 3 }, "ack frame: duplicate: missing, expected true or false"],
    ["ack with seq as a string", { type: "ack", id: "c-1", seq: "3", duplicate: false }, 'ack frame: seq: expected a non-negative integer, got the string "3"'],
    ["reject with an unknown code", { ...OTHER_VALID.reject, code: "nope" }, 'reject frame: code: expected one of forbidden, invalid_state, not_found, bad_request, rate_limited, got the string "nope"'],
    ["reject with id as a number", { ...OTHER_VALID.reject, id: 5 }, "reject frame: id: expected a string, got the number 5"],
    ["error without message", { type: "error", code: "x" }, "error frame: message: missing, expected a string"],
    ["pong with t as a string", { type: "pong", t: "now" }, 'pong frame: t: expected a finite number, got the string "now"'],
    ["pong with t as an array", { type: "pong", t: [1] }, "pong frame: t: expected a finite number, got an array"],
  ];
  it.each(cases)("%s", (_name, msg, error) => {
    expect(serverError(frame(msg))).toBe(error);
  });
});

describe("decodeServerFrame: hostile text is sanitized once, here", () => {
  const OSC52 = "\x1b]52;c;ZWNobyBwd25lZA==\x07";
  const hasControls = (s: string): boolean => /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/.test(s);

  it("cleans an OSC 52 clipboard write out of an alert title in an event", () => {
    const event = makeEvent("alert.firing", { ...VALID_DATA["alert.firing"], title: `latency ${OSC52}high` }, { alert: "al-1" });
    const r = decodeServerFrame(frame({ type: "event", event }));
    expect(r.ok).toBe(true);
    const title = ((r as { msg: EventMsg }).msg.event.data as { title: string }).title;
    expect(title).not.toContain("\x1b");
    expect(title).not.toContain("\x07");
    expect(title).toBe("latency ␛]52;c;ZWNobyBwd25lZA==␇high");
  });

  it("cleans alert titles and keys inside a snapshot", () => {
    const snap = { ...SNAPSHOT, state: { ...SNAPSHOT.state, alerts: [{ ...ALERT, title: `t${OSC52}`, ["lab\x1b[2Jel"]: "x" }] } };
    const r = decodeServerFrame(frame(snap));
    expect(r.ok).toBe(true);
    const alert = (r as { msg: SnapshotMsg }).msg.state.alerts[0]!;
    expect(hasControls(alert.title)).toBe(false);
    expect(Object.keys(alert).some(hasControls)).toBe(false);
    expect(alert.title).toBe("t␛]52;c;ZWNobyBwd25lZA==␇");
  });

  it("drops bidi overrides and keeps newlines only in free text", () => {
    const event = makeEvent("note.added", { text: "line one\nline \u202Etwo" });
    const r = decodeServerFrame(frame({ type: "event", event: { ...event, tenant: "pay\nments" } }));
    const e = (r as { msg: EventMsg }).msg.event;
    expect(e.data).toEqual({ text: "line one\nline two" });
    expect(e.tenant).toBe("pay ments");
  });

  it("cleans the quoted input in a JSON syntax error", () => {
    expect(hasControls(serverError('{"type": "\x1b]0;title\x07'))).toBe(false);
  });

  it("cleans an unknown frame type before naming it", () => {
    const err = serverError(frame({ type: "\x1b[31mred\u0085" }));
    expect(hasControls(err)).toBe(false);
    expect(err).toMatch(/^unknown frame type "\\u001b\[31mred/);
  });

  it("quotes and cleans a hostile key when it names it in an error", () => {
    const snap = { ...SNAPSHOT, state: { ...SNAPSHOT.state, incidents: [{ ...INCIDENT, roles: { "\x1b]52;c;eA==\x07": 7 } }] } };
    const err = serverError(frame(snap));
    expect(hasControls(err)).toBe(false);
    expect(err).toBe('snapshot frame: state.incidents[0].roles["\\u001b]52;c;eA==\\u0007"]: expected a string, got the number 7');
  });

  it("drops __proto__ keys, so no field can be inherited through them", () => {
    const raw = `{"type":"snapshot","seq":1,"state":{"rollouts":[${frame({ ...ROLLOUT, killSwitch: undefined, title: "\x1b" }).slice(0, -1)},"__proto__":{"killSwitch":"boom"}}],"alerts":[],"incidents":[]}}`;
    const r = decodeServerFrame(raw);
    expect(r.ok).toBe(true);
    const rollout = (r as { msg: SnapshotMsg }).msg.state.rollouts[0]!;
    expect(rollout.killSwitch).toBeUndefined();
    expect(Object.getPrototypeOf(rollout)).toBe(Object.prototype);
  });
});

describe("checkEventData", () => {
  it("passes every known type's valid data and any unknown type", () => {
    for (const t of EVENT_TYPES) expect(checkEventData(t, VALID_DATA[t])).toBeNull();
    expect(checkEventData("future.type", 42)).toBeNull();
  });

  it("names the field that is wrong", () => {
    expect(checkEventData("incident.milestone", { milestone: "lunch", at: "2026-11-21T14:02:00Z" })).toBe(
      'data.milestone: expected one of impact_started, detected, acknowledged, mitigated, resolved, got the string "lunch"',
    );
    expect(checkEventData("ring.baking", { ring: "canary", traffic: 1, until: "soon" })).toBe('data.until: expected an ISO-8601 timestamp, got the string "soon"');
    expect(checkEventData("rollout.rolled_back", { fromVersion: "a", toVersion: "b", scope: ["x", 1], automatic: true })).toBe(
      "data.scope[1]: expected a string, got the number 1",
    );
    expect(checkEventData("note.added", null)).toBe("data: expected an object, got null");
  });
});

// ---- client frames ----------------------------------------------------------------------

const HELLO = { type: "hello", protocol: 1, client: "cockpit/0.1.0", resumeFrom: null };
const COMMAND = { type: "command", id: "c-1763733940:7", action: "pause", target: { rollout: "api-v408" }, reason: "checking canary latency" };

describe("decodeClientFrame: valid frames", () => {
  it.each([
    ["hello from scratch", HELLO],
    ["hello resuming with a token", { ...HELLO, resumeFrom: 4812, token: "tok_abc" }],
    ["hello resuming from 0", { ...HELLO, resumeFrom: 0 }],
    ["a command", COMMAND],
    ["a note with an empty target and args", { type: "command", id: "n.1", action: "note", target: {}, args: { text: "hi" } }],
    ["a rollback with an empty reason and a scope", { ...COMMAND, action: "rollback", reason: "", args: { scope: ["canary"] } }],
    ["a ping", { type: "ping", t: 1763733940123.5 }],
  ])("accepts %s", (_name, msg) => {
    expect(decodeClientFrame(frame(msg))).toEqual({ ok: true, msg });
  });

  it("accepts a command id of exactly 128 characters", () => {
    expect(decodeClientFrame(frame({ ...COMMAND, id: "a".repeat(128) })).ok).toBe(true);
  });

  it("accepts a reason of exactly 4096 characters", () => {
    expect(decodeClientFrame(frame({ ...COMMAND, reason: "r".repeat(4096) })).ok).toBe(true);
  });

  it("sanitizes text a client sends before it can reach the log", () => {
    const r = decodeClientFrame(frame({ ...COMMAND, reason: "ok\x1b]52;c;eA==\x07\nnext line", args: { text: "\x9b2J" } }));
    expect(r.ok).toBe(true);
    const msg = (r as unknown as { msg: { reason: string; args: { text: string } } }).msg;
    expect(msg.reason).toBe("ok␛]52;c;eA==␇\nnext line");
    expect(msg.args.text).toBe("\uFFFD2J");
  });
});

describe("decodeClientFrame: malformed frames are bad_request, naming the field", () => {
  it.each([
    ["not JSON", "hello", /^frame is not valid JSON: /],
    ["an array", "[]", /^frame must be a JSON object, got an array$/],
    ["no type", frame({ protocol: 1 }), /^frame type: missing, expected one of hello, command, ping$/],
    ["a server frame type", frame({ type: "welcome" }), /^unknown frame type "welcome": expected one of hello, command, ping$/],
    ["an oversized frame", frame({ type: "ping", t: 1, pad: "x".repeat(MAX_FRAME_BYTES) }), /over 1048576 bytes/],
  ])("rejects %s", (_name, raw, error) => {
    expect(clientError(raw).error).toMatch(error);
  });

  it.each([
    ["protocol 2", { ...HELLO, protocol: 2 }, "hello frame: protocol: this build speaks protocol 1, the peer speaks 2; use matching versions"],
    ["no protocol", { ...HELLO, protocol: undefined }, "hello frame: protocol: missing, expected 1"],
    ["client as a number", { ...HELLO, client: 3 }, "hello frame: client: expected a string, got the number 3"],
    ["resumeFrom missing", { ...HELLO, resumeFrom: undefined }, "hello frame: resumeFrom: missing, expected null or a non-negative integer"],
    ["resumeFrom negative", { ...HELLO, resumeFrom: -1 }, "hello frame: resumeFrom: expected null or a non-negative integer, got the number -1"],
    ["resumeFrom fractional", { ...HELLO, resumeFrom: 2.5 }, "hello frame: resumeFrom: expected null or a non-negative integer, got the number 2.5"],
    ["resumeFrom as a string", { ...HELLO, resumeFrom: "4812" }, 'hello frame: resumeFrom: expected null or a non-negative integer, got the string "4812"'],
    ["token as a number", { ...HELLO, token: 123 }, "hello frame: token: expected a string, got the number 123"],
    ["ping without t", { type: "ping" }, "ping frame: t: missing, expected a finite number"],
    ["ping with t as a string", { type: "ping", t: "1" }, 'ping frame: t: expected a finite number, got the string "1"'],
  ])("rejects hello/ping with %s", (_name, msg, error) => {
    expect(clientError(frame(msg))).toEqual({ error });
  });

  it.each([
    ["missing", undefined, "command frame: id: missing, expected 1 to 128 characters of A-Z a-z 0-9 _ . : -"],
    ["empty", "", 'command frame: id: expected 1 to 128 characters of A-Z a-z 0-9 _ . : -, got the string ""'],
    ["129 characters", "a".repeat(129), /^command frame: id: expected 1 to 128 characters/],
    ["with a space", "c 1", 'command frame: id: expected 1 to 128 characters of A-Z a-z 0-9 _ . : -, got the string "c 1"'],
    ["with a newline", "c\n1", /^command frame: id: expected/],
    ["a number", 7, "command frame: id: expected 1 to 128 characters of A-Z a-z 0-9 _ . : -, got the number 7"],
  ])("rejects a command whose id is %s, without echoing an id", (_name, id, error) => {
    const r = clientError(frame({ ...COMMAND, id }));
    expect(r.id).toBeUndefined();
    if (typeof error === "string") expect(r.error).toBe(error);
    else expect(r.error).toMatch(error);
  });

  it.each([
    ["an unknown action", { action: "explode" }, 'command frame: action: expected one of pause, resume, rollback, kill_switch, release_kill_switch, promote, ack_alert, note, declare_incident, resolve_incident, assign_role, set_milestone, got the string "explode"'],
    ["no action", { action: undefined }, /^command frame: action: missing, expected one of pause, /],
    ["no target", { target: undefined }, "command frame: target: missing, expected an object"],
    ["a target that is an array", { target: ["api-v408"] }, "command frame: target: expected an object, got an array"],
    ["a target rollout that is a number", { target: { rollout: 408 } }, "command frame: target.rollout: expected a string, got the number 408"],
    ["a target alert that is null", { target: { alert: null } }, "command frame: target.alert: expected a string, got null"],
    ["a target incident that is an object", { target: { incident: {} } }, "command frame: target.incident: expected a string, got an object"],
    ["a reason over 4096 characters", { reason: "r".repeat(4097) }, "command frame: reason: expected a string of at most 4096 characters, got 4097"],
    ["a reason that is a number", { reason: 1 }, "command frame: reason: expected a string of at most 4096 characters, got the number 1"],
    ["args that are an array", { args: [1] }, "command frame: args: expected an object, got an array"],
    ["args that are a string", { args: "text" }, 'command frame: args: expected an object, got the string "text"'],
  ])("rejects a command with %s, echoing its id", (_name, change, error) => {
    const r = clientError(frame({ ...COMMAND, ...change }));
    expect(r.id).toBe(COMMAND.id);
    if (typeof error === "string") expect(r.error).toBe(error);
    else expect(r.error).toMatch(error);
  });

  it("never throws, whatever it is given", () => {
    const junk: unknown[] = [undefined, null, 1, {}, [], "", "{", "\u0000", Buffer.alloc(0), Buffer.from([0xc3, 0x28])];
    for (const raw of junk) expect(decodeClientFrame(raw as string).ok).toBe(false);
    const whole = frame(COMMAND);
    for (let n = 0; n < whole.length; n++) expect(decodeClientFrame(whole.slice(0, n)).ok).toBe(false);
  });
});
