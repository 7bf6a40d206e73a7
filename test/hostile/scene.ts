import { decodeServerFrame } from "../../src/protocol/decode.js";
import type { CommandMsg, ServerMsg } from "../../src/protocol/types.js";
import type { CockpitStore } from "../../src/store/cockpit-store.js";

// One incident told by a backend that puts a hostile value in every text field
// the protocol has: the cockpit screen tests feed these frames through the
// real decoder into the real store. `value(field)` says what each field holds.

/** Every text field of the protocol that can reach the screen. */
export const FIELDS = [
  "tenant",
  "self",
  "server",
  "rollout",
  "service",
  "version",
  "previousVersion",
  "ringA",
  "ringB",
  "slo",
  "flag",
  "metric",
  "unit",
  "pauseReason",
  "pauser",
  "pauserRole",
  "alert",
  "alertTitle",
  "alertSource",
  "labelKey",
  "labelValue",
  "acker",
  "incident",
  "incidentTitle",
  "incidentSeverity",
  "assignee",
  "statusText",
  "noteText",
  "noteActor",
  "rejectedAction",
  "rejectedMessage",
  "sourceName",
  "sourceMessage",
  "unknownType",
  "rollbackReason",
  "errorCode",
  "errorMessage",
  "rejectMessage",
] as const;
export type Field = (typeof FIELDS)[number];
export type FieldValue = (field: Field) => string;

/** "F07:" before field 7's value, so a test can find where a field landed on screen. */
export function marker(field: Field): string {
  return `F${String(FIELDS.indexOf(field)).padStart(2, "0")}:`;
}

export const T0 = Date.parse("2026-11-21T14:00:00.000Z");
const HEX = "ab".repeat(32);

export interface SceneFrames {
  /** welcome, snapshot, the incident's events, an error frame */
  opening: string[];
  /** answers the command the test sends as COMMAND_ID */
  reject: string;
  /** later events: the rollback and the kill switch */
  closing: string[];
}

export const COMMAND_ID = "c-hostile-1";

/** The frames of the story, with `v` in every text field. */
export function sceneFrames(v: FieldValue): SceneFrames {
  let seq = 0;
  const R = v("rollout");
  const event = (type: string, data: Record<string, unknown>, refs: Record<string, unknown> = {}) => {
    seq++;
    return JSON.stringify({
      type: "event",
      event: {
        seq,
        id: `evt_${seq}`,
        time: new Date(T0 + seq * 1000).toISOString(),
        tenant: v("tenant"),
        type,
        actor: { kind: "engine", name: "engine" },
        data,
        prev: HEX,
        hash: HEX,
        ...refs,
      },
    });
  };
  const human = (name: string, role: string) => ({ actor: { kind: "human", name, role } });
  const opening: string[] = [
    JSON.stringify({ type: "welcome", protocol: 1, server: v("server"), session: { actor: v("self"), role: "commander", tenant: v("tenant") }, headSeq: 0 }),
    JSON.stringify({ type: "snapshot", seq: 0, state: { rollouts: [], alerts: [], incidents: [] } }),
    event(
      "rollout.created",
      {
        service: v("service"),
        version: v("version"),
        previousVersion: v("previousVersion"),
        kind: "code",
        rings: [
          { name: v("ringA"), traffic: 1, bakeSeconds: 300, slos: [v("slo")] },
          { name: v("ringB"), traffic: 10, bakeSeconds: 600, slos: [v("slo")] },
        ],
        killSwitch: { flag: v("flag") },
        onBreach: "pause",
      },
      { rollout: R },
    ),
    event("ring.started", { ring: v("ringA"), traffic: 1 }, { rollout: R, ring: v("ringA") }),
    event("ring.completed", { ring: v("ringA"), traffic: 1 }, { rollout: R, ring: v("ringA") }),
    event("ring.started", { ring: v("ringB"), traffic: 10 }, { rollout: R, ring: v("ringB") }),
    event("ring.baking", { ring: v("ringB"), traffic: 10, until: new Date(T0 + 900_000).toISOString() }, { rollout: R, ring: v("ringB") }),
  ];
  for (let i = 0; i < 12; i++) opening.push(event("sli.sample", { ring: v("ringB"), metric: v("metric"), value: 40 + i * 2, unit: v("unit"), baseline: 41 }, { rollout: R, ring: v("ringB") }));
  const alertData = { severity: "critical", title: v("alertTitle"), source: v("alertSource"), labels: { [v("labelKey")]: v("labelValue") } };
  opening.push(
    event("slo.breached", { ring: v("ringB"), assertion: v("slo"), value: 63.2, threshold: 50, consecutive: 3 }, { rollout: R, ring: v("ringB") }),
    event("rollout.paused", { reason: v("pauseReason"), automatic: false }, { rollout: R, ...human(v("pauser"), v("pauserRole")) }),
    event("alert.firing", alertData, { rollout: R, ring: v("ringB"), alert: v("alert") }),
    event("alert.acknowledged", { ...alertData, labels: {} }, { rollout: R, ring: v("ringB"), alert: v("alert"), ...human(v("acker"), "operator") }),
    event("incident.declared", { severity: v("incidentSeverity"), title: v("incidentTitle") }, { incident: v("incident"), ...human(v("self"), "commander") }),
    event("incident.role_assigned", { role: "scribe", name: v("assignee") }, { incident: v("incident"), ...human(v("self"), "commander") }),
    event("incident.status_update", { text: v("statusText") }, { incident: v("incident"), ...human(v("self"), "commander") }),
    event("note.added", { text: v("noteText") }, { rollout: R, ...human(v("noteActor"), "operator") }),
    event("command.rejected", { action: v("rejectedAction"), code: "forbidden", message: v("rejectedMessage") }, { rollout: R, ...human(v("noteActor"), "viewer") }),
    event("source.degraded", { source: v("sourceName"), message: v("sourceMessage") }, { rollout: R }),
    event(`x.${v("unknownType")}`, { anything: v("unknownType") }, { rollout: R, ring: v("ringB") }),
    JSON.stringify({ type: "error", code: v("errorCode"), message: v("errorMessage") }),
  );
  const reject = JSON.stringify({ type: "reject", id: COMMAND_ID, code: "invalid_state", message: v("rejectMessage") });
  const closing = [
    event("rollout.resumed", { reason: v("rollbackReason"), automatic: false }, { rollout: R, ...human(v("pauser"), v("pauserRole")) }),
    event("rollout.rollback_started", { fromVersion: v("version"), toVersion: v("previousVersion"), scope: [v("ringA"), v("ringB")], automatic: false }, { rollout: R, ...human(v("pauser"), "operator") }),
    event("killswitch.engaged", { flag: v("flag") }, { rollout: R, ...human(v("pauser"), "operator") }),
  ];
  return { opening, reject, closing };
}

/** The command whose reject the scene answers with: shown pending first. */
export function sceneCommand(v: FieldValue): CommandMsg {
  return { type: "command", id: COMMAND_ID, action: "pause", target: { rollout: v("rollout") } };
}

/**
 * One frame into the store the way the connection does it (src/client/connection.ts
 * onFrame): decode, then hand each kind to its ingest call. Returns the decode result.
 */
export function feed(store: CockpitStore, raw: string, url = "ws://backend.test/v1/stream"): ReturnType<typeof decodeServerFrame> {
  const d = decodeServerFrame(raw);
  if (!d.ok) {
    store.ingest.connection({ error: `ignored a malformed frame from ${url}: ${d.error}` });
    return d;
  }
  const msg: ServerMsg = d.msg;
  switch (msg.type) {
    case "welcome":
      store.ingest.welcome(msg);
      store.ingest.connection({ status: "live", session: msg.session, error: undefined });
      break;
    case "snapshot":
      store.ingest.snapshot(msg);
      break;
    case "event":
      store.ingest.event(msg.event);
      break;
    case "ack":
      store.ingest.ack(msg);
      break;
    case "reject":
      store.ingest.reject(msg);
      break;
    case "error":
      store.ingest.connection({ error: `${url} could not use a frame from this cockpit (${msg.code}): ${msg.message}` });
      break;
    case "pong":
      break;
  }
  return d;
}
