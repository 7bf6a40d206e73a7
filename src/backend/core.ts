import type { Plan } from "../domain/plan-types.js";
import type { MetricModel, Scenario, ScriptedCommand } from "../domain/scenario-types.js";
import { emptyState } from "../domain/fold.js";
import { formatDurationShort } from "../domain/duration.js";
import type { Actor, CockpitEvent, CockpitState, CommandMsg, EventDraft, RejectCode, Session } from "../protocol/types.js";
import { CommandRunner, type Actuator, type CommandOutcome as RunOutcome } from "./actuators/runner.js";
import type { BackendPort, CommandOutcome } from "./backend-port.js";
import { EventLog, LogWriteError, nodeLogIo, type RecoveryReport } from "./eventlog.js";
import { SimulatedFleet } from "./fleet.js";
import type { BackendMetrics } from "./metrics.js";
import { FleetSource, SourceReadError, type Exposure, type SliSource, type SourceHealth } from "./sli-source.js";
import { ALERTMANAGER_SOURCE, type AlertmanagerClient, type ExternalAlert } from "./sources/alertmanager.js";
import { TenantEngine, type ActionRequest, type SampleReading } from "./engine.js";
import { seededRandom } from "./rng.js";
import { FailureLog } from "./failure-log.js";

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
  /** runs the plan's commands (apply, rollback, engage, release); default a CommandRunner on this process's environment */
  actuator?: Actuator;
  /** Alertmanager: polled for alerts while the live loop runs, and where acks create silences */
  alertmanager?: AlertmanagerClient | null;
  /** real ms between Alertmanager polls (default 10000) */
  alertPollMs?: number;
  /** the backend's own metrics (GET /metrics); absent: not counted */
  metrics?: BackendMetrics;
}

/** A source's last known state for one tenant, to report changes once. */
interface SourceStatus {
  ok: boolean;
  kind: string;
  since: number;
}

type SourceCheck = { tenant: string; source: string; ok: true } | { tenant: string; source: string; ok: false; kind: string; message: string };

/** The first answer to a command id, replayed to any retry of that id. */
type Answer = { kind: "ack"; seq: number } | { kind: "reject"; code: RejectCode; message: string };

/** A kill-switch command a person asked for, waiting for its program to run outside the queue. */
interface Deferred {
  kind: "deferred";
  req: ActionRequest;
  engine: TenantEngine;
  drafts: EventDraft[];
  session: Session;
  cmd: CommandMsg;
}

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
  private readonly actuator: Actuator;
  /** lanes with a command running: one command at a time per rollout (and per kill switch) */
  private readonly busyLanes = new Set<string>();
  /** commands not yet answered (queued, or waiting for a kill-switch program): a retry of the id joins the same answer */
  private readonly inflight = new Map<string, Promise<CommandOutcome>>();
  /** runs and silences under way, so tests and shutdown can wait for them */
  private readonly background = new Set<Promise<unknown>>();
  private readonly sourceStatus = new Map<string, SourceStatus>();
  private alertTimer: ReturnType<typeof setInterval> | null = null;
  private polling = false;
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
    this.actuator = opts.actuator ?? new CommandRunner();
  }

  static async open(opts: BackendOptions): Promise<BackendCore> {
    const core = new BackendCore(opts);
    let firstTime: number | null = null;
    let lastTime: number | null = null;
    const replayed: CockpitEvent[] = [];
    // Engines are created once the epoch is known; replayed events wait in a
    // bounded way: only their times are needed before the engines exist.
    const { log, recovery } = await EventLog.open(opts.dataDir, {
      ...(opts.metrics ? { io: opts.metrics.timedLogIo(nodeLogIo) } : {}),
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
    const metrics = opts.metrics;
    if (metrics) log.onAppend((events) => events.forEach((e) => metrics.eventsWritten.inc({ tenant: e.tenant })));
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
      this.engines.set(plan.tenant, new TenantEngine(plan, { burnWindowScale: this.opts.burnWindowScale, epoch, sampleEveryMs: this.sampleEveryMs() }));
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
      if (e.type === "source.degraded" || e.type === "source.recovered") {
        // After a restart, a source the log left failing is reported again when it answers.
        const d = e.data as { source: string };
        this.sourceStatus.set(`${e.tenant}\u0000${d.source}`, { ok: e.type === "source.recovered", kind: "replayed", since: Date.parse(e.time) });
      }
      // A program run for a command is not its answer: the event that follows it is (killswitch.engaged).
      if (e.command && e.type !== "command.executed") {
        const key = `${e.tenant}\u0000${e.command}`;
        if (!this.answered.has(key)) {
          if (e.type === "command.rejected") {
            const d = e.data as { code: RejectCode; message: string };
            this.answered.set(key, { kind: "reject", code: d.code, message: d.message });
          } else if (e.type === "command.failed") {
            const d = e.data as { step: string; reason: string };
            const what = d.step === "engage" ? "engaged" : d.step === "release" ? "released" : "changed";
            this.answered.set(key, { kind: "reject", code: "invalid_state", message: `the kill switch's ${d.step} command failed: ${d.reason}; it was not ${what}` });
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

  knowsCommand(session: Session, id: string): boolean {
    const key = `${session.tenant}\u0000${id}`;
    return this.inflight.has(key) || this.answered.has(key);
  }

  submitCommand(session: Session, cmd: CommandMsg): Promise<CommandOutcome> {
    const key = `${session.tenant}\u0000${cmd.id}`;
    // A retry of an id still being answered (queued, or waiting for its kill-switch program) joins it.
    const running = this.inflight.get(key);
    if (running) return running.then((o) => ({ ...o, duplicate: true }));
    const outcome = this.enqueue(() => this.runCommand(session, cmd, this.simClock.now())).then((first) =>
      first.kind === "deferred" ? this.finishDeferred(first, key) : first,
    );
    this.inflight.set(key, outcome);
    const forget = () => {
      if (this.inflight.get(key) === outcome) this.inflight.delete(key);
    };
    outcome.then(forget, forget);
    const metrics = this.opts.metrics;
    if (metrics) {
      outcome.then(
        (o) => metrics.commands.inc({ action: cmd.action, result: o.kind === "ack" ? "ack" : o.code }),
        () => metrics.commands.inc({ action: cmd.action, result: "error" }),
      );
    }
    return outcome;
  }

  private async runCommand(session: Session, cmd: CommandMsg, now: number): Promise<CommandOutcome | Deferred> {
    const key = `${session.tenant}\u0000${cmd.id}`;
    const before = this.answered.get(key);
    if (before) return { ...before, duplicate: true };
    const engine = this.engineFor(session.tenant);
    const result = engine.command(session, cmd, now);
    if (result.kind === "apply" && (cmd.action === "kill_switch" || cmd.action === "release_kill_switch") && cmd.target.rollout) {
      const req = engine.killSwitchAction(cmd.target.rollout, cmd.action);
      if (req) return this.deferKillSwitch(engine, req, result.drafts, session, cmd, now);
    }
    try {
      await this.write(result.drafts);
    } catch (err) {
      if (!(err instanceof LogWriteError)) throw err;
      // Nothing is acked that is not durable; the client may retry with the same id.
      return { kind: "reject", code: "invalid_state", message: COMMAND_LOG_FAILED, duplicate: false };
    }
    const outcome = this.answered.get(key);
    if (!outcome) return { kind: "reject", code: "invalid_state", message: COMMAND_LOG_FAILED, duplicate: false };
    if (outcome.kind === "ack" && cmd.action === "ack_alert" && cmd.target.alert) this.silenceAcked(engine, session, cmd);
    this.kickActions();
    return { ...outcome, duplicate: false };
  }

  /**
   * A kill switch whose plan names a program: the flag counts as engaged (or
   * released) only once the program succeeded, so the command is answered
   * after it ran. The program runs outside the serial queue.
   */
  private async deferKillSwitch(engine: TenantEngine, req: ActionRequest, drafts: EventDraft[], session: Session, cmd: CommandMsg, now: number): Promise<CommandOutcome | Deferred> {
    if (this.busyLanes.has(req.lane)) {
      const message = `the kill switch of ${req.rollout} is already running its ${req.step === "engage" ? "engage" : "release"} command; wait for it to finish`;
      try {
        await this.write([engine.rejectedDraft(now, session, cmd, "invalid_state", message)]);
      } catch (err) {
        if (!(err instanceof LogWriteError)) throw err;
      }
      return { kind: "reject", code: "invalid_state", message, duplicate: false };
    }
    this.busyLanes.add(req.lane);
    return { kind: "deferred", req, engine, drafts, session, cmd };
  }

  private finishDeferred(d: Deferred, key: string): Promise<CommandOutcome> {
    const run = (async (): Promise<CommandOutcome> => {
      const result = await this.runPlanCommand(d.req);
      return this.enqueue(async () => {
        try {
          const now = this.simClock.now();
          const actor: Actor = { kind: "human", name: d.session.actor, role: d.session.role };
          const cause = { rollout: d.req.rollout, actor, command: d.cmd.id, ...(d.req.ring ? { ring: d.req.ring } : {}) };
          const runDrafts = d.engine.commandRunDrafts(now, d.req.step, result, cause);
          const stamp = new Date(now).toISOString();
          await this.write(result.ok ? [...runDrafts, ...d.drafts.map((x) => ({ ...x, time: stamp }))] : runDrafts);
        } catch (err) {
          if (!(err instanceof LogWriteError)) throw err;
          return { kind: "reject", code: "invalid_state", message: COMMAND_LOG_FAILED, duplicate: false } as CommandOutcome;
        } finally {
          this.busyLanes.delete(d.req.lane);
        }
        const outcome = this.answered.get(key);
        if (!outcome) return { kind: "reject", code: "invalid_state", message: COMMAND_LOG_FAILED, duplicate: false } as CommandOutcome;
        return { ...outcome, duplicate: false };
      });
    })();
    this.track(run);
    return run;
  }

  // ---- the plan's commands ------------------------------------------------------------

  private track<T>(p: Promise<T>): void {
    const settled = p.then(
      () => undefined,
      () => undefined,
    );
    this.background.add(settled);
    void settled.then(() => this.background.delete(settled));
  }

  /** Wait until no command runs and no outcome waits to be written (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
    await this.serial.catch(() => undefined);
  }

  private async runPlanCommand(req: ActionRequest): Promise<RunOutcome> {
    const started = Date.now();
    let result: RunOutcome;
    try {
      result = await this.actuator.run(req.spec, req.vars);
    } catch (err) {
      result = { ok: false, argv: [], exitCode: null, outputTail: "", durationMs: Date.now() - started, reason: `the backend could not run it: ${(err as Error).message}` };
    }
    const m = this.opts.metrics;
    if (m) {
      m.planCommands.inc({ step: req.step, result: result.ok ? "ok" : "failed" });
      m.planCommandSeconds.observe(result.durationMs / 1000, { step: req.step });
    }
    if (!result.ok) this.opts.log?.(`${req.step} for ${req.rollout}${req.ring ? ` ${req.ring}` : ""} failed: ${result.reason ?? "?"}`);
    return result;
  }

  /** Start every command the engines ask for whose lane is free. Called inside the queue; never waits for a run. */
  private kickActions(): void {
    if (this.closed) return;
    const now = this.simClock.now();
    for (const engine of this.engines.values()) {
      for (const req of engine.actions(now)) {
        if (this.busyLanes.has(req.lane)) continue;
        this.busyLanes.add(req.lane);
        this.track(this.runEngineAction(engine, req));
      }
    }
  }

  private async runEngineAction(engine: TenantEngine, req: ActionRequest): Promise<void> {
    let result: RunOutcome;
    try {
      result = await this.runPlanCommand(req);
    } catch (err) {
      this.busyLanes.delete(req.lane);
      throw err;
    }
    await this.enqueue(async () => {
      try {
        if (this.closed) {
          this.opts.log?.(`${req.step} for ${req.rollout} ${req.ring} finished during shutdown; not recorded, so it runs again on restart`);
          return;
        }
        await this.write(engine.actionOutcome(req, result, this.simClock.now()));
      } catch (err) {
        this.opts.log?.(`recording ${req.step} for ${req.rollout} ${req.ring} failed (${(err as Error).message}); it will run again`);
      } finally {
        this.busyLanes.delete(req.lane);
      }
      this.kickActions();
    });
  }

  /** An acked Alertmanager alert is silenced there when the plan asks for it; the outcome is logged, the ack does not wait. */
  private silenceAcked(engine: TenantEngine, session: Session, cmd: CommandMsg): void {
    const am = this.opts.alertmanager;
    const seconds = engine.plan.alertmanager?.silenceOnAckSeconds;
    const alertId = cmd.target.alert!;
    const labels = engine.externalAlertLabels(alertId);
    if (!am || !seconds || !labels || Object.keys(labels).length === 0) return;
    const actor: Actor = { kind: "human", name: session.actor, role: session.role };
    const reason = (cmd.reason ?? "").trim();
    const comment = `acknowledged in rollout-cockpit by ${session.actor} (${session.role})${reason ? `: ${reason}` : ""}`;
    const started = Date.now();
    const task = (async () => {
      let result: RunOutcome;
      const argv = ["POST", `${am.url.replace(/\/+$/, "")}/api/v2/silences`];
      try {
        const endsAt = new Date(Date.now() + seconds * 1000);
        const id = await am.createSilence({ labels, startsAt: new Date(), endsAt, createdBy: session.actor, comment });
        result = { ok: true, argv, exitCode: null, outputTail: `silence ${id} until ${endsAt.toISOString()}`, durationMs: Date.now() - started, status: 200 };
      } catch (err) {
        const message = (err as Error).message;
        result = { ok: false, argv, exitCode: null, outputTail: message, durationMs: Date.now() - started, reason: message };
      }
      this.opts.metrics?.planCommands.inc({ step: "silence", result: result.ok ? "ok" : "failed" });
      await this.enqueue(async () => {
        if (this.closed) return;
        const state = engine.state.alerts.find((a) => a.id === alertId);
        const refs = { alert: alertId, actor, command: cmd.id, ...(state?.rollout ? { rollout: state.rollout } : {}), ...(state?.ring ? { ring: state.ring } : {}) };
        await this.write(engine.commandRunDrafts(this.simClock.now(), "silence", result, refs)).catch((err: unknown) => this.opts.log?.(`recording the silence of ${alertId} failed: ${(err as Error).message}`));
      });
    })();
    this.track(task);
  }

  // ---- alerts from Alertmanager ---------------------------------------------------------

  /**
   * Alerts into one tenant's log. `complete`: they are every active alert
   * (a poll), so firing Alertmanager alerts not among them resolve. Returns the
   * number of events written.
   */
  ingestAlerts(tenant: string, alerts: readonly ExternalAlert[], complete: boolean): Promise<number> {
    this.opts.metrics?.alertsReceived.inc({ via: complete ? "poll" : "webhook" }, alerts.length);
    return this.enqueue(async () => {
      const engine = this.engines.get(tenant);
      if (!engine) return 0;
      const drafts = engine.ingestAlerts(this.simClock.now(), alerts, complete);
      await this.write(drafts);
      return drafts.length;
    });
  }

  private tenantOfAlert(a: ExternalAlert): string | undefined {
    const named = a.labels.tenant;
    if (named && this.engines.has(named)) return named;
    return this.opts.plans[0]?.tenant ?? this.tenants()[0];
  }

  /** One poll of Alertmanager: every tenant gets its alerts (and the resolution of missing ones), or hears the source is down. */
  async pollAlerts(): Promise<void> {
    const am = this.opts.alertmanager;
    if (!am || this.polling || this.closed) return;
    this.polling = true;
    try {
      let alerts: ExternalAlert[];
      try {
        alerts = await am.alerts();
      } catch (err) {
        const message = (err as Error).message;
        const kind = (err as { kind?: string }).kind ?? "error";
        await this.enqueue(() => this.writeSourceChecks(this.tenants().map((tenant) => ({ tenant, source: ALERTMANAGER_SOURCE, ok: false, kind, message })), this.simClock.now()));
        return;
      }
      const byTenant = new Map<string, ExternalAlert[]>(this.tenants().map((t) => [t, []]));
      for (const a of alerts) {
        const t = this.tenantOfAlert(a);
        if (t) byTenant.get(t)?.push(a);
      }
      for (const [tenant, list] of byTenant) await this.ingestAlerts(tenant, list, true);
      await this.enqueue(() => this.writeSourceChecks(this.tenants().map((tenant) => ({ tenant, source: ALERTMANAGER_SOURCE, ok: true })), this.simClock.now()));
    } finally {
      this.polling = false;
    }
  }

  // ---- source health ----------------------------------------------------------------------

  /** source.degraded when a source starts failing (or fails differently), source.recovered when it answers again. */
  private async writeSourceChecks(checks: SourceCheck[], t: number): Promise<void> {
    const drafts: EventDraft[] = [];
    const updates: Array<[string, SourceStatus]> = [];
    const m = this.opts.metrics;
    for (const c of checks) {
      const key = `${c.tenant}\u0000${c.source}`;
      const prev = this.sourceStatus.get(key);
      const engine = this.engines.get(c.tenant);
      if (!engine) continue;
      m?.sourceUp.set({ source: c.source }, c.ok ? 1 : 0);
      if (c.ok) {
        if (prev && !prev.ok) {
          const gap = prev.kind === "replayed" ? "" : ` after ${formatDurationShort(Math.max(1, Math.round((t - prev.since) / 1000)))}`;
          drafts.push(engine.sourceDraft(t, "source.recovered", c.source, `${c.source} answers again${gap}`));
          this.opts.log?.(`${c.source} (${c.tenant}) answers again${gap}`);
        }
        if (!prev || !prev.ok) updates.push([key, { ok: true, kind: "ok", since: t }]);
        continue;
      }
      m?.sourceFailures.inc({ source: c.source });
      if (!prev || prev.ok || prev.kind !== c.kind) {
        drafts.push(engine.sourceDraft(t, "source.degraded", c.source, c.message));
        this.opts.log?.(`${c.source} (${c.tenant}) failing: ${c.message}`);
        updates.push([key, { ok: false, kind: c.kind, since: prev && !prev.ok && prev.kind !== "replayed" ? prev.since : t }]);
      }
    }
    await this.write(drafts);
    for (const [key, status] of updates) this.sourceStatus.set(key, status);
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
      const read = await this.readSources(t);
      await this.enqueue(() => this.step(t, read));
    }
  }

  /** Source health, for the cockpit and /healthz. */
  sourceHealth(): SourceHealth[] {
    return this.sources.map((s) => s.health());
  }

  private async readSources(t: number): Promise<{ readings: Map<TenantEngine, SampleReading[]>; checks: SourceCheck[] }> {
    const out = new Map<TenantEngine, SampleReading[]>();
    const checks: SourceCheck[] = [];
    for (const eng of this.engines.values()) {
      const exposures: Exposure[] = eng.exposures(t).map((e) => ({ ...e, tenant: eng.tenant }));
      if (exposures.length === 0) continue;
      const readings: SampleReading[] = [];
      for (const src of this.sources) {
        try {
          readings.push(...(await src.read(exposures, t)));
          checks.push({ tenant: eng.tenant, source: src.name, ok: true });
        } catch (err) {
          // No reading is no evidence: the rings hold until the source answers again.
          if (err instanceof SourceReadError) readings.push(...err.readings);
          const kind = err instanceof SourceReadError ? err.kind : "error";
          checks.push({ tenant: eng.tenant, source: src.name, ok: false, kind, message: (err as Error).message });
        }
      }
      out.set(eng, readings);
    }
    return { readings: out, checks };
  }

  /** the step time whose samples are on disk (a retry of that step skips them) */
  private samplesDurableAt: number | null = null;

  private async step(t: number, read: { readings: Map<TenantEngine, SampleReading[]>; checks: SourceCheck[] }): Promise<void> {
    if (this.nextSampleAt !== t || this.closed) return; // another caller already took this step, or shutting down
    const due = this.dueScript(t);
    for (let i = 0; i < due.length; i++) {
      const sc = due[i]!;
      const tenant = this.opts.plans[0]?.tenant ?? "demo";
      const msg = scriptMsg(sc);
      const r = await this.runCommand({ actor: sc.actor.name, role: sc.actor.role, tenant }, msg, t);
      if (r.kind === "reject" && r.message === COMMAND_LOG_FAILED) {
        // It did not run (the log could not take it): back to the front of the script, for this step's retry.
        this.script.unshift(...due.slice(i));
        throw new Error(`the scripted ${sc.action} at +${sc.at}s could not be written to the event log (free disk space or fix the data directory's permissions); it runs when the step is retried`);
      }
      // A scripted kill switch with a program: it runs like a person's would (never awaited inside the queue).
      if (r.kind === "deferred") void this.finishDeferred(r, `${tenant}\u0000${msg.id}`);
    }
    // A step retried after a failed write must not repeat what is already durable:
    // samples fed twice would count twice in every gate.
    if (this.samplesDurableAt !== t) {
      await this.writeSourceChecks(read.checks, t);
      const drafts: EventDraft[] = [];
      for (const [eng, rs] of read.readings) drafts.push(...eng.sampleDrafts(t, rs));
      await this.write(drafts);
      this.samplesDurableAt = t;
    }
    const decisions: EventDraft[] = [];
    for (const eng of this.engines.values()) decisions.push(...eng.decide(t));
    await this.write(decisions);
    this.nextSampleAt = t + this.sampleEveryMs();
    this.kickActions();
  }

  private dueScript(t: number): ScriptedCommand[] {
    const due: ScriptedCommand[] = [];
    while (this.script.length > 0 && this.epoch + this.script[0]!.at * 1000 <= t) {
      const sc = this.script.shift()!;
      due.push(sc);
    }
    return due;
  }

  /** Run the simulation against the wall clock until close(); poll Alertmanager when there is one. */
  start(): void {
    if (this.timer) return;
    if (this.opts.alertmanager && !this.alertTimer) {
      const poll = () => void this.pollAlerts().catch((err: unknown) => this.opts.log?.(`Alertmanager poll failed: ${(err as Error).message}`));
      this.alertTimer = setInterval(poll, this.opts.alertPollMs ?? 10_000);
      poll();
    }
    const loopMs = this.opts.loopMs ?? 50;
    const stepFailures = new FailureLog("engine step", (line) => this.opts.log?.(line));
    this.timer = setInterval(() => {
      if (this.stepping || this.closed) return;
      this.stepping = true;
      this.runUntil(this.simClock.now())
        .then(
          () => stepFailures.succeeded(),
          (err: unknown) => stepFailures.failed(err instanceof Error ? err.message : String(err)),
        )
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
    if (this.alertTimer) clearInterval(this.alertTimer);
    this.alertTimer = null;
    await this.serial.catch(() => undefined);
    await this.log.close();
    for (const src of this.sources) await src.close?.().catch(() => undefined);
    await this.opts.alertmanager?.close().catch(() => undefined);
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
