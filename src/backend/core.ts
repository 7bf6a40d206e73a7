import type { Plan } from "../domain/plan-types.js";
import type { MetricModel, Scenario, ScriptedCommand } from "../domain/scenario-types.js";
import { emptyState } from "../domain/fold.js";
import type { CockpitEvent, CockpitState, CommandMsg, EventDraft, RejectCode, Session } from "../protocol/types.js";
import type { BackendPort, CommandOutcome } from "./backend-port.js";
import { EventLog, LogWriteError, type RecoveryReport } from "./eventlog.js";
import { SimulatedFleet } from "./fleet.js";
import { FleetSource, type Exposure, type SliSource, type SourceHealth } from "./sli-source.js";
import { TenantEngine, type SampleReading } from "./engine.js";
import { seededRandom } from "./rng.js";

// The backend core: one event log, one engine per tenant, a simulated fleet,
// and the loop that moves simulated time. Every change goes through one
// serial queue: decide from the current state, make the drafts durable, apply
// them, then decide again. Commands and the clock never interleave, so no
// decision is taken on a state that is about to change.

export interface Clock {
  /** simulated now, ms since the epoch */
  now(): number;
}

/** Simulated time running `speed` times faster than the wall clock, from `start`. */
export function simulatedClock(start: number, speed: number, wall: () => number = Date.now): Clock {
  const realStart = wall();
  return { now: () => Math.floor(start + (wall() - realStart) * speed) };
}

export interface BackendOptions {
  dataDir: string;
  plans: Plan[];
  /** the simulated fleet's models; absent: no simulated SLIs */
  fleet?: Pick<Scenario, "metrics" | "effects" | "recoverySeconds" | "sampleEverySeconds"> | null;
  /** other SLI sources (Prometheus); read every sample interval */
  sources?: SliSource[];
  /** seconds between SLI readings when there is no fleet (default 5) */
  sampleEverySeconds?: number;
  script?: ScriptedCommand[];
  seed: number;
  burnWindowScale: number;
  /** simulated seconds per real second for the live loop */
  speed: number;
  /** sim start on an empty log (default: the wall clock); tests fix it for a repeatable log */
  startTime?: number;
  /** how often the live loop looks at the clock, real ms */
  loopMs?: number;
  log?: (line: string) => void;
}

/** The first answer to a command id, replayed to any retry of that id. */
type Answer = { kind: "ack"; seq: number } | { kind: "reject"; code: RejectCode; message: string };

const COMMAND_LOG_FAILED =
  "the backend could not write its event log, so nothing was changed; free disk space or fix the data directory's permissions, then retry";

export class BackendCore implements BackendPort {
  private serial: Promise<unknown> = Promise.resolve();
  private readonly engines = new Map<string, TenantEngine>();
  private readonly answered = new Map<string, Answer>();
  private readonly sources: SliSource[];
  private readonly script: ScriptedCommand[];
  private nextSampleAt = 0;
  private epoch = 0;
  private simClock: Clock = { now: Date.now };
  private timer: ReturnType<typeof setInterval> | null = null;
  private stepping = false;
  private closed = false;
  /** the last time the log could not be written, for health display */
  lastWriteError: string | null = null;
  recovery: RecoveryReport | null = null;
  log!: EventLog;

  private constructor(private readonly opts: BackendOptions) {
    this.sources = [...(opts.sources ?? [])];
    if (opts.fleet) {
      const fleet = new SimulatedFleet(opts.fleet.metrics, opts.fleet.effects, opts.fleet.recoverySeconds, seededRandom(opts.seed));
      this.sources.unshift(new FleetSource(fleet));
    }
    this.script = [...(opts.script ?? [])].sort((a, b) => a.at - b.at);
  }

  static async open(opts: BackendOptions): Promise<BackendCore> {
    const core = new BackendCore(opts);
    let firstTime: number | null = null;
    let lastTime: number | null = null;
    const replayed: CockpitEvent[] = [];
    // Engines are created once the epoch is known; replayed events wait in a
    // bounded way: only their times are needed before the engines exist.
    const { log, recovery } = await EventLog.open(opts.dataDir, {
      onReplay: (e) => {
        const t = Date.parse(e.time);
        if (firstTime === null) firstTime = t;
        lastTime = t;
        replayed.push(e);
        if (replayed.length >= 10_000) core.flushReplay(replayed, firstTime);
      },
    });
    core.flushReplay(replayed, firstTime);
    core.log = log;
    core.recovery = recovery;
    const wall = Date.now();
    // Simulated time never runs backwards over the log. Live, it also never lags
    // the wall clock after downtime; a test that pins startTime gets a repeatable clock.
    const clockStart =
      lastTime === null ? (opts.startTime ?? Math.floor(wall / 1000) * 1000) : opts.startTime !== undefined ? lastTime : Math.max(lastTime, wall);
    core.ensureEngines(firstTime ?? clockStart);
    const every = core.sampleEveryMs();
    const base = lastTime === null ? clockStart : Math.max(clockStart, (lastTime as number) + 1);
    core.nextSampleAt = core.epoch + Math.ceil((base - core.epoch) / every) * every;
    core.simClock = simulatedClock(clockStart, opts.speed);
    // Engines see every durable batch before any subscriber (the server) does.
    log.onAppend((events) => core.applyDurable(events));
    return core;
  }

  private flushReplay(buffer: CockpitEvent[], firstTime: number | null): void {
    if (buffer.length === 0) return;
    this.ensureEngines(firstTime ?? Date.parse(buffer[0]!.time));
    this.applyDurable(buffer);
    buffer.length = 0;
  }

  private ensureEngines(epoch: number): void {
    if (this.engines.size > 0) return;
    this.epoch = epoch;
    for (const plan of this.opts.plans) {
      this.engines.set(plan.tenant, new TenantEngine(plan, { burnWindowScale: this.opts.burnWindowScale, epoch }));
    }
  }

  private engineFor(tenant: string): TenantEngine {
    let eng = this.engines.get(tenant);
    if (!eng) {
      // A tenant found only in the log (its plan is gone): keep its state readable.
      eng = new TenantEngine({ tenant, rollouts: [] }, { burnWindowScale: this.opts.burnWindowScale, epoch: this.epoch });
      this.engines.set(tenant, eng);
    }
    return eng;
  }

  private applyDurable(events: CockpitEvent[]): void {
    for (const e of events) {
      this.engineFor(e.tenant).apply(e);
      if (e.command) {
        const key = `${e.tenant}\u0000${e.command}`;
        if (!this.answered.has(key)) {
          if (e.type === "command.rejected") {
            const d = e.data as { code: RejectCode; message: string };
            this.answered.set(key, { kind: "reject", code: d.code, message: d.message });
          } else {
            this.answered.set(key, { kind: "ack", seq: e.seq });
          }
        }
      }
    }
  }

  private sampleEveryMs(): number {
    return Math.max(1, (this.opts.fleet?.sampleEverySeconds ?? this.opts.sampleEverySeconds ?? 5) * 1000);
  }

  private enqueue<T>(op: () => Promise<T>): Promise<T> {
    const run = this.serial.then(op, op);
    this.serial = run.catch(() => undefined);
    return run;
  }

  private async write(drafts: EventDraft[]): Promise<CockpitEvent[]> {
    if (drafts.length === 0) return [];
    try {
      const events = await this.log.append(drafts);
      this.lastWriteError = null;
      return events;
    } catch (err) {
      if (err instanceof LogWriteError) this.lastWriteError = err.message;
      throw err;
    }
  }

  // ---- BackendPort ---------------------------------------------------------------

  headSeq(): number {
    return this.log.headSeq;
  }

  tenants(): string[] {
    return [...this.engines.keys()];
  }

  snapshot(tenant: string): { seq: number; state: CockpitState } {
    return { seq: this.log.headSeq, state: this.engines.get(tenant)?.state ?? emptyState() };
  }

  eventsSince(seq: number): CockpitEvent[] | null {
    return this.log.since(seq);
  }

  subscribe(listener: (events: CockpitEvent[]) => void): () => void {
    return this.log.onAppend(listener);
  }

  submitCommand(session: Session, cmd: CommandMsg): Promise<CommandOutcome> {
    return this.enqueue(() => this.runCommand(session, cmd, this.simClock.now()));
  }

  private async runCommand(session: Session, cmd: CommandMsg, now: number): Promise<CommandOutcome> {
    const key = `${session.tenant}\u0000${cmd.id}`;
    const before = this.answered.get(key);
    if (before) return { ...before, duplicate: true };
    const result = this.engineFor(session.tenant).command(session, cmd, now);
    try {
      await this.write(result.drafts);
    } catch (err) {
      if (!(err instanceof LogWriteError)) throw err;
      // Nothing is acked that is not durable; the client may retry with the same id.
      return { kind: "reject", code: "invalid_state", message: COMMAND_LOG_FAILED, duplicate: false };
    }
    const outcome = this.answered.get(key);
    if (!outcome) return { kind: "reject", code: "invalid_state", message: COMMAND_LOG_FAILED, duplicate: false };
    return { ...outcome, duplicate: false };
  }

  // ---- simulated time --------------------------------------------------------------

  /**
   * Advance simulated time to `until`, sample by sample. Sources are read
   * outside the serial queue; each step's writes and decisions go through it,
   * so commands may land between steps but never inside one.
   */
  async runUntil(until: number): Promise<void> {
    while (this.nextSampleAt <= until && !this.closed) {
      const t = this.nextSampleAt;
      const readings = await this.readSources(t);
      await this.enqueue(() => this.step(t, readings));
    }
  }

  /** Source health, for the cockpit and /healthz. */
  sourceHealth(): SourceHealth[] {
    return this.sources.map((s) => s.health());
  }

  private async readSources(t: number): Promise<Map<TenantEngine, SampleReading[]>> {
    const out = new Map<TenantEngine, SampleReading[]>();
    for (const eng of this.engines.values()) {
      const exposures: Exposure[] = eng.exposures(t).map((e) => ({ ...e, tenant: eng.tenant }));
      if (exposures.length === 0) continue;
      const readings: SampleReading[] = [];
      for (const src of this.sources) {
        try {
          readings.push(...(await src.read(exposures, t)));
        } catch (err) {
          this.opts.log?.(`SLI source ${src.name} failed: ${(err as Error).message}`);
        }
      }
      out.set(eng, readings);
    }
    return out;
  }

  private async step(t: number, readings: Map<TenantEngine, SampleReading[]>): Promise<void> {
    if (this.nextSampleAt !== t) return; // another caller already took this step
    for (const sc of this.dueScript(t)) {
      const tenant = this.opts.plans[0]?.tenant ?? "demo";
      await this.runCommand({ actor: sc.actor.name, role: sc.actor.role, tenant }, scriptMsg(sc), t);
    }
    const drafts: EventDraft[] = [];
    for (const [eng, rs] of readings) drafts.push(...eng.sampleDrafts(t, rs));
    await this.write(drafts);
    const decisions: EventDraft[] = [];
    for (const eng of this.engines.values()) decisions.push(...eng.decide(t));
    await this.write(decisions);
    this.nextSampleAt = t + this.sampleEveryMs();
  }

  private dueScript(t: number): ScriptedCommand[] {
    const due: ScriptedCommand[] = [];
    while (this.script.length > 0 && this.epoch + this.script[0]!.at * 1000 <= t) {
      const sc = this.script.shift()!;
      due.push(sc);
    }
    return due;
  }

  /** Run the simulation against the wall clock until close(). */
  start(): void {
    if (this.timer) return;
    const loopMs = this.opts.loopMs ?? 50;
    this.timer = setInterval(() => {
      if (this.stepping || this.closed) return;
      this.stepping = true;
      this.runUntil(this.simClock.now())
        .catch((err: unknown) => this.opts.log?.(`engine step failed: ${err instanceof Error ? err.message : String(err)}; will retry`))
        .finally(() => {
          this.stepping = false;
        });
    }, loopMs);
  }

  now(): number {
    return this.simClock.now();
  }

  serverClock(): { time: string; speed: number } {
    return { time: new Date(this.simClock.now()).toISOString(), speed: this.opts.speed };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.serial.catch(() => undefined);
    await this.log.close();
  }
}

function scriptMsg(sc: ScriptedCommand): CommandMsg {
  const msg: CommandMsg = { type: "command", id: `script-${sc.at}-${sc.action}-${sc.actor.name}`, action: sc.action, target: sc.target };
  if (sc.reason !== undefined) msg.reason = sc.reason;
  if (sc.args !== undefined) msg.args = sc.args;
  return msg;
}

/** Metric models used when a plan is served without a scenario: a quiet, healthy fleet. */
export const DEFAULT_METRICS: Record<string, MetricModel> = {
  p99_latency_ms: { unit: "ms", baseline: 38, noise: 0.05 },
  p50_latency_ms: { unit: "ms", baseline: 12, noise: 0.05 },
  error_rate: { unit: "%", baseline: 0.05, noise: 0.2, max: 100 },
  throughput_rps: { unit: "rps", baseline: 20000, noise: 0.03, perTraffic: true },
  cpu_saturation: { unit: "%", baseline: 45, noise: 0.05, max: 100 },
  active_conns: { unit: "conns", baseline: 5000, noise: 0.04, perTraffic: true },
};
