import { EventEmitter } from "node:events";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { connect, type ConnectionSink } from "../../src/client/connection.js";
import { createCockpitStore } from "../../src/store/cockpit-store.js";
import { startCockpit } from "../../src/tui/start.js";
import { emitResult } from "../lib/child.js";
import { FakeStdin, FakeStdout } from "../lib/terminal.js";

// The cockpit as a person runs it (connect + store, and with --ink the Ink app
// drawing to a terminal of --columns x --rows), in a process of its own so its
// CPU time is its own. Measures process.cpuUsage over --seconds after a warm-up.

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "2" },
    ink: { type: "boolean", default: false },
    columns: { type: "string", default: "160" },
    rows: { type: "string", default: "48" },
  },
});
if (!values.url) throw new Error("cpu-cockpit: give --url");
const url = values.url;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const store = createCockpitStore({ url });
let events = 0;
const sink: ConnectionSink = {
  ingest: {
    ...store.ingest,
    event(e) {
      events++;
      store.ingest.event(e);
    },
  },
};
const connection = connect({ url, clientName: "bench-cpu", store: sink, resumeFrom: 0 });
const stdout = new FakeStdout(Number(values.columns), Number(values.rows));
const stdin = new FakeStdin();
if (values.ink) {
  void startCockpit({
    store,
    connection,
    readonly: false,
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stderr: new FakeStdout(80, 24) as unknown as NodeJS.WriteStream,
    processLike: new EventEmitter(),
    env: {},
  });
}

const liveBy = Date.now() + 5_000;
while (store.store.getState().connection.status !== "live") {
  if (Date.now() > liveBy) throw new Error(`cpu-cockpit: not live on ${url} after 5 s: ${store.store.getState().connection.error ?? "no error"}`);
  await sleep(10);
}
await sleep(Number(values.warmup) * 1000);

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const events0 = events;
const frames0 = stdout.frames;
const bytes0 = stdout.bytes;
await sleep(Number(values.seconds) * 1000);
const cpu = process.cpuUsage(cpu0);
const wallMs = performance.now() - t0;
delay.disable();
const view = store.store.getState();

emitResult({
  ink: values.ink,
  reactBuild: process.env.NODE_ENV === "production" ? "production" : "development",
  wallMs,
  userMs: cpu.user / 1000,
  systemMs: cpu.system / 1000,
  cpuPercent: ((cpu.user + cpu.system) / 1000 / wallMs) * 100,
  eventsPerSecond: ((events - events0) / wallMs) * 1000,
  framesPerSecond: ((stdout.frames - frames0) / wallMs) * 1000,
  bytesPerSecond: ((stdout.bytes - bytes0) / wallMs) * 1000,
  eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
  rssMB: process.memoryUsage().rss / 2 ** 20,
  status: view.connection.status,
  lastSeq: view.connection.lastSeq,
});
process.exit(0);
