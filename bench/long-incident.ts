import { fork, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { connect } from "../src/client/connection.js";
import type { CockpitEvent } from "../src/protocol/types.js";
import { createCockpitStore } from "../src/store/cockpit-store.js";
import { check, formatTable, load1, writeResult, type BenchResult, type Benchmark } from "./lib/report.js";

// A long incident (issue 6, "Load"): a 24-hour simulated day of SLI samples,
// millions of them, through the real `cockpit serve` and a real cockpit
// (connect() + the store) in another process. Every simulated hour the
// cockpit reports its memory (after a full GC) and the backend's RSS and live
// heap are read; both must stay flat once the backend's resume window (the
// last 100,000 events) is full.
//
//   node dist/bench/long-incident.js                    24 h, 4 rollouts x 8 metrics every second (~2.8 M samples)
//   node dist/bench/long-incident.js --hours 2          a short run

const SELF = fileURLToPath(import.meta.url);
const HOUR_MS = 3_600_000;
/**
 * Flat means little growth after a warm-up: by hour 2 the backend's
 * 100,000-event resume window is full; by hour 4 V8 has also settled how much
 * heap room it keeps, which RSS shows. Live heap and the cockpit's heap (after
 * a full GC) are judged from hour 2, RSS from hour 4.
 */
const HEAP_FLAT_FROM_HOUR = 2;
const RSS_FLAT_FROM_HOUR = 4;
const BACKEND_RSS_FLAT_MB = 40;
const BACKEND_HEAP_FLAT_MB = 20;
const COCKPIT_FLAT_MB = 20;

export interface LongIncidentConfig {
  hours: number;
  rollouts: number;
  metrics: number;
  sampleEverySeconds: number;
  /** simulated seconds per real second; the backend runs as fast as it can below that */
  speed: number;
  /** default: /dev/shm when present (memory is measured here, not the disk), else the temp directory */
  dataDir?: string;
}

export const STANDARD: LongIncidentConfig = { hours: 24, rollouts: 4, metrics: 8, sampleEverySeconds: 1, speed: 100_000 };

function packageRoot(): string {
  let dir = dirname(SELF);
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** Healthy rollouts that bake for two days: nothing ends or breaches, samples flow all day. */
function scenarioJson(c: LongIncidentConfig): string {
  const metrics: Record<string, unknown> = {};
  for (let i = 0; i < c.metrics; i++) metrics[`m${i}_latency_ms`] = { unit: "ms", baseline: 20 + i, noise: 0.05 };
  return JSON.stringify({
    name: "long-incident",
    description: "A long, quiet day: healthy rollouts baking, SLI samples every second.",
    seed: 24,
    speed: c.speed,
    sampleEverySeconds: c.sampleEverySeconds,
    burnWindowScale: 1,
    recoverySeconds: 30,
    durationSeconds: c.hours * 3600,
    metrics,
    effects: [],
    script: [],
    plan: {
      tenant: "payments",
      rollouts: Array.from({ length: c.rollouts }, (_, i) => ({
        id: `svc${i}-v2`,
        service: `svc${i}`,
        version: "v2",
        previousVersion: "v1",
        kind: "code",
        onBreach: "pause",
        rings: [
          { name: "canary", traffic: 5, bakeSeconds: 2 * 86_400, slos: ["m0_latency_ms < 1000000 for 5m", "m1_latency_ms < 1000000"].slice(0, Math.min(2, c.metrics)) },
          { name: "global", traffic: 100, bakeSeconds: 60, slos: ["m0_latency_ms < 1000000"] },
        ],
      })),
    },
  });
}

// ---- the cockpit (a child process with --expose-gc) ----------------------------------------

interface HourReport {
  hour: number;
  events: number;
  samples: number;
  rssMB: number;
  heapUsedMB: number;
  timeline: number;
  series: number;
}
type CockpitMsg = { type: "hour"; report: HourReport } | { type: "live" };

function runCockpit(url: string): void {
  const store = createCockpitStore({ url });
  let start: number | null = null;
  let nextHour = 1;
  let events = 0;
  let samples = 0;
  let reporting = false;
  const due: number[] = [];
  const report = () => {
    if (reporting) return;
    reporting = true;
    // Off the event path, after the store has published what it holds.
    setImmediate(() => {
      store.flush();
      (globalThis as { gc?: () => void }).gc?.();
      const mem = process.memoryUsage();
      const view = store.store.getState();
      for (const hour of due.splice(0)) {
        const r: HourReport = { hour, events, samples, rssMB: mem.rss / 2 ** 20, heapUsedMB: mem.heapUsed / 2 ** 20, timeline: view.timeline.length, series: view.series.size };
        process.send?.({ type: "hour", report: r } satisfies CockpitMsg);
      }
      reporting = false;
    });
  };
  const ingest = store.ingest;
  const sink = {
    ingest: {
      ...ingest,
      event(e: CockpitEvent) {
        ingest.event(e);
        events++;
        if (e.type !== "sli.sample") return;
        samples++;
        const t = Date.parse(e.time);
        start ??= t;
        while (t - start >= nextHour * HOUR_MS) due.push(nextHour++);
        if (due.length > 0) report();
      },
      welcome(m: Parameters<typeof ingest.welcome>[0]) {
        ingest.welcome(m);
        process.send?.({ type: "live" } satisfies CockpitMsg);
      },
    },
  };
  connect({ url, clientName: "long-incident-cockpit", store: sink });
}

// ---- the run ------------------------------------------------------------------------------

export interface HourRow {
  hour: number;
  wallSeconds: number;
  samples: number;
  backendRssMB: number;
  /** live heap after the backend's last full GC (from --trace-gc) */
  backendLiveHeapMB: number | null;
  cockpitRssMB: number;
  cockpitHeapMB: number;
}

function rssMBOf(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

export async function runLongIncident(c: LongIncidentConfig, onRow?: (r: HourRow) => void): Promise<HourRow[]> {
  const base = c.dataDir ?? (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
  const dir = mkdtempSync(join(base, "cockpit-long-incident-"));
  const scenario = join(dir, "scenario.json");
  writeFileSync(scenario, scenarioJson(c));
  const cli = join(packageRoot(), "dist", "src", "cli.js");
  const serve = spawn(process.execPath, ["--trace-gc", cli, "serve", "--scenario", scenario, "--data-dir", join(dir, "data"), "--port", "0"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let cockpit: ChildProcess | null = null;
  let liveHeapMB: number | null = null;
  let stderr = "";
  serve.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-10_000)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let buf = "";
      serve.stdout.on("data", (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line.startsWith("ws://")) resolve(line.trim());
          const gc = /Mark-Compact[^\n]*?-> ([0-9.]+) \(([0-9.]+)\) MB/.exec(line);
          if (gc) liveHeapMB = Number(gc[1]);
        }
      });
      serve.once("exit", (code) => reject(new Error(`cockpit serve exited (${code}):\n${stderr}`)));
    });
    const t0 = performance.now();
    cockpit = fork(SELF, ["--cockpit", url], { execArgv: ["--expose-gc"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const rows: HourRow[] = [];
    await new Promise<void>((resolve, reject) => {
      cockpit!.on("message", (m: CockpitMsg) => {
        if (m.type !== "hour") return;
        const r = m.report;
        const row: HourRow = {
          hour: r.hour,
          wallSeconds: (performance.now() - t0) / 1000,
          samples: r.samples,
          backendRssMB: rssMBOf(serve.pid!),
          backendLiveHeapMB: liveHeapMB,
          cockpitRssMB: r.rssMB,
          cockpitHeapMB: r.heapUsedMB,
        };
        rows.push(row);
        onRow?.(row);
        if (r.hour >= c.hours) resolve();
      });
      cockpit!.once("exit", (code) => reject(new Error(`the cockpit process exited (${code}) before hour ${c.hours}`)));
      serve.once("exit", (code) => reject(new Error(`cockpit serve exited (${code}) before hour ${c.hours}:\n${stderr}`)));
    });
    return rows;
  } finally {
    cockpit?.kill("SIGKILL");
    if (serve.exitCode === null) {
      serve.kill("SIGTERM");
      await new Promise((r) => serve.once("exit", r));
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Largest value from hour `from` on, minus the value at `from`. */
function growth(rows: HourRow[], from: number, pick: (r: HourRow) => number | null): number {
  const values = rows.filter((r) => r.hour >= from).map(pick).filter((v): v is number => v !== null);
  if (values.length === 0) return Number.NaN;
  return Math.max(...values) - values[0]!;
}

export async function longIncidentResult(c: LongIncidentConfig = STANDARD): Promise<BenchResult> {
  process.stdout.write("  hour  wall s   samples     backend RSS  live heap  cockpit RSS  heap\n");
  const rows = await runLongIncident(c, (r) =>
    process.stdout.write(
      `  ${String(r.hour).padStart(4)}  ${r.wallSeconds.toFixed(0).padStart(6)}  ${String(r.samples).padStart(9)}  ${r.backendRssMB.toFixed(0).padStart(8)} MB  ${(r.backendLiveHeapMB?.toFixed(0) ?? "-").padStart(6)} MB  ${r.cockpitRssMB.toFixed(0).padStart(8)} MB  ${r.cockpitHeapMB.toFixed(1).padStart(5)} MB\n`,
    ),
  );
  const last = rows.at(-1)!;
  const judged = (from: number) => c.hours >= from + 2;
  const heapGrowth = growth(rows, HEAP_FLAT_FROM_HOUR, (r) => r.backendLiveHeapMB);
  const rssGrowth = growth(rows, RSS_FLAT_FROM_HOUR, (r) => r.backendRssMB);
  const cockpitGrowth = growth(rows, HEAP_FLAT_FROM_HOUR, (r) => r.cockpitHeapMB);
  const checks = [
    check("SLI samples in the simulated day", last.samples, "", "several million", c.hours >= 24 ? last.samples >= 2_000_000 : null),
    check("wall time", last.wallSeconds, "s", "", null),
    check(`backend live heap growth, hour ${HEAP_FLAT_FROM_HOUR} to ${c.hours}`, heapGrowth, "MB", `< ${BACKEND_HEAP_FLAT_MB} MB`, judged(HEAP_FLAT_FROM_HOUR) ? heapGrowth < BACKEND_HEAP_FLAT_MB : null),
    check(`backend RSS growth, hour ${RSS_FLAT_FROM_HOUR} to ${c.hours}`, rssGrowth, "MB", `< ${BACKEND_RSS_FLAT_MB} MB`, judged(RSS_FLAT_FROM_HOUR) ? rssGrowth < BACKEND_RSS_FLAT_MB : null),
    check(`cockpit heap growth, hour ${HEAP_FLAT_FROM_HOUR} to ${c.hours}`, cockpitGrowth, "MB", `< ${COCKPIT_FLAT_MB} MB`, judged(HEAP_FLAT_FROM_HOUR) ? cockpitGrowth < COCKPIT_FLAT_MB : null),
    check(`cockpit RSS growth, hour ${RSS_FLAT_FROM_HOUR} to ${c.hours}`, growth(rows, RSS_FLAT_FROM_HOUR, (r) => r.cockpitRssMB), "MB", "", null),
    check("backend RSS at the end", last.backendRssMB, "MB", "", null),
    check("backend live heap at the end", last.backendLiveHeapMB ?? Number.NaN, "MB", "", null),
    check("cockpit RSS at the end", last.cockpitRssMB, "MB", "", null),
    check("cockpit heap at the end", last.cockpitHeapMB, "MB", "", null),
  ];
  const notes = [
    `${c.rollouts} rollouts x ${c.metrics} metrics sampled every ${c.sampleEverySeconds} s for ${c.hours} simulated hours through \`cockpit serve\` (data on ${c.dataDir ?? "tmpfs"}) and a cockpit (connect() + store) in another process`,
    `flat means: growth after a warm-up, from hour ${HEAP_FLAT_FROM_HOUR} for heaps (the backend's 100,000-event resume window is full by then) and hour ${RSS_FLAT_FROM_HOUR} for RSS (V8 has sized its heap); cockpit heap after a full GC`,
    "backend live heap: the size after its last mark-compact GC, from --trace-gc",
  ];
  return { name: "long-incident", title: "a 24-hour simulated incident: backend and cockpit memory, hour by hour", checks, notes, data: { config: c, rows } };
}

export const longIncidentBench: Benchmark = {
  name: "long-incident",
  title: "a 24-hour simulated incident: backend and cockpit memory, hour by hour",
  run: () => longIncidentResult(),
};

function parseArgs(argv: string[]): LongIncidentConfig {
  const c: LongIncidentConfig = { ...STANDARD };
  for (const key of ["hours", "rollouts", "metrics", "sampleEverySeconds", "speed"] as const) {
    const flag = key === "sampleEverySeconds" ? "--sample-every" : `--${key}`;
    const i = argv.indexOf(flag);
    if (i < 0) continue;
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${flag} must be a positive number (got ${argv[i + 1]})`);
    c[key] = v;
  }
  const d = argv.indexOf("--data-dir");
  if (d >= 0) c.dataDir = argv[d + 1]!;
  return c;
}

/** Run alone: print the curve and the table, write bench/results/long-incident.json. */
export async function main(argv: string[] = process.argv.slice(2)): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write("Usage: node dist/bench/long-incident.js [--hours H --rollouts R --metrics M --sample-every S --speed X --data-dir DIR]\n");
    return 0;
  }
  const t0 = performance.now();
  const loadBefore = load1();
  const result = await longIncidentResult(parseArgs(argv));
  const ms = performance.now() - t0;
  const path = writeResult(result, ms, { before: loadBefore, after: load1() });
  process.stdout.write(formatTable(result) + "\n" + `  (${(ms / 1000).toFixed(1)} s; ${path})\n`);
  return 0;
}

if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  if (process.argv[2] === "--cockpit") {
    runCockpit(process.argv[3]!);
  } else {
    main().then(
      (code) => process.exit(code),
      (err: unknown) => {
        process.stderr.write(`long-incident: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exit(1);
      },
    );
  }
}
