import type { WriteStream } from "node:fs";
import { mkdir, mkdtemp, open, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseCommandArgs, type CommandIo } from "../cli-args.js";
import { loadSetup, startBackend, startFailureExitCode } from "../backend/serve-cli.js";
import { listScenarios } from "../backend/scenarios.js";
import type { FailureKind } from "../client/close-reasons.js";
import { connect } from "../client/connection.js";
import { streamUrl } from "../client/stream-url.js";
import { createCockpitStore } from "../store/cockpit-store.js";
import { startCockpit } from "../tui/start.js";
import { VERSION } from "../version.js";
import { draftToFile } from "./export-draft.js";

// `cockpit connect` and `cockpit demo`: wire a connection, a store and the
// Ink app together. Nothing here draws or decides; it only connects parts.

export const CONNECT_HELP = `Usage: cockpit connect URL [--token T] [--readonly] [--ca FILE]

Open the cockpit on a running backend, e.g. ws://127.0.0.1:7420/v1/stream.

Options:
  --token T    access token (default: $COCKPIT_TOKEN); loopback demo backends need none
  --readonly   watch only: mutating keys are not offered and nothing is sent
  --ca FILE    PEM certificate authority for a wss:// backend with a private CA
  -h, --help   show this help

Needs a terminal. For scripts and pipes use: cockpit events URL --json

Exit codes: 0 quit, 2 bad arguments or not a terminal, 3 the backend refused
the token, 4 quit before the backend ever answered (unreachable, or another
protocol version).`;

const CONNECT_EXIT = { tokenRefused: 3, neverConnected: 4 };

export const DEMO_HELP = `Usage: cockpit demo [--scenario NAME] [--speed N] [--data-dir DIR] [--readonly]

Start the embedded reference backend on a free loopback port with a simulated
incident and open the cockpit on it over a real WebSocket.

Options:
  --scenario NAME  one of: ${listScenarios().join(", ")} (default canary-latency)
  --speed N        simulated seconds per real second (default: the scenario's)
  --seed S         random seed of the simulated fleet
  --data-dir DIR   keep the event log here (default: a new temporary directory)
  --readonly       watch only
  -h, --help       show this help

The backend's own log lines go to DATA_DIR/backend.log. Keys: press ? in the cockpit.

Exit codes: 0 quit, 2 bad arguments or not a terminal, 3 damaged event log in
--data-dir, 4 --data-dir in use by another backend, 1 other failure.`;

function needTerminal(cmd: string, io: CommandIo, url?: string): number | null {
  if (process.stdout.isTTY && process.stdin.isTTY) return null;
  const hint = url ? `cockpit events ${url} --json` : "cockpit events URL --json (against `cockpit serve`)";
  io.stderr.write(`cockpit ${cmd}: needs an interactive terminal (stdin and stdout must be a TTY).\nFor scripts and pipes use: ${hint}\n`);
  return 2;
}

async function runCockpit(o: {
  url: string;
  token?: string;
  readonly: boolean;
  ca?: string;
  exportDraft: () => Promise<string>;
  /** exit codes for a session that never went live (connect and demo number them differently) */
  exit: { tokenRefused: number; neverConnected: number };
}): Promise<number> {
  const store = createCockpitStore({ url: o.url, readonly: o.readonly });
  let failure: FailureKind | null = null;
  const connection = connect({
    url: o.url,
    clientName: `cockpit/${VERSION}`,
    store,
    readonly: o.readonly,
    // Ask for the history the backend still holds, not only a snapshot, so the
    // timeline and sparklines show how we got here (a snapshot comes instead
    // when the history is longer than the backend keeps in memory).
    resumeFrom: 0,
    ...(o.token ? { token: o.token } : {}),
    ...(o.ca ? { ca: o.ca } : {}),
    onFail: (kind) => (failure = kind),
  });
  try {
    const code = await startCockpit({ store, connection, readonly: o.readonly, onExportDraft: o.exportDraft });
    // Quitting a session that never went live is not a clean run: say why in the exit code, as `events` does.
    if (code !== 0) return code;
    if (failure === "auth") return o.exit.tokenRefused;
    if (store.store.getState().connection.session === undefined) return o.exit.neverConnected;
    return 0;
  } finally {
    await connection.close().catch(() => undefined);
    store.dispose();
  }
}

export async function runConnect(argv: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs(
    "connect",
    CONNECT_HELP,
    {
      args: argv,
      allowPositionals: true,
      options: { token: { type: "string" }, readonly: { type: "boolean" }, ca: { type: "string" }, help: { type: "boolean", short: "h" } },
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    io.stderr.write(`cockpit connect: give one ws:// or wss:// URL\n\n${CONNECT_HELP}\n`);
    return 2;
  }
  let url: string;
  try {
    url = streamUrl(positionals[0]!);
  } catch (err) {
    io.stderr.write(`cockpit connect: ${(err as Error).message}\n`);
    return 2;
  }
  const refused = needTerminal("connect", io, url);
  if (refused !== null) return refused;
  let ca: string | undefined;
  if (values.ca) {
    try {
      ca = await readFile(values.ca, "utf8");
    } catch (err) {
      io.stderr.write(`cockpit connect: cannot read --ca ${values.ca}: ${(err as Error).message}\n`);
      return 2;
    }
  }
  const token = values.token ?? process.env.COCKPIT_TOKEN;
  return runCockpit({
    url,
    readonly: Boolean(values.readonly),
    ...(token ? { token } : {}),
    ...(ca ? { ca } : {}),
    exportDraft: () => draftToFile({ kind: "url", url, ...(token ? { token } : {}), ...(ca ? { ca } : {}) }),
    exit: CONNECT_EXIT,
  });
}

export async function runDemo(argv: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs(
    "demo",
    DEMO_HELP,
    {
      args: argv,
      options: {
        scenario: { type: "string" },
        speed: { type: "string" },
        seed: { type: "string" },
        "data-dir": { type: "string" },
        readonly: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  const refused = needTerminal("demo", io);
  if (refused !== null) return refused;
  const speed = values.speed !== undefined ? Number(values.speed) : undefined;
  if (speed !== undefined && !(speed > 0)) {
    io.stderr.write(`cockpit demo: --speed must be a number above 0 (got "${values.speed}")\n`);
    return 2;
  }
  const seed = values.seed !== undefined ? Number(values.seed) : undefined;
  const dataDir = values["data-dir"] ? resolve(values["data-dir"]) : await mkdtemp(join(tmpdir(), "cockpit-demo-"));
  let backendLog: WriteStream | null = null;
  let backend;
  try {
    await mkdir(dataDir, { recursive: true });
    backendLog = (await open(join(dataDir, "backend.log"), "a")).createWriteStream();
    // The backend's own diagnostics: losing them (disk full) must not take the
    // cockpit down, and the event log reports its own write failures.
    backendLog.on("error", () => undefined);
    const log = backendLog;
    const setup = await loadSetup({ scenario: values.scenario ?? "canary-latency" });
    backend = await startBackend({
      setup,
      dataDir,
      host: "127.0.0.1",
      port: 0,
      ...(speed !== undefined ? { speed } : {}),
      ...(seed !== undefined && Number.isFinite(seed) ? { seed } : {}),
      log: (line) => log.write(`${new Date().toISOString()} ${line}\n`),
    });
  } catch (err) {
    io.stderr.write(`cockpit demo: ${(err as Error).message}\n`);
    backendLog?.end();
    return startFailureExitCode(err);
  }
  try {
    return await runCockpit({
      url: backend.server.url,
      readonly: Boolean(values.readonly),
      exportDraft: () => draftToFile({ kind: "dir", dataDir }),
      // its own backend on loopback not answering is an "other failure"
      exit: { tokenRefused: 1, neverConnected: 1 },
    });
  } finally {
    await backend.close().catch(() => undefined);
    backendLog?.end();
    io.stderr.write(`cockpit demo: event log kept in ${dataDir}\n`);
  }
}
