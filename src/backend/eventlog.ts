import { mkdir, open as openFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { eventHash } from "../protocol/canonical.js";
import { ChainChecker, RAW_EXCERPT_CHARS, readLogFile, seqOfRawLine } from "../protocol/logfile.js";
import { GENESIS_HASH, MAX_FRAME_BYTES, type CockpitEvent, type EventDraft } from "../protocol/types.js";
import { validateEvent } from "../protocol/validate-event.js";
import { lockDataDir, type DataDirLock, type LockHolder } from "./data-dir-lock.js";

// The backend's durable, hash-chained event log: <dataDir>/events.jsonl, one
// event per line. An append resolves only once its bytes are fdatasync'd, so an
// acked command survives kill -9 and power loss. One write is in flight at a
// time; appends that arrive meanwhile ride the next write (group commit).

export const EVENTS_FILE = "events.jsonl";

/** Field order of a log line; other fields (added by later protocol versions) go after `data`. */
const FIELD_ORDER = ["seq", "id", "time", "tenant", "type", "rollout", "ring", "alert", "incident", "actor", "command", "data"] as const;
const CHAIN_FIELDS = new Set(["seq", "id", "prev", "hash"]);
/** Room for the `{"type":"event","event":...}` envelope: a line that cannot be sent as one frame is refused. */
const MAX_LINE_BYTES = MAX_FRAME_BYTES - 64;

/** Deterministic event id, so the same seed gives a byte-identical log. */
export function eventId(seq: number): string {
  return "evt_" + String(seq).padStart(12, "0");
}

/** One log line (without its "\n"): JSON.stringify with keys in the fixed order. */
export function serializeEvent(event: CockpitEvent): string {
  return JSON.stringify(orderFields(event as unknown as Record<string, unknown>, event.prev, event.hash));
}

function orderFields(source: Record<string, unknown>, prev: string, hash?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of FIELD_ORDER) if (source[k] !== undefined) out[k] = source[k];
  for (const k of Object.keys(source)) {
    if (!(k in out) && !CHAIN_FIELDS.has(k) && source[k] !== undefined) out[k] = source[k];
  }
  out.prev = prev;
  if (hash !== undefined) out.hash = hash;
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

// ---- errors ---------------------------------------------------------------------------

/** The log has damage open() must not guess about: anything but a torn last line. */
export class LogCorruptError extends Error {
  override name = "LogCorruptError";
  constructor(
    readonly path: string,
    readonly dataDir: string,
    readonly line: number,
    readonly seq: number,
    readonly reason: string,
  ) {
    super(
      `${path}: line ${line} (seq ${seq}): ${reason}. This is not a write cut short by a crash, so it is not ` +
        `repaired automatically: run \`cockpit verify-log ${dataDir}\` to see it, then restore the file from a ` +
        `backup${line > 1 ? ` or keep only lines 1-${line - 1}` : ""}.`,
    );
  }
}

export type LogWriteOp = "open" | "write" | "sync" | "truncate";

/** A write, sync or repair of the log file failed; the events it carried were not recorded. */
export class LogWriteError extends Error {
  override name = "LogWriteError";
  readonly code: string | undefined;
  constructor(
    readonly path: string,
    readonly op: LogWriteOp,
    override readonly cause: unknown,
    what: string,
  ) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(`event log ${path}: ${op} failed (${detail}); ${what}: ${nextStep(code)}`);
    this.code = code;
  }
}

function nextStep(code: string | undefined): string {
  switch (code) {
    case "ENOSPC":
    case "EDQUOT":
      return "free disk space, then retry";
    case "EROFS":
    case "EACCES":
    case "EPERM":
      return "make the data directory writable, then retry";
    case "EIO":
      return "check the disk (dmesg), then retry";
    case "EFBIG":
      return "the log reached the largest file this process may write (ulimit -f) or the file system allows; raise the limit or move the data directory, then retry";
    default:
      return "check the disk and the data directory, then retry";
  }
}

// ---- the file handle seam -------------------------------------------------------------

/**
 * What the log needs from an open file. The default is node:fs; tests pass their
 * own `io` (EventLogOptions.io) to make writes or syncs fail on demand, since a
 * full disk or a read-only remount cannot be staged portably (and root ignores chmod).
 */
export interface LogFileHandle {
  /** write at the end of the file; returns the bytes written (may be fewer than given) */
  write(data: Uint8Array): Promise<number>;
  datasync(): Promise<void>;
  sync(): Promise<void>;
  truncate(length: number): Promise<void>;
  size(): Promise<number>;
  close(): Promise<void>;
}
export interface LogIo {
  /** open for appending, creating the file if missing */
  openForAppend(path: string): Promise<LogFileHandle>;
}

export const nodeLogIo: LogIo = {
  async openForAppend(path) {
    const fh = await openFile(path, "a");
    return {
      write: async (data) => (await fh.write(data, 0, data.length, null)).bytesWritten,
      datasync: () => fh.datasync(),
      sync: () => fh.sync(),
      truncate: (length) => fh.truncate(length),
      size: async () => (await fh.stat()).size,
      close: () => fh.close(),
    };
  },
};

/** Make a new file's directory entry durable too; best effort (not every platform can fsync a directory). */
async function syncDir(dir: string): Promise<void> {
  try {
    const d = await openFile(dir, "r");
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // A directory that cannot be fsync'd still holds the file; there is nothing better to do.
  }
}

// ---- the log --------------------------------------------------------------------------

export interface RecoveryReport {
  /** good events read back */
  events: number;
  headSeq: number;
  /** bytes cut off the end (a torn last line); 0 if the file ended cleanly */
  truncatedBytes: number;
  /** the first 200 characters of the line that was cut off */
  tornLine?: string;
  /** why the cut-off line was not kept */
  tornReason?: string;
  /** the backend that died holding the data dir's lock, which this one took over */
  staleLock?: LockHolder;
}

export interface EventLogOptions {
  /** how long an append waits for company before its write starts; default 0 (the next turn of the event loop) */
  groupCommitMs?: number;
  /** recent events kept for `since` (client resume); default 100_000 */
  keepInMemory?: number;
  /**
   * Called with each good event while the file is read back, in seq order, so the
   * engine rebuilds its state without the whole log in memory. If open() then
   * rejects (damage further on), whatever was built from these must be dropped.
   */
  onReplay?: (event: CockpitEvent) => void;
  /** test seam: how the file is opened and written (default node:fs) */
  io?: LogIo;
}

interface Pending {
  drafts: Record<string, unknown>[];
  resolve: (events: CockpitEvent[]) => void;
  reject: (err: Error) => void;
}

/** Logs open in this process: two writers on one file would interleave lines and break the chain. */
const openPaths = new Set<string>();

export class EventLog {
  private readonly recent: CockpitEvent[] = [];
  private recentStart = 0;
  private readonly listeners = new Set<(events: CockpitEvent[]) => void>();
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | null = null;
  private flushing: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private handle: LogFileHandle | null;
  /** this process's hold on the data dir (data-dir-lock.ts), released by close() */
  private lock: DataDirLock | null = null;

  private constructor(
    readonly path: string,
    private readonly io: LogIo,
    handle: LogFileHandle,
    private durableLength: number,
    private durableSeq: number,
    private durableHash: string,
    private readonly groupCommitMs: number,
    private readonly keepInMemory: number,
  ) {
    this.handle = handle;
  }

  static async open(dataDir: string, opts: EventLogOptions = {}): Promise<{ log: EventLog; recovery: RecoveryReport }> {
    const groupCommitMs = opts.groupCommitMs ?? 0;
    const keepInMemory = opts.keepInMemory ?? 100_000;
    if (!(groupCommitMs >= 0)) throw new RangeError(`EventLog.open: groupCommitMs must be >= 0, got ${groupCommitMs}`);
    if (!Number.isInteger(keepInMemory) || keepInMemory < 0)
      throw new RangeError(`EventLog.open: keepInMemory must be an integer >= 0, got ${keepInMemory}`);
    const io = opts.io ?? nodeLogIo;
    const path = join(dataDir, EVENTS_FILE);
    const key = resolve(path);
    if (openPaths.has(key)) throw new Error(`event log ${path} is already open in this process: close it first`);
    openPaths.add(key);

    let handle: LogFileHandle | null = null;
    let lock: DataDirLock | null = null;
    try {
      let existed = true;
      try {
        await mkdir(dataDir, { recursive: true });
      } catch (err) {
        throw new LogWriteError(path, "open", err, "the log cannot be opened for writing");
      }
      // Before anything is read or cut: another backend may be writing this log.
      lock = await lockDataDir(dataDir);
      try {
        existed = await stat(path).then(
          () => true,
          () => false,
        );
        handle = await io.openForAppend(path);
      } catch (err) {
        throw new LogWriteError(path, "open", err, "the log cannot be opened for writing");
      }
      if (!existed) await syncDir(dataDir);

      const log = new EventLog(path, io, handle, 0, 0, GENESIS_HASH, groupCommitMs, keepInMemory);
      log.lock = lock;
      const scan = await log.readBack(dataDir, opts.onReplay);
      const size = await handle.size();
      const truncatedBytes = size - scan.goodEnd;
      if (truncatedBytes > 0) {
        try {
          await handle.truncate(scan.goodEnd);
          await handle.sync();
        } catch (err) {
          throw new LogWriteError(path, "truncate", err, `the torn last line (line ${scan.torn?.line}) could not be cut off`);
        }
      }
      log.durableLength = scan.goodEnd;
      const recovery: RecoveryReport = { events: scan.events, headSeq: log.durableSeq, truncatedBytes };
      if (truncatedBytes > 0 && scan.torn) {
        recovery.tornLine = scan.torn.raw;
        recovery.tornReason = scan.torn.reason;
      }
      if (lock.tookOverFrom) recovery.staleLock = lock.tookOverFrom;
      return { log, recovery };
    } catch (err) {
      openPaths.delete(key);
      await handle?.close().catch(() => {});
      await lock?.release().catch(() => {});
      throw err;
    }
  }

  /**
   * Read the file back, following the chain. Only the last line may be bad (a
   * write cut short by a crash never parses, or lacks its "\n"); it is returned
   * as `torn` for the caller to cut off. Damage anywhere else throws.
   */
  private async readBack(dataDir: string, onReplay?: (e: CockpitEvent) => void) {
    const checker = new ChainChecker();
    let goodEnd = 0;
    let torn: { line: number; raw: string; reason: string } | null = null;
    const corrupt = (line: number, seq: number, reason: string) => new LogCorruptError(this.path, dataDir, line, seq, reason);
    for await (const rec of readLogFile(this.path)) {
      if (torn) throw corrupt(torn.line, seqOfRawLine(torn.raw) ?? checker.headSeq + 1, `${torn.reason}, and good lines follow it`);
      if (rec.kind === "bad") {
        // Valid JSON that is not an event was put there by hand, not by a torn write.
        if (rec.parsed && rec.terminated) throw corrupt(rec.line, seqOfRawLine(rec.raw) ?? checker.headSeq + 1, rec.reason);
        torn = rec;
        continue;
      }
      if (!rec.terminated) {
        // Complete JSON but no "\n": the write stopped before its end; it was never acknowledged.
        torn = { line: rec.line, raw: rec.raw.slice(0, RAW_EXCERPT_CHARS), reason: `line ${rec.line} has no line ending (write cut short)` };
        continue;
      }
      const issue = checker.check(rec.event, rec.raw, rec.line);
      if (issue) throw corrupt(rec.line, rec.event.seq, issue.reason);
      const event = deepFreeze(rec.event);
      goodEnd = rec.end;
      this.durableSeq = event.seq;
      this.durableHash = event.hash;
      this.remember(event);
      onReplay?.(event);
    }
    return { events: checker.count, goodEnd, torn };
  }

  get headSeq(): number {
    return this.durableSeq;
  }
  get headHash(): string {
    return this.durableHash;
  }
  get eventsInMemory(): number {
    return this.recent.length - this.recentStart;
  }

  /**
   * Events after `seq`, oldest first, from the in-memory window. null when the
   * window no longer reaches back that far, and also when `seq` is ahead of this
   * log (a client from another log): both mean "send a snapshot instead".
   */
  since(seq: number): CockpitEvent[] | null {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new RangeError(`EventLog.since: seq must be an integer >= 0, got ${seq}`);
    if (seq > this.durableSeq) return null;
    const held = this.eventsInMemory;
    const oldestHeld = this.durableSeq - held + 1;
    if (seq + 1 < oldestHeld) return null;
    return this.recent.slice(this.recent.length - (this.durableSeq - seq));
  }

  /** Called after each durable batch, in seq order, listeners in the order they subscribed; returns the unsubscribe function. */
  onAppend(listener: (events: CockpitEvent[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Record drafts as events. Seqs follow call order with no gap and are fixed
   * when the batch is cut, so a failed batch gives its seqs back to the next one.
   * Resolves once the bytes are fdatasync'd; rejects with LogWriteError if they
   * could not be (nothing of this call is then in the log). A call's drafts are
   * written together in one batch.
   */
  append(drafts: EventDraft[]): Promise<CockpitEvent[]> {
    if (this.closing) return Promise.reject(new Error(`event log ${this.path} is closed: no more appends`));
    let plain: Record<string, unknown>[];
    try {
      plain = drafts.map((d, i) => normalizeDraft(d, i));
    } catch (err) {
      return Promise.reject(err);
    }
    if (plain.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.queue.push({ drafts: plain, resolve, reject });
      this.schedule();
    });
  }

  /** Write what is pending, then close the file. Later appends reject. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        if (this.timer) this.cancelTimer();
        if (!this.flushing && this.queue.length > 0) this.startFlush();
        while (this.flushing) await this.flushing;
        this.listeners.clear();
        try {
          await this.handle?.close();
        } finally {
          this.handle = null;
          await this.lock?.release().catch(() => {});
          this.lock = null;
          openPaths.delete(resolve(this.path));
        }
      })();
    }
    return this.closing;
  }

  private remember(event: CockpitEvent): void {
    if (this.keepInMemory === 0) return;
    this.recent.push(event);
    if (this.recent.length - this.recentStart > this.keepInMemory) {
      // Let the event that leaves the window go now: until the next compaction
      // its slot would keep it (and the wire frame the server caches for it)
      // alive, doubling the window's memory.
      (this.recent as Array<CockpitEvent | undefined>)[this.recentStart] = undefined;
      this.recentStart += 1;
    }
    // Compact now and then rather than shift() per event (O(n) each).
    if (this.recentStart >= 1024 && this.recentStart >= this.keepInMemory) {
      this.recent.splice(0, this.recentStart);
      this.recentStart = 0;
    }
  }

  private schedule(): void {
    if (this.flushing || this.timer) return; // the running flush picks the queue up when it is done
    if (this.groupCommitMs > 0) {
      this.timer = setTimeout(() => this.fireTimer(), this.groupCommitMs);
    } else {
      this.timer = setImmediate(() => this.fireTimer());
    }
  }

  private cancelTimer(): void {
    if (this.groupCommitMs > 0) clearTimeout(this.timer as ReturnType<typeof setTimeout>);
    else clearImmediate(this.timer as ReturnType<typeof setImmediate>);
    this.timer = null;
  }

  private fireTimer(): void {
    this.timer = null;
    if (!this.flushing) this.startFlush();
  }

  private startFlush(): void {
    this.flushing = (async () => {
      try {
        while (this.queue.length > 0) {
          const batch = this.queue;
          this.queue = [];
          await this.commit(batch);
        }
      } finally {
        this.flushing = null;
      }
    })();
  }

  private async commit(batch: Pending[]): Promise<void> {
    let seq = this.durableSeq;
    let prev = this.durableHash;
    const perCall: CockpitEvent[][] = [];
    const lines: string[] = [];
    for (const p of batch) {
      const events: CockpitEvent[] = [];
      for (const draft of p.drafts) {
        seq += 1;
        const unhashed = orderFields({ ...draft, seq, id: eventId(seq) }, prev);
        const event = unhashed as unknown as CockpitEvent;
        event.hash = eventHash(event);
        prev = event.hash;
        lines.push(JSON.stringify(event) + "\n");
        events.push(deepFreeze(event));
      }
      perCall.push(events);
    }
    const bytes = Buffer.from(lines.join(""), "utf8");

    let op: LogWriteOp = "open";
    try {
      const handle = await this.writableHandle();
      op = "write";
      for (let done = 0; done < bytes.length; ) {
        const n = await handle.write(bytes.subarray(done));
        if (n <= 0) throw new Error(`wrote 0 of ${bytes.length - done} bytes`);
        done += n;
      }
      op = "sync";
      await handle.datasync();
    } catch (err) {
      await this.discardTail();
      const first = this.durableSeq + 1;
      const error = new LogWriteError(
        this.path,
        op,
        err,
        `seq ${first}-${seq} (${seq - first + 1} event${seq === first ? "" : "s"}) not recorded, the log still ends at seq ${this.durableSeq}`,
      );
      for (const p of batch) p.reject(error);
      return;
    }

    this.durableLength += bytes.length;
    this.durableSeq = seq;
    this.durableHash = prev;
    const all = perCall.flat();
    for (const e of all) this.remember(e);
    for (const listener of [...this.listeners]) {
      try {
        listener(all);
      } catch (err) {
        // The events are durable whatever a listener does; a throwing listener is a bug to surface, not to swallow.
        setImmediate(() => {
          throw err;
        });
      }
    }
    batch.forEach((p, i) => p.resolve(perCall[i]!));
  }

  /**
   * The handle to write with. After a failure the old handle is dropped (an fd
   * that failed fsync may report later syncs as fine), so a fresh one is opened
   * and anything past the last durable byte is cut off before writing again.
   */
  private async writableHandle(): Promise<LogFileHandle> {
    if (this.handle) return this.handle;
    const handle = await this.io.openForAppend(this.path);
    try {
      const size = await handle.size();
      if (size < this.durableLength) {
        throw new Error(`the file is ${size} bytes but ${this.durableLength} were written and synced: another program shortened or replaced it; restart the backend so it reads the file again`);
      }
      if (size > this.durableLength) {
        await handle.truncate(this.durableLength);
        await handle.sync();
      }
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
    this.handle = handle;
    return handle;
  }

  /** Best-effort cut back to the last durable byte; writableHandle() repeats it on the next batch if this fails. */
  private async discardTail(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (!handle) return;
    try {
      await handle.truncate(this.durableLength);
    } catch {
      // retried on reopen
    }
    await handle.close().catch(() => {});
  }
}

/**
 * A draft as the log will store it: a JSON round trip, so what is hashed is
 * exactly what a reader parses back (a Date, a function or a class instance in
 * `data` would otherwise hash one way and read back another). Checked here so a
 * bad draft fails its own call instead of poisoning a batch or the file.
 */
function normalizeDraft(draft: EventDraft, index: number): Record<string, unknown> {
  const where = `EventLog.append: draft ${index}${typeof draft?.type === "string" ? ` (${draft.type})` : ""}`;
  if (typeof draft !== "object" || draft === null || Array.isArray(draft)) throw new TypeError(`${where}: a draft must be an object`);
  let plain: Record<string, unknown>;
  try {
    plain = JSON.parse(JSON.stringify(draft)) as Record<string, unknown>;
  } catch (err) {
    throw new TypeError(`${where}: not serializable as JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  for (const k of CHAIN_FIELDS) delete plain[k];
  const check = validateEvent({ ...plain, seq: 1, id: eventId(1), prev: GENESIS_HASH, hash: GENESIS_HASH });
  if (!check.ok) throw new TypeError(`${where}: ${check.error.replace(/^event \d+: /, "")}`);
  const size = Buffer.byteLength(JSON.stringify(plain), "utf8") + 300; // + seq, id, prev, hash
  if (size > MAX_LINE_BYTES) throw new RangeError(`${where}: about ${size} bytes, over the ${MAX_LINE_BYTES}-byte limit of one frame; send large data by reference`);
  return plain;
}
