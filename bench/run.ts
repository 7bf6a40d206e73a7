import { cpuBench } from "./cpu.js";
import { decodeBench } from "./decode.js";
import { keypressBench } from "./keypress.js";
import { postmortemBench } from "./postmortem.js";
import { rssBench } from "./rss.js";
import { cpus } from "node:os";
import { formatTable, load1, verdict, writeResult, type BenchResult, type Benchmark } from "./lib/report.js";

// `npm run bench` runs every benchmark in turn; `npm run bench -- decode rss`
// runs those. Each prints its table and writes bench/results/<name>.json.
// Exit code 0 when every benchmark ran (targets missed are reported, not
// failed: timings are never asserted), 1 when one could not run, 2 for a bad name.

const BENCHMARKS: Benchmark[] = [decodeBench, cpuBench, keypressBench, rssBench, postmortemBench];

async function main(argv: string[]): Promise<number> {
  if (argv.includes("-h") || argv.includes("--help")) {
    process.stdout.write(`Usage: npm run bench [-- NAME...]\n\nBenchmarks: ${BENCHMARKS.map((b) => b.name).join(", ")}\n`);
    return 0;
  }
  const unknown = argv.filter((a) => !BENCHMARKS.some((b) => b.name === a));
  if (unknown.length > 0) {
    process.stderr.write(`bench: unknown benchmark ${unknown.join(", ")}; choose from ${BENCHMARKS.map((b) => b.name).join(", ")}\n`);
    return 2;
  }
  const chosen = argv.length === 0 ? BENCHMARKS : BENCHMARKS.filter((b) => argv.includes(b.name));
  const summary: { name: string; result: string; seconds: number }[] = [];
  let broken = false;
  for (const b of chosen) {
    process.stdout.write(`\n▶ ${b.name}: ${b.title}\n`);
    const t0 = performance.now();
    const loadBefore = load1();
    let r: BenchResult;
    try {
      r = await b.run();
    } catch (err) {
      broken = true;
      process.stderr.write(`bench ${b.name}: could not run: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      summary.push({ name: b.name, result: "ERROR", seconds: (performance.now() - t0) / 1000 });
      continue;
    }
    const ms = performance.now() - t0;
    const load = { before: loadBefore, after: load1() };
    const path = writeResult(r, ms, load);
    process.stdout.write(formatTable(r) + "\n");
    process.stdout.write(`  (${(ms / 1000).toFixed(1)} s; load average ${load.before.toFixed(1)} -> ${load.after.toFixed(1)} on ${cpus().length} CPUs; ${path})\n`);
    if (Math.max(load.before, load.after) > cpus().length) {
      process.stdout.write(`  ⚠ the machine was busy with other work (load above ${cpus().length}): times are inflated and ratios less reliable; rerun on a quiet machine\n`);
    }
    const verdicts = r.checks.filter((c) => c.pass !== null).map((c) => verdict(c.pass));
    summary.push({ name: b.name, result: verdicts.includes("FAIL") ? "FAIL" : "PASS", seconds: ms / 1000 });
  }
  if (chosen.length > 1) {
    process.stdout.write("\nsummary\n");
    for (const s of summary) process.stdout.write(`  ${s.name.padEnd(11)} ${s.result.padEnd(5)} ${s.seconds.toFixed(1)} s\n`);
  }
  return broken ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
