import { runChild } from "./lib/child.js";
import { check, type BenchResult, type Benchmark, type Check } from "./lib/report.js";
import { COCKPIT_NODE_FLAGS } from "../src/node-flags.js";
import type { RssFeedResult } from "./lib/rss-feed-result.js";

// Memory of the cockpit's store as events pile up (issue 3: RSS after
// 1,000,000 events flat within 20 MB of the value at 100,000). A fresh child
// with --expose-gc decodes and stores the engine's frame mix and samples RSS
// after a full GC at 100k, 250k, 500k, 750k and 1M. The stream is one long
// incident (the same rollout, alert and incident ids over and over). A shorter
// second run gives each repetition new ids (rollout after rollout, for days)
// to show what grows with the number of rollouts rather than events.

const EVENTS = 1_000_000;
const MARKS = [100_000, 250_000, 500_000, 750_000, 1_000_000];
const CHURN_EVENTS = 300_000;
const CHURN_MARKS = [100_000, 200_000, 300_000];
const TARGET_MB = 20;

function curveChecks(r: RssFeedResult, label: string): Check[] {
  return r.curve.map((s) =>
    check(
      `${label} ${s.events.toLocaleString("en-US")} events`,
      s.rssMB,
      `MB rss (heap ${s.heapUsedMB.toFixed(1)} MB; ${s.rollouts} rollouts, ${s.series} series, ${s.timeline} timeline)`,
      "",
      null,
    ),
  );
}

export const rssBench: Benchmark = {
  name: "rss",
  title: "RSS of decode + store after 1,000,000 events vs after 100,000",
  async run(): Promise<BenchResult> {
    const flags = ["--expose-gc"];
    const incident = await runChild<RssFeedResult>("rss-feed", ["--events", String(EVENTS), "--marks", MARKS.join(",")], { nodeFlags: flags, timeoutMs: 180_000 });
    const churn = await runChild<RssFeedResult>("rss-feed", ["--events", String(CHURN_EVENTS), "--marks", CHURN_MARKS.join(","), "--distinct"], { nodeFlags: flags, timeoutMs: 90_000 });
    const at = (r: RssFeedResult, n: number) => r.curve.find((s) => s.events === n)!;
    const growth = at(incident, EVENTS).rssMB - at(incident, 100_000).rssMB;
    const heapGrowth = at(incident, EVENTS).heapUsedMB - at(incident, 100_000).heapUsedMB;
    const churnFirst = churn.curve[0]!;
    const churnLast = churn.curve[churn.curve.length - 1]!;
    const churnPerRollout = (churnLast.heapUsedMB - churnFirst.heapUsedMB) / Math.max(1, churnLast.rollouts - churnFirst.rollouts);
    return {
      name: "rss",
      title: this.title,
      checks: [
        ...curveChecks(incident, "one incident:"),
        check("RSS growth 100k -> 1M", growth, "MB", `<= ${TARGET_MB} MB`, Math.abs(growth) <= TARGET_MB),
        check("heap growth 100k -> 1M", heapGrowth, "MB", "", null),
        ...curveChecks(churn, "new rollout ids each cycle:"),
        check("  heap per extra rollout kept", churnPerRollout * 1024, "KiB", "", null),
      ],
      notes: [
        `child started with the cockpit's Node flags (${COCKPIT_NODE_FLAGS.join(" ")}: src/node-flags.ts) and --expose-gc (gc ${incident.gc ? "available" : "NOT available: figures include garbage"}); two full GCs before each sample; publishes every 133 events (15 Hz at 2,000 events/s; the default flush is 10 Hz, so this publishes more often than the cockpit does)`,
        `process RSS before the first event: ${incident.startRssMB.toFixed(1)} MB (heap ${incident.startHeapMB.toFixed(1)} MB)`,
        `frames the decoder refused: ${incident.bad + churn.bad}`,
      ],
      data: { incident, churn },
    };
  },
};
