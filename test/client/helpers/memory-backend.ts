import type { BackendPort, CommandOutcome } from "../../../src/backend/backend-port.js";
import { foldEvents } from "../../../src/domain/fold.js";
import { eventHash } from "../../../src/protocol/canonical.js";
import { GENESIS_HASH, type Actor, type CockpitEvent, type CockpitState, type CommandMsg, type Session } from "../../../src/protocol/types.js";

// An in-memory BackendPort for the client's tests: a hash-chained log of
// note.added events, commands that are idempotent by id (like the real
// backend), and a hook that runs after a command is applied but before its
// answer leaves, which is where a test cuts the connection.

export class MemoryBackend implements BackendPort {
  readonly log: CockpitEvent[] = [];
  /** every command id the server handed in, repeats included */
  readonly submitted: string[] = [];
  /** ids that changed the log (at most once each) */
  readonly applied: string[] = [];
  /** events with seq below this are no longer held: eventsSince answers null */
  firstHeld = 1;
  /** runs after a command is applied, before submitCommand resolves */
  beforeAnswer: ((cmd: CommandMsg) => void | Promise<void>) | null = null;
  private readonly outcomes = new Map<string, CommandOutcome>();
  private readonly listeners = new Set<(events: CockpitEvent[]) => void>();
  private clock = Date.parse("2026-11-21T14:00:00.000Z");

  constructor(readonly tenant = "demo") {}

  tenants(): string[] {
    return [this.tenant];
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

  /** Append one note.added event and tell the subscribers. */
  note(text: string, extra: { command?: string; actor?: Actor; tenant?: string } = {}): CockpitEvent {
    const seq = this.log.length + 1;
    this.clock += 1000;
    const body: Omit<CockpitEvent, "hash"> = {
      seq,
      id: `evt_${seq}`,
      time: new Date(this.clock).toISOString(),
      tenant: extra.tenant ?? this.tenant,
      type: "note.added",
      actor: extra.actor ?? { kind: "engine", name: "engine" },
      ...(extra.command ? { command: extra.command } : {}),
      data: { text },
      prev: this.log.at(-1)?.hash ?? GENESIS_HASH,
    };
    const event = { ...body, hash: eventHash(body) } as CockpitEvent;
    this.log.push(event);
    for (const l of this.listeners) l([event]);
    return event;
  }

  notes(n: number): CockpitEvent[] {
    return Array.from({ length: n }, (_, i) => this.note(`note ${this.log.length + 1} (${i})`));
  }

  async submitCommand(session: Session, cmd: CommandMsg): Promise<CommandOutcome> {
    this.submitted.push(cmd.id);
    const earlier = this.outcomes.get(cmd.id);
    if (earlier) return { ...earlier, duplicate: true };
    const text = typeof cmd.args?.text === "string" ? cmd.args.text : `${cmd.action} by ${session.actor}`;
    const event = this.note(text, { command: cmd.id, actor: { kind: "human", name: session.actor, role: session.role } });
    this.applied.push(cmd.id);
    const outcome: CommandOutcome = { kind: "ack", seq: event.seq, duplicate: false };
    this.outcomes.set(cmd.id, outcome);
    await this.beforeAnswer?.(cmd);
    return outcome;
  }
}
