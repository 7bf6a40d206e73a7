import WebSocket from "ws";
import { connect, type ConnectionSink } from "../src/client/connection.js";
import { decodeServerFrame } from "../src/protocol/decode.js";
import type { CockpitEvent } from "../src/protocol/types.js";
import { createCockpitStore } from "../src/store/cockpit-store.js";
import { startChild } from "./lib/child.js";
import { EventStream, SCENARIO, eventFrame, scenarioEvents, summarizeMix } from "./lib/events.js";
import { writeFramesFile } from "./lib/frames-file.js";
import { check, median, type BenchResult, type Benchmark } from "./lib/report.js";

// Events per second through the cockpit's receive path (ws -> decodeServerFrame
// -> store ingest, via the real connect()) against a bare ws + JSON.parse
// client, both fed the same frames by the same server child on loopback, in
// alternating rounds of one process. Target (issue 3): at least 60% of bare.

const FRAMES = 150_000;
const PAIRS = 4;
const WARMUP_FRAMES = 30_000;
const ROUND_TIMEOUT_MS = 20_000;
const TARGET_RATIO = 0.6;

type Client = "bare" | "cockpit";

/** One round: wall time, and this process's CPU time over the same span. */
interface Timing {
  ms: number;
  cpuMs: number;
}

function startTiming(): () => Timing {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  return () => {
    const c = process.cpuUsage(c0);
    return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
  };
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ROUND_TIMEOUT_MS} ms`)), ROUND_TIMEOUT_MS);
    }),
  ]);
}

/** ws + JSON.parse and nothing else: the ceiling a client in this process can reach. */
function bareRound(url: string, n: number): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let stop: (() => Timing) | null = null;
    let events = 0;
    let lastSeq = 0;
    ws.on("open", () => ws.send(JSON.stringify({ type: "hello", protocol: 1, client: "bench-bare", resumeFrom: null })));
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as { type: string; event?: { seq: number } };
      if (msg.type === "welcome") {
        stop = startTiming();
        return;
      }
      if (msg.type !== "event") return;
      lastSeq = msg.event!.seq; // touch the result, as any consumer would
      if (++events === n) {
        const timing = stop!();
        ws.terminate();
        if (lastSeq !== n) reject(new Error(`bare client: last seq ${lastSeq}, expected ${n}`));
        else resolve(timing);
      }
    });
    ws.on("error", reject);
  });
}

/** The cockpit's own client and store; the clock stops once the store has published the last event. */
function cockpitRound(url: string, n: number): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const store = createCockpitStore({ url });
    let stop: (() => Timing) | null = null;
    let events = 0;
    let finished = false;
    const sink: ConnectionSink = {
      ingest: {
        ...store.ingest,
        welcome(msg) {
          stop = startTiming();
          store.ingest.welcome(msg);
        },
        event(e: CockpitEvent) {
          store.ingest.event(e);
          if (++events === n && !finished) {
            finished = true;
            // Publishing is part of the path: describe the timeline backlog, copy the series map.
            store.flush();
            const timing = stop!();
            const view = store.store.getState();
            void conn.close().then(() => {
              store.dispose();
              if (view.connection.lastSeq !== n) reject(new Error(`cockpit store: lastSeq ${view.connection.lastSeq}, expected ${n}`));
              else resolve(timing);
            });
          }
        },
      },
    };
    const conn = connect({ url, clientName: "bench-cockpit", store: sink, maxAttempts: 1, onFail: (_k, error) => reject(new Error(error)) });
  });
}

interface Round {
  client: Client;
  /** events per wall-clock second: the measure */
  eventsPerSecond: number;
  /** events per second of this process's CPU time: the same on a quiet machine, and steady when other processes take the CPU */
  eventsPerCpuSecond: number;
}

async function round(client: Client, url: string, n: number): Promise<Round> {
  const t = await withTimeout(client === "bare" ? bareRound(url, n) : cockpitRound(url, n), `${client} round`);
  return { client, eventsPerSecond: (n / t.ms) * 1000, eventsPerCpuSecond: (n / t.cpuMs) * 1000 };
}

/** The same work without a socket, to see where the time goes (events per CPU second: steady on a busy machine). */
function inMemory(frames: string[]): { parse: number; decode: number; decodeStore: number } {
  const rate = (f: () => void) => {
    const stop = startTiming();
    f();
    return (frames.length / stop().cpuMs) * 1000;
  };
  let sink = 0;
  const parse = rate(() => {
    for (const f of frames) sink += (JSON.parse(f) as { event: { seq: number } }).event.seq;
  });
  const decode = rate(() => {
    for (const f of frames) sink += decodeServerFrame(f).ok ? 1 : 0;
  });
  const store = createCockpitStore({ url: "ws://127.0.0.1/v1/stream", tickMs: 0, flushIntervalMs: 1_000_000 });
  const decodeStore = rate(() => {
    for (let i = 0; i < frames.length; i++) {
      const d = decodeServerFrame(frames[i]!);
      if (d.ok && d.msg.type === "event") store.ingest.event(d.msg.event);
      if (i % 1000 === 999) store.flush(); // ~ the 15 Hz flush at tens of thousands of events/s
    }
    store.flush();
  });
  store.dispose();
  // Uses the results, so the loops cannot be optimized away.
  if (sink < 0) console.log(sink);
  return { parse, decode, decodeStore };
}

export const decodeBench: Benchmark = {
  name: "decode",
  title: "events/s through ws -> decode -> store vs bare ws + JSON.parse (same server, same frames, same process)",
  async run(): Promise<BenchResult> {
    const base = await scenarioEvents();
    const stream = new EventStream(base);
    const mix = summarizeMix(base.events);
    const file = await writeFramesFile(stream, FRAMES);
    const warm = await writeFramesFile(stream, WARMUP_FRAMES);
    const server = startChild("stream-server", ["--frames", file.path, "--mode", "burst"], { timeoutMs: 150_000 });
    const warmServer = startChild("stream-server", ["--frames", warm.path, "--mode", "burst"], { timeoutMs: 150_000 });
    try {
      const url = (await server.line("URL ")).trim();
      const warmUrl = (await warmServer.line("URL ")).trim();
      for (const c of ["bare", "cockpit", "bare", "cockpit"] as const) await round(c, warmUrl, WARMUP_FRAMES);
      await warmServer.stop();
      // Pairs of rounds, alternating which client goes first, so a change in machine
      // speed during the run (other processes) hits both alike; the verdict is the
      // median of the pairs' ratios.
      const rounds: Round[] = [];
      const wallRatios: number[] = [];
      const cpuRatios: number[] = [];
      for (let p = 0; p < PAIRS; p++) {
        const order: Client[] = p % 2 === 0 ? ["bare", "cockpit"] : ["cockpit", "bare"];
        const got: Partial<Record<Client, Round>> = {};
        for (const c of order) rounds.push((got[c] = await round(c, url, FRAMES)));
        wallRatios.push(got.cockpit!.eventsPerSecond / got.bare!.eventsPerSecond);
        cpuRatios.push(got.cockpit!.eventsPerCpuSecond / got.bare!.eventsPerCpuSecond);
      }
      const med = (c: Client, f: (r: Round) => number) => median(rounds.filter((r) => r.client === c).map(f));
      const bare = med("bare", (r) => r.eventsPerSecond);
      const cockpit = med("cockpit", (r) => r.eventsPerSecond);
      const wallRatio = median(wallRatios);
      const cpuRatio = median(cpuRatios);
      const pct = (rs: number[]) => rs.map((r) => Math.round(r * 100)).join(", ");

      const sample: string[] = [];
      for (let i = 0; i < 60_000; i++) sample.push(eventFrame(stream.event(i)));
      const mem = inMemory(sample);

      return {
        name: "decode",
        title: this.title,
        checks: [
          check("cockpit client (connect + decode + store)", cockpit, "events/s", "", null),
          check("bare client (ws + JSON.parse)", bare, "events/s", "", null),
          check("cockpit / bare, wall clock", wallRatio * 100, `% (pairs: ${pct(wallRatios)})`, `>= ${TARGET_RATIO * 100}%`, wallRatio >= TARGET_RATIO),
          check("cockpit / bare, per CPU second", cpuRatio * 100, `% (pairs: ${pct(cpuRatios)})`, `>= ${TARGET_RATIO * 100}%`, cpuRatio >= TARGET_RATIO),
          check("cockpit client per CPU second", med("cockpit", (r) => r.eventsPerCpuSecond), "events/s", "", null),
          check("bare client per CPU second", med("bare", (r) => r.eventsPerCpuSecond), "events/s", "", null),
          check("no socket, per CPU second: JSON.parse", mem.parse, "events/s", "", null),
          check("no socket, per CPU second: decodeServerFrame", mem.decode, "events/s", "", null),
          check("no socket, per CPU second: decode + store", mem.decodeStore, "events/s", "", null),
        ],
        notes: [
          `${FRAMES.toLocaleString("en-US")} event frames per round, ${PAIRS} pairs of rounds (order alternating) after a warm-up; events/s are medians; mean frame ${mix.meanFrameBytes} bytes`,
          `frame mix from the ${SCENARIO} scenario run through the engine: ${Math.round((mix.samples / mix.total) * 100)}% sli.sample, ${mix.total - mix.samples} other events per ${mix.total}-event cycle`,
          "server: a child process writing pre-framed frames straight to the socket, so the client is the bottleneck",
          "per CPU second: events over the client process's CPU time in the round; equals the wall-clock figure when the client has a core to itself, and stays put when other processes take the CPU",
        ],
        data: { rounds, wallRatios, cpuRatios, mix, frames: FRAMES, inMemory: mem },
      };
    } finally {
      await warmServer.stop();
      await server.stop();
      await file.cleanup();
      await warm.cleanup();
    }
  },
};
