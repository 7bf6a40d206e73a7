import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendCore } from "../../src/backend/core.js";
import { EVENTS_FILE, eventId } from "../../src/backend/eventlog.js";
import { loadScenario } from "../../src/backend/scenarios.js";
import type { ScriptedCommand } from "../../src/domain/scenario-types.js";
import type { CockpitEvent, EventDraft } from "../../src/protocol/types.js";

// Realistic traffic for the benchmarks: the events the engine itself writes
// for the canary-latency scenario (SLI samples, gate breach, automatic pause,
// alert, a human incident, notes and rollback, recovery), run offline on a
// fixed clock, then repeated as long as a benchmark needs with seqs, times
// and ids moved forward so the stream stays gapless and in order.

export const SCENARIO = "canary-latency";
export const FIXED_START = Date.parse("2026-11-21T14:00:00.000Z");
const RUN_SECONDS = 600;

/** What people do during the incident, so human events are in the mix too. */
const SCRIPT: ScriptedCommand[] = [
  { at: 110, actor: { name: "carol", role: "commander" }, action: "declare_incident", target: { rollout: "api-v408" }, args: { severity: "SEV2", title: "api p99 latency regression in canary" } },
  { at: 120, actor: { name: "alice", role: "operator" }, action: "note", target: {}, args: { text: "p99 in canary doubled since v408; checking the connection pool change" } },
  { at: 150, actor: { name: "carol", role: "commander" }, action: "assign_role", target: { incident: "inc-1" }, args: { role: "operator", name: "alice" } },
  { at: 200, actor: { name: "alice", role: "operator" }, action: "rollback", target: { rollout: "api-v408" }, reason: "p99 doubled in canary" },
  { at: 260, actor: { name: "alice", role: "operator" }, action: "note", target: {}, args: { text: "rollback done, p99 back at baseline" } },
  { at: 420, actor: { name: "carol", role: "commander" }, action: "resolve_incident", target: { incident: "inc-1" } },
];

export interface ScenarioEvents {
  events: CockpitEvent[];
  /** simulated ms the run covers: one cycle of the repeated stream */
  spanMs: number;
}

/** One offline run of the scenario through the real engine and event log. */
export async function scenarioEvents(): Promise<ScenarioEvents> {
  const scenario = await loadScenario(SCENARIO);
  const dataDir = await mkdtemp(join(tmpdir(), "cockpit-bench-scenario-"));
  try {
    const core = await BackendCore.open({
      dataDir,
      plans: [scenario.plan],
      fleet: scenario,
      script: SCRIPT,
      seed: scenario.seed,
      burnWindowScale: scenario.burnWindowScale,
      speed: 1,
      startTime: FIXED_START,
    });
    await core.runUntil(FIXED_START + RUN_SECONDS * 1000);
    await core.close();
    const raw = await readFile(join(dataDir, EVENTS_FILE), "utf8");
    const events = raw
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CockpitEvent);
    return { events, spanMs: RUN_SECONDS * 1000 };
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

export interface MixSummary {
  total: number;
  samples: number;
  byType: Record<string, number>;
  meanFrameBytes: number;
}

export function summarizeMix(events: CockpitEvent[]): MixSummary {
  const byType: Record<string, number> = {};
  let bytes = 0;
  for (const e of events) {
    byType[e.type] = (byType[e.type] ?? 0) + 1;
    bytes += Buffer.byteLength(eventFrame(e));
  }
  return { total: events.length, samples: byType["sli.sample"] ?? 0, byType, meanFrameBytes: Math.round(bytes / Math.max(1, events.length)) };
}

/** The wire frame carrying one event. */
export function eventFrame(e: CockpitEvent): string {
  return JSON.stringify({ type: "event", event: e });
}

function shiftIso(iso: string, byMs: number): string {
  return byMs === 0 ? iso : new Date(Date.parse(iso) + byMs).toISOString();
}

/**
 * An endless stream cut from one scenario run. `distinct: false` (default)
 * keeps the ids, so the stream reads as one incident that goes on and on: the
 * cockpit's state stays the same size and only history grows. `distinct: true`
 * gives each repetition its own rollout, alert and incident ids: a backend that
 * has run one rollout after another for days.
 */
export class EventStream {
  private readonly times: number[];
  constructor(
    private readonly base: ScenarioEvents,
    private readonly opts: { distinct?: boolean } = {},
  ) {
    if (base.events.length === 0) throw new Error(`the ${SCENARIO} scenario produced no events; check fixtures/scenarios/${SCENARIO}.json`);
    this.times = base.events.map((e) => Date.parse(e.time));
  }

  get cycleLength(): number {
    return this.base.events.length;
  }

  /** The i-th event draft of the stream (0-based): no seq, id or chain fields. */
  draft(i: number): EventDraft {
    const n = this.base.events.length;
    const cycle = Math.floor(i / n);
    const src = this.base.events[i % n]!;
    const shift = cycle * this.base.spanMs;
    const suffix = this.opts.distinct && cycle > 0 ? `-r${cycle}` : "";
    // Fields in the log's order (eventlog.ts FIELD_ORDER), so frames are byte-for-byte like the server's.
    const out = {
      time: shift === 0 ? src.time : new Date(this.times[i % n]! + shift).toISOString(),
      tenant: src.tenant,
      type: src.type,
    } as EventDraft;
    if (src.rollout !== undefined) out.rollout = src.rollout + suffix;
    if (src.ring !== undefined) out.ring = src.ring;
    if (src.alert !== undefined) out.alert = src.alert + suffix;
    if (src.incident !== undefined) out.incident = src.incident + suffix;
    out.actor = src.actor;
    if (src.command !== undefined) out.command = src.command + (cycle > 0 ? `-r${cycle}` : "");
    out.data = src.data;
    if (shift !== 0) {
      // Times inside data move with the event, so countdowns and milestones stay consistent.
      if (src.type === "ring.baking") out.data = { ...(src.data as { until: string }), until: shiftIso((src.data as { until: string }).until, shift) } as EventDraft["data"];
      if (src.type === "incident.milestone") out.data = { ...(src.data as { at: string }), at: shiftIso((src.data as { at: string }).at, shift) } as EventDraft["data"];
    }
    return out;
  }

  /** The i-th event as the wire carries it: seq i+1, gapless. Hash fields are the source's (the cockpit does not check the chain). */
  event(i: number): CockpitEvent {
    const src = this.base.events[i % this.base.events.length]!;
    return { seq: i + 1, id: eventId(i + 1), ...this.draft(i), prev: src.prev, hash: src.hash } as CockpitEvent;
  }
}
