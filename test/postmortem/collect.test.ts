import { describe, expect, it } from "vitest";
import { THIRTY_DAYS_SECONDS } from "../../src/domain/burnrate.js";
import { cleanEvent } from "../../src/postmortem/clean.js";
import { budgetBetween, IncidentCollector, MAX_SPAN_EVENTS, PRE_SPAN_EVENTS } from "../../src/postmortem/collect.js";
import { buildDraft } from "../../src/postmortem/draft.js";
import { draftFromEvents } from "../../src/postmortem/pipeline.js";
import type { Scope } from "../../src/postmortem/scope.js";
import type { CockpitEvent } from "../../src/protocol/types.js";
import { canaryLatencyLog, human, LogBuilder, slowBurnLog, T0 } from "./helpers.js";

function scope(over: Partial<Scope> = {}): Scope {
  return {
    kind: "window",
    tenant: "payments",
    incidentId: null,
    fromMs: T0,
    toMs: T0 + 86_400_000,
    sampleFromMs: T0,
    sampleToMs: T0 + 86_400_000,
    rollouts: null,
    lastSeq: Number.MAX_SAFE_INTEGER,
    readUntilMs: T0 + 86_400_000,
    readUntilSeq: Number.MAX_SAFE_INTEGER,
    choice: "test",
    ...over,
  };
}

/** An event without a real hash: the collector never checks the chain (the first pass does). */
function ev(seq: number, sec: number, type: string, data: Record<string, unknown>, extra: Partial<CockpitEvent> = {}): CockpitEvent {
  return { seq, id: `e${seq}`, time: new Date(T0 + sec * 1000).toISOString(), tenant: "payments", type, actor: { kind: "engine", name: "engine" }, data, prev: "0".repeat(64), hash: "0".repeat(64), ...extra } as CockpitEvent;
}

const PLAN = {
  service: "checkout",
  version: "2",
  previousVersion: "1",
  kind: "code",
  rings: [{ name: "canary", traffic: 5, bakeSeconds: 60, slos: ["p99_latency_ms < 50"] }],
  onBreach: "pause",
};

describe("IncidentCollector keeps bounded memory", () => {
  it("folds 200,000 samples into running figures without keeping them", () => {
    const c = new IncidentCollector(scope());
    let seq = 0;
    c.add(ev(++seq, 0, "rollout.created", PLAN, { rollout: "r1" }));
    c.add(ev(++seq, 0, "ring.started", { ring: "canary", traffic: 5 }, { rollout: "r1", ring: "canary" }));
    for (let i = 0; i < 100_000; i++) {
      const sec = 1 + i * 0.5;
      // One bad minute in the middle: p99 at 80 from sample 50,000 to 50,119.
      const p99 = i >= 50_000 && i < 50_120 ? 80 : 40 + (i % 7);
      c.add(ev(++seq, sec, "sli.sample", { ring: "canary", metric: "p99_latency_ms", value: p99, unit: "ms", baseline: 40 }, { rollout: "r1", ring: "canary" }));
      c.add(ev(++seq, sec, "sli.sample", { ring: "canary", metric: "error_rate", value: 0.1, unit: "%", baseline: 0.1 }, { rollout: "r1", ring: "canary" }));
    }
    expect(c.samplesRead).toBe(200_000);
    expect(c.series.size).toBe(2);
    // Only the two non-sample events were kept.
    expect(c.spanEvents.length).toBe(2);
    const p99 = c.breachedSeries()[0]!;
    expect(p99.metric).toBe("p99_latency_ms");
    expect(p99.count).toBe(100_000);
    expect(p99.max?.value).toBe(80);
    expect(p99.outsideCount).toBe(120);
    expect(p99.firstOutside?.ms).toBe(T0 + (1 + 50_000 * 0.5) * 1000);
    expect(p99.backInside?.ms).toBe(T0 + (1 + 50_120 * 0.5) * 1000);
    // The budget buckets are fixed in number, whatever the log's length.
    const errors = c.allSeries().find((s) => s.metric === "error_rate")!;
    expect(errors.budget!.seconds.length).toBeLessThanOrEqual(4097);
  });

  it("keeps the first MAX_SPAN_EVENTS events of the span, then only people, incidents and mitigations", async () => {
    const c = new IncidentCollector(scope());
    let seq = 0;
    for (let i = 0; i < MAX_SPAN_EVENTS + 500; i++) c.add(ev(++seq, i, "ring.baking", { ring: "canary", traffic: 5, until: "x" }, { rollout: "r1" }));
    c.add(ev(++seq, 9000, "note.added", { text: "still here" }, { actor: human("alice", "operator"), command: "n1" }));
    c.add(ev(++seq, 9001, "rollout.rolled_back", { fromVersion: "2", toVersion: "1", scope: ["canary"], automatic: true }, { rollout: "r1" }));
    expect(c.spanEvents.length).toBe(MAX_SPAN_EVENTS + 2);
    expect(c.spanEventsDropped).toBe(500);
    expect(c.spanEvents.map((k) => k.event.type).slice(-2)).toEqual(["note.added", "rollout.rolled_back"]);
    const d = buildDraft(c);
    expect(d.warnings.join(" ")).toContain(`after the first ${MAX_SPAN_EVENTS}`);
    expect(d.warnings.join(" ")).toContain("500 routine events left out");
  });

  it("keeps only the last PRE_SPAN_EVENTS events of the run-up, plus the rollout's context", () => {
    // The context falls inside the sample look-back, and 1000 later events would push it out of the buffer.
    const c = new IncidentCollector(scope({ fromMs: T0 + 10_000_000, sampleFromMs: T0 }));
    let seq = 0;
    c.add(ev(++seq, 0, "rollout.created", PLAN, { rollout: "r1" }));
    c.add(ev(++seq, 0, "ring.started", { ring: "canary", traffic: 5 }, { rollout: "r1", ring: "canary" }));
    for (let i = 0; i < 1000; i++) c.add(ev(++seq, 2 + i, "note.added", { text: `n${i}` }, { actor: human("a", "operator") }));
    const runUp = c.runUp();
    expect(runUp.length).toBe(PRE_SPAN_EVENTS + 2);
    expect(runUp.slice(0, 2).map((k) => k.event.type)).toEqual(["rollout.created", "ring.started"]);
    expect((runUp[runUp.length - 1]!.event.data as { text: string }).text).toBe("n999");
  });
});

describe("IncidentCollector keeps to its span", () => {
  it("ignores other tenants, other incidents and events after the first pass's last seq", () => {
    const c = new IncidentCollector(scope({ incidentId: "inc-1", lastSeq: 4 }));
    c.add(ev(1, 1, "note.added", { text: "ours" }, { incident: "inc-1", actor: human("a", "operator") }));
    c.add(ev(2, 2, "note.added", { text: "theirs" }, { tenant: "retail", actor: human("r", "operator") }));
    c.add(ev(3, 3, "note.added", { text: "other incident" }, { incident: "inc-2", actor: human("a", "operator") }));
    c.add(ev(4, 4, "note.added", { text: "no incident" }, { actor: human("a", "operator") }));
    c.add(ev(5, 5, "note.added", { text: "too late" }, { actor: human("a", "operator") }));
    expect(c.spanEvents.map((k) => (k.event.data as { text: string }).text)).toEqual(["ours", "no incident"]);
    expect(c.people.names()).not.toContain("r");
  });

  it("reads only the involved rollouts' samples", () => {
    const c = new IncidentCollector(scope({ rollouts: ["r1"] }));
    c.add(ev(1, 1, "sli.sample", { ring: "canary", metric: "m", value: 1, unit: "", baseline: 1 }, { rollout: "r1" }));
    c.add(ev(2, 1, "sli.sample", { ring: "canary", metric: "m", value: 1, unit: "", baseline: 1 }, { rollout: "r2" }));
    expect(c.samplesRead).toBe(1);
  });
});

describe("cleanEvent", () => {
  it("sanitizes control sequences and redacts secrets before anything is kept", () => {
    const e = ev(1, 1, "note.added", { text: "\u001b]52;c;AAAA\u0007 paste: DB_PASSWORD=hunter2\nline two" }, { actor: human("a", "operator") });
    const clean = cleanEvent(e);
    const text = (clean.data as { text: string }).text;
    expect(text).not.toContain("\u001b");
    expect(text).toContain("␛]52;c;AAAA");
    expect(text).toContain("DB_PASSWORD=[REDACTED]");
    expect(text).toContain("\nline two");
    expect(clean.hash).toBe(e.hash);
  });
});

describe("error budget", () => {
  it("sums the budget spent between two times, weighted by the ring's share of traffic", async () => {
    const r = await draftFromEvents(slowBurnLog().events);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const row = r.draft.impact.budget.find((b) => b.metric === "error_rate")!;
    expect(row.objective).toBe(99.9);
    expect(row.objectiveSource).toContain("from the burn-rate alert");
    // From impact start (+20s) to mitigation (+380s): each reading holds until the next one
    // (every 10s), so 0.9% errors on 10% of traffic for the whole 360s.
    const badSeconds = ((0.9 * 0.1) / 100) * 360;
    const expected = (badSeconds / ((0.1 / 100) * THIRTY_DAYS_SECONDS)) * 100;
    expect(row.consumedPercent).toBeCloseTo(expected, 4);
  });

  it("assumes a 99.9% objective, and says so, when the log names none", async () => {
    const r = await draftFromEvents(canaryLatencyLog().events);
    if (!r.ok) throw new Error(r.message);
    const row = r.draft.impact.budget[0]!;
    expect(row.objective).toBe(99.9);
    expect(row.objectiveSource).toContain("assumed");
  });

  it("takes the budget's metric and objective from the plan when rollout.created carries them", async () => {
    const log = new LogBuilder();
    log.push(0, "rollout.created", { service: "web", version: "2", previousVersion: "1", kind: "code", rings: [{ name: "all", traffic: 100, bakeSeconds: 60, slos: ["bad_requests < 5%"] }], onBreach: "pause", errorBudget: { metric: "bad_requests", objective: 99.5 } }, { rollout: "web-2" });
    log.push(0, "ring.started", { ring: "all", traffic: 100 }, { rollout: "web-2", ring: "all" });
    for (let t = 10; t <= 100; t += 10) {
      log.sample(t, "web-2", "all", "bad_requests", t >= 30 ? 8 : 0.1, "%", 0.1);
      log.sample(t, "web-2", "all", "error_rate", 0.1, "%", 0.1); // error-like, but not the plan's budget metric
      if (t === 50) log.push(50, "slo.breached", { ring: "all", assertion: "bad_requests < 5%", value: 8, threshold: 5, consecutive: 3 }, { rollout: "web-2", ring: "all" });
    }
    const r = await draftFromEvents(log.events);
    if (!r.ok) throw new Error(r.message);
    expect(r.draft.impact.budget.map((b) => [b.metric, b.objective, b.objectiveSource])).toEqual([["bad_requests", 99.5, "objective from the rollout plan"]]);
  });

  it("budgetBetween counts nothing outside the range", () => {
    const c = new IncidentCollector(scope({ sampleToMs: T0 + 100_000 }));
    c.add(ev(1, 0, "ring.started", { ring: "g", traffic: 100 }, { rollout: "r" }));
    for (let t = 0; t <= 100; t += 10) c.add(ev(2 + t, t, "sli.sample", { ring: "g", metric: "error_rate", value: t < 50 ? 0 : 10, unit: "%", baseline: 0 }, { rollout: "r" }));
    const b = c.allSeries()[0]!.budget!;
    expect(budgetBetween(b, T0, T0 + 50_000)).toEqual({ badPercent: 0, seconds: 50 });
    expect(budgetBetween(b, T0 + 50_000, T0 + 100_000)).toEqual({ badPercent: 10, seconds: 50 });
  });
});
