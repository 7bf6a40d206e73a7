// src/backend/backend-port.ts — what the server needs from the backend core
import type { CockpitEvent, CockpitState, CommandMsg, RejectCode, Session } from "../protocol/types.js";
export type CommandOutcome =
  | { kind: "ack"; seq: number; duplicate: boolean }
  | { kind: "reject"; code: RejectCode; message: string; duplicate: boolean };
export interface BackendPort {
  /** highest seq written to the log (all tenants) */
  headSeq(): number;
  /** folded state of one tenant as of headSeq() */
  snapshot(tenant: string): { seq: number; state: CockpitState };
  /** events after `seq` for every tenant, in order, or null if no longer held (send a snapshot) */
  eventsSince(seq: number): CockpitEvent[] | null;
  /** called with each durable batch, in seq order */
  subscribe(listener: (events: CockpitEvent[]) => void): () => void;
  /** run a command for a session; resolves after the resulting events are durable; idempotent by cmd.id per tenant */
  submitCommand(session: Session, cmd: CommandMsg): Promise<CommandOutcome>;
  /** health of the sources feeding it, for display (optional) */

  // ---- additions by the server (optional, so any backend still fits) ----
  /**
   * Tenants the backend knows, first one first. Demo mode (no token table) puts
   * every session on the first one, so a demo cockpit sees the demo's rollouts.
   */
  tenants?(): string[];
  /**
   * This command id (per tenant) was answered already or is being answered: a repeat costs the backend
   * nothing, so the server lets it past the rate limit and the client gets the first answer at once.
   */
  knowsCommand?(session: Session, id: string): boolean;
  /** the backend's clock (event times are on it) and its speed against real time */
  serverClock?(): { time: string; speed: number };
}

// Consistency the server relies on (it cannot repair a violation of it): a batch
// handed to a subscriber is already visible to headSeq(), snapshot() and
// eventsSince(). Otherwise a client saying hello between the two would miss it:
// its backlog would end before the batch and the batch went out before it joined.
// Likewise, submitCommand should resolve only after its batch went to the
// subscribers: the server sends the ack after whatever it queued before, so the
// client then sees the event before the ack that names its seq.
