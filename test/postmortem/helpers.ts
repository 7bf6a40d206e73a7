import { eventHash } from "../../src/protocol/canonical.js";
import { GENESIS_HASH, type Actor, type CockpitEvent, type EventDataMap, type EventType } from "../../src/protocol/types.js";

// Realistic event logs for the post-mortem tests, hash-chained like the
// backend writes them (so the chain verifies), built step by step in
// simulated seconds from a fixed start.

export const T0 = Date.UTC(2026, 10, 21, 14, 0, 0);
export const ENGINE: Actor = { kind: "engine", name: "engine" };

export function human(name: string, role: "viewer" | "operator" | "commander"): Actor {
  return { kind: "human", name, role };
}

export interface Refs {
  rollout?: string;
  ring?: string;
  alert?: string;
  incident?: string;
  actor?: Actor;
  command?: string;
}

export class LogBuilder {
  readonly events: CockpitEvent[] = [];
  private prev = GENESIS_HASH;

  constructor(
    readonly tenant = "payments",
    readonly startMs = T0,
  ) {}

  timeAt(sec: number): string {
    return new Date(this.startMs + sec * 1000).toISOString();
  }

  push<T extends EventType>(sec: number, type: T, data: EventDataMap[T], refs: Refs = {}): CockpitEvent<T> {
    const seq = this.events.length + 1;
    const base: Omit<CockpitEvent<T>, "hash"> = {
      seq,
      id: `evt_${seq}`,
      time: this.timeAt(sec),
      tenant: this.tenant,
      type,
      actor: refs.actor ?? ENGINE,
      data,
      prev: this.prev,
    };
    for (const k of ["rollout", "ring", "alert", "incident", "command"] as const) if (refs[k] !== undefined) (base as Record<string, unknown>)[k] = refs[k];
    const event = { ...base, hash: eventHash(base) } as CockpitEvent<T>;
    this.prev = event.hash;
    this.events.push(event as CockpitEvent);
    return event;
  }

  sample(sec: number, rollout: string, ring: string, metric: string, value: number | null, unit: string, baseline: number | null): void {
    this.push(sec, "sli.sample", { ring, metric, value, unit, baseline }, { rollout, ring });
  }

  jsonl(): string {
    return this.events.map((e) => JSON.stringify(e)).join("\n") + "\n";
  }
}

/** Samples every `step` seconds from `from` to `to` inclusive, the value given by f(sec). */
export function samples(log: LogBuilder, from: number, to: number, step: number, rollout: string, ring: string, metric: string, unit: string, baseline: number, f: (sec: number) => number | null): void {
  for (let t = from; t <= to; t += step) log.sample(t, rollout, ring, metric, f(t), unit, baseline);
}

function created(log: LogBuilder, sec: number, rollout: string, data: EventDataMap["rollout.created"]): void {
  log.push(sec, "rollout.created", data, { rollout });
}

function startRing(log: LogBuilder, sec: number, rollout: string, ring: string, traffic: number, bakeSeconds: number): void {
  log.push(sec, "ring.started", { ring, traffic }, { rollout, ring });
  log.push(sec, "ring.baking", { ring, traffic, until: log.timeAt(sec + bakeSeconds) }, { rollout, ring });
}

/**
 * canary-latency: a code rollout whose canary p99 climbs past 50 ms. The
 * engine breaches the gate and pauses, alice (operator) acks, bob
 * (commander) declares an incident, alice rolls back, p99 recovers, bob
 * resolves. Milestones: impact 14:01:10 (first p99 over 50), detected 14:01:40,
 * acknowledged 14:02:10, mitigated 14:03:30 (p99 back inside after the
 * rollback finished 14:03:15), resolved 14:06:40.
 */
export function canaryLatencyLog(opts: { bakeSeconds?: number; note?: string } = {}): LogBuilder {
  const log = new LogBuilder();
  const R = "api-v408";
  const bake = opts.bakeSeconds ?? 600;
  created(log, 0, R, {
    service: "checkout",
    version: "1.4.0",
    previousVersion: "1.3.9",
    kind: "code",
    rings: [
      { name: "canary", traffic: 5, bakeSeconds: bake, slos: ["p99_latency_ms < 50 for 30s", "error_rate < 1%"] },
      { name: "region", traffic: 25, bakeSeconds: 900, slos: ["p99_latency_ms < 50 for 1m"] },
      { name: "global", traffic: 100, bakeSeconds: 1800, slos: ["p99_latency_ms < 50 for 1m"] },
    ],
    onBreach: "pause",
  });
  startRing(log, 0, R, "canary", 5, bake);
  const p99 = (t: number): number => {
    if (t < 60) return 40 + (t % 20) / 10;
    if (t < 195) return Math.min(90, 45 + (t - 60) * 0.7); // 52 at 70, 59 at 80, 73 at 100
    if (t === 200) return 55;
    return 41;
  };
  const alice = human("alice", "operator");
  const bob = human("bob", "commander");
  for (let t = 10; t <= 420; t += 10) {
    log.sample(t, R, "canary", "p99_latency_ms", p99(t), "ms", 40);
    log.sample(t, R, "canary", "error_rate", 0.2, "%", 0.2);
    if (t === 100) {
      log.push(100, "slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: p99(100), threshold: 50, consecutive: 4 }, { rollout: R, ring: "canary" });
      log.push(
        100,
        "alert.firing",
        {
          severity: "critical",
          title: "checkout 1.4.0 canary: p99_latency_ms < 50 for 30s breached (73 > 50)",
          source: "engine",
          labels: { key: `gate:${R}:canary:p99_latency_ms < 50 for 30s`, rollout: R, ring: "canary", metric: "p99_latency_ms" },
        },
        { rollout: R, ring: "canary", alert: "alert-1" },
      );
      log.push(100, "rollout.paused", { reason: "p99_latency_ms < 50 for 30s breached in canary (73 > 50)", automatic: true }, { rollout: R, ring: "canary" });
    }
    if (t === 130)
      log.push(130, "alert.acknowledged", { severity: "critical", title: "checkout 1.4.0 canary: p99 breached", source: "engine" }, { alert: "alert-1", rollout: R, ring: "canary", actor: alice, command: "c-1" });
    if (t === 150) {
      log.push(150, "incident.declared", { severity: "sev2", title: "Checkout latency in canary" }, { incident: "inc-1", rollout: R, actor: bob, command: "c-2" });
      log.push(150, "incident.role_assigned", { role: "commander", name: "bob" }, { incident: "inc-1", actor: bob, command: "c-2" });
    }
    if (t === 160) log.push(160, "incident.role_assigned", { role: "operator", name: "alice" }, { incident: "inc-1", actor: bob, command: "c-3" });
    if (t === 170)
      log.push(
        170,
        "note.added",
        { text: opts.note ?? "Rolling back api-v408. Alice saw DB_PASSWORD=hunter2 in the pod env and the replica at postgres://svc:s3cr3t@db.internal:5432/orders.\nalice should have checked the canary dashboard: human error." },
        { incident: "inc-1", actor: alice, command: "c-4" },
      );
    if (t === 180) log.push(180, "rollout.rollback_started", { fromVersion: "1.4.0", toVersion: "1.3.9", scope: ["canary"], automatic: false }, { rollout: R, actor: alice, command: "c-5" });
    if (t === 190) log.push(195, "rollout.rolled_back", { fromVersion: "1.4.0", toVersion: "1.3.9", scope: ["canary"], automatic: false }, { rollout: R });
    if (t === 240) {
      log.push(240, "slo.recovered", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 41, threshold: 50, consecutive: 3 }, { rollout: R, ring: "canary" });
      log.push(240, "alert.resolved", { severity: "critical", title: "checkout 1.4.0 canary: p99 breached", source: "engine", labels: { key: `gate:${R}:canary:p99_latency_ms < 50 for 30s` } }, { alert: "alert-1", rollout: R, ring: "canary" });
    }
    if (t === 250) log.push(250, "incident.status_update", { text: "Latency back to normal after the rollback; watching." }, { incident: "inc-1", actor: bob, command: "c-6" });
    if (t === 400) log.push(400, "incident.resolved", { severity: "sev2", title: "Checkout latency in canary" }, { incident: "inc-1", actor: bob, command: "c-7" });
  }
  return log;
}

/**
 * flag-misconfig: a flag rollout set to 100% at once; errors jump, the gate
 * breaches and pauses, carol (operator) engages the kill switch, errors
 * recover. No incident is declared.
 */
export function flagMisconfigLog(): LogBuilder {
  const log = new LogBuilder();
  const R = "flag-checkout-v2";
  created(log, 0, R, {
    service: "checkout",
    version: "new-checkout-on",
    previousVersion: "new-checkout-off",
    kind: "flag",
    rings: [{ name: "global", traffic: 100, bakeSeconds: 300, slos: ["error_rate < 1%"] }],
    killSwitch: { flag: "new_checkout" },
    onBreach: "pause",
  });
  startRing(log, 0, R, "global", 100, 300);
  const carol = human("carol", "operator");
  const err = (t: number): number => (t < 40 ? 0.2 : t < 90 ? 5 : t === 100 ? 2 : 0.3);
  for (let t = 10; t <= 460; t += 10) {
    log.sample(t, R, "global", "error_rate", err(t), "%", 0.2);
    if (t === 60) {
      log.push(60, "slo.breached", { ring: "global", assertion: "error_rate < 1%", value: 5, threshold: 1, consecutive: 3 }, { rollout: R, ring: "global" });
      log.push(
        60,
        "alert.firing",
        { severity: "critical", title: "checkout global: error_rate < 1% breached (5 > 1)", source: "engine", labels: { key: `gate:${R}:global:error_rate < 1%`, metric: "error_rate" } },
        { rollout: R, ring: "global", alert: "alert-9" },
      );
      log.push(60, "rollout.paused", { reason: "error_rate < 1% breached in global (5 > 1)", automatic: true }, { rollout: R, ring: "global" });
    }
    if (t === 90) log.push(90, "killswitch.engaged", { flag: "new_checkout" }, { rollout: R, actor: carol, command: "k-1" });
    if (t === 130) {
      log.push(130, "slo.recovered", { ring: "global", assertion: "error_rate < 1%", value: 0.3, threshold: 1, consecutive: 3 }, { rollout: R, ring: "global" });
      log.push(130, "alert.resolved", { severity: "critical", title: "checkout global: error_rate < 1% breached (5 > 1)", source: "engine", labels: { key: `gate:${R}:global:error_rate < 1%` } }, { rollout: R, ring: "global", alert: "alert-9" });
    }
  }
  return log;
}

/**
 * slow-burn: errors stay under the 2% gate but burn the budget; a burn-rate
 * alert fires, dave (operator) acks and rolls back. No incident.
 */
export function slowBurnLog(): LogBuilder {
  const log = new LogBuilder();
  const R = "api-v500";
  created(log, 0, R, {
    service: "orders",
    version: "2.0.0",
    previousVersion: "1.9.4",
    kind: "code",
    rings: [{ name: "canary", traffic: 10, bakeSeconds: 600, slos: ["error_rate < 2%", "p99_latency_ms < 80"] }],
    onBreach: "rollback",
  });
  startRing(log, 0, R, "canary", 10, 600);
  const dave = human("dave", "operator");
  const err = (t: number): number => (t < 20 ? 0.1 : t < 375 ? 0.9 : 0.1);
  for (let t = 10; t <= 500; t += 10) {
    log.sample(t, R, "canary", "error_rate", err(t), "%", 0.1);
    log.sample(t, R, "canary", "p99_latency_ms", 42, "ms", 42);
    if (t === 300)
      log.push(
        300,
        "alert.firing",
        {
          severity: "critical",
          title: "orders 2.0.0 canary: error budget burning 9x (14.4x over 1h and 5m, SLO 99.9%)",
          source: "burn-rate",
          labels: { key: `burn:${R}:canary:14.4x over 1h and 5m`, rollout: R, ring: "canary", rule: "14.4x over 1h and 5m" },
        },
        { rollout: R, ring: "canary", alert: "alert-b1" },
      );
    if (t === 330) log.push(330, "alert.acknowledged", { severity: "critical", title: "burning", source: "burn-rate" }, { alert: "alert-b1", rollout: R, ring: "canary", actor: dave, command: "d-1" });
    if (t === 360) log.push(360, "rollout.rollback_started", { fromVersion: "2.0.0", toVersion: "1.9.4", scope: ["canary"], automatic: false }, { rollout: R, actor: dave, command: "d-2" });
    if (t === 370) log.push(375, "rollout.rolled_back", { fromVersion: "2.0.0", toVersion: "1.9.4", scope: ["canary"], automatic: false }, { rollout: R });
    if (t === 420)
      log.push(
        420,
        "alert.resolved",
        { severity: "critical", title: "orders 2.0.0 canary: error budget burning", source: "burn-rate", labels: { key: `burn:${R}:canary:14.4x over 1h and 5m` } },
        { rollout: R, ring: "canary", alert: "alert-b1" },
      );
  }
  return log;
}
