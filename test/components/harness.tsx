import { EventEmitter } from "node:events";
import { render } from "ink";
import { App, type AppProps } from "../../components/App.js";
import type { CommandRequest } from "../../src/client/connection.js";
import { createCockpitStore, type CockpitStore } from "../../src/store/cockpit-store.js";
import type { CockpitEvent, CommandMsg, EventDataMap, EventType, Role } from "../../src/protocol/types.js";

// A terminal of a chosen size for Ink (ink-testing-library's is fixed at 100
// columns with no rows), a store on an injected clock, and event builders.

export class FakeStdout extends EventEmitter {
  frames: string[] = [];
  isTTY = true;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    return true;
  };
  lastFrame = (): string => this.frames[this.frames.length - 1] ?? "";
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit("resize");
  }
}

export class FakeStdin extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write = (data: string): void => {
    this.data = data;
    this.emit("readable");
    this.emit("data", data);
  };
  setEncoding(): void {}
  setRawMode(_on?: boolean): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
  read = (): string | null => {
    const d = this.data;
    this.data = null;
    return d;
  };
}

export const T0 = Date.parse("2026-11-21T14:00:00.000Z");

export interface Clock {
  now: () => number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function clock(start = T0): Clock {
  let t = start;
  return { now: () => t, set: (ms) => (t = ms), advance: (ms) => (t += ms) };
}

export function makeStore(c: Clock, opts: { readonly?: boolean } = {}): CockpitStore {
  // No timers: tests flush by hand, so frames depend only on what the test did.
  return createCockpitStore({ url: "ws://127.0.0.1:7420/v1/stream", now: c.now, flushIntervalMs: 1_000_000, tickMs: 0, ...opts });
}

let seqCounter = 0;
export function ev<T extends EventType>(
  seq: number,
  type: T,
  data: EventDataMap[T],
  refs: Partial<Pick<CockpitEvent, "rollout" | "ring" | "alert" | "incident" | "command" | "actor" | "time">> = {},
): CockpitEvent {
  seqCounter++;
  return {
    seq,
    id: `evt_${seq}_${seqCounter}`,
    time: refs.time ?? new Date(T0 + seq * 1000).toISOString(),
    tenant: "payments",
    type,
    actor: refs.actor ?? { kind: "engine", name: "engine" },
    data,
    prev: "0".repeat(64),
    hash: "1".repeat(64),
    ...(refs.rollout ? { rollout: refs.rollout } : {}),
    ...(refs.ring ? { ring: refs.ring } : {}),
    ...(refs.alert ? { alert: refs.alert } : {}),
    ...(refs.incident ? { incident: refs.incident } : {}),
    ...(refs.command ? { command: refs.command } : {}),
  } as CockpitEvent;
}

export function welcome(store: CockpitStore, role: Role = "operator", actor = "alice"): void {
  store.ingest.welcome({ type: "welcome", protocol: 1, server: "test", session: { actor, role, tenant: "payments" }, headSeq: 0 });
}

/** The canary-latency story: api v408 in canary (done) and region-1 (breaching, auto-paused), an alert firing. */
export function canaryIncident(store: CockpitStore, opts: { paused?: boolean; killSwitch?: boolean } = {}): number {
  const r = "api-v408";
  let s = 0;
  const push = (e: CockpitEvent) => store.ingest.event(e);
  push(
    ev(++s, "rollout.created", {
      service: "api",
      version: "v408",
      previousVersion: "v407",
      kind: "code",
      rings: [
        { name: "canary", traffic: 1, bakeSeconds: 300, slos: ["p99_latency_ms < 50 for 1m", "error_rate < 1%"] },
        { name: "region-1", traffic: 10, bakeSeconds: 600, slos: ["p99_latency_ms < 50 for 1m", "error_rate < 1%"] },
        { name: "global", traffic: 100, bakeSeconds: 900, slos: ["p99_latency_ms < 50 for 1m"] },
      ],
      ...(opts.killSwitch ? { killSwitch: { flag: "checkout_v2" } } : {}),
      onBreach: "pause",
    }, { rollout: r }),
  );
  push(ev(++s, "ring.started", { ring: "canary", traffic: 1 }, { rollout: r, ring: "canary" }));
  push(ev(++s, "ring.completed", { ring: "canary", traffic: 1 }, { rollout: r, ring: "canary" }));
  push(ev(++s, "ring.started", { ring: "region-1", traffic: 10 }, { rollout: r, ring: "region-1" }));
  push(ev(++s, "ring.baking", { ring: "region-1", traffic: 10, until: new Date(T0 + 600_000).toISOString() }, { rollout: r, ring: "region-1" }));
  for (let i = 0; i < 20; i++) {
    push(ev(++s, "sli.sample", { ring: "region-1", metric: "p99_latency_ms", value: 40 + i * 1.2, unit: "ms", baseline: 41 }, { rollout: r, ring: "region-1" }));
    push(ev(++s, "sli.sample", { ring: "region-1", metric: "error_rate", value: 0.2, unit: "%", baseline: 0.2 }, { rollout: r, ring: "region-1" }));
  }
  if (opts.paused !== false) {
    push(ev(++s, "slo.breached", { ring: "region-1", assertion: "p99_latency_ms < 50 for 1m", value: 63.2, threshold: 50, consecutive: 3 }, { rollout: r, ring: "region-1" }));
    push(ev(++s, "rollout.paused", { reason: "p99_latency_ms < 50 for 1m breached in region-1 (63.2 > 50)", automatic: true }, { rollout: r, ring: "region-1" }));
    push(
      ev(++s, "alert.firing", { severity: "critical", title: "api p99 latency over SLO in region-1", source: "engine" }, { rollout: r, ring: "region-1", alert: "al-1" }),
    );
  }
  return s;
}

export interface Rendered {
  stdout: FakeStdout;
  stdin: FakeStdin;
  /** the last frame as written, styling codes included */
  raw(): string;
  /** the last frame as a person reads it: styling (SGR) codes removed, so tests pass with FORCE_COLOR too */
  lastFrame(): string;
  lines(): string[];
  press(keys: string): Promise<void>;
  unmount(): void;
  sent: CommandRequest[];
}

/** Only Select Graphic Rendition (colour, bold, inverse...): anything else must stay visible to the tests. */
export function stripSgr(s: string): string {
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}

/** Let React commit and Ink write (one macrotask is enough in legacy mode; two to be safe with effects). */
export async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 0));
  await new Promise((r) => setTimeout(r, 0));
}

export async function renderApp(
  store: CockpitStore,
  opts: { columns?: number; rows?: number; sender?: (cmd: CommandRequest) => string } & Partial<Omit<AppProps, "store" | "sender">> = {},
): Promise<Rendered> {
  const stdout = new FakeStdout(opts.columns ?? 80, opts.rows ?? 24);
  const stdin = new FakeStdin();
  const sent: CommandRequest[] = [];
  let n = 0;
  const sender =
    opts.sender ??
    ((cmd: CommandRequest) => {
      sent.push(cmd);
      const id = `c${++n}`;
      const msg: CommandMsg = { type: "command", id, action: cmd.action, target: cmd.target, ...(cmd.reason ? { reason: cmd.reason } : {}), ...(cmd.args ? { args: cmd.args } : {}) };
      store.ingest.commandSent(msg);
      store.flush();
      return id;
    });
  const { columns: _c, rows: _r, sender: _s, ...appOpts } = opts;
  const instance = render(<App store={store.store} sender={sender} {...appOpts} />, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    stderr: new FakeStdout(80, 24) as unknown as NodeJS.WriteStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  await settle();
  return {
    stdout,
    stdin,
    sent,
    raw: () => stdout.lastFrame(),
    lastFrame: () => stripSgr(stdout.lastFrame()),
    lines: () => stripSgr(stdout.lastFrame()).split("\n"),
    press: async (keys: string) => {
      stdin.write(keys);
      await settle();
    },
    unmount: () => instance.unmount(),
  };
}
