import { WebSocket, type ClientOptions } from "ws";
import type { BackendPort, CommandOutcome } from "../../src/backend/backend-port.js";
import { eventHash } from "../../src/protocol/canonical.js";
import { foldEvents } from "../../src/domain/fold.js";
import {
  GENESIS_HASH,
  type CockpitEvent,
  type CockpitState,
  type CommandMsg,
  type EventDataMap,
  type EventDraft,
  type EventType,
  type ServerMsg,
  type Session,
} from "../../src/protocol/types.js";

// Test doubles for the server: an in-memory BackendPort and a ws client that
// records frames. Real sockets everywhere; nothing here mocks the network.

/**
 * An in-memory log. Listeners are told synchronously on append, unless
 * `holdNotifications` is set: then batches wait for `releaseNotifications()`,
 * which is how a backend that fsyncs before notifying behaves (the backlog
 * already has events the listener has not been told about).
 */
export class MemoryBackend implements BackendPort {
  readonly log: CockpitEvent[] = [];
  /** events with seq below this are no longer held (eventsSince answers null) */
  firstHeld = 1;
  holdNotifications = false;
  private readonly held: CockpitEvent[][] = [];
  private readonly listeners = new Set<(events: CockpitEvent[]) => void>();
  private readonly outcomes = new Map<string, CommandOutcome>();
  readonly submitted: Array<{ session: Session; cmd: CommandMsg }> = [];
  /** make submitCommand throw, as a broken backend would */
  failCommands = false;
  private clock = Date.parse("2026-11-21T14:00:00.000Z");

  constructor(private readonly tenantList: string[] = ["payments", "search"]) {}

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

  knowsCommand(session: Session, id: string): boolean {
    return this.outcomes.has(`${session.tenant}\u0000${id}`);
  }

  async submitCommand(session: Session, cmd: CommandMsg): Promise<CommandOutcome> {
    this.submitted.push({ session, cmd });
    await Promise.resolve();
    if (this.failCommands) throw new Error("disk full");
    const key = `${session.tenant}\u0000${cmd.id}`;
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

  note(tenant: string, text = "hello"): CockpitEvent {
    return this.event(tenant, "note.added", { text });
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

export interface Closed {
  code: number;
  reason: string;
}

/** A ws client that records every frame, for asserting order and content. */
export class TestClient {
  readonly received: ServerMsg[] = [];
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("error", () => undefined);
    ws.on("message", (data) => {
      this.received.push(JSON.parse(data.toString()) as ServerMsg);
      this.wake();
    });
    ws.on("close", () => this.wake());
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(value: unknown): void {
    this.ws.send(typeof value === "string" ? value : JSON.stringify(value));
  }

  hello(resumeFrom: number | null = null, extra: Record<string, unknown> = {}): void {
    this.send({ type: "hello", protocol: 1, client: "test/1", resumeFrom, ...extra });
  }

  /** Resolve once `pred` holds for the frames so far (the test timeout bounds the wait). */
  async until(pred: (received: ServerMsg[]) => boolean, what = "condition"): Promise<void> {
    while (!pred(this.received)) {
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(this.received.map((m) => m.type))}`);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The first frame of `type` after the first `skip` of that type. */
  async next<T extends ServerMsg["type"]>(type: T, skip = 0): Promise<Extract<ServerMsg, { type: T }>> {
    await this.until((r) => r.filter((m) => m.type === type).length > skip, `a ${type} frame`);
    return this.received.filter((m) => m.type === type)[skip] as Extract<ServerMsg, { type: T }>;
  }

  eventSeqs(): number[] {
    return this.received.flatMap((m) => (m.type === "event" ? [m.event.seq] : []));
  }

  async untilEvent(seq: number): Promise<void> {
    await this.until((r) => r.some((m) => m.type === "event" && m.event.seq >= seq), `event ${seq}`);
  }

  close(): Promise<Closed> {
    this.ws.close();
    return this.closed;
  }
}

export async function connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
  const client = new TestClient(new WebSocket(url, options));
  await client.opened;
  return client;
}

/** Connect, say hello and wait for the welcome. */
export async function join(url: string, resumeFrom: number | null = null, options: ClientOptions & { token?: string } = {}): Promise<TestClient> {
  const { token, ...wsOptions } = options;
  const client = await connect(url, wsOptions);
  client.hello(resumeFrom, token === undefined ? {} : { token });
  await client.next("welcome");
  return client;
}

export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Frames in the order they came, as type names. */
export function types(client: TestClient): string[] {
  return client.received.map((m) => m.type);
}
