import type { Actor, CockpitEvent, EventDataMap, EventType } from "../../src/protocol/types.js";

// One valid `data` per event type of PROTOCOL.md, shared by the decode and describe tests.
export const VALID_DATA: { [T in EventType]: EventDataMap[T] } = {
  "rollout.created": {
    service: "api",
    version: "v408",
    previousVersion: "v407",
    kind: "code",
    rings: [
      { name: "canary", traffic: 1, bakeSeconds: 300, slos: ["p99_latency_ms < 50 for 1m"] },
      { name: "region-1", traffic: 10, bakeSeconds: 600, slos: [] },
      { name: "global", traffic: 100, bakeSeconds: 0, slos: [] },
    ],
    onBreach: "pause",
  },
  "ring.started": { ring: "canary", traffic: 1 },
  "ring.baking": { ring: "canary", traffic: 1, until: "2026-11-21T14:10:00.000Z" },
  "ring.completed": { ring: "canary", traffic: 1 },
  "rollout.completed": { version: "v408" },
  "sli.sample": { ring: "canary", metric: "p99_latency_ms", value: 41.5, unit: "ms", baseline: 40 },
  "slo.breached": { ring: "canary", assertion: "p99_latency_ms < 50 for 1m", value: 63.2, threshold: 50, consecutive: 1 },
  "slo.recovered": { ring: "canary", assertion: "p99_latency_ms < 50 for 1m", value: 41.5, threshold: 50, consecutive: 0 },
  "rollout.paused": { reason: "checking canary latency", automatic: false },
  "rollout.resumed": { reason: "latency back to normal", automatic: false },
  "rollout.promoted": { ring: "canary" },
  "rollout.rollback_started": { fromVersion: "v408", toVersion: "v407", scope: ["canary", "region-1"], automatic: true },
  "rollout.rolled_back": { fromVersion: "v408", toVersion: "v407", scope: ["canary", "region-1"], automatic: true },
  "killswitch.engaged": { flag: "new-checkout" },
  "killswitch.released": { flag: "new-checkout" },
  "alert.firing": { severity: "critical", title: "Canary p99 latency over SLO", source: "engine" },
  "alert.resolved": { severity: "critical", title: "Canary p99 latency over SLO", source: "engine" },
  "alert.acknowledged": { severity: "critical", title: "Canary p99 latency over SLO", source: "engine" },
  "incident.declared": { severity: "SEV2", title: "Checkout latency" },
  "incident.resolved": { severity: "SEV2", title: "Checkout latency" },
  "incident.role_assigned": { role: "scribe", name: "bob" },
  "incident.milestone": { milestone: "impact_started", at: "2026-11-21T14:02:00.000Z" },
  "incident.status_update": { text: "rolled back, watching error rate" },
  "note.added": { text: "looking at canary dashboards" },
  "command.rejected": { action: "pause", code: "forbidden", message: "viewer may not pause" },
  "source.degraded": { source: "prometheus", message: "cannot reach Prometheus at http://127.0.0.1:9090 (connect ECONNREFUSED)" },
  "source.recovered": { source: "prometheus", message: "answering again after 42s" },
  "command.executed": { step: "apply", argv: ["bin/ship", "--version", "v408", "--ring", "canary"], exitCode: 0, outputTail: "shipped", durationMs: 1200 },
  "command.failed": { step: "apply", argv: ["bin/ship", "--version", "v408", "--ring", "canary"], exitCode: 3, outputTail: "quota exceeded", reason: "exit 3: quota exceeded" },
};

export const ENGINE: Actor = { kind: "engine", name: "engine" };
export const ALICE: Actor = { kind: "human", name: "alice", role: "operator" };

export function makeEvent<T extends EventType>(type: T, data: EventDataMap[T], extra: Partial<CockpitEvent> = {}): CockpitEvent<T> {
  return {
    seq: 12,
    id: "evt_12",
    time: "2026-11-21T14:05:40.123Z",
    tenant: "payments",
    type,
    rollout: "api-v408",
    actor: ENGINE,
    data,
    prev: "0".repeat(64),
    hash: "a".repeat(64),
    ...extra,
  } as CockpitEvent<T>;
}
