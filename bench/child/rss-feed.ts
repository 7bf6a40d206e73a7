import { parseArgs } from "node:util";
import { decodeServerFrame } from "../../src/protocol/decode.js";
import { createCockpitStore } from "../../src/store/cockpit-store.js";
import { emitResult } from "../lib/child.js";
import { EventStream, eventFrame, scenarioEvents } from "../lib/events.js";
import type { RssFeedResult, RssSample } from "../lib/rss-feed-result.js";

// Feeds --events frames of the engine's mix through decodeServerFrame and the
// cockpit store in a fresh process (run with --expose-gc), publishing as the
// 15 Hz flush would at 2,000 events/s (every 133 events), and samples memory
// after a full GC at each of --marks. --distinct gives every repetition of
// the scenario its own rollout, alert and incident ids.

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    marks: { type: "string", default: "100000,250000,500000,750000,1000000" },
    distinct: { type: "boolean", default: false },
  },
});
const total = Number(values.events);
const marks = new Set(values.marks.split(",").map(Number));
const FLUSH_EVERY = 133;

const gc = (globalThis as { gc?: () => void }).gc;
function collect(): void {
  gc?.();
  gc?.();
}

const stream = new EventStream(await scenarioEvents(), { distinct: values.distinct });
const store = createCockpitStore({ url: "ws://127.0.0.1:7420/v1/stream", flushIntervalMs: 1_000_000_000, tickMs: 0 });
store.ingest.welcome({ type: "welcome", protocol: 1, server: "bench", session: { actor: "bench", role: "operator", tenant: "payments" }, headSeq: total });
collect();
const start = process.memoryUsage();
const t0 = performance.now();

const curve: RssSample[] = [];
const mb = (n: number) => n / 2 ** 20;
let bad = 0;

for (let i = 0; i < total; i++) {
  const d = decodeServerFrame(eventFrame(stream.event(i)));
  if (d.ok && d.msg.type === "event") store.ingest.event(d.msg.event);
  else bad++;
  if ((i + 1) % FLUSH_EVERY === 0) store.flush();
  if (marks.has(i + 1)) {
    store.flush();
    const seconds = (performance.now() - t0) / 1000;
    collect();
    const m = process.memoryUsage();
    const v = store.store.getState();
    curve.push({
      events: i + 1,
      rssMB: mb(m.rss),
      heapUsedMB: mb(m.heapUsed),
      externalMB: mb(m.external),
      seconds,
      rollouts: v.state.rollouts.length,
      alerts: v.state.alerts.length,
      incidents: v.state.incidents.length,
      series: v.series.size,
      timeline: v.timeline.length,
    });
    process.stderr.write(`rss-feed: ${i + 1} events, rss ${mb(m.rss).toFixed(1)} MB, ${seconds.toFixed(1)} s\n`);
  }
}
store.dispose();
const result: RssFeedResult = { gc: gc !== undefined, startRssMB: mb(start.rss), startHeapMB: mb(start.heapUsed), curve, bad, distinct: values.distinct };
emitResult(result);
