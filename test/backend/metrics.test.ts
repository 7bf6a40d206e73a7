import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { afterEach, describe, expect, it, vi } from "vitest";
import { BackendMetrics, Histogram, Series } from "../../src/backend/metrics.js";
import { loadSetup, startBackend, type StartedBackend } from "../../src/backend/serve-cli.js";
import type { AckMsg } from "../../src/protocol/types.js";
import { TestClient } from "../support/processes.js";

// Real processes and sockets: generous per-test time on a loaded machine (no test asserts a duration).
vi.setConfig({ testTimeout: 30_000 });

// GET /metrics: the backend's own health in Prometheus's text format.

describe("metric rendering", () => {
  it("writes counters with escaped labels and histograms with cumulative buckets", () => {
    const s = new Series("x_total", "Things.", "counter", ["tenant"]);
    s.inc({ tenant: 'a"b\\c\nd' }, 2);
    s.inc({ tenant: "plain" });
    expect(s.render()).toBe('# HELP x_total Things.\n# TYPE x_total counter\nx_total{tenant="a\\"b\\\\c\\nd"} 2\nx_total{tenant="plain"} 1\n');
    const h = new Histogram("lat_seconds", "Latency.", [0.1, 1]);
    h.observe(0.05);
    h.observe(0.5);
    h.observe(3);
    expect(h.render()).toBe(
      [
        "# HELP lat_seconds Latency.",
        "# TYPE lat_seconds histogram",
        'lat_seconds_bucket{le="0.1"} 1',
        'lat_seconds_bucket{le="1"} 2',
        'lat_seconds_bucket{le="+Inf"} 3',
        "lat_seconds_sum 3.55",
        "lat_seconds_count 3",
        "",
      ].join("\n"),
    );
  });

  it("lists every tenant's clients and queues, zero when none are connected", () => {
    const m = new BackendMetrics();
    const text = m.render({
      tenants: ["payments", "search"],
      clients: [
        { tenant: "payments", queuedFrames: 3, queuedBytes: 300, bufferedBytes: 20 },
        { tenant: "payments", queuedFrames: 0, queuedBytes: 0, bufferedBytes: 0 },
        { tenant: null, queuedFrames: 1, queuedBytes: 50, bufferedBytes: 0 },
      ],
      headSeq: 42,
    });
    expect(text).toContain('cockpit_clients{tenant="payments"} 2\ncockpit_clients{tenant="search"} 0\n');
    expect(text).toContain('cockpit_send_queue_bytes{tenant="payments"} 320\n');
    expect(text).toContain('cockpit_send_queue_frames{tenant="payments"} 3\n');
    expect(text).toContain("cockpit_send_queue_max_bytes 320\n");
    expect(text).toContain("cockpit_eventlog_head_seq 42\n");
  });
});

describe("GET /metrics on a running backend", () => {
  let backend: StartedBackend | null = null;
  afterEach(async () => {
    await backend?.close();
    backend = null;
  });

  it("counts clients per tenant, events written, fsyncs and commands by action and result", async () => {
    backend = await startBackend({
      setup: await loadSetup({ scenario: "canary-latency" }),
      dataDir: mkdtempSync(join(tmpdir(), "cockpit-metrics-")),
      host: "127.0.0.1",
      port: 0,
      speed: 20,
      log: () => undefined,
    });
    const c = await TestClient.open(backend.server.url);
    await c.waitFor((m) => m.type === "event" && m.event.type === "ring.started");
    c.send({ type: "command", id: "p1", action: "pause", target: { rollout: "api-v408" } });
    await c.waitFor<AckMsg>((m) => m.type === "ack" && m.id === "p1");
    c.send({ type: "command", id: "p2", action: "pause", target: { rollout: "api-v408" } });
    await c.waitFor((m) => m.type === "reject" && m.id === "p2");

    const res = await request(`http://127.0.0.1:${backend.server.port}/metrics`);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.body.text();
    const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"+.]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1]);
    expect(value('cockpit_clients{tenant="payments"}')).toBe(1);
    expect(value('cockpit_events_written_total{tenant="payments"}')).toBeGreaterThan(3);
    expect(value("cockpit_eventlog_fsync_seconds_count")).toBeGreaterThan(0);
    expect(value('cockpit_eventlog_fsync_seconds_bucket{le="+Inf"}')).toBe(value("cockpit_eventlog_fsync_seconds_count"));
    expect(value('cockpit_commands_total{action="pause",result="ack"}')).toBe(1);
    expect(value('cockpit_commands_total{action="pause",result="invalid_state"}')).toBe(1);
    expect(value("cockpit_eventlog_head_seq")).toBe(backend.core.headSeq());
    expect(text).toMatch(/^cockpit_send_queue_bytes\{tenant="payments"\} \d+$/m);
    await c.close();
  });
});
