import type { CommandMsg } from "../protocol/types.js";

// Commands that have no answer yet, in the order they were made. A command
// stays here until its ack or reject arrives, so after a reconnect the client
// can send every one of them again with the SAME id: the server answers a
// repeated id with its original answer, so nothing is applied twice, and an
// id is never swapped for a new one.

export interface PendingCommand {
  readonly msg: CommandMsg;
  /** when send() made it (ms epoch) */
  readonly createdAt: number;
  /** frames written for it so far (0: still queued) */
  sends: number;
  /**
   * sent the moment it was made, on a live connection (not queued, not a
   * retry): only then is a rate_limited answer the command's own outcome
   */
  sentAtOnce?: boolean;
}

export class CommandOutbox {
  private readonly byId = new Map<string, PendingCommand>();

  constructor(readonly capacity: number) {
    if (!(Number.isSafeInteger(capacity) && capacity > 0)) throw new RangeError(`command outbox capacity: must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.byId.size;
  }

  get full(): boolean {
    return this.byId.size >= this.capacity;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get(id: string): PendingCommand | undefined {
    return this.byId.get(id);
  }

  /** Keep a new command; false (and nothing kept) when full or the id is already here. */
  add(msg: CommandMsg, createdAt: number): boolean {
    if (this.full || this.byId.has(msg.id)) return false;
    this.byId.set(msg.id, { msg, createdAt, sends: 0 });
    return true;
  }

  markSent(id: string): void {
    const p = this.byId.get(id);
    if (p) p.sends += 1;
  }

  /** The answer arrived: forget it. True when it was waiting here. */
  settle(id: string): boolean {
    return this.byId.delete(id);
  }

  /** Oldest first (Map keeps insertion order). */
  pending(): PendingCommand[] {
    return [...this.byId.values()];
  }

  /** Remove and return the commands made at or before `cutoff` (too old to send now). */
  takeOlderThan(cutoff: number): PendingCommand[] {
    const old: PendingCommand[] = [];
    for (const p of this.byId.values()) if (p.createdAt <= cutoff) old.push(p);
    for (const p of old) this.byId.delete(p.msg.id);
    return old;
  }

  /** Remove and return everything (the connection stopped for good). */
  drain(): PendingCommand[] {
    const all = this.pending();
    this.byId.clear();
    return all;
  }
}
