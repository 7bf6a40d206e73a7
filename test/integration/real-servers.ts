import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants, mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { request } from "undici";

// Real Prometheus and Alertmanager binaries for the integration tests, started
// on loopback with configs the test writes, and a test exporter serving
// per-ring metrics that a test can step. Nothing here is mocked: the values
// the backend reads went through Prometheus's scrape, TSDB and PromQL.

/** CI=true (as .ci/run's machine sets it): a missing binary fails the tests instead of skipping them. */
import { IN_CI } from "../support/ci.js";
export { IN_CI };

/** The binary's path: on PATH, or where Debian's packages put it. */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/local/bin", "/usr/sbin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Which of `names` are missing, and whether the suite should skip (locally)
 * rather than fail (in CI). Prints the missing binary's name when skipping.
 */
export function binaryGate(names: string[], inCi: boolean = IN_CI): { paths: Record<string, string>; skip: boolean; missingMessage: string | null } {
  const paths: Record<string, string> = {};
  const missing: string[] = [];
  for (const n of names) {
    const p = findBinary(n);
    if (p) paths[n] = p;
    else missing.push(n);
  }
  if (missing.length === 0) return { paths, skip: false, missingMessage: null };
  const message = `missing binary ${missing.join(", ")}: install with \`apt-get install -y prometheus prometheus-alertmanager\` (.ci/run does)`;
  if (!inCi) console.warn(`[integration] skipping: ${message}`);
  return { paths, skip: !inCi, missingMessage: message };
}

export async function freePort(): Promise<number> {
  const srv = createNetServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `cockpit-${prefix}-`));
}

export async function waitUntil<T>(what: string, probe: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 20_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null && v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await request(url, { signal: AbortSignal.timeout(3000) });
  const text = await res.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.statusCode, body };
}

export async function postJson(url: string, json: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const res = await request(url, { method: "POST", body: JSON.stringify(json), headers: { "content-type": "application/json", ...headers }, signal: AbortSignal.timeout(3000) });
  const text = await res.body.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep text
  }
  return { status: res.statusCode, body };
}

export interface RealServer {
  url: string;
  port: number;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

async function startBinary(bin: string, args: string[], port: number, what: string): Promise<RealServer> {
  const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const server: RealServer = {
    url,
    port,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const exited = once(child, "exit");
      const t = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
  try {
    await waitUntil(`${what} on ${url}/-/ready`, async () => {
      if (child.exitCode !== null) throw new Error(`${what} exited ${child.exitCode}:\n${output.slice(-2000)}`);
      return (await getJson(`${url}/-/ready`)).status === 200;
    }, 30_000);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

export async function startPrometheus(bin: string, o: { port: number; scrapeTargets: string[]; dir?: string }): Promise<RealServer> {
  const dir = o.dir ?? tempDir("prometheus");
  const config = [
    "global:",
    "  scrape_interval: 1s",
    "  evaluation_interval: 1s",
    "scrape_configs:",
    "  - job_name: app",
    "    scrape_interval: 1s",
    "    scrape_timeout: 900ms",
    "    static_configs:",
    `      - targets: [${o.scrapeTargets.map((t) => `"${t}"`).join(", ")}]`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "prometheus.yml"), config);
  return startBinary(
    bin,
    [
      `--config.file=${join(dir, "prometheus.yml")}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${o.port}`,
      "--log.level=warn",
    ],
    o.port,
    "prometheus",
  );
}

export async function startAlertmanager(bin: string, o: { port: number; webhooks: Array<{ url: string; bearer: string }>; dir?: string }): Promise<RealServer> {
  const dir = o.dir ?? tempDir("alertmanager");
  const lines = [
    "route:",
    "  receiver: cockpit",
    "  group_by: ['alertname']",
    "  group_wait: 1s",
    "  group_interval: 1s",
    "  repeat_interval: 1h",
    "receivers:",
    "  - name: cockpit",
  ];
  if (o.webhooks.length > 0) {
    lines.push("    webhook_configs:");
    for (const w of o.webhooks) {
      lines.push(`      - url: "${w.url}"`, "        send_resolved: true", "        http_config:", "          authorization:", "            type: Bearer", `            credentials: "${w.bearer}"`);
    }
  }
  writeFileSync(join(dir, "alertmanager.yml"), lines.join("\n") + "\n");
  return startBinary(
    bin,
    [
      `--config.file=${join(dir, "alertmanager.yml")}`,
      `--storage.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${o.port}`,
      "--cluster.listen-address=",
      "--log.level=warn",
    ],
    o.port,
    "alertmanager",
  );
}

// ---- the test exporter ------------------------------------------------------------------

const BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

interface RingTraffic {
  /** every request this scrape takes this long, seconds */
  latency: number;
  /** requests counted per scrape (0: the counters stand still, so rates are 0 and ratios NaN) */
  requests: number;
  errors: number;
  buckets: number[];
  count: number;
  sum: number;
  errorsTotal: number;
}

/**
 * An application's /metrics, one series set per ring: a request-latency
 * histogram, request and error counters, and a p99 gauge. Each scrape counts
 * `requests` more requests at the ring's current latency, so a step in
 * latency shows up in rate() within a scrape or two.
 */
export class TestExporter {
  private readonly rings = new Map<string, RingTraffic>();
  private server: Server | null = null;
  port = 0;
  scrapes = 0;

  setRing(ring: string, o: { latency?: number; requests?: number; errors?: number }): void {
    const r = this.rings.get(ring) ?? { latency: 0.03, requests: 100, errors: 0, buckets: BUCKETS.map(() => 0), count: 0, sum: 0, errorsTotal: 0 };
    if (o.latency !== undefined) r.latency = o.latency;
    if (o.requests !== undefined) r.requests = o.requests;
    if (o.errors !== undefined) r.errors = o.errors;
    this.rings.set(ring, r);
  }

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  private render(): string {
    this.scrapes++;
    const lines = [
      "# TYPE http_request_duration_seconds histogram",
    ];
    for (const [ring, r] of this.rings) {
      BUCKETS.forEach((le, i) => {
        if (r.latency <= le) r.buckets[i]! += r.requests;
      });
      r.count += r.requests;
      r.sum += r.requests * r.latency;
      r.errorsTotal += r.errors;
      BUCKETS.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{ring="${ring}",le="${le}"} ${r.buckets[i]}`));
      lines.push(`http_request_duration_seconds_bucket{ring="${ring}",le="+Inf"} ${r.count}`);
      lines.push(`http_request_duration_seconds_sum{ring="${ring}"} ${r.sum}`);
      lines.push(`http_request_duration_seconds_count{ring="${ring}"} ${r.count}`);
    }
    lines.push("# TYPE http_requests_total counter");
    for (const [ring, r] of this.rings) lines.push(`http_requests_total{ring="${ring}"} ${r.count}`);
    lines.push("# TYPE http_request_errors_total counter");
    for (const [ring, r] of this.rings) lines.push(`http_request_errors_total{ring="${ring}"} ${r.errorsTotal}`);
    lines.push("# TYPE app_latency_p99_ms gauge");
    for (const [ring, r] of this.rings) lines.push(`app_latency_p99_ms{ring="${ring}"} ${r.latency * 1000}`);
    return lines.join("\n") + "\n";
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url !== "/metrics") {
        res.writeHead(404).end();
        return;
      }
      const body = this.render();
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(body);
    });
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.port = (this.server.address() as { port: number }).port;
  }

  async stop(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
