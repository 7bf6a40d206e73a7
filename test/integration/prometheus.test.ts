import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type StartedBackend } from "../../src/backend/serve-cli.js";
import { validatePlan } from "../../src/domain/plan.js";
import type { Plan } from "../../src/domain/plan-types.js";
import type { CockpitEvent } from "../../src/protocol/types.js";
import { startServe, TestClient, type ServeProcess } from "../support/processes.js";
import { binaryGate, freePort, getJson, startPrometheus, tempDir, TestExporter, waitUntil, type RealServer } from "./real-servers.js";

// Issue 5 end to end against a real Prometheus: a test exporter serves
// per-ring metrics, Prometheus scrapes it every second, and the backend reads
// the plan's PromQL through the HTTP API. A latency step in the canary becomes
// a real PromQL value, breaches the gate and pauses the rollout; metrics that
// stop (NaN) are "no data" and pause it too; Prometheus down holds the
// rollout, shows the source as failing, and it carries on when Prometheus is back.

const gate = binaryGate(["prometheus"]);

const P99 = 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{ring="{ring}"}[5s]))) * 1000';
const P99_BASELINE = 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{ring!="{ring}"}[5s]))) * 1000';
const ERRORS = 'sum(rate(http_request_errors_total{ring="{ring}"}[5s])) / sum(rate(http_requests_total{ring="{ring}"}[5s])) * 100';

function realPlan(rings: Array<{ name: string; traffic: number; bake: string; slos: string[] }>, slis: Record<string, unknown>): Plan {
  const r = validatePlan(
    {
      tenant: "payments",
      rollouts: [{ id: "api-v2", service: "api", version: "v2", previousVersion: "v1", kind: "code", breachAfter: 2, slis, rings }],
    },
    "test plan",
  );
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.plan;
}

function events(c: TestClient): CockpitEvent[] {
  return c.frames.flatMap((f) => (f.type === "event" ? [f.event] : []));
}

describe.skipIf(gate.skip)("SLIs from a real Prometheus", () => {
  const exporter = new TestExporter();
  let prometheus: RealServer | null = null;
  const backends: StartedBackend[] = [];
  const clients: TestClient[] = [];
  const processes: ServeProcess[] = [];

  beforeAll(async () => {
    if (gate.missingMessage) throw new Error(gate.missingMessage);
    exporter.setRing("canary", { latency: 0.03, requests: 100 });
    exporter.setRing("global", { latency: 0.03, requests: 1000 });
    // "dark" has series whose counters never move: every rate is 0, so the ratios are NaN.
    exporter.setRing("dark", { latency: 0.03, requests: 0 });
    await exporter.start();
    prometheus = await startPrometheus(gate.paths.prometheus!, { port: await freePort(), scrapeTargets: [exporter.target] });
    // Rates need two scrapes: wait until the canary's p99 is a number.
    await waitUntil(
      "a first p99 for the canary",
      async () => {
        const r = await getJson(`${prometheus!.url}/api/v1/query?query=${encodeURIComponent(P99.replace("{ring}", "canary"))}`);
        const result = (r.body as { data?: { result?: Array<{ value: [number, string] }> } }).data?.result ?? [];
        return result.length === 1 && Number.isFinite(Number(result[0]!.value[1]));
      },
      30_000,
    );
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    for (const b of backends) await b.close().catch(() => undefined);
    for (const p of processes) await p.stop("SIGTERM").catch(() => undefined);
    await prometheus?.stop();
    await exporter.stop();
  }, 30_000);

  async function serve(plan: Plan): Promise<{ backend: StartedBackend; client: TestClient }> {
    const backend = await startBackend({
      setup: { plans: [plan], scenario: null },
      dataDir: tempDir("prom-backend"),
      host: "127.0.0.1",
      port: 0,
      speed: 1,
      log: () => undefined,
      prometheus: { url: prometheus!.url, timeoutMs: 3000 },
      sampleEverySeconds: 1,
    });
    backends.push(backend);
    const client = await TestClient.open(backend.server.url);
    clients.push(client);
    return { backend, client };
  }

  it("turns a latency step in the canary's metrics into a real PromQL value that breaches the gate and pauses the rollout", async () => {
    const plan = realPlan(
      [
        { name: "canary", traffic: 5, bake: "10m", slos: ["p99_latency_ms < 80 for 3s", "p99_latency_ms < baseline * 3"] },
        { name: "global", traffic: 100, bake: "10m", slos: [] },
      ],
      { p99_latency_ms: { query: P99, baseline: P99_BASELINE, unit: "ms" } },
    );
    const { client } = await serve(plan);

    // Healthy first: all requests in the 25-50 ms bucket, so PromQL's p99 interpolates to 49.75 ms.
    const healthy = await client.waitFor(
      (m) => m.type === "event" && m.event.type === "sli.sample" && m.event.ring === "canary" && typeof (m.event.data as { value: unknown }).value === "number",
      15_000,
    );
    const hv = (healthy as { event: CockpitEvent<"sli.sample"> }).event.data;
    expect(hv.metric).toBe("p99_latency_ms");
    expect(hv.unit).toBe("ms");
    expect(hv.value!).toBeCloseTo(49.75, 1);
    expect(hv.baseline!).toBeCloseTo(49.75, 1);
    expect(events(client).some((e) => e.type === "rollout.paused")).toBe(false);

    // The step: the canary's requests now take 200 ms (the 100-250 ms bucket).
    exporter.setRing("canary", { latency: 0.2 });
    const paused = await client.waitFor((m) => m.type === "event" && m.event.type === "rollout.paused", 20_000);
    const reason = ((paused as { event: CockpitEvent<"rollout.paused"> }).event.data).reason;
    expect(reason).toMatch(/^p99_latency_ms (< 80 for 3s|< baseline \* 3) breached in canary \(\d+(\.\d+)? > \d+(\.\d+)?\)$/);
    const breached = events(client).find((e) => e.type === "slo.breached") as CockpitEvent<"slo.breached">;
    expect(breached.ring).toBe("canary");
    expect(breached.data.value!).toBeGreaterThan(80);
    // The value the gate judged is one Prometheus computed: the 100-250 ms bucket's interpolation.
    const high = events(client)
      .filter((e): e is CockpitEvent<"sli.sample"> => e.type === "sli.sample")
      .filter((e) => e.ring === "canary" && (e.data.value ?? 0) > 80);
    expect(high.length).toBeGreaterThanOrEqual(2);
    for (const s of high) expect(s.data.value!).toBeLessThanOrEqual(250);
    expect(events(client).some((e) => e.type === "alert.firing" && e.ring === "canary")).toBe(true);
    expect(events(client).some((e) => e.type === "ring.completed")).toBe(false);
    exporter.setRing("canary", { latency: 0.03 });
  }, 60_000);

  it("reads NaN as no data, shows it as such, and pauses with a reason that says so", async () => {
    const plan = realPlan(
      [{ name: "dark", traffic: 5, bake: "10m", slos: ["error_rate < 1% for 3s"] }],
      { error_rate: { query: ERRORS, unit: "%" } },
    );
    const { client } = await serve(plan);
    const sample = await client.waitFor((m) => m.type === "event" && m.event.type === "sli.sample" && m.event.ring === "dark", 15_000);
    expect((sample as { event: CockpitEvent<"sli.sample"> }).event.data.value).toBeNull();
    const paused = await client.waitFor((m) => m.type === "event" && m.event.type === "rollout.paused", 20_000);
    expect((paused as { event: CockpitEvent<"rollout.paused"> }).event.data.reason).toBe(
      "error_rate < 1% for 3s breached in dark (no data for 3s: the SLI source returned nothing for this ring)",
    );
    const breached = events(client).find((e) => e.type === "slo.breached") as CockpitEvent<"slo.breached">;
    expect(breached.data.value).toBeNull();
  }, 60_000);

  it("holds the rollout while Prometheus is down, shows the source failing, and carries on once it is back (cockpit serve --prometheus)", async () => {
    const port = await freePort();
    const dir = tempDir("prom-serve");
    const planFile = join(dir, "plan.json");
    writeFileSync(
      planFile,
      JSON.stringify({
        tenant: "payments",
        rollouts: [
          {
            id: "api-v2",
            service: "api",
            version: "v2",
            previousVersion: "v1",
            kind: "code",
            slis: { p99_latency_ms: { query: 'max(app_latency_p99_ms{ring="{ring}"})', unit: "ms" } },
            rings: [
              // "for 12s": a freshly started Prometheus answers "no data" for a few seconds (its first
              // scrape waits for target discovery); that must not breach here, only hold.
              { name: "canary", traffic: 5, bake: "2s", slos: ["p99_latency_ms < 80 for 12s"] },
              { name: "global", traffic: 100, bake: "10m", slos: ["p99_latency_ms < 80 for 12s"] },
            ],
          },
        ],
      }),
    );
    const serve = await startServe(["--plan", planFile, "--prometheus", `http://127.0.0.1:${port}`, "--sample-every", "1", "--prometheus-timeout", "1", "--port", "0", "--data-dir", join(dir, "data")]);
    processes.push(serve);
    const client = await TestClient.open(serve.url);
    clients.push(client);

    const degraded = await client.waitFor((m) => m.type === "event" && m.event.type === "source.degraded", 15_000);
    const d = (degraded as { event: CockpitEvent<"source.degraded"> }).event;
    expect(d.data.source).toBe("prometheus");
    expect(d.data.message).toBe(`cannot reach Prometheus at http://127.0.0.1:${port}/api/v1/query (connection refused): is it running, and is the URL right?`);
    await client.waitFor((m) => m.type === "event" && m.event.type === "ring.started" && m.event.ring === "canary", 10_000);

    // The canary's 2 s bake passes with no evidence at all: it must not complete.
    await new Promise((r) => setTimeout(r, 5000));
    expect(events(client).filter((e) => e.type === "ring.completed")).toEqual([]);
    expect(events(client).filter((e) => e.type === "sli.sample")).toEqual([]);
    expect(events(client).filter((e) => e.type === "rollout.paused")).toEqual([]);

    const second = await startPrometheus(gate.paths.prometheus!, { port, scrapeTargets: [exporter.target] });
    try {
      const recovered = await client.waitFor((m) => m.type === "event" && m.event.type === "source.recovered", 20_000);
      expect((recovered as { event: CockpitEvent<"source.recovered"> }).event.data.message).toMatch(/^prometheus answers again after \d+s$/);
      const completed = await client.waitFor((m) => m.type === "event" && m.event.type === "ring.completed" && m.event.ring === "canary", 40_000);
      const at = Date.parse((completed as { event: CockpitEvent }).event.time);
      // Promotion came only after a full window (12 s) of fresh readings with data.
      const withData = events(client).filter((e) => e.type === "sli.sample" && e.ring === "canary" && (e as CockpitEvent<"sli.sample">).data.value !== null);
      expect(withData.length).toBeGreaterThanOrEqual(12);
      expect((withData[0] as CockpitEvent<"sli.sample">).data.value).toBe(30);
      expect(at - Date.parse(withData[0]!.time)).toBeGreaterThanOrEqual(12_000);
      expect(events(client).some((e) => e.type === "rollout.paused")).toBe(false);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
