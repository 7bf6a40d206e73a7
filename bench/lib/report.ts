import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { resultsDir } from "./paths.js";

// What a benchmark hands back, how it is printed (one table per benchmark) and
// where it is kept (bench/results/<name>.json, gitignored). Benchmarks report
// numbers and a verdict against the target; nothing here asserts.

export interface Check {
  metric: string;
  measured: number;
  unit: string;
  /** the target as a person reads it, e.g. ">= 60% of bare" */
  target: string;
  /** null: shown for context, no target */
  pass: boolean | null;
}

export interface BenchResult {
  name: string;
  title: string;
  checks: Check[];
  /** how it was measured and, for a miss, why */
  notes: string[];
  /** raw figures (rounds, curves) for the JSON file */
  data: Record<string, unknown>;
}

export interface Benchmark {
  name: string;
  title: string;
  run(): Promise<BenchResult>;
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (Number.isInteger(n) && abs < 100_000) return String(n);
  if (abs >= 100_000) return Math.round(n).toLocaleString("en-US");
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function verdict(pass: boolean | null): string {
  return pass === null ? "info" : pass ? "PASS" : "FAIL";
}

function pad(s: string, width: number): string {
  return s + " ".repeat(Math.max(0, width - [...s].length));
}

/** A plain-text table: metric | measured | target | result. */
export function formatTable(r: BenchResult): string {
  const header = ["metric", "measured", "target", "result"];
  const rows = r.checks.map((c) => [c.metric, `${formatNumber(c.measured)} ${c.unit}`.trim(), c.target, verdict(c.pass)]);
  const widths = header.map((h, i) => Math.max([...h].length, ...rows.map((row) => [...row[i]!].length)));
  const line = (cells: string[]) => "  " + cells.map((c, i) => pad(c, widths[i]!)).join("  │  ").trimEnd();
  const rule = "  " + widths.map((w) => "─".repeat(w)).join("──┼──");
  const out = [`${r.name}: ${r.title}`, line(header), rule, ...rows.map(line)];
  for (const n of r.notes) out.push(`  · ${n}`);
  return out.join("\n");
}

export function machine(): Record<string, unknown> {
  const c = cpus();
  return { node: process.version, platform: `${platform()} ${release()}`, cpus: c.length, cpuModel: c[0]?.model ?? "unknown", memoryMB: Math.round(totalmem() / 2 ** 20) };
}

/** The 1-minute load average: other work on the machine slows every figure here, so it is kept with them. */
export function load1(): number {
  return loadavg()[0] ?? 0;
}

/** Writes bench/results/<name>.json; returns its path. */
export function writeResult(r: BenchResult, durationMs: number, load: { before: number; after: number }): string {
  const dir = resultsDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${r.name}.json`);
  const body = {
    ...r,
    checks: r.checks.map((c) => ({ ...c, result: verdict(c.pass) })),
    ranAt: new Date().toISOString(),
    durationMs: Math.round(durationMs),
    machine: { ...machine(), loadAverage1m: load },
  };
  writeFileSync(path, JSON.stringify(body, null, 2) + "\n");
  return path;
}

export function check(metric: string, measured: number, unit: string, target: string, pass: boolean | null): Check {
  return { metric, measured, unit, target, pass };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

export function median(values: number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

export const MB = 2 ** 20;
