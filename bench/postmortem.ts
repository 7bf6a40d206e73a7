import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EVENTS_FILE } from "../src/backend/eventlog.js";
import { runChild } from "./lib/child.js";
import { scenarioEvents } from "./lib/events.js";
import { check, MB, type BenchResult, type Benchmark } from "./lib/report.js";

// Post-mortem draft of a 1,000,000-event log (issue 4: a few seconds, bounded
// memory). A child writes the log with the backend's EventLog (valid hash
// chain; canary-latency repeated as rollout after rollout) and copies its
// first 100,000 lines as a second, smaller log. A fresh child per log runs
// draftFromSource as `cockpit postmortem DIR` does and reports wall time and
// peak RSS, so memory can be compared at 100k and 1M events.
//
// The logs take longer to write than to draft on a busy machine, so they are
// kept in $TMPDIR/cockpit-bench-cache/ under a key made of the engine's
// scenario output, the sizes and GENERATOR_VERSION (bump it when
// child/make-log.ts changes what it writes), and reused by later runs.

const EVENTS = 1_000_000;
const PREFIX_EVENTS = 100_000;
const TARGET_SECONDS = 5;
/** "bounded": the peak may not grow by more than this from a 100k log to a 1M one */
const TARGET_GROWTH_MB = 50;
const GENERATOR_VERSION = 1;
const CACHE_ROOT = join(tmpdir(), "cockpit-bench-cache");

interface MakeLogResult {
  events: number;
  prefixLines: number;
  cycle: number;
  seconds: number;
}
/** The two logs, written once per key and reused; older keys' logs are removed. */
async function cachedLogs(): Promise<{ big: string; small: string; made: MakeLogResult | null; dir: string }> {
  const base = await scenarioEvents();
  const key = createHash("sha256")
    .update(JSON.stringify({ v: GENERATOR_VERSION, events: EVENTS, prefix: PREFIX_EVENTS, last: base.events[base.events.length - 1]?.hash, n: base.events.length }))
    .digest("hex")
    .slice(0, 16);
  const dir = join(CACHE_ROOT, `postmortem-${key}`);
  const paths = { big: join(dir, "log-1m"), small: join(dir, "log-100k"), dir };
  if (existsSync(join(dir, "complete"))) return { ...paths, made: null };
  await mkdir(CACHE_ROOT, { recursive: true });
  for (const old of await readdir(CACHE_ROOT)) {
    if (old.startsWith("postmortem-")) await rm(join(CACHE_ROOT, old), { recursive: true, force: true });
  }
  const building = await mkdtemp(join(CACHE_ROOT, "building-"));
  try {
    const made = await runChild<MakeLogResult>(
      "make-log",
      ["--dir", join(building, "log-1m"), "--events", String(EVENTS), "--prefix-dir", join(building, "log-100k"), "--prefix-events", String(PREFIX_EVENTS)],
      { timeoutMs: 180_000 },
    );
    await writeFile(join(building, "complete"), JSON.stringify(made) + "\n");
    await rename(building, dir);
    return { ...paths, made };
  } catch (err) {
    await rm(building, { recursive: true, force: true });
    throw err;
  }
}

interface DraftResult {
  ok: boolean;
  error?: string;
  seconds: number;
  rssBeforeMB: number;
  rssAfterMB: number;
  sampledPeakRssMB: number;
  maxRssMB: number;
  heapAfterMB: number;
  draftBytes: number;
  choice?: string;
  chain?: string;
  warnings: string[];
}

export const postmortemBench: Benchmark = {
  name: "postmortem",
  title: "post-mortem draft of a 1,000,000-event log: time and peak RSS",
  async run(): Promise<BenchResult> {
    const { big, small, made, dir } = await cachedLogs();
    const bytes = (await stat(join(big, EVENTS_FILE))).size;
    const draftSmall = await runChild<DraftResult>("postmortem-draft", ["--source", small], { timeoutMs: 60_000 });
    const draftBig = await runChild<DraftResult>("postmortem-draft", ["--source", big], { timeoutMs: 90_000 });
    for (const [label, d] of [["100k", draftSmall], ["1M", draftBig]] as const) {
      if (!d.ok) throw new Error(`postmortem draft of the ${label} log failed: ${d.error}`);
    }
    const growth = draftBig.maxRssMB - draftSmall.maxRssMB;
    return {
      name: "postmortem",
      title: this.title,
      checks: [
        check("1M events: draft time", draftBig.seconds, "s", `<= ${TARGET_SECONDS} s ("a few seconds")`, draftBig.seconds <= TARGET_SECONDS),
        check("1M events: peak RSS", draftBig.maxRssMB, `MB (before ${draftBig.rssBeforeMB.toFixed(0)} MB, +${(draftBig.maxRssMB - draftBig.rssBeforeMB).toFixed(0)} MB)`, "", null),
        check("100k events: draft time", draftSmall.seconds, "s", "", null),
        check("100k events: peak RSS", draftSmall.maxRssMB, `MB (before ${draftSmall.rssBeforeMB.toFixed(0)} MB, +${(draftSmall.maxRssMB - draftSmall.rssBeforeMB).toFixed(0)} MB)`, "", null),
        check("peak RSS growth 100k -> 1M", growth, "MB", `< ${TARGET_GROWTH_MB} MB (bounded)`, growth < TARGET_GROWTH_MB),
        check("1M events: throughput", EVENTS / draftBig.seconds, "events/s", "", null),
      ],
      notes: [
        `log: ${EVENTS.toLocaleString("en-US")} events, ${(bytes / MB).toFixed(0)} MB, hash-chained with the backend's serializeEvent and canonical hash; the canary-latency run repeated with new ids each time; ${made ? `written in ${made.seconds.toFixed(1)} s (not timed)` : "reused"} (${dir})`,
        `the draft chose: ${draftBig.choice ?? "?"}; chain: ${draftBig.chain ?? "?"}`,
        "peak RSS is the kernel's (process.resourceUsage().maxRSS) for a fresh process per log; the growth target is this benchmark's reading of \"bounded\"",
      ],
      data: { made, bytes, draftSmall, draftBig },
    };
  },
};
