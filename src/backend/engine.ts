import { evaluateAssertion, parseAssertion, type Assertion } from "../domain/assertion.js";
import { formatDurationShort } from "../domain/duration.js";
import { BurnRateTracker } from "../domain/burnrate.js";
import { applyEvent, emptyState } from "../domain/fold.js";
import { GateTracker } from "../domain/gate.js";
import type { CommandSpec, Plan, RingPlan, RolloutPlan } from "../domain/plan-types.js";
import { checkCommand } from "../domain/transitions.js";
import type {
  Actor,
  CockpitEvent,
  CockpitState,
  CommandMsg,
  CommandRunData,
  CommandStep,
  EventDataMap,
  EventDraft,
  EventType,
  RejectCode,
  RingState,
  RolloutState,
  Session,
  Severity,
} from "../protocol/types.js";
import type { CommandVars } from "./actuators/placeholders.js";
import type { CommandOutcome } from "./actuators/runner.js";
import type { RingExposure } from "./fleet.js";
import { ALERTMANAGER_SOURCE, type ExternalAlert } from "./sources/alertmanager.js";

// The rollout engine for one tenant. It is event-sourced: `apply` is the only
// way its state changes, and it is called with each event after the log made
// it durable (and for every event on replay after a restart). Deciding what
// happens next (`decide`, `command`, `samples`) only reads state and returns
// drafts, so a decision is never taken twice and a restart rebuilds exactly
// the state the events describe.

export const ENGINE_ACTOR: Actor = { kind: "engine", name: "engine" };
/** simulated seconds a rollback takes to drain the new version */
export const ROLLBACK_SECONDS = 15;
/** automatic rollbacks allowed per rollout in AUTO_ROLLBACK_WINDOW_S; more pause instead */
export const AUTO_ROLLBACK_LIMIT = 1;
export const AUTO_ROLLBACK_WINDOW_S = 3600;
/** after a rollout ends, its rings keep reporting SLIs at least this long, or the bake window if longer (recovery evidence) */
export const SAMPLE_AFTER_END_S = 120;

interface Gate {
  assertion: Assertion;
  tracker: GateTracker;
  last: { value: number | null; threshold: number | null; consecutive: number; noData: boolean } | null;
  /**
   * The evidence behind a green gate: the current unbroken run of readings with
   * data (a "no data" reading or a missed interval breaks it). A ring is only
   * promoted when each gate's run is long enough that the gate could have
   * breached within it: no promotion on missing evidence.
   */
  run: { since: number; lastSeen: number; count: number } | null;
}

interface RingRuntime {
  startedAt: number | null;
  mitigatedAt: number | null;
  gates: Gate[];
  burn: BurnRateTracker | null;
  /** burn-rate rules currently firing, by rule text ("14.4x over 1h and 5m") */
  burnActive: Map<string, { severity: Severity; burnLong: number; burnShort: number }>;
}

interface RolloutRuntime {
  plan: RolloutPlan;
  rings: Map<string, RingRuntime>;
  /** when a rollback without commands counts as done; null while commands do the work */
  rollbackDueAt: number | null;
  /** the rollback under way: its scope, whether the engine started it, and rings whose rollback command succeeded */
  rollback: { scope: string[]; automatic: boolean; done: Set<string> } | null;
  autoRollbacks: number[];
  endedAt: number | null;
  killEngagedAt: number | null;
}

export interface SampleReading {
  rollout: string;
  ring: string;
  metric: string;
  value: number | null;
  unit: string;
  baseline: number | null;
}

export type CommandResult =
  | { kind: "apply"; drafts: EventDraft[] }
  | { kind: "reject"; code: RejectCode; message: string; drafts: EventDraft[] };

/** One of the plan's commands that should run now; the core runs it outside its serial queue. */
export interface ActionRequest {
  /** runs on one lane happen one at a time (a rollout's apply and rollback never overlap) */
  lane: string;
  step: CommandStep;
  rollout: string;
  ring: string;
  spec: CommandSpec;
  vars: CommandVars;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Float noise (0.14100000000000001) has no place in an audit log. */
function round6(v: number | null): number | null {
  return v === null || !Number.isFinite(v) ? v : Number(v.toPrecision(6));
}

function fmt(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return "no data";
  return String(Math.round(v * 100) / 100);
}

/**
 * A breach's reading against its threshold, "72.38 > 50"; in percent when the
 * assertion is ("8.81% > 1%"), so an error rate cannot be read as a count.
 */
function readingAgainst(a: Assertion, value: number | null, threshold: number): string {
  const unit = a.text.includes("%") ? "%" : "";
  const v = fmt(value);
  return `${v}${v === "no data" ? "" : unit} ${a.op === "<" || a.op === "<=" ? ">" : "<"} ${fmt(threshold)}${unit}`;
}

export class TenantEngine {
  state: CockpitState = emptyState();
  private readonly runtimes = new Map<string, RolloutRuntime>();
  /** engine alert key (gate or burn rule) -> firing alert id */
  private readonly engineAlerts = new Map<string, string>();
  private incidentCount = 0;

  /** alert id -> labels, for alerts that came from Alertmanager (an ack may silence them there) */
  private readonly externalLabels = new Map<string, Record<string, string>>();

  constructor(
    readonly plan: Plan,
    private readonly opts: { burnWindowScale: number; epoch: number; sampleEveryMs?: number },
  ) {
    for (const r of plan.rollouts) {
      this.runtimes.set(r.id, { plan: r, rings: new Map(), rollbackDueAt: null, rollback: null, autoRollbacks: [], endedAt: null, killEngagedAt: null });
    }
  }

  get tenant(): string {
    return this.plan.tenant;
  }

  private rollout(id: string | undefined): RolloutState | undefined {
    return id === undefined ? undefined : this.state.rollouts.find((r) => r.id === id);
  }

  private ringRuntime(rt: RolloutRuntime, ring: string): RingRuntime {
    let rr = rt.rings.get(ring);
    if (!rr) {
      rr = { startedAt: null, mitigatedAt: null, gates: [], burn: null, burnActive: new Map() };
      rt.rings.set(ring, rr);
    }
    return rr;
  }

  private freshGates(rt: RolloutRuntime, ring: string): Gate[] {
    const ringPlan = rt.plan.rings.find((g) => g.name === ring);
    const gates: Gate[] = [];
    for (const text of ringPlan?.slos ?? []) {
      const parsed = parseAssertion(text);
      if (!parsed.ok) continue; // plans are validated on load; a log from an older plan may differ
      gates.push({ assertion: parsed.assertion, tracker: new GateTracker(parsed.assertion, { breachAfter: rt.plan.breachAfter }), last: null, run: null });
    }
    return gates;
  }

  // ---- apply: the only state change ------------------------------------------------

  apply(e: CockpitEvent): void {
    this.state = applyEvent(this.state, e);
    const rt = e.rollout ? this.runtimes.get(e.rollout) : undefined;
    const d = e.data as Record<string, unknown>;
    const t = Date.parse(e.time);
    switch (e.type) {
      case "ring.started": {
        if (!rt) break;
        const rr = this.ringRuntime(rt, String(d.ring));
        rr.startedAt = t;
        rr.mitigatedAt = null;
        rr.gates = this.freshGates(rt, String(d.ring));
        // The ring is watched from its start: a first reading within one interval continues this run.
        for (const g of rr.gates) g.run = { since: t, lastSeen: t, count: 0 };
        rr.burn = rt.plan.errorBudget
          ? new BurnRateTracker({ objectivePercent: rt.plan.errorBudget.objective, windowScale: this.opts.burnWindowScale })
          : null;
        rr.burnActive.clear();
        break;
      }
      case "sli.sample": {
        if (!rt) break;
        const rr = rt.rings.get(String(d.ring));
        if (!rr) break;
        const value = typeof d.value === "number" ? d.value : null;
        const baseline = typeof d.baseline === "number" ? d.baseline : null;
        for (const g of rr.gates) {
          if (g.assertion.metric !== d.metric) continue;
          const tr = g.tracker.observe(t, value, baseline);
          if (tr) g.last = { value: round6(tr.value), threshold: round6(tr.threshold), consecutive: tr.consecutive, noData: tr.noData };
          this.noteEvidence(g, t, value, baseline);
        }
        if (rr.burn && rt.plan.errorBudget?.metric === d.metric) {
          for (const b of rr.burn.observe(t, value)) {
            if (b.kind === "firing") rr.burnActive.set(b.rule, { severity: b.severity, burnLong: b.burnLong, burnShort: b.burnShort });
            else rr.burnActive.delete(b.rule);
          }
        }
        break;
      }
      case "rollout.rollback_started":
        if (rt) {
          const scope = [...((d.scope as string[]) ?? [])];
          rt.rollback = { scope, automatic: Boolean(d.automatic), done: new Set() };
          // With rollback commands, the rollback is done when they succeeded, not after a while.
          rt.rollbackDueAt = this.rollbackCommanded(rt, scope) ? null : t + ROLLBACK_SECONDS * 1000;
          if (d.automatic) rt.autoRollbacks.push(t);
        }
        break;
      case "command.executed":
        if (rt && rt.rollback && e.ring) {
          if (d.step === "rollback") rt.rollback.done.add(e.ring);
          if (d.step === "apply" && !rt.rollback.scope.includes(e.ring)) {
            // The ring took the new version while the rollback was under way: it must go back too.
            rt.rollback.scope.push(e.ring);
            if (this.rollbackCommanded(rt, rt.rollback.scope)) rt.rollbackDueAt = null;
          }
        }
        break;
      case "rollout.rolled_back":
        if (rt) {
          rt.rollbackDueAt = null;
          rt.rollback = null;
          rt.endedAt = t;
          for (const ring of (d.scope as string[]) ?? []) {
            const rr = rt.rings.get(ring);
            if (rr && rr.mitigatedAt === null) rr.mitigatedAt = t;
          }
        }
        break;
      case "rollout.completed":
        if (rt) rt.endedAt = t;
        break;
      case "killswitch.engaged":
        if (rt) {
          rt.killEngagedAt = t;
          for (const rr of rt.rings.values()) if (rr.mitigatedAt === null) rr.mitigatedAt = t;
        }
        break;
      case "killswitch.released":
        if (rt) {
          rt.killEngagedAt = null;
          // The feature is back on: rings still on the new version are exposed again.
          const r = this.rollout(e.rollout);
          for (const [name, rr] of rt.rings) {
            const ring = r?.rings.find((g) => g.name === name);
            if (ring && ring.state !== "rolled_back") rr.mitigatedAt = null;
          }
        }
        break;
      case "alert.firing": {
        const key = (d.labels as Record<string, string> | undefined)?.key;
        if (key && e.actor.kind === "engine" && e.alert) this.engineAlerts.set(key, e.alert);
        if (d.source === ALERTMANAGER_SOURCE && e.alert) this.externalLabels.set(e.alert, { ...((d.labels as Record<string, string>) ?? {}) });
        break;
      }
      case "alert.resolved": {
        const key = (d.labels as Record<string, string> | undefined)?.key;
        if (key && e.actor.kind === "engine") this.engineAlerts.delete(key);
        if (e.alert) this.externalLabels.delete(e.alert);
        break;
      }
      case "incident.declared":
        this.incidentCount++;
        break;
      default:
        break;
    }
  }

  // ---- what the fleet should sample ------------------------------------------------

  /** Rings whose SLIs are reported now: started, and not long after their rollout ended. */
  exposures(now: number): RingExposure[] {
    const out: RingExposure[] = [];
    for (const [id, rt] of this.runtimes) {
      const r = this.rollout(id);
      if (!r) continue;
      if (rt.endedAt !== null && now - rt.endedAt > this.sampleAfterEndMs(r)) continue;
      for (const ring of r.rings) {
        const rr = rt.rings.get(ring.name);
        if (!rr || rr.startedAt === null) continue;
        out.push({ rollout: id, ring: ring.name, traffic: ring.traffic, startedAt: rr.startedAt, mitigatedAt: rr.mitigatedAt });
      }
    }
    return out;
  }

  /**
   * After a rollout ends its rings keep reporting for the longer of two minutes
   * and the current ring's bake window: "healthy for a bake window" is how a
   * post-mortem tells recovery from a lull.
   */
  private sampleAfterEndMs(r: RolloutState): number {
    const ring = r.rings.find((g) => g.name === r.ring);
    return Math.max(SAMPLE_AFTER_END_S, ring?.bakeSeconds ?? 0) * 1000;
  }

  sampleDrafts(now: number, readings: SampleReading[]): EventDraft[] {
    return readings.map((s) =>
      this.draft(now, "sli.sample", { ring: s.ring, metric: s.metric, value: s.value, unit: s.unit, baseline: s.baseline }, {
        rollout: s.rollout,
        ring: s.ring,
      }),
    );
  }

  // ---- decide: what the engine does on its own at `now` -----------------------------

  decide(now: number): EventDraft[] {
    const out: EventDraft[] = [];
    for (const [id, rt] of this.runtimes) {
      const r = this.rollout(id);
      if (!r) {
        if (now >= this.opts.epoch + rt.plan.startAfterSeconds * 1000) out.push(...this.createRollout(rt, now));
        continue;
      }
      if (r.state === "rolling_back" && rt.rollbackDueAt !== null && now >= rt.rollbackDueAt) {
        const rb = rt.rollback ?? { scope: r.rings.filter((g) => g.state !== "pending").map((g) => g.name), automatic: false };
        out.push(
          this.draft(now, "rollout.rolled_back", { fromVersion: r.version, toVersion: r.previousVersion, scope: rb.scope, automatic: rb.automatic }, { rollout: id }),
        );
      }
      out.push(...this.reconcileGates(rt, r, now));
      out.push(...this.reconcileBurn(rt, r, now));
      out.push(...this.advanceBake(rt, r, now, out));
    }
    return out;
  }

  private createRollout(rt: RolloutRuntime, now: number): EventDraft[] {
    const p = rt.plan;
    const data: EventDataMap["rollout.created"] = {
      service: p.service,
      version: p.version,
      previousVersion: p.previousVersion,
      kind: p.kind,
      rings: p.rings.map((g) => ({ name: g.name, traffic: g.traffic, bakeSeconds: g.bakeSeconds, slos: g.slos })),
      onBreach: p.onBreach,
    };
    if (p.killSwitch) data.killSwitch = { flag: p.killSwitch.flag };
    if (p.errorBudget) data.errorBudget = { metric: p.errorBudget.metric, objective: p.errorBudget.objective };
    const first = p.rings[0];
    const out: EventDraft[] = [this.draft(now, "rollout.created", data, { rollout: p.id })];
    // A ring with an apply command starts when the command succeeded (see actions()).
    if (first && !first.apply) out.push(...this.startRing(p.id, first.name, first.traffic, first.bakeSeconds, now));
    return out;
  }

  private startRing(rollout: string, ring: string, traffic: number, bakeSeconds: number, now: number): EventDraft[] {
    return [
      this.draft(now, "ring.started", { ring, traffic }, { rollout, ring }),
      this.draft(now, "ring.baking", { ring, traffic, until: iso(now + bakeSeconds * 1000) }, { rollout, ring }),
    ];
  }

  /** ring.completed, then the next ring or rollout.completed */
  private completeRing(r: RolloutState, now: number, cause?: { actor: Actor; command?: string }): EventDraft[] {
    const idx = r.rings.findIndex((g) => g.name === r.ring);
    const cur = r.rings[idx];
    if (!cur) return [];
    const opt = { rollout: r.id, ring: cur.name, ...(cause ?? {}) };
    const out: EventDraft[] = [this.draft(now, "ring.completed", { ring: cur.name, traffic: cur.traffic }, opt)];
    const next = r.rings[idx + 1];
    const nextPlan = next ? this.runtimes.get(r.id)?.plan.rings.find((g) => g.name === next.name) : undefined;
    if (next && nextPlan?.apply) {
      // started by its apply command, once that succeeded (see actions())
    } else if (next) out.push(...this.startRing(r.id, next.name, next.traffic, next.bakeSeconds ?? 0, now).map((d) => ({ ...d, ...(cause ?? {}) })));
    else out.push(this.draft(now, "rollout.completed", { version: r.version }, { rollout: r.id, ...(cause ?? {}) }));
    return out;
  }

  private advanceBake(rt: RolloutRuntime, r: RolloutState, now: number, already: EventDraft[]): EventDraft[] {
    if (r.state !== "progressing" || !r.ring) return [];
    // Something this round changed the rollout (a breach acted): wait for it to land.
    if (already.some((d) => d.rollout === r.id && d.type !== "slo.recovered" && d.type !== "alert.resolved")) return [];
    const ring = r.rings.find((g) => g.name === r.ring);
    if (!ring || ring.state !== "baking" || !ring.bakeUntil) return [];
    if (now < Date.parse(ring.bakeUntil)) return [];
    // No promotion on red or missing evidence, nor while the feature is switched off.
    if ((ring.breaches ?? []).length > 0) return [];
    if (r.killSwitch?.engaged) return [];
    const rr = rt.rings.get(ring.name);
    if (rr && rr.gates.some((g) => g.tracker.state === "breached")) return [];
    if (rr && rr.gates.some((g) => !this.hasEvidence(g, now, rt.plan.breachAfter))) return [];
    return this.completeRing(r, now);
  }

  private reconcileGates(rt: RolloutRuntime, r: RolloutState, now: number): EventDraft[] {
    const out: EventDraft[] = [];
    let acted = false;
    for (const ring of r.rings) {
      const rr = rt.rings.get(ring.name);
      if (!rr) continue;
      const listed = new Set(ring.breaches ?? []);
      for (const g of rr.gates) {
        const text = g.assertion.text;
        const key = `gate:${r.id}:${ring.name}:${text}`;
        const last = g.last ?? { value: null, threshold: null, consecutive: 0, noData: false };
        const threshold = last.threshold ?? 0;
        if (g.tracker.state === "breached" && !listed.has(text)) {
          const evidence = last.noData
            ? `no data ${g.assertion.forSeconds !== null ? `for ${formatDurationShort(g.assertion.forSeconds)}` : `in ${last.consecutive} checks in a row`}: the SLI source returned nothing for this ring`
            : readingAgainst(g.assertion, last.value, threshold);
          out.push(
            this.draft(now, "slo.breached", { ring: ring.name, assertion: text, value: last.value, threshold, consecutive: last.consecutive }, { rollout: r.id, ring: ring.name }),
          );
          const alertId = `alert-${r.id}-${ring.name}-${g.assertion.metric}-${now.toString(36)}`;
          out.push(
            this.draft(
              now,
              "alert.firing",
              {
                severity: "critical",
                title: `${r.service} ${r.version} ${ring.name}: ${text} breached (${evidence})`,
                source: "engine",
                labels: { key, rollout: r.id, ring: ring.name, metric: g.assertion.metric },
              },
              { rollout: r.id, ring: ring.name, alert: alertId },
            ),
          );
          if (!acted && r.state === "progressing") {
            acted = true;
            out.push(...this.actOnBreach(rt, r, ring.name, `${text} breached in ${ring.name} (${evidence})`, now));
          }
        } else if (g.tracker.state === "ok" && listed.has(text)) {
          out.push(
            this.draft(now, "slo.recovered", { ring: ring.name, assertion: text, value: last.value, threshold, consecutive: last.consecutive }, { rollout: r.id, ring: ring.name }),
          );
          const alertId = this.engineAlerts.get(key);
          if (alertId) out.push(this.resolveAlert(alertId, now));
        }
      }
    }
    return out;
  }

  private resolveAlert(alertId: string, now: number): EventDraft {
    const a = this.state.alerts.find((x) => x.id === alertId);
    const key = [...this.engineAlerts].find(([, id]) => id === alertId)?.[0] ?? "";
    return this.draft(
      now,
      "alert.resolved",
      { severity: a?.severity ?? "warning", title: a?.title ?? alertId, source: "engine", labels: { key } },
      { alert: alertId, ...(a?.rollout ? { rollout: a.rollout } : {}), ...(a?.ring ? { ring: a.ring } : {}) },
    );
  }

  private reconcileBurn(rt: RolloutRuntime, r: RolloutState, now: number): EventDraft[] {
    const out: EventDraft[] = [];
    const budget = rt.plan.errorBudget;
    if (!budget) return out;
    for (const [ringName, rr] of rt.rings) {
      const prefix = `burn:${r.id}:${ringName}:`;
      for (const [rule, active] of rr.burnActive) {
        const key = prefix + rule;
        if (this.engineAlerts.has(key)) continue;
        const title = `${r.service} ${r.version} ${ringName}: error budget burning ${fmt(active.burnShort)}x (${rule}, SLO ${budget.objective}%)`;
        out.push(
          this.draft(
            now,
            "alert.firing",
            { severity: active.severity, title, source: "burn-rate", labels: { key, rollout: r.id, ring: ringName, rule } },
            { rollout: r.id, ring: ringName, alert: `alert-${r.id}-${ringName}-burn-${rule.split("x")[0]}-${now.toString(36)}` },
          ),
        );
      }
      for (const [key, alertId] of this.engineAlerts) {
        if (key.startsWith(prefix) && !rr.burnActive.has(key.slice(prefix.length))) out.push(this.resolveAlert(alertId, now));
      }
    }
    return out;
  }

  private actOnBreach(rt: RolloutRuntime, r: RolloutState, ring: string, why: string, now: number): EventDraft[] {
    if (r.onBreach === "rollback") {
      const recent = rt.autoRollbacks.filter((t) => now - t < AUTO_ROLLBACK_WINDOW_S * 1000);
      if (recent.length < AUTO_ROLLBACK_LIMIT) return this.rollbackDrafts(r, null, true, now, { actor: ENGINE_ACTOR }, why);
      return [
        this.draft(
          now,
          "rollout.paused",
          { reason: `${why}; automatic rollback rate-limited (${AUTO_ROLLBACK_LIMIT} per ${AUTO_ROLLBACK_WINDOW_S / 60}m), paused instead`, automatic: true },
          { rollout: r.id, ring },
        ),
      ];
    }
    return [this.draft(now, "rollout.paused", { reason: why, automatic: true }, { rollout: r.id, ring })];
  }

  private rollbackDrafts(
    r: RolloutState,
    scope: string[] | null,
    automatic: boolean,
    now: number,
    cause: { actor: Actor; command?: string },
    reason?: string,
  ): EventDraft[] {
    const rings = scope ?? r.rings.filter((g) => g.state !== "pending" && g.state !== "rolled_back").map((g) => g.name);
    const data: EventDataMap["rollout.rollback_started"] & { reason?: string } = {
      fromVersion: r.version,
      toVersion: r.previousVersion,
      scope: rings,
      automatic,
    };
    if (reason) data.reason = reason;
    return [this.draft(now, "rollout.rollback_started", data, { rollout: r.id, ...cause })];
  }

  // ---- evidence: no promotion without it --------------------------------------------

  /** A reading older than this (2.5 sample intervals: one missed reading is tolerated) is stale. */
  private staleMs(): number {
    return (this.opts.sampleEveryMs ?? 5_000) * 2.5;
  }

  private noteEvidence(g: Gate, t: number, value: number | null, baseline: number | null): void {
    if (evaluateAssertion(g.assertion, value, baseline).status === "no_data") {
      g.run = null;
      return;
    }
    if (g.run !== null && t - g.run.lastSeen <= this.staleMs()) g.run = { since: g.run.since, lastSeen: t, count: g.run.count + 1 };
    else g.run = { since: t, lastSeen: t, count: 1 };
  }

  /** The gate has seen enough recent data to have breached if the SLO were broken: as much as the gate itself needs. */
  private hasEvidence(g: Gate, now: number, breachAfter: number): boolean {
    const run = g.run;
    if (run === null || run.count === 0 || now - run.lastSeen > this.staleMs()) return false;
    if (g.assertion.forSeconds !== null) return run.count >= 2 && now - run.since >= g.assertion.forSeconds * 1000;
    return run.count >= breachAfter;
  }

  // ---- acting on the world: the plan's commands -------------------------------------

  private rollbackCommanded(rt: RolloutRuntime, scope: readonly string[]): boolean {
    return scope.some((name) => rt.plan.rings.some((g) => g.name === name && g.rollback !== undefined));
  }

  /** The ring that waits for its apply command: the next one, with nothing else in flight. */
  private awaitingApply(rt: RolloutRuntime, r: RolloutState): { ring: RingState; plan: RingPlan } | null {
    if (r.state !== "pending" && r.state !== "progressing") return null;
    if (r.rings.some((g) => g.state === "progressing" || g.state === "baking" || g.state === "rolled_back")) return null;
    let lastDone = -1;
    r.rings.forEach((g, i) => {
      if (g.state === "completed") lastDone = i;
    });
    const ring = r.rings[lastDone + 1];
    if (!ring || ring.state !== "pending") return null;
    const plan = rt.plan.rings.find((g) => g.name === ring.name);
    return plan?.apply ? { ring, plan } : null;
  }

  /** The values a command's placeholders are filled with. */
  commandVars(rolloutId: string, step: CommandStep, ringName: string | null): CommandVars | null {
    const rt = this.runtimes.get(rolloutId);
    if (!rt) return null;
    const r = this.rollout(rolloutId);
    const p = rt.plan;
    const ring = ringName ?? r?.ring ?? "";
    const traffic = r?.rings.find((g) => g.name === ring)?.traffic ?? p.rings.find((g) => g.name === ring)?.traffic;
    return {
      step,
      tenant: this.tenant,
      rollout: p.id,
      service: p.service,
      version: p.version,
      previousVersion: p.previousVersion,
      ring,
      traffic: traffic === undefined ? "" : String(traffic),
      flag: p.killSwitch?.flag ?? "",
    };
  }

  /**
   * Commands the plan says should run now: the next ring's apply (it starts
   * taking traffic only once that succeeded), or the rollback of each ring in
   * a rollback's scope, widest ring first. At most one per rollout; nothing
   * while paused (a failed command pauses, so it is not retried in a loop).
   */
  actions(_now: number): ActionRequest[] {
    const out: ActionRequest[] = [];
    for (const [id, rt] of this.runtimes) {
      const r = this.rollout(id);
      if (!r) continue;
      if (r.state === "rolling_back" && rt.rollback) {
        const rb = rt.rollback;
        const order = [...rt.plan.rings].reverse();
        const next = order.find((g) => g.rollback !== undefined && rb.scope.includes(g.name) && !rb.done.has(g.name));
        if (next?.rollback) {
          const vars = this.commandVars(id, "rollback", next.name);
          if (vars) out.push({ lane: id, step: "rollback", rollout: id, ring: next.name, spec: next.rollback, vars });
        }
        continue;
      }
      const waiting = this.awaitingApply(rt, r);
      if (waiting?.plan.apply) {
        const vars = this.commandVars(id, "apply", waiting.ring.name);
        if (vars) out.push({ lane: id, step: "apply", rollout: id, ring: waiting.ring.name, spec: waiting.plan.apply, vars });
      }
    }
    return out;
  }

  /** command.executed / command.failed for one run, as the log keeps it. */
  commandRunDrafts(now: number, step: CommandStep, result: CommandOutcome, refs: Partial<EventDraft>): EventDraft[] {
    const base: CommandRunData = { step, argv: result.argv, exitCode: result.exitCode, outputTail: result.outputTail, durationMs: result.durationMs };
    if (result.status !== undefined) base.status = result.status;
    if (result.ok) return [this.draft(now, "command.executed", base, refs)];
    return [this.draft(now, "command.failed", { ...base, reason: result.reason ?? "failed" }, refs)];
  }

  /** What an engine-driven run (apply, rollback) leads to, judged on the state when it ended. */
  actionOutcome(req: ActionRequest, result: CommandOutcome, now: number): EventDraft[] {
    const rt = this.runtimes.get(req.rollout);
    const r = this.rollout(req.rollout);
    const out = this.commandRunDrafts(now, req.step, result, { rollout: req.rollout, ring: req.ring });
    if (!rt || !r) return out;
    const ring = r.rings.find((g) => g.name === req.ring);
    if (req.step === "apply") {
      if (!result.ok) {
        if (r.state === "pending" || r.state === "progressing") {
          const reason = `apply for ${req.ring} failed (${result.reason ?? "failed"}); ${req.ring} was not started. Fix the cause, then resume to run it again`;
          out.push(this.draft(now, "rollout.paused", { reason, automatic: true }, { rollout: r.id, ring: req.ring }));
        }
        return out;
      }
      // The ring runs the new version now. While paused it still counts as started
      // (and bakes in full on resume); during a rollback, applying it joined the rollback's scope.
      if (ring && ring.state === "pending" && (r.state === "pending" || r.state === "progressing" || r.state === "paused")) {
        out.push(...this.startRing(r.id, ring.name, ring.traffic, ring.bakeSeconds ?? 0, now));
      }
      return out;
    }
    if (req.step === "rollback" && r.state === "rolling_back" && rt.rollback) {
      const rb = rt.rollback;
      if (!result.ok) {
        const reason = `rollback of ${req.ring} to ${r.previousVersion} failed (${result.reason ?? "failed"}); ${req.ring} may still run ${r.version}. Fix the cause, then roll back again`;
        out.push(this.draft(now, "rollout.paused", { reason, automatic: true }, { rollout: r.id, ring: req.ring }));
        return out;
      }
      const done = new Set([...rb.done, req.ring]);
      const pending = rt.plan.rings.filter((g) => g.rollback !== undefined && rb.scope.includes(g.name) && !done.has(g.name));
      if (pending.length === 0) {
        out.push(this.draft(now, "rollout.rolled_back", { fromVersion: r.version, toVersion: r.previousVersion, scope: rb.scope, automatic: rb.automatic }, { rollout: r.id }));
      }
    }
    return out;
  }

  /** The kill switch's engage/release command, when the plan names one. */
  killSwitchAction(rolloutId: string, action: "kill_switch" | "release_kill_switch"): ActionRequest | null {
    const rt = this.runtimes.get(rolloutId);
    const spec = action === "kill_switch" ? rt?.plan.killSwitch?.engage : rt?.plan.killSwitch?.release;
    if (!rt || !spec) return null;
    const step: CommandStep = action === "kill_switch" ? "engage" : "release";
    const vars = this.commandVars(rolloutId, step, null);
    if (!vars) return null;
    return { lane: `killswitch:${rolloutId}`, step, rollout: rolloutId, ring: vars.ring, spec, vars };
  }

  /** Labels of a firing Alertmanager alert, which an ack may silence; null for the engine's own alerts. */
  externalAlertLabels(alertId: string): Record<string, string> | null {
    return this.externalLabels.get(alertId) ?? null;
  }

  /** The audit record of a command refused outside the engine's own checks (e.g. a kill-switch program still running). */
  rejectedDraft(now: number, session: Session, cmd: CommandMsg, code: RejectCode, message: string): EventDraft {
    const actor: Actor = { kind: "human", name: session.actor, role: session.role };
    return this.draft(now, "command.rejected", { action: cmd.action, code, message }, { actor, command: cmd.id, ...targetRefs(cmd) });
  }

  /** A source (Prometheus, Alertmanager) started failing or answers again; the tenant's cockpits show it. */
  sourceDraft(now: number, type: "source.degraded" | "source.recovered", source: string, message: string): EventDraft {
    return this.draft(now, type, { source, message }, { actor: { kind: "integration", name: source } });
  }

  // ---- alerts from outside ------------------------------------------------------------

  /**
   * Alertmanager's alerts as events. `complete`: `alerts` is every active alert
   * (a poll), so a firing Alertmanager alert missing from it has resolved.
   * Otherwise (the webhook) each alert says its own state. A `rollout` label
   * naming one of this tenant's rollouts links the alert to it, and a `ring`
   * label to that ring.
   */
  ingestAlerts(now: number, alerts: readonly ExternalAlert[], complete: boolean): EventDraft[] {
    const out: EventDraft[] = [];
    const actor: Actor = { kind: "integration", name: ALERTMANAGER_SOURCE };
    const seen = new Set<string>();
    for (const a of alerts) {
      if (seen.has(a.id)) continue;
      seen.add(a.id);
      const current = this.state.alerts.find((x) => x.id === a.id);
      const firing = current?.state === "firing";
      const data = { severity: a.severity, title: a.title, source: ALERTMANAGER_SOURCE, labels: a.labels };
      if (a.state === "firing" && !firing) {
        out.push(this.draft(now, "alert.firing", data, { alert: a.id, actor, ...this.alertRefs(a.labels) }));
      } else if (a.state === "resolved" && firing && current?.source === ALERTMANAGER_SOURCE) {
        out.push(this.draft(now, "alert.resolved", data, { alert: a.id, actor, ...(current.rollout ? { rollout: current.rollout } : {}), ...(current.ring ? { ring: current.ring } : {}) }));
      }
    }
    if (complete) {
      for (const current of this.state.alerts) {
        if (current.state !== "firing" || current.source !== ALERTMANAGER_SOURCE || seen.has(current.id)) continue;
        const labels = this.externalLabels.get(current.id) ?? {};
        out.push(
          this.draft(
            now,
            "alert.resolved",
            { severity: current.severity, title: current.title, source: ALERTMANAGER_SOURCE, labels },
            { alert: current.id, actor, ...(current.rollout ? { rollout: current.rollout } : {}), ...(current.ring ? { ring: current.ring } : {}) },
          ),
        );
      }
    }
    return out;
  }

  private alertRefs(labels: Record<string, string>): Partial<EventDraft> {
    const r = labels.rollout ? this.rollout(labels.rollout) : undefined;
    if (!r) return {};
    const ring = labels.ring && r.rings.some((g) => g.name === labels.ring) ? labels.ring : undefined;
    return ring ? { rollout: r.id, ring } : { rollout: r.id };
  }

  // ---- commands from people --------------------------------------------------------

  command(session: Session, cmd: CommandMsg, now: number): CommandResult {
    const actor: Actor = { kind: "human", name: session.actor, role: session.role };
    const cause = { actor, command: cmd.id };
    const check = checkCommand(this.state, { action: cmd.action, target: cmd.target ?? {}, reason: cmd.reason, args: cmd.args }, session.role);
    if (check) {
      const refs = { ...(cmd.target?.rollout ? { rollout: cmd.target.rollout } : {}) };
      // Do not write a ref to something this tenant does not have: it would leak nothing,
      // but it would point the audit trail at an id that means nothing here.
      if (check.code === "not_found") delete refs.rollout;
      return {
        kind: "reject",
        code: check.code,
        message: check.message,
        drafts: [this.draft(now, "command.rejected", { action: cmd.action, code: check.code, message: check.message }, { ...refs, ...cause })],
      };
    }
    const r = this.rollout(cmd.target?.rollout);
    const args = cmd.args ?? {};
    const reason = cmd.reason ?? "";
    const refs = (extra: Partial<EventDraft> = {}) => ({ ...cause, ...extra });
    switch (cmd.action) {
      case "pause":
        return apply([this.draft(now, "rollout.paused", { reason: reason || `paused by ${actor.name}`, automatic: false }, refs({ rollout: r!.id }))]);
      case "resume": {
        const out: EventDraft[] = [this.draft(now, "rollout.resumed", { reason: reason || `resumed by ${actor.name}`, automatic: false }, refs({ rollout: r!.id }))];
        // Fresh evidence after a hold: the current ring bakes again in full.
        const ring = r!.rings.find((g) => g.name === r!.ring);
        if (ring && (ring.state === "baking" || ring.state === "progressing"))
          out.push(this.draft(now, "ring.baking", { ring: ring.name, traffic: ring.traffic, until: iso(now + (ring.bakeSeconds ?? 0) * 1000) }, refs({ rollout: r!.id, ring: ring.name })));
        return apply(out);
      }
      case "rollback":
        return apply(this.rollbackDrafts(r!, Array.isArray(args.scope) ? (args.scope as string[]) : null, false, now, cause, reason || undefined));
      case "kill_switch":
      case "release_kill_switch": {
        const type = cmd.action === "kill_switch" ? "killswitch.engaged" : "killswitch.released";
        const data: { flag: string; reason?: string } = { flag: r!.killSwitch!.flag };
        if (reason) data.reason = reason;
        return apply([this.draft(now, type, data, refs({ rollout: r!.id }))]);
      }
      case "promote": {
        const out: EventDraft[] = [this.draft(now, "rollout.promoted", { ring: r!.ring ?? "" }, refs({ rollout: r!.id, ring: r!.ring ?? undefined }))];
        out.push(...this.completeRing(r!, now, cause));
        return apply(out);
      }
      case "ack_alert": {
        const a = this.state.alerts.find((x) => x.id === cmd.target.alert)!;
        const data: EventDataMap["alert.acknowledged"] & { reason?: string } = { severity: a.severity, title: a.title, source: a.source ?? "engine" };
        if (reason) data.reason = reason;
        return apply([this.draft(now, "alert.acknowledged", data, refs({ alert: a.id, ...(a.rollout ? { rollout: a.rollout } : {}), ...(a.ring ? { ring: a.ring } : {}) }))]);
      }
      case "note":
        return apply([this.draft(now, "note.added", { text: String(args.text) }, refs(targetRefs(cmd)))]);
      case "declare_incident": {
        const id = `inc-${this.incidentCount + 1}`;
        return apply([
          this.draft(now, "incident.declared", { severity: String(args.severity), title: String(args.title) }, refs({ incident: id, ...(cmd.target.rollout ? { rollout: cmd.target.rollout } : {}) })),
          this.draft(now, "incident.role_assigned", { role: "commander", name: actor.name }, refs({ incident: id })),
        ]);
      }
      case "resolve_incident": {
        const inc = this.state.incidents.find((i) => i.id === cmd.target.incident)!;
        return apply([this.draft(now, "incident.resolved", { severity: inc.severity, title: inc.title }, refs({ incident: inc.id }))]);
      }
      case "assign_role":
        return apply([
          this.draft(now, "incident.role_assigned", { role: args.role as EventDataMap["incident.role_assigned"]["role"], name: String(args.name) }, refs({ incident: cmd.target.incident })),
        ]);
      case "set_milestone": {
        const milestone = args.milestone as EventDataMap["incident.milestone"]["milestone"];
        const out: EventDraft[] = [
          this.draft(now, "incident.milestone", { milestone, at: typeof args.at === "string" ? new Date(Date.parse(args.at)).toISOString() : iso(now) }, refs({ incident: cmd.target.incident })),
        ];
        // Marking an open incident resolved closes it: the commander who says so means it,
        // and an incident left open would keep asking for a commander and a post-mortem span.
        const inc = this.state.incidents.find((i) => i.id === cmd.target.incident);
        if (milestone === "resolved" && inc && inc.status !== "resolved")
          out.push(this.draft(now, "incident.resolved", { severity: inc.severity, title: inc.title }, refs({ incident: inc.id })));
        return apply(out);
      }
    }
  }

  private draft<T extends EventType>(now: number, type: T, data: EventDataMap[T], refs: Partial<EventDraft> = {}): EventDraft<T> {
    const d: EventDraft<T> = { time: iso(now), tenant: this.tenant, type, actor: refs.actor ?? ENGINE_ACTOR, data };
    if (refs.rollout !== undefined) d.rollout = refs.rollout;
    if (refs.ring !== undefined) d.ring = refs.ring;
    if (refs.alert !== undefined) d.alert = refs.alert;
    if (refs.incident !== undefined) d.incident = refs.incident;
    if (refs.command !== undefined) d.command = refs.command;
    return d;
  }
}

function apply(drafts: EventDraft[]): CommandResult {
  return { kind: "apply", drafts };
}

function targetRefs(cmd: CommandMsg): Partial<EventDraft> {
  const out: Partial<EventDraft> = {};
  if (cmd.target?.rollout) out.rollout = cmd.target.rollout;
  if (cmd.target?.alert) out.alert = cmd.target.alert;
  if (cmd.target?.incident) out.incident = cmd.target.incident;
  return out;
}
