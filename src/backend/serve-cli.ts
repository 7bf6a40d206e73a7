import { mkdir, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseCommandArgs, type CommandIo } from "../cli-args.js";
import { parseAssertion } from "../domain/assertion.js";
import { isWebhookSpec, type CommandSpec, type Plan } from "../domain/plan-types.js";
import type { Scenario } from "../domain/scenario-types.js";
import { VERSION } from "../version.js";
import { CommandRunner, type Actuator } from "./actuators/runner.js";
import { BackendCore, DEFAULT_METRICS } from "./core.js";
import { DataDirBusyError } from "./data-dir-lock.js";
import { LogCorruptError } from "./eventlog.js";
import { BackendMetrics, metricsRoute } from "./metrics.js";
import { ConfigError, listScenarios, loadPlan, loadScenario } from "./scenarios.js";
import { startServer, type RunningServer } from "./server.js";
import { AlertmanagerClient, alertmanagerWebhookRoute } from "./sources/alertmanager.js";
import { safeUrl } from "./sources/http.js";
import { PrometheusSource } from "./sources/prometheus.js";
import { loadTokens } from "./tokens.js";

export const SERVE_HELP = `Usage: cockpit serve (--scenario NAME | --plan FILE) [options]

Run the reference rollout backend: the engine, the event log and the
WebSocket server. Prints the ws:// URL it listens on as its first line.

Options:
  --scenario NAME|FILE  a simulated incident (bundled: ${listScenarios().join(", ")})
  --plan FILE           a rollout plan (JSON) served with a healthy simulated fleet
  --data-dir DIR        where the event log lives (default ./cockpit-data)
  --port P              TCP port (default 7420; 0 picks a free one)
  --host H              address to listen on (default 127.0.0.1)
  --speed N             simulated seconds per real second (default: the scenario's)
  --seed S              random seed of the simulated fleet (default: the scenario's)
  --tokens FILE         token file (see docs/operations.md); required off loopback
  --tls-cert FILE       PEM certificate: serve wss:// (with --tls-key)
  --tls-key FILE        PEM private key for --tls-cert

Real backends (see docs/operations.md):
  --prometheus URL      read the plan's SLIs (its "slis" queries) from Prometheus
                        instead of the simulated fleet; needs --plan
  --prometheus-timeout S  seconds each query may take (default 5)
  --sample-every S      seconds between SLI readings with --prometheus (default 5)
  --alertmanager URL    poll Alertmanager's alerts; acks create silences when
                        the plan asks ("alertmanager": {"silenceOnAck": "2h"})
  --alertmanager-poll S seconds between polls (default 10)
  --alertmanager-secret-file FILE
                        shared secret Alertmanager may send as its bearer token
                        to POST /v1/alertmanager (else: an operator token)
  --command-timeout S   seconds a plan command may run without its own
                        timeoutSeconds (default 120)
  -h, --help            show this help

The plan's apply/rollback/engage/release commands run for real, without a
shell unless the plan asks for one. GET /metrics serves the backend's metrics.

SIGTERM or Ctrl+C shuts down cleanly: clients are told 1001 and the log is flushed.
Exit codes: 0 clean shutdown, 2 bad arguments or config, 3 damaged event log,
4 data dir in use by another backend, 1 other failure.`;

export interface BackendSetup {
  plans: Plan[];
  scenario: Scenario | null;
}

export async function loadSetup(values: { scenario?: string | undefined; plan?: string | undefined }): Promise<BackendSetup> {
  if (values.scenario && values.plan) throw new ConfigError("give --scenario or --plan, not both");
  if (values.scenario) {
    const scenario = await loadScenario(values.scenario);
    return { plans: [scenario.plan], scenario };
  }
  if (values.plan) return { plans: [await loadPlan(values.plan)], scenario: null };
  throw new ConfigError(`give --scenario NAME (one of ${listScenarios().join(", ")}) or --plan FILE`);
}

/** Metrics the simulated fleet can produce when a plan is served without a scenario. */
function fleetMetricsOf(setup: BackendSetup): string[] {
  return Object.keys(setup.scenario?.metrics ?? DEFAULT_METRICS);
}

function planCommands(plan: Plan): CommandSpec[] {
  const out: CommandSpec[] = [];
  for (const r of plan.rollouts) {
    for (const g of r.rings) out.push(...[g.apply, g.rollback].filter((c): c is CommandSpec => c !== undefined));
    if (r.killSwitch) out.push(...[r.killSwitch.engage, r.killSwitch.release].filter((c): c is CommandSpec => c !== undefined));
  }
  return out;
}

/**
 * Refuse at start what would otherwise hold a rollout forever or fail at the
 * worst moment: a gate no source can feed, a webhook whose secret is missing.
 */
export function checkSetup(setup: BackendSetup, o: { prometheus: boolean; env?: NodeJS.ProcessEnv }): void {
  const env = o.env ?? process.env;
  const problems: string[] = [];
  for (const plan of setup.plans) {
    for (const r of plan.rollouts) {
      const metrics = new Set<string>();
      for (const g of r.rings) for (const text of g.slos) {
        const parsed = parseAssertion(text);
        if (parsed.ok) metrics.add(parsed.assertion.metric);
      }
      if (r.errorBudget) metrics.add(r.errorBudget.metric);
      if (o.prometheus) {
        const missing = [...metrics].filter((m) => !r.slis?.[m]);
        if (missing.length > 0) problems.push(`rollout ${r.id}: no PromQL for ${missing.join(", ")}; add "slis" to the plan (see docs/operations.md)`);
      } else {
        const known = fleetMetricsOf(setup);
        const missing = [...metrics].filter((m) => !known.includes(m));
        if (missing.length > 0) {
          problems.push(`rollout ${r.id}: the simulated fleet models ${known.join(", ")}, not ${missing.join(", ")}; serve with --prometheus to read real SLIs`);
        }
      }
    }
    for (const spec of planCommands(plan)) {
      if (isWebhookSpec(spec) && !env[spec.secretEnv]) problems.push(`webhook ${spec.webhook}: environment variable ${spec.secretEnv} (its HMAC secret) is not set`);
    }
  }
  if (o.prometheus && setup.scenario) problems.push("--prometheus reads a real service's SLIs: give --plan FILE, not --scenario");
  if (problems.length > 0) throw new ConfigError(`cannot serve this plan:\n  ${[...new Set(problems)].join("\n  ")}`);
}

export interface StartedBackend {
  core: BackendCore;
  server: RunningServer;
  close(): Promise<void>;
}

/** Open the log, start the engine and the server. Shared by `serve` and `demo`. */
export async function startBackend(o: {
  setup: BackendSetup;
  dataDir: string;
  host: string;
  port: number;
  speed?: number;
  seed?: number;
  tokensPath?: string;
  tls?: { cert: string; key: string };
  log: (line: string) => void;
  /** read SLIs from Prometheus instead of the simulated fleet */
  prometheus?: { url: string; timeoutMs?: number };
  /** seconds between SLI readings with Prometheus (default 5) */
  sampleEverySeconds?: number;
  alertmanager?: { url: string; pollMs?: number; timeoutMs?: number };
  /** shared secret accepted as the bearer token of POST /v1/alertmanager */
  webhookSecret?: string | null;
  /** for plan commands without timeoutSeconds (default 120) */
  commandTimeoutSeconds?: number;
  /** test seam: what runs the plan's commands */
  actuator?: Actuator;
}): Promise<StartedBackend> {
  const { scenario, plans } = o.setup;
  checkSetup(o.setup, { prometheus: o.prometheus !== undefined });
  await mkdir(o.dataDir, { recursive: true });
  const metrics = new BackendMetrics();
  const prometheus = o.prometheus ? new PrometheusSource(plans, { url: o.prometheus.url, ...(o.prometheus.timeoutMs ? { timeoutMs: o.prometheus.timeoutMs } : {}) }) : null;
  const alertmanager = o.alertmanager ? new AlertmanagerClient(o.alertmanager.url, o.alertmanager.timeoutMs ? { timeoutMs: o.alertmanager.timeoutMs } : {}) : null;
  const core = await BackendCore.open({
    dataDir: o.dataDir,
    plans,
    // With Prometheus the SLIs are the real ones: no simulated fleet alongside.
    fleet: prometheus
      ? null
      : {
          metrics: scenario?.metrics ?? DEFAULT_METRICS,
          effects: scenario?.effects ?? [],
          recoverySeconds: scenario?.recoverySeconds ?? 30,
          sampleEverySeconds: scenario?.sampleEverySeconds ?? 5,
        },
    sources: prometheus ? [prometheus] : [],
    ...(o.sampleEverySeconds !== undefined ? { sampleEverySeconds: o.sampleEverySeconds } : {}),
    script: scenario?.script ?? [],
    seed: o.seed ?? scenario?.seed ?? 1,
    burnWindowScale: scenario?.burnWindowScale ?? 1,
    speed: o.speed ?? scenario?.speed ?? 1,
    log: o.log,
    actuator: o.actuator ?? new CommandRunner({ defaultTimeoutSeconds: o.commandTimeoutSeconds ?? 120 }),
    alertmanager,
    ...(o.alertmanager?.pollMs ? { alertPollMs: o.alertmanager.pollMs } : {}),
    metrics,
  });
  const rec = core.recovery;
  if (rec?.staleLock) o.log(`data dir: took over the lock of pid ${rec.staleLock.pid} (since ${rec.staleLock.since}), which is no longer running`);
  if (rec && rec.truncatedBytes > 0) {
    o.log(`event log: cut a torn last line (${rec.truncatedBytes} bytes: ${rec.tornReason ?? "incomplete"}); continuing from seq ${rec.headSeq}`);
  }
  let server: RunningServer | undefined;
  try {
    const tokens = o.tokensPath ? await loadTokens(o.tokensPath) : null;
    const routes = [
      metricsRoute(() => metrics.render({ tenants: core.tenants(), clients: server?.stats() ?? [], headSeq: core.headSeq() })),
      alertmanagerWebhookRoute({
        tokens,
        sharedSecret: o.webhookSecret ?? null,
        tenants: () => core.tenants(),
        ingest: (tenant, alerts) => core.ingestAlerts(tenant, alerts, false),
        log: o.log,
      }),
    ];
    server = await startServer({
      backend: core,
      host: o.host,
      port: o.port,
      tokens,
      serverName: `rollout-cockpit/${VERSION}`,
      log: o.log,
      routes,
      ...(o.tls ? { tls: o.tls } : {}),
    });
  } catch (err) {
    await core.close();
    throw err;
  }
  core.start();
  const running = server;
  return {
    core,
    server: running,
    async close() {
      await running.close(1001);
      await core.close();
    },
  };
}

async function readTls(certPath: string | undefined, keyPath: string | undefined): Promise<{ cert: string; key: string } | undefined> {
  if (!certPath && !keyPath) return undefined;
  if (!certPath || !keyPath) throw new ConfigError("--tls-cert and --tls-key go together: give both PEM files to serve wss://");
  const read = async (path: string, what: string) => {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      throw new ConfigError(`cannot read ${what} ${path}: ${(err as Error).message}`);
    }
  };
  return { cert: await read(certPath, "--tls-cert"), key: await read(keyPath, "--tls-key") };
}

async function readSecretFile(path: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read --alertmanager-secret-file ${path}: ${(err as Error).message}`);
  }
  const secret = text.trim();
  if (secret.length < 16) throw new ConfigError(`--alertmanager-secret-file ${path}: the secret must be at least 16 characters (e.g. openssl rand -hex 32)`);
  return secret;
}

/** --prometheus, --alertmanager and friends, checked. */
async function readRealBackends(values: Record<string, string | boolean | undefined>): Promise<Partial<Parameters<typeof startBackend>[0]>> {
  const str = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const out: Partial<Parameters<typeof startBackend>[0]> = {};
  const promTimeout = parseNumber(str("prometheus-timeout"), "prometheus-timeout", 0.1);
  const sampleEvery = parseNumber(str("sample-every"), "sample-every", 0.1);
  const poll = parseNumber(str("alertmanager-poll"), "alertmanager-poll", 0.1);
  const commandTimeout = parseNumber(str("command-timeout"), "command-timeout", 0.1);
  const prom = str("prometheus");
  if (prom) out.prometheus = { url: prom, ...(promTimeout ? { timeoutMs: promTimeout * 1000 } : {}) };
  else if (promTimeout !== undefined || sampleEvery !== undefined) throw new ConfigError("--prometheus-timeout and --sample-every go with --prometheus URL");
  if (sampleEvery !== undefined) out.sampleEverySeconds = sampleEvery;
  const am = str("alertmanager");
  if (am) out.alertmanager = { url: am, ...(poll ? { pollMs: poll * 1000 } : {}) };
  else if (poll !== undefined) throw new ConfigError("--alertmanager-poll goes with --alertmanager URL");
  const secretFile = str("alertmanager-secret-file");
  if (secretFile) out.webhookSecret = await readSecretFile(secretFile);
  if (commandTimeout !== undefined) out.commandTimeoutSeconds = commandTimeout;
  for (const [flag, url] of [["--prometheus", prom], ["--alertmanager", am]] as const) {
    if (url === undefined) continue;
    try {
      const u = new URL(url);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
    } catch {
      throw new ConfigError(`${flag} ${url}: not an http(s) URL; give one like http://127.0.0.1:${flag === "--prometheus" ? 9090 : 9093}`);
    }
  }
  return out;
}

function parseNumber(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new ConfigError(`--${name} must be a number of at least ${min} (got "${v}")`);
  return n;
}

/**
 * The exit code when the backend cannot start, shared by serve and demo:
 * 2 bad arguments or config, 3 damaged event log, 4 data directory in use by
 * another backend, 1 anything else.
 */
export function startFailureExitCode(err: unknown): number {
  if (err instanceof LogCorruptError) return 3;
  if (err instanceof DataDirBusyError) return 4;
  const msg = err instanceof Error ? err.message : String(err);
  return err instanceof ConfigError || /EADDRINUSE|EACCES|loopback|token/i.test(msg) ? 2 : 1;
}

export async function runServe(argv: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs(
    "serve",
    SERVE_HELP,
    {
      args: argv,
      options: {
        scenario: { type: "string" },
        plan: { type: "string" },
        "data-dir": { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        speed: { type: "string" },
        seed: { type: "string" },
        tokens: { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        prometheus: { type: "string" },
        "prometheus-timeout": { type: "string" },
        "sample-every": { type: "string" },
        alertmanager: { type: "string" },
        "alertmanager-poll": { type: "string" },
        "alertmanager-secret-file": { type: "string" },
        "command-timeout": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const log = (line: string) => io.stderr.write(`[serve] ${line}\n`);
  let backend: StartedBackend;
  try {
    const setup = await loadSetup(values);
    const speed = parseNumber(values.speed, "speed", 0.001);
    const seed = parseNumber(values.seed, "seed", 0);
    const port = parseNumber(values.port, "port", 0) ?? 7420;
    const tls = await readTls(values["tls-cert"], values["tls-key"]);
    const real = await readRealBackends(values);
    backend = await startBackend({
      ...real,
      setup,
      dataDir: resolve(values["data-dir"] ?? "cockpit-data"),
      host: values.host ?? "127.0.0.1",
      port,
      ...(speed !== undefined ? { speed } : {}),
      ...(seed !== undefined ? { seed } : {}),
      ...(values.tokens ? { tokensPath: values.tokens } : {}),
      ...(tls ? { tls } : {}),
      log,
    });
  } catch (err) {
    io.stderr.write(`cockpit serve: ${err instanceof Error ? err.message : String(err)}\n`);
    return startFailureExitCode(err);
  }
  io.stdout.write(backend.server.url + "\n");
  log(`listening on ${backend.server.url} (log ${backend.core.log.path}, head seq ${backend.core.headSeq()})`);
  if (values.prometheus) log(`SLIs from Prometheus at ${safeUrl(values.prometheus)}, every ${values["sample-every"] ?? 5}s`);
  if (values.alertmanager) log(`alerts from Alertmanager at ${safeUrl(values.alertmanager)}; webhook receiver at POST /v1/alertmanager`);
  return await new Promise<number>((done) => {
    let stopping = false;
    const stop = (sig: string) => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: shutting down`);
      backend.close().then(
        () => done(0),
        (err: unknown) => {
          io.stderr.write(`cockpit serve: shutdown failed: ${(err as Error).message}\n`);
          done(1);
        },
      );
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
