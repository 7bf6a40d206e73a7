import type { ConnectionSink } from "../../../src/client/connection.js";
import type { ConnectionView } from "../../../src/store/cockpit-store.js";
import type { AckMsg, CockpitEvent, CommandMsg, RejectMsg, SnapshotMsg, WelcomeMsg } from "../../../src/protocol/types.js";

// A ConnectionSink that writes down every call, in order, and optionally
// forwards to a real store, so tests can assert the sequence of states (live,
// stale, reconnecting ...) that a batching store would fold together.

export class RecordingSink implements ConnectionSink {
  readonly welcomes: WelcomeMsg[] = [];
  readonly snapshots: SnapshotMsg[] = [];
  readonly events: CockpitEvent[] = [];
  readonly acks: AckMsg[] = [];
  readonly rejects: RejectMsg[] = [];
  readonly patches: Array<Partial<ConnectionView>> = [];
  readonly sent: CommandMsg[] = [];
  readonly unknown: Array<{ id: string; message: string }> = [];
  /** the connection view as the patches build it */
  view: Partial<ConnectionView> = {};

  constructor(private readonly forward?: ConnectionSink) {}

  readonly ingest: ConnectionSink["ingest"] = {
    welcome: (msg) => {
      this.welcomes.push(msg);
      this.forward?.ingest.welcome(msg);
    },
    snapshot: (msg) => {
      this.snapshots.push(msg);
      this.forward?.ingest.snapshot(msg);
    },
    event: (e) => {
      this.events.push(e);
      this.forward?.ingest.event(e);
    },
    ack: (msg) => {
      this.acks.push(msg);
      this.forward?.ingest.ack(msg);
    },
    reject: (msg) => {
      this.rejects.push(msg);
      this.forward?.ingest.reject(msg);
    },
    connection: (patch) => {
      this.patches.push(patch);
      const next: Record<string, unknown> = { ...this.view, ...patch };
      for (const [k, v] of Object.entries(patch)) if (v === undefined) delete next[k];
      this.view = next as Partial<ConnectionView>;
      this.forward?.ingest.connection(patch);
    },
    commandSent: (cmd) => {
      this.sent.push(cmd);
      this.forward?.ingest.commandSent(cmd);
    },
    commandUnknown: (id, message) => {
      this.unknown.push({ id, message });
      this.forward?.ingest.commandUnknown(id, message);
    },
  };

  /** statuses in the order they were set, without repeats in a row */
  statuses(): string[] {
    const out: string[] = [];
    for (const p of this.patches) if (p.status && out.at(-1) !== p.status) out.push(p.status);
    return out;
  }

  errors(): string[] {
    return this.patches.flatMap((p) => (p.error ? [p.error] : []));
  }

  eventSeqs(): number[] {
    return this.events.map((e) => e.seq);
  }
}

/** Poll until `cond` holds; fails the test with `what` when it never does. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
