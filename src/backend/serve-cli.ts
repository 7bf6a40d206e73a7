import { mkdir, readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Plan } from "../domain/plan-types.js";
import type { Scenario } from "../domain/scenario-types.js";
import { VERSION } from "../version.js";
import { BackendCore, DEFAULT_METRICS } from "./core.js";
import { LogCorruptError } from "./eventlog.js";
import { ConfigError, listScenarios, loadPlan, loadScenario } from "./scenarios.js";
import { startServer, type RunningServer } from "./server.js";
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
  -h, --help            show this help

SIGTERM or Ctrl+C shuts down cleanly: clients are told 1001 and the log is flushed.
Exit codes: 0 clean shutdown, 2 bad arguments or config, 3 damaged event log, 1 other failure.`;

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
}): Promise<StartedBackend> {
  const { scenario, plans } = o.setup;
  await mkdir(o.dataDir, { recursive: true });
  const metrics = scenario?.metrics ?? DEFAULT_METRICS;
  const core = await BackendCore.open({
    dataDir: o.dataDir,
    plans,
    fleet: {
      metrics,
      effects: scenario?.effects ?? [],
      recoverySeconds: scenario?.recoverySeconds ?? 30,
      sampleEverySeconds: scenario?.sampleEverySeconds ?? 5,
    },
    script: scenario?.script ?? [],
    seed: o.seed ?? scenario?.seed ?? 1,
    burnWindowScale: scenario?.burnWindowScale ?? 1,
    speed: o.speed ?? scenario?.speed ?? 1,
    log: o.log,
  });
  const rec = core.recovery;
  if (rec && rec.truncatedBytes > 0) {
    o.log(`event log: cut a torn last line (${rec.truncatedBytes} bytes: ${rec.tornReason ?? "incomplete"}); continuing from seq ${rec.headSeq}`);
  }
  const tokens = o.tokensPath ? await loadTokens(o.tokensPath) : null;
  let server: RunningServer;
  try {
    server = await startServer({
      backend: core,
      host: o.host,
      port: o.port,
      tokens,
      serverName: `rollout-cockpit/${VERSION}`,
      log: o.log,
      ...(o.tls ? { tls: o.tls } : {}),
    });
  } catch (err) {
    await core.close();
    throw err;
  }
  core.start();
  return {
    core,
    server,
    async close() {
      await server.close(1001);
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

function parseNumber(v: string | undefined, name: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) throw new ConfigError(`--${name} must be a number of at least ${min} (got "${v}")`);
  return n;
}

export async function runServe(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  let values;
  try {
    values = parseArgs({
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
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }).values;
  } catch (err) {
    io.stderr.write(`cockpit serve: ${(err as Error).message}\n\n${SERVE_HELP}\n`);
    return 2;
  }
  if (values.help) {
    io.stdout.write(SERVE_HELP + "\n");
    return 0;
  }
  const log = (line: string) => io.stderr.write(`[serve] ${line}\n`);
  let backend: StartedBackend;
  try {
    const setup = await loadSetup(values);
    const speed = parseNumber(values.speed, "speed", 0.001);
    const seed = parseNumber(values.seed, "seed", 0);
    const port = parseNumber(values.port, "port", 0) ?? 7420;
    const tls = await readTls(values["tls-cert"], values["tls-key"]);
    backend = await startBackend({
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
    if (err instanceof LogCorruptError) {
      io.stderr.write(`cockpit serve: ${err.message}\n`);
      return 3;
    }
    const msg = err instanceof Error ? err.message : String(err);
    io.stderr.write(`cockpit serve: ${msg}\n`);
    return err instanceof ConfigError || /EADDRINUSE|EACCES|loopback|token/i.test(msg) ? 2 : 1;
  }
  io.stdout.write(backend.server.url + "\n");
  log(`listening on ${backend.server.url} (log ${backend.core.log.path}, head seq ${backend.core.headSeq()})`);
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
