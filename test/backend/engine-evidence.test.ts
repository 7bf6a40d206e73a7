import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { BackendCore } from "../../src/backend/core.js";
import type { SampleReading } from "../../src/backend/engine.js";
import { SourceReadError, type Exposure, type SliSource, type SourceHealth } from "../../src/backend/sli-source.js";
import { validatePlan } from "../../src/domain/plan.js";
import type { CockpitEvent } from "../../src/protocol/types.js";

// Real processes and sockets: generous per-test time on a loaded machine (no test asserts a duration).
vi.setConfig({ testTimeout: 30_000 });

// No promotion on missing evidence (issue 5): a ring completes only when each
// of its gates has had an unbroken run of readings with data as long as the
// gate itself needs; a source that cannot answer holds the rollout and is
// reported (once) as failing, then as recovered; "no data" readings breach
// with a reason that says so.

const START = Date.parse("2026-11-21T14:00:00.000Z");

/** A source whose answer at each time the test decides: a value, null (no data), or "down". */
class ScriptedSource implements SliSource {
  readonly name = "prometheus";
  constructor(private readonly answer: (t: number) => number | null | "down" | "bad-query") {}
  async read(exposures: readonly Exposure[], t: number): Promise<SampleReading[]> {
    const a = this.answer(t);
    if (a === "down") throw new SourceReadError("cannot reach Prometheus at http://prom:9090 (connection refused): is it running?", "refused");
    if (a === "bad-query") throw new SourceReadError("Prometheus answered 400 bad_data: parse error (SLI p99_latency_ms in canary)", "http 400 p99_latency_ms");
    return exposures.map((e) => ({ rollout: e.rollout, ring: e.ring, metric: "p99_latency_ms", value: a, unit: "ms", baseline: null }));
  }
  health(): SourceHealth {
    return { name: this.name, ok: true };
  }
}

async function run(answer: (sec: number) => number | null | "down" | "bad-query", seconds: number, slo = "p99_latency_ms < 50 for 10s") {
  const plan = validatePlan(
    {
      tenant: "payments",
      rollouts: [
        {
          id: "api-v2",
          service: "api",
          version: "v2",
          previousVersion: "v1",
          kind: "code",
          rings: [
            { name: "canary", traffic: 5, bake: "20s", slos: [slo] },
            { name: "global", traffic: 100, bake: "1h", slos: [slo] },
          ],
        },
      ],
    },
    "plan",
  );
  if (!plan.ok) throw new Error(plan.errors.join("\n"));
  const core = await BackendCore.open({
    dataDir: mkdtempSync(join(tmpdir(), "cockpit-evidence-")),
    plans: [plan.plan],
    fleet: null,
    sources: [new ScriptedSource((t) => answer((t - START) / 1000))],
    sampleEverySeconds: 1,
    seed: 1,
    burnWindowScale: 1,
    speed: 1,
    startTime: START,
  });
  const events: CockpitEvent[] = [];
  core.subscribe((b) => events.push(...b));
  await core.runUntil(START + seconds * 1000);
  await core.close();
  const at = (e: CockpitEvent) => (Date.parse(e.time) - START) / 1000;
  return { events, at, of: (type: string) => events.filter((e) => e.type === type) };
}

describe("no promotion on missing evidence", () => {
  it("completes a ring with steady data when its bake ends (the simulated case is unchanged)", async () => {
    const r = await run(() => 30, 25);
    expect(r.of("ring.completed").map((e) => [e.ring, r.at(e)])).toEqual([["canary", 20]]);
  });

  it("holds a ring while its source is down, reports the source failing once, and promotes after a full window of fresh data", async () => {
    // Down from 5 s to 40 s: the 20 s bake ends inside the outage.
    const r = await run((s) => (s >= 5 && s < 40 ? "down" : 30), 70);
    const degraded = r.of("source.degraded");
    expect(degraded).toHaveLength(1);
    expect(r.at(degraded[0]!)).toBe(5);
    expect(degraded[0]!.data).toEqual({ source: "prometheus", message: "cannot reach Prometheus at http://prom:9090 (connection refused): is it running?" });
    expect(degraded[0]!.actor).toEqual({ kind: "integration", name: "prometheus" });
    const recovered = r.of("source.recovered");
    expect(recovered.map((e) => [r.at(e), e.data])).toEqual([[40, { source: "prometheus", message: "prometheus answers again after 35s" }]]);
    // Data again from 40 s; the gate needs 10 s of it: the canary completes at 50 s, not at 40 s.
    expect(r.of("ring.completed").map((e) => [e.ring, r.at(e)])).toEqual([["canary", 50]]);
    expect(r.of("sli.sample").filter((e) => r.at(e) >= 5 && r.at(e) < 40)).toEqual([]);
    expect(r.of("rollout.paused")).toEqual([]);
  });

  it("reports a different failure again (a bad query after an outage), but not the same one twice", async () => {
    const r = await run((s) => (s < 10 ? "down" : s < 20 ? "bad-query" : 30), 25);
    expect(r.of("source.degraded").map((e) => [r.at(e), (e.data as { message: string }).message])).toEqual([
      [1, "cannot reach Prometheus at http://prom:9090 (connection refused): is it running?"],
      [10, "Prometheus answered 400 bad_data: parse error (SLI p99_latency_ms in canary)"],
    ]);
    expect(r.of("source.recovered").map((e) => r.at(e))).toEqual([20]);
  });

  it("tolerates one missed reading but not two in a row", async () => {
    const once = await run((s) => (s === 12 ? "down" : 30), 25);
    expect(once.of("ring.completed").map((e) => [e.ring, once.at(e)])).toEqual([["canary", 20]]);
    const twice = await run((s) => (s === 12 || s === 13 ? "down" : 30), 30);
    // The run of data restarts at 14 s: 10 s later, at 24 s, the canary may complete.
    expect(twice.of("ring.completed").map((e) => [e.ring, twice.at(e)])).toEqual([["canary", 24]]);
  });

  it("counts readings for gates without a window: as many as the gate needs to breach (breachAfter)", async () => {
    const r = await run((s) => (s >= 18 && s < 20 ? null : 30), 30, "p99_latency_ms < 50");
    // A no-data reading at 18-19 s breaks the run; 3 readings with data (20, 21, 22) are needed again.
    expect(r.of("ring.completed").map((e) => [e.ring, r.at(e)])).toEqual([["canary", 22]]);
  });
});

describe("no data is not green", () => {
  it("breaches a gate whose SLI has no data for its window and pauses with a reason saying so", async () => {
    const r = await run((s) => (s < 4 ? 30 : null), 20);
    const paused = r.of("rollout.paused");
    expect(paused).toHaveLength(1);
    expect(paused[0]!.data).toEqual({
      reason: "p99_latency_ms < 50 for 10s breached in canary (no data for 10s: the SLI source returned nothing for this ring)",
      automatic: true,
    });
    expect(r.at(paused[0]!)).toBe(14);
    const samples = r.of("sli.sample").filter((e) => r.at(e) >= 4);
    expect(samples.every((e) => (e.data as { value: unknown }).value === null)).toBe(true);
    expect(r.of("ring.completed")).toEqual([]);
  });

  it("says how many checks came back empty for a gate without a window", async () => {
    const r = await run(() => null, 10, "p99_latency_ms < 50");
    expect((r.of("rollout.paused")[0]!.data as { reason: string }).reason).toBe(
      "p99_latency_ms < 50 breached in canary (no data in 3 checks in a row: the SLI source returned nothing for this ring)",
    );
  });
});
