import type { BackendPort, CommandOutcome } from "../../src/backend/backend-port.js";
import { foldEvents } from "../../src/domain/fold.js";
import { eventHash } from "../../src/protocol/canonical.js";
import {
  GENESIS_HASH,
  type CockpitEvent,
  type CockpitState,
  type CommandMsg,
  type EventDataMap,
  type EventDraft,
  type EventType,
  type Session,
} from "../../src/protocol/types.js";

// An in-memory BackendPort for the server's and the client's tests: a
// hash-chained log, commands that are idempotent by id per tenant (like the
// real backend), and knobs a test turns to make it misbehave. Real sockets are
// used everywhere else; nothing here mocks the network.

export interface MemoryBackendOptions {
  /**
   * Offer knowsCommand (default true). Without it the server holds a resent
   * command to the rate limit like any other, as with a backend that predates
   * knowsCommand: what the rate-limited-resend tests need.
   */
  knowsCommand?: boolean;
}

/**
 * An in-memory log. Listeners are told synchronously on append, unless
 * `holdNotifications` is set: then batches wait for `releaseNotifications()`,
 * which is how a backend that fsyncs before notifying behaves (the backlog
 * already has events the listener has not been told about).
 *
 * Commands: a viewer's is rejected "forbidden", a pause of a rollout the
 * tenant's log never named is rejected "not_found", anything else appends one
 * note.added event (text: args.text, else the action) and is acked.
 */
export class MemoryBackend implements BackendPort {
  readonly log: CockpitEvent[] = [];
  /** events with seq below this are no longer held (eventsSince answers null) */
  firstHeld = 1;
  holdNotifications = false;
  /** every command the server handed in, repeats included */
  readonly submitted: Array<{ session: Session; cmd: CommandMsg }> = [];
  /** ids of the commands that changed the log (at most once each) */
  readonly applied: string[] = [];
  /** make submitCommand throw, as a broken backend would */
  failCommands = false;
  /** runs after a command is applied, before submitCommand resolves: where a test cuts the connection */
  beforeAnswer: ((cmd: CommandMsg) => void | Promise<void>) | null = null;
  /** this command id (per tenant) was answered already; absent with `{ knowsCommand: false }` */
  readonly knowsCommand?: (session: Session, id: string) => boolean;
  private readonly held: CockpitEvent[][] = [];
  private readonly listeners = new Set<(events: CockpitEvent[]) => void>();
  private readonly outcomes = new Map<string, CommandOutcome>();
  private clock = Date.parse("2026-11-21T14:00:00.000Z");

  constructor(
    private readonly tenantList: string[] = ["payments", "search"],
    options: MemoryBackendOptions = {},
  ) {
    if (options.knowsCommand !== false) this.knowsCommand = (session, id) => this.outcomes.has(commandKey(session, id));
  }

  tenants(): string[] {
    return [...this.tenantList];
  }

  headSeq(): number {
    return this.log.length;
  }

  snapshot(tenant: string): { seq: number; state: CockpitState } {
    return { seq: this.headSeq(), state: foldEvents(this.log.filter((e) => e.tenant === tenant)) };
  }

  eventsSince(seq: number): CockpitEvent[] | null {
    if (seq + 1 < this.firstHeld) return null;
    return this.log.slice(seq);
  }

  subscribe(listener: (events: CockpitEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  listenerCount(): number {
    return this.listeners.size;
  }

  async submitCommand(session: Session, cmd: CommandMsg): Promise<CommandOutcome> {
    this.submitted.push({ session, cmd });
    await Promise.resolve();
    if (this.failCommands) throw new Error("disk full");
    const key = commandKey(session, cmd.id);
    const earlier = this.outcomes.get(key);
    if (earlier) return { ...earlier, duplicate: true };
    let outcome: CommandOutcome;
    if (session.role === "viewer") {
      outcome = { kind: "reject", code: "forbidden", message: "viewers cannot change anything", duplicate: false };
    } else if (cmd.action === "pause" && !this.log.some((e) => e.tenant === session.tenant && e.rollout === cmd.target.rollout)) {
      outcome = { kind: "reject", code: "not_found", message: `no rollout ${String(cmd.target.rollout)}`, duplicate: false };
    } else {
      const [event] = this.append([
        {
          tenant: session.tenant,
          type: "note.added",
          actor: { kind: "human", name: session.actor, role: session.role },
          command: cmd.id,
          data: { text: String(cmd.args?.text ?? cmd.action) },
        },
      ]);
      outcome = { kind: "ack", seq: event!.seq, duplicate: false };
    }
    this.outcomes.set(key, outcome);
    if (outcome.kind === "ack") {
      this.applied.push(cmd.id);
      await this.beforeAnswer?.(cmd);
    }
    return outcome;
  }

  /** Append one batch; returns the events as logged. */
  append(drafts: Array<Omit<EventDraft, "time"> & { time?: string }>): CockpitEvent[] {
    const batch: CockpitEvent[] = [];
    for (const draft of drafts) {
      const prev = this.log.at(-1)?.hash ?? GENESIS_HASH;
      const seq = this.log.length + 1;
      this.clock += 1000;
      const body = { time: new Date(this.clock).toISOString(), ...draft, seq, id: `evt_${seq}`, prev } as Omit<CockpitEvent, "hash">;
      const event = { ...body, hash: eventHash(body) } as CockpitEvent;
      this.log.push(event);
      batch.push(event);
    }
    if (this.holdNotifications) this.held.push(batch);
    else this.notify(batch);
    return batch;
  }

  releaseNotifications(): void {
    for (const batch of this.held.splice(0)) this.notify(batch);
  }

  private notify(batch: CockpitEvent[]): void {
    for (const listener of this.listeners) listener(batch);
  }

  /** One note.added event by the engine, in a batch of its own. */
  note(tenant: string, text = "hello"): CockpitEvent {
    return this.event(tenant, "note.added", { text });
  }

  /** `n` notes, one batch each. */
  notes(tenant: string, n: number): CockpitEvent[] {
    return Array.from({ length: n }, (_, i) => this.note(tenant, `note ${this.log.length + 1} (${i})`));
  }

  event<T extends EventType>(tenant: string, type: T, data: EventDataMap[T], refs: { rollout?: string; ring?: string } = {}): CockpitEvent {
    return this.append([{ tenant, type, actor: { kind: "engine", name: "engine" }, data, ...refs }])[0]!;
  }

  rollout(tenant: string, id: string): CockpitEvent {
    return this.event(
      tenant,
      "rollout.created",
      {
        service: id.split("-")[0] ?? id,
        version: "v2",
        previousVersion: "v1",
        kind: "code",
        rings: [{ name: "canary", traffic: 1, bakeSeconds: 60, slos: ["error_rate < 1%"] }],
        onBreach: "pause",
      },
      { rollout: id },
    );
  }
}

function commandKey(session: Session, id: string): string {
  return `${session.tenant}\u0000${id}`;
}
