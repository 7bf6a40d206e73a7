import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import WebSocket from "ws";
import type { BackendPort, CommandOutcome } from "../src/backend/backend-port.js";
import { EventLog } from "../src/backend/eventlog.js";
import { startServer, type RunningServer } from "../src/backend/server.js";
import { createTokenTable, hashToken } from "../src/backend/tokens.js";
import { emptyState } from "../src/domain/fold.js";
import type { CockpitEvent, EventDraft, ServerMsg } from "../src/protocol/types.js";
import { check, formatTable, load1, writeResult, type BenchResult, type Benchmark, type Check } from "./lib/report.js";

// Fan-out (issue 6, "Load"): hundreds of clients on loopback watching one
// backend, and how long an event takes from the moment it is handed to the
// event log until a client has parsed it (delivery lag). The backend here is
// the real event log (fdatasync before broadcast) and the real WebSocket
// server, fed by a synthetic source at a fixed rate; every event carries the
// wall-clock time it was written, so lag is measured on one machine's clock.
// Clients live in child processes (this file, run with --worker).
//
//   node dist/bench/fanout.js                 the three standard runs, table + bench/results/fanout.json
//   node dist/bench/fanout.js --clients 500 --rate 1000 --tenants 10 --seconds 10

const TARGET_P99_MS = 100;
const LAG_BUCKETS = 10_000; // 1 ms buckets; later lags count in the last one
const SELF = fileURLToPath(import.meta.url);

export interface FanoutConfig {
  label: string;
  /** where the event log lives; default the system temp directory (a real disk: fdatasync counts) */
  dataDir?: string;
  clients: number;
  /** events per second the backend writes, all tenants together */
  rate: number;
  /** clients are spread over this many tenants; each sees only its own tenant's events */
  tenants: number;
  /** measured seconds, after a warm-up */
  seconds: number;
  warmupSeconds: number;
  workers: number;
  /** the run the target applies to */
  target: boolean;
}

/**
 * The issue asks for "500 clients receiving 1,000 events/s between them". Read
 * literally that is 1,000 deliveries a second in all (500 clients of one
 * tenant, 2 events/s each). Read as a backend writing 1,000 events a second,
 * spread over ten tenants, it is 50,000 deliveries a second. Both carry the
 * target. A third run sends 50,000 deliveries a second as 100 events/s that
 * every client sees (one tenant), for comparison. (A backend writing 1,000
 * events/s that all 500 clients see, 500,000 deliveries/s, is beyond a 2-core
 * machine: the backend's loop starves and clients are dropped by liveness.)
 */
export const STANDARD_RUNS: FanoutConfig[] = [
  { label: "500 clients, 1,000 deliveries/s in all", clients: 500, rate: 2, tenants: 1, seconds: 10, warmupSeconds: 2, workers: 2, target: true },
  { label: "500 clients, backend 1,000 events/s over 10 tenants", clients: 500, rate: 1_000, tenants: 10, seconds: 10, warmupSeconds: 2, workers: 2, target: true },
  { label: "500 clients, backend 100 events/s, one tenant (all see all)", clients: 500, rate: 100, tenants: 1, seconds: 10, warmupSeconds: 2, workers: 2, target: false },
];

// ---- the backend: a real event log behind the real server ---------------------------

/** The smallest BackendPort over an EventLog: events in, no engine, commands refused. */
class SyntheticBackend implements BackendPort {
  constructor(
    private readonly log: EventLog,
    private readonly tenantNames: string[],
  ) {}
  headSeq(): number {
    return this.log.headSeq;
  }
  snapshot(): { seq: number; state: ReturnType<typeof emptyState> } {
    return { seq: this.log.headSeq, state: emptyState() };
  }
  eventsSince(seq: number): CockpitEvent[] | null {
    return this.log.since(seq);
  }
  subscribe(listener: (events: CockpitEvent[]) => void): () => void {
    return this.log.onAppend(listener);
  }
  submitCommand(): Promise<CommandOutcome> {
    return Promise.resolve({ kind: "reject", code: "bad_request", message: "the fan-out benchmark takes no commands", duplicate: false });
  }
  tenants(): string[] {
    return this.tenantNames;
  }
}

function tenantName(i: number): string {
  return `tenant-${i}`;
}
function tokenOf(i: number): string {
  return `fanout-bench-token-${i}`;
}

/** An SLI sample as the engine writes it, plus the wall-clock ms it was handed to the log. */
function sampleDraft(tenant: string, n: number, writtenAt: number): EventDraft {
  return {
    time: new Date(writtenAt).toISOString(),
    tenant,
    type: "sli.sample",
    rollout: "api-v408",
    ring: "canary",
    actor: { kind: "engine", name: "engine" },
    data: { ring: "canary", metric: "p99_latency_ms", value: 40 + (n % 17), unit: "ms", baseline: 38, writtenAt },
  } as EventDraft;
}

/** Write `rate` events a second, spread over the tenants, in small batches as the engine does. */
function startSource(
  log: EventLog,
  tenants: number,
  rate: number,
  window: { from: number; until: number },
): { stop(): Promise<void>; written(): number; inWindow(): number } {
  const t0 = Date.now();
  let written = 0;
  let inWindow = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    const due = Math.floor(((Date.now() - t0) / 1000) * rate) - written;
    if (due <= 0) return;
    const now = Date.now();
    const drafts: EventDraft[] = [];
    for (let k = 0; k < due; k++) {
      const n = written + k;
      drafts.push(sampleDraft(tenantName(n % tenants), n, now));
    }
    written += due;
    if (now >= window.from && now < window.until) inWindow += due;
    inFlight = log.append(drafts);
  }, 5);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight.catch(() => undefined);
    },
    written: () => written,
    inWindow: () => inWindow,
  };
}

// ---- the clients (child processes) ---------------------------------------------------

interface WorkerArgs {
  url: string;
  /** global index of this worker's first client */
  first: number;
  count: number;
  tenants: number;
}

interface WorkerReport {
  lagHistogram: number[];
  events: number;
  measured: number;
  repeats: number;
  outOfOrder: number;
  closes: Record<string, number>;
  connected: number;
}

type ParentMsg = { type: "measure"; from: number; until: number } | { type: "report" };
type WorkerMsg = { type: "ready"; connected: number } | { type: "report"; report: WorkerReport } | { type: "error"; message: string };

/** The integer after `key` in `text` (-1 if absent). */
function numberAfter(text: string, key: string): number {
  const at = text.indexOf(key);
  if (at < 0) return -1;
  let n = 0;
  for (let i = at + key.length; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    n = n * 10 + c;
  }
  return n;
}

async function runWorker(a: WorkerArgs): Promise<void> {
  const send = (m: WorkerMsg) => process.send?.(m);
  const hist = new Uint32Array(LAG_BUCKETS);
  let from = Infinity;
  let until = -Infinity;
  let events = 0;
  let measured = 0;
  let repeats = 0;
  let outOfOrder = 0;
  const closes: Record<string, number> = {};
  const sockets: WebSocket[] = [];

  const openOne = (i: number) =>
    new Promise<void>((resolve) => {
      const tenantIx = i % a.tenants;
      const ws = new WebSocket(a.url, { headers: { Authorization: `Bearer ${tokenOf(tenantIx)}` }, perMessageDeflate: false });
      sockets.push(ws);
      let last = 0;
      ws.on("open", () => {
        ws.send(JSON.stringify({ type: "hello", protocol: 1, client: `fanout-${i}`, resumeFrom: null }));
      });
      ws.on("message", (data) => {
        const now = Date.now();
        const text = String(data);
        // Clients here stand in for cockpits without doing a cockpit's work:
        // event frames are read with two indexOf calls, not JSON.parse, so the
        // figures show the backend's fan-out rather than these processes' CPU.
        if (text.startsWith('{"type":"event"')) {
          events++;
          const seq = numberAfter(text, '"seq":');
          if (seq === last) repeats++;
          else if (seq < last) outOfOrder++;
          last = seq;
          const writtenAt = numberAfter(text, '"writtenAt":');
          if (writtenAt >= from && writtenAt < until) {
            measured++;
            hist[Math.min(LAG_BUCKETS - 1, Math.max(0, now - writtenAt))]! += 1;
          }
          return;
        }
        const m = JSON.parse(text) as ServerMsg;
        if (m.type === "welcome") resolve();
        else if (m.type === "snapshot") last = m.seq;
      });
      ws.on("close", (code) => {
        closes[code] = (closes[code] ?? 0) + 1;
        resolve();
      });
      ws.on("error", () => resolve());
    });

  // Open in waves so the listen backlog never overflows.
  for (let i = 0; i < a.count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, a.count - i) }, (_, k) => openOne(a.first + i + k)));
  }
  send({ type: "ready", connected: sockets.filter((s) => s.readyState === WebSocket.OPEN).length });
  process.on("message", (m: ParentMsg) => {
    if (m.type === "measure") {
      from = m.from;
      until = m.until;
    } else if (m.type === "report") {
      const report: WorkerReport = {
        lagHistogram: Array.from(hist),
        events,
        measured,
        repeats,
        outOfOrder,
        closes,
        connected: sockets.filter((s) => s.readyState === WebSocket.OPEN).length,
      };
      send({ type: "report", report });
      for (const s of sockets) s.terminate();
      setTimeout(() => process.exit(0), 50);
    }
  });
}

function startWorker(a: WorkerArgs): { proc: ChildProcess; ready: Promise<number>; report(): Promise<WorkerReport> } {
  const proc = fork(SELF, ["--worker", JSON.stringify(a)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  let onReport: ((r: WorkerReport) => void) | null = null;
  let onError: ((e: Error) => void) | null = null;
  const ready = new Promise<number>((resolve, reject) => {
    onError = reject;
    proc.on("message", (m: WorkerMsg) => {
      if (m.type === "ready") resolve(m.connected);
      else if (m.type === "report") onReport?.(m.report);
      else if (m.type === "error") onError?.(new Error(m.message));
    });
    proc.once("exit", (code) => onError?.(new Error(`fan-out worker exited (${code}) before reporting`)));
  });
  return {
    proc,
    ready,
    report: () =>
      new Promise<WorkerReport>((resolve, reject) => {
        onReport = resolve;
        onError = reject;
        proc.send({ type: "report" } satisfies ParentMsg);
      }),
  };
}

// ---- one run ---------------------------------------------------------------------------

export interface FanoutRun {
  config: FanoutConfig;
  connected: number;
  /** events written per second, as achieved */
  writtenPerSecond: number;
  /** events parsed by all clients per second during the measured window */
  deliveriesPerSecond: number;
  /** deliveries measured / deliveries expected (1 = every client got every event of its tenant) */
  completeness: number;
  lagMs: { p50: number; p90: number; p99: number; max: number };
  /** the parts of the lag: handed to the log -> fdatasync done, -> handed to every client socket (the server's fan-out) */
  durableMs: { p50: number; p99: number };
  fannedOutMs: { p50: number; p99: number };
  backendRssMB: { start: number; peak: number; end: number };
  /** share of one CPU core the backend used during the measured window */
  backendCpu: number;
  repeats: number;
  outOfOrder: number;
  closes: Record<string, number>;
}

function histPercentile(hist: number[], total: number, p: number): number {
  if (total === 0) return Number.NaN;
  const want = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let ms = 0; ms < hist.length; ms++) {
    seen += hist[ms]!;
    if (seen >= want) return ms;
  }
  return hist.length - 1;
}

function partOf(hist: number[]): { p50: number; p99: number } {
  const total = hist.reduce((a, b) => a + b, 0);
  return { p50: histPercentile(hist, total, 50), p99: histPercentile(hist, total, 99) };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const rssMB = () => process.memoryUsage().rss / 2 ** 20;

export async function runFanout(config: FanoutConfig): Promise<FanoutRun> {
  const dir = mkdtempSync(join(config.dataDir ?? tmpdir(), "cockpit-fanout-"));
  const { log } = await EventLog.open(dir);
  // Where the time goes: one listener before the server's (the batch is
  // durable) and one after it (every client's frame handed to its socket).
  const window = { from: Infinity, until: -Infinity };
  const durableHist = new Array<number>(LAG_BUCKETS).fill(0);
  const fannedOutHist = new Array<number>(LAG_BUCKETS).fill(0);
  const stamp = (hist: number[]) => (events: CockpitEvent[]) => {
    const now = Date.now();
    for (const e of events) {
      const writtenAt = (e.data as { writtenAt?: number }).writtenAt;
      if (typeof writtenAt === "number" && writtenAt >= window.from && writtenAt < window.until) hist[Math.min(LAG_BUCKETS - 1, now - writtenAt)]! += 1;
    }
  };
  log.onAppend(stamp(durableHist));
  const tenantNames = Array.from({ length: config.tenants }, (_, i) => tenantName(i));
  const tokens = createTokenTable(tenantNames.map((t, i) => ({ sha256: hashToken(tokenOf(i)), name: `viewer-${i}`, role: "viewer" as const, tenant: t })));
  let server: RunningServer | null = null;
  const workers: ReturnType<typeof startWorker>[] = [];
  try {
    server = await startServer({ backend: new SyntheticBackend(log, tenantNames), tokens, serverName: "fanout-bench", port: 0 });
    log.onAppend(stamp(fannedOutHist));
    const per = Math.ceil(config.clients / config.workers);
    for (let w = 0; w < config.workers; w++) {
      const first = w * per;
      const count = Math.min(per, config.clients - first);
      if (count > 0) workers.push(startWorker({ url: server.url, first, count, tenants: config.tenants }));
    }
    const connected = (await Promise.all(workers.map((w) => w.ready))).reduce((a, b) => a + b, 0);

    const rssStart = rssMB();
    // The window is fixed before the first event, so every process agrees on it.
    const from = Date.now() + config.warmupSeconds * 1000;
    const until = from + config.seconds * 1000;
    window.from = from;
    window.until = until;
    for (const w of workers) w.proc.send({ type: "measure", from, until } satisfies ParentMsg);
    const source = startSource(log, config.tenants, config.rate, { from, until });
    await sleep(from - Date.now());
    const cpuFrom = process.cpuUsage();
    let rssPeak = rssMB();
    while (Date.now() < until) {
      await sleep(250);
      rssPeak = Math.max(rssPeak, rssMB());
    }
    const cpu = process.cpuUsage(cpuFrom);
    await source.stop();
    const writtenInWindow = source.inWindow();
    await sleep(1_500); // let the last measured events arrive
    const reports = await Promise.all(workers.map((w) => w.report()));

    const hist = new Array<number>(LAG_BUCKETS).fill(0);
    for (const r of reports) r.lagHistogram.forEach((n, i) => (hist[i]! += n));
    const measured = reports.reduce((a, r) => a + r.measured, 0);
    const closes: Record<string, number> = {};
    for (const r of reports) for (const [code, n] of Object.entries(r.closes)) closes[code] = (closes[code] ?? 0) + n;
    let max = 0;
    for (let i = hist.length - 1; i >= 0; i--) {
      if (hist[i]! > 0) {
        max = i;
        break;
      }
    }
    // Each event goes to the clients of its tenant: clients / tenants of them.
    const expected = writtenInWindow * (config.clients / config.tenants);
    return {
      config,
      connected,
      writtenPerSecond: writtenInWindow / config.seconds,
      deliveriesPerSecond: measured / config.seconds,
      completeness: expected === 0 ? 0 : measured / expected,
      lagMs: { p50: histPercentile(hist, measured, 50), p90: histPercentile(hist, measured, 90), p99: histPercentile(hist, measured, 99), max },
      durableMs: partOf(durableHist),
      fannedOutMs: partOf(fannedOutHist),
      backendRssMB: { start: rssStart, peak: rssPeak, end: rssMB() },
      backendCpu: (cpu.user + cpu.system) / 1000 / (config.seconds * 1000),
      repeats: reports.reduce((a, r) => a + r.repeats, 0),
      outOfOrder: reports.reduce((a, r) => a + r.outOfOrder, 0),
      closes,
    };
  } finally {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill("SIGKILL");
    await server?.close();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- reporting ---------------------------------------------------------------------------

function checksOf(runs: FanoutRun[]): Check[] {
  const out: Check[] = [];
  for (const r of runs) {
    const c = r.config;
    const name = `${c.clients} clients, ${c.rate} ev/s, ${c.tenants} tenant${c.tenants === 1 ? "" : "s"}`;
    const intact = r.repeats === 0 && r.outOfOrder === 0 && r.connected === c.clients && Object.keys(r.closes).length === 0;
    out.push(check(`${name}: lag p50`, r.lagMs.p50, "ms", "", null));
    out.push(check(`${name}: of which fdatasync p50/p99`, r.durableMs.p50, "ms", `p99 ${r.durableMs.p99} ms`, null));
    out.push(check(`${name}: of which + server fan-out p50/p99`, r.fannedOutMs.p50, "ms", `p99 ${r.fannedOutMs.p99} ms`, null));
    out.push(check(`${name}: lag p99`, r.lagMs.p99, "ms", c.target ? `< ${TARGET_P99_MS} ms` : "(comparison, no target)", c.target ? r.lagMs.p99 < TARGET_P99_MS && intact : null));
    out.push(check(`${name}: deliveries`, r.deliveriesPerSecond, "/s", "every event to every client of its tenant", c.target ? r.completeness > 0.999 && intact : null));
    out.push(check(`${name}: backend RSS peak`, r.backendRssMB.peak, "MB", "", null));
    out.push(check(`${name}: backend CPU`, r.backendCpu * 100, "% of a core", "", null));
  }
  return out;
}

export async function fanoutResult(runs: FanoutConfig[] = STANDARD_RUNS): Promise<BenchResult> {
  const results: FanoutRun[] = [];
  for (const c of runs) {
    process.stdout.write(`  fanout: ${c.label} ...\n`);
    results.push(await runFanout(c));
  }
  const notes = [
    "lag: from handing the event to the event log (before its fdatasync) to a client having parsed the frame; 1 ms resolution, one machine's clock",
    "of which: handed to the log -> fdatasync done (durable), and -> every client's frame handed to its socket (after the server's fan-out); the rest is the kernel and the client",
    `backend (event log + server) in this process, clients in ${runs[0]?.workers ?? 2} child processes on the same ${cpus().length} CPUs`,
    ...results.map(
      (r) =>
        `${r.config.label}: ${r.connected}/${r.config.clients} connected, ${r.writtenPerSecond.toFixed(0)} ev/s written, ${r.deliveriesPerSecond.toFixed(0)} deliveries/s, ` +
        `${(r.completeness * 100).toFixed(2)}% delivered in the window, p90 ${r.lagMs.p90} ms, max ${r.lagMs.max} ms, ` +
        `repeats ${r.repeats}, out of order ${r.outOfOrder}, closes ${JSON.stringify(r.closes)}`,
    ),
  ];
  return { name: "fanout", title: "500 clients on loopback: delivery lag and backend RSS", checks: checksOf(results), notes, data: { runs: results } };
}

export const fanoutBench: Benchmark = {
  name: "fanout",
  title: "500 clients on loopback: delivery lag and backend RSS",
  run: () => fanoutResult(),
};

function parseArgs(argv: string[]): FanoutConfig[] {
  if (argv.length === 0) return STANDARD_RUNS;
  const get = (name: string, dflt: number) => {
    const i = argv.indexOf(`--${name}`);
    if (i < 0) return dflt;
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number (got ${argv[i + 1]})`);
    return v;
  };
  const c: FanoutConfig = {
    label: "custom",
    clients: Math.round(get("clients", 500)),
    rate: get("rate", 1_000),
    tenants: Math.round(get("tenants", 1)),
    seconds: get("seconds", 10),
    warmupSeconds: get("warmup", 2),
    workers: Math.round(get("workers", 2)),
    target: true,
  };
  const dataDir = argv.indexOf("--data-dir");
  if (dataDir >= 0) c.dataDir = argv[dataDir + 1]!;
  c.label = `${c.clients} clients, backend ${c.rate} events/s, ${c.tenants} tenant(s)`;
  return [c];
}

/** Run alone: print the table, write bench/results/fanout.json. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write("Usage: node dist/bench/fanout.js [--clients N --rate EV_PER_S --tenants T --seconds S --workers W]\n");
    return 0;
  }
  const t0 = performance.now();
  const loadBefore = load1();
  const result = await fanoutResult(parseArgs(argv));
  const ms = performance.now() - t0;
  const path = writeResult(result, ms, { before: loadBefore, after: load1() });
  process.stdout.write(formatTable(result) + "\n" + `  (${(ms / 1000).toFixed(1)} s; ${path})\n`);
  return 0;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  if (process.argv[2] === "--worker") {
    runWorker(JSON.parse(process.argv[3]!) as WorkerArgs).catch((err: unknown) => {
      process.send?.({ type: "error", message: err instanceof Error ? err.message : String(err) } satisfies WorkerMsg);
      process.exit(1);
    });
  } else {
    main().then(
      (code) => process.exit(code),
      (err: unknown) => {
        process.stderr.write(`fanout: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(1);
      },
    );
  }
}
