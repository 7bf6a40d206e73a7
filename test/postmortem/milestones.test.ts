import { describe, expect, it } from "vitest";
import type { KeptEvent, SeriesRecovery } from "../../src/postmortem/collect.js";
import { inferMilestones, type MilestoneInput } from "../../src/postmortem/milestones.js";
import { draftFromEvents } from "../../src/postmortem/pipeline.js";
import type { Draft } from "../../src/postmortem/draft.js";
import type { CockpitEvent } from "../../src/protocol/types.js";
import { canaryLatencyLog, flagMisconfigLog, human, LogBuilder, slowBurnLog, T0 } from "./helpers.js";

async function draftOf(log: LogBuilder, req: Parameters<typeof draftFromEvents>[1] = {}): Promise<Draft> {
  const r = await draftFromEvents(log.events, req);
  if (!r.ok) throw new Error(r.message);
  return r.draft;
}

function at(sec: number): string {
  return new Date(T0 + sec * 1000).toISOString();
}

function seqOf(log: LogBuilder, pred: (e: CockpitEvent) => boolean): number {
  const e = log.events.find(pred);
  if (!e) throw new Error("no such event in the test log");
  return e.seq;
}

const isSample = (sec: number, metric: string) => (e: CockpitEvent) => e.type === "sli.sample" && e.time === at(sec) && (e.data as { metric: string }).metric === metric;

describe("milestones inferred from the canary-latency log", () => {
  it("finds each milestone at the event it came from, and TTD/TTA/TTM/TTR from impact start", async () => {
    const log = canaryLatencyLog();
    const d = await draftOf(log);
    const byName = Object.fromEntries(d.milestones.map((m) => [m.milestone, m]));
    expect(byName.impact_started).toMatchObject({ at: at(70), seq: seqOf(log, isSample(70, "p99_latency_ms")), inferred: true });
    expect(byName.impact_started!.rule).toContain("first sample outside the SLO");
    expect(byName.detected).toMatchObject({ at: at(100), seq: seqOf(log, (e) => e.type === "slo.breached"), inferred: true });
    expect(byName.acknowledged).toMatchObject({ at: at(130), seq: seqOf(log, (e) => e.type === "alert.acknowledged") });
    expect(byName.acknowledged!.rule).toContain("first acknowledgement");
    // Rollback finished at +195s, but p99 was still 55 at +200s: mitigated when it came back inside at +210s.
    expect(byName.mitigated).toMatchObject({ at: at(210), seq: seqOf(log, isSample(210, "p99_latency_ms")) });
    expect(byName.mitigated!.rule).toContain("rollback of api-v408 finished at 14:03:15 UTC");
    expect(byName.resolved).toMatchObject({ at: at(400), seq: seqOf(log, (e) => e.type === "incident.resolved") });
    expect(d.metrics.map((m) => [m.name, m.ms, m.text])).toEqual([
      ["TTD", 30_000, "30s"],
      ["TTA", 60_000, "1m00s"],
      ["TTM", 140_000, "2m20s"],
      ["TTR", 330_000, "5m30s"],
    ]);
  });

  it("lets explicit incident.milestone events win, the latest correction of each", async () => {
    const log = canaryLatencyLog();
    const bob = human("bob", "commander");
    log.push(430, "incident.milestone", { milestone: "impact_started", at: at(30) }, { incident: "inc-1", actor: bob, command: "m-1" });
    log.push(440, "incident.milestone", { milestone: "impact_started", at: at(50) }, { incident: "inc-1", actor: bob, command: "m-2" });
    log.push(450, "incident.milestone", { milestone: "mitigated", at: at(195) }, { incident: "inc-1", actor: bob, command: "m-3" });
    const d = await draftOf(log, { incident: "inc-1" });
    const impact = d.milestones[0]!;
    expect(impact).toMatchObject({ at: at(50), inferred: false, seq: log.events.length - 1 });
    expect(impact.rule).toBe(`set by the incident commander (incident.milestone, seq ${log.events.length - 1})`);
    expect(d.milestones[3]).toMatchObject({ milestone: "mitigated", at: at(195), inferred: false });
    // Inferred ones stay inferred, and every metric is measured from the explicit impact start.
    expect(d.milestones[1]!.inferred).toBe(true);
    expect(d.metrics[0]).toMatchObject({ name: "TTD", ms: 50_000 });
    expect(d.metrics[2]).toMatchObject({ name: "TTM", ms: 145_000 });
  });

  it("uses the time a milestone was recorded when its own time is unreadable", async () => {
    const log = canaryLatencyLog();
    log.push(430, "incident.milestone", { milestone: "detected", at: "soon-ish" }, { incident: "inc-1", actor: human("bob", "commander") });
    const d = await draftOf(log, { incident: "inc-1" });
    expect(d.milestones[1]).toMatchObject({ at: at(430), inferred: false });
    expect(d.milestones[1]!.rule).toContain("unreadable");
  });
});

describe("each inference rule", () => {
  it("kill switch and SLIs back inside: mitigated; healthy for the bake window: resolved", async () => {
    const log = flagMisconfigLog();
    const d = await draftOf(log);
    const [impact, detected, ack, mitigated, resolved] = d.milestones;
    expect(impact).toMatchObject({ at: at(40) });
    expect(detected).toMatchObject({ at: at(60) });
    // No ack: the first human action (the kill switch) counts.
    expect(ack).toMatchObject({ at: at(90) });
    expect(ack!.rule).toContain("first human action after impact start: killswitch.engaged by the on-call operator");
    expect(mitigated).toMatchObject({ at: at(110) });
    expect(mitigated!.rule).toContain("kill switch engaged at 14:01:30 UTC");
    // Back inside at +110s, bake 300s: the first sample at or after +410s.
    expect(resolved).toMatchObject({ at: at(410), seq: seqOf(log, isSample(410, "error_rate")) });
    expect(resolved!.rule).toContain("healthy for the bake window (5m00s)");
  });

  it("a slow burn that never crossed its gate: impact from the baseline, detection by the alert", async () => {
    const log = slowBurnLog();
    const d = await draftOf(log);
    const [impact, detected, ack, mitigated, resolved] = d.milestones;
    expect(impact).toMatchObject({ at: at(20), inferred: true });
    expect(impact!.rule).toContain("away from its baseline");
    expect(impact!.rule).toContain("still inside its gate");
    expect(detected).toMatchObject({ at: at(300) });
    expect(detected!.rule).toContain("first alert");
    expect(ack).toMatchObject({ at: at(330) });
    expect(mitigated).toMatchObject({ at: at(380) });
    expect(mitigated!.rule).toContain("back near its baseline");
    // Bake 600s after +380s is past the end of the log (+500s).
    expect(resolved).toMatchObject({ at: null, seq: null });
    expect(d.metrics[3]).toMatchObject({ name: "TTR", ms: null, text: "unknown" });
  });

  it("a problem reported by a person: detected at the declaration, impact from the samples before it", async () => {
    const log = new LogBuilder();
    log.push(0, "rollout.created", { service: "web", version: "2", previousVersion: "1", kind: "code", rings: [{ name: "canary", traffic: 5, bakeSeconds: 60, slos: ["p99_latency_ms < 50"] }], onBreach: "pause" }, { rollout: "web-2" });
    log.push(0, "ring.started", { ring: "canary", traffic: 5 }, { rollout: "web-2", ring: "canary" });
    for (let t = 10; t <= 120; t += 10) log.sample(t, "web-2", "canary", "p99_latency_ms", t >= 40 ? 70 : 40, "ms", 40);
    log.push(100, "incident.declared", { severity: "sev3", title: "Slow pages" }, { incident: "inc-1", actor: human("ann", "commander") });
    const d = await draftOf(log);
    expect(d.milestones[0]).toMatchObject({ at: at(40) });
    expect(d.milestones[1]).toMatchObject({ at: at(100) });
    expect(d.milestones[1]!.rule).toContain("no breach or alert; taken as the declaration of incident inc-1 by the incident commander");
    expect(d.milestones[3]).toMatchObject({ at: null });
    expect(d.milestones[3]!.rule).toBe("no rollback or kill switch, and canary p99_latency_ms was still outside its SLO at the end of the span");
  });

  it("does not count an alert that fired on old noise, before impact started, as detection", async () => {
    const log = new LogBuilder();
    log.push(0, "rollout.created", { service: "web", version: "2", previousVersion: "1", kind: "flag", rings: [{ name: "all", traffic: 100, bakeSeconds: 600, slos: ["error_rate < 1% for 30s"] }], onBreach: "pause" }, { rollout: "web-2" });
    log.push(0, "ring.started", { ring: "all", traffic: 100 }, { rollout: "web-2", ring: "all" });
    for (let t = 5; t <= 120; t += 5) {
      log.sample(t, "web-2", "all", "error_rate", t >= 40 ? 6 : 0.12, "%", 0.12);
      // A budget of 0.1% is already burning at 1.2x on the baseline: the ticket alert fires at once.
      if (t === 5) log.push(5, "alert.firing", { severity: "warning", title: "burning 1.2x (1x over 3d and 6h, SLO 99.9%)", source: "burn-rate" }, { rollout: "web-2", ring: "all", alert: "b1" });
      if (t === 75) log.push(75, "slo.breached", { ring: "all", assertion: "error_rate < 1% for 30s", value: 6, threshold: 1, consecutive: 7 }, { rollout: "web-2", ring: "all" });
    }
    const d = await draftOf(log);
    expect(d.milestones[0]).toMatchObject({ at: at(40) });
    expect(d.milestones[1]).toMatchObject({ at: at(75), seq: seqOf(log, (e) => e.type === "slo.breached") });
    expect(d.milestones[1]!.rule).toContain(`the earlier alert.firing (seq ${seqOf(log, (e) => e.type === "alert.firing")}) came before impact started`);
    expect(d.metrics[0]).toMatchObject({ name: "TTD", ms: 35_000 });
  });

  it("takes impact start as the detection when no sample shows it", async () => {
    const log = new LogBuilder();
    log.push(10, "slo.breached", { ring: "canary", assertion: "error_rate < 1%", value: 2, threshold: 1, consecutive: 3 }, { rollout: "r1", ring: "canary" });
    const d = await draftOf(log);
    expect(d.milestones[0]).toMatchObject({ at: at(10), inferred: true });
    expect(d.milestones[0]!.rule).toContain("taken as the detection");
    expect(d.metrics[0]).toMatchObject({ ms: 0 });
  });
});

// Direct cases, for what a scenario rarely shows.
function kept(sec: number, seq: number, type: string, extra: Partial<CockpitEvent> = {}): KeptEvent {
  const event = { seq, id: `e${seq}`, time: at(sec), tenant: "t", type, actor: { kind: "engine", name: "engine" }, data: {}, prev: "", hash: "", ...extra } as CockpitEvent;
  return { event, ms: T0 + sec * 1000 };
}

function point(sec: number, seq: number, value: number) {
  return { time: at(sec), ms: T0 + sec * 1000, seq, value, baseline: 40 };
}

function recovery(over: Partial<SeriesRecovery>): SeriesRecovery {
  return {
    rollout: "r1",
    ring: "canary",
    metric: "p99_latency_ms",
    unit: "ms",
    measure: "slo",
    assertion: "p99_latency_ms < 50",
    firstBad: { ...point(10, 1, 70), threshold: 50 },
    lastBad: point(60, 6, 70),
    backGood: null,
    healthyAt: null,
    last: point(60, 6, 70),
    bakeMs: 60_000,
    ...over,
  };
}

function input(over: Partial<MilestoneInput>): MilestoneInput {
  return {
    incidentId: null,
    events: [],
    fromMs: T0,
    firstSignal: null,
    impactAtDetection: null,
    deviationAtDetection: null,
    recoveries: [],
    who: (a) => (a.kind === "engine" ? "the rollout engine" : "the on-call operator"),
    ...over,
  };
}

describe("inferMilestones, edge cases", () => {
  const breach = kept(20, 2, "slo.breached");
  const rolledBack = kept(40, 4, "rollout.rolled_back", { rollout: "r1" });

  it("does not call it mitigated while an SLI is still outside its SLO after the rollback", () => {
    const r = inferMilestones(input({ events: [breach, rolledBack], firstSignal: breach, recoveries: [recovery({})] }));
    expect(r.milestones[3]).toMatchObject({ at: null });
    expect(r.milestones[3]!.rule).toBe("rollback of r1 finished at 14:00:40 UTC (rollout.rolled_back, seq 4), but canary p99_latency_ms was still outside its SLO at the end of the span");
    expect(r.metrics[2]).toMatchObject({ name: "TTM", ms: null });
  });

  it("takes the rollback when no sample after it can confirm recovery, and says so", () => {
    const r = inferMilestones(input({ events: [breach, rolledBack], firstSignal: breach, recoveries: [recovery({ last: point(30, 3, 70) })] }));
    expect(r.milestones[3]).toMatchObject({ at: at(40), seq: 4 });
    expect(r.milestones[3]!.rule).toContain("no samples of canary p99_latency_ms after it to confirm recovery");
  });

  it("without a rollback or kill switch, takes when the SLIs came back", () => {
    const r = inferMilestones(input({ events: [breach], firstSignal: breach, recoveries: [recovery({ backGood: point(70, 7, 45), last: point(80, 8, 45) })] }));
    expect(r.milestones[3]).toMatchObject({ at: at(70), seq: 7 });
    expect(r.milestones[3]!.rule).toContain("no rollback or kill switch in the span");
  });

  it("ignores an old blip that ended before impact start", () => {
    const old = recovery({ ring: "region", lastBad: point(-600, 0, 70), backGood: point(-590, 0, 40) });
    const r = inferMilestones(input({ events: [breach, rolledBack], firstSignal: breach, recoveries: [old, recovery({ backGood: point(50, 5, 41), last: point(60, 6, 41) })] }));
    expect(r.milestones[3]).toMatchObject({ at: at(50) });
  });

  it("reports nothing it cannot see", () => {
    const r = inferMilestones(input({}));
    expect(r.milestones.map((m) => m.at)).toEqual([null, null, null, null, null]);
    expect(r.metrics.map((m) => m.text)).toEqual(["unknown", "unknown", "unknown", "unknown"]);
  });
});
