import { hostname } from "node:os";
import { open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";

// One writer per data dir. Two backends appending to one hash-chained log
// would interleave their lines, and the chain would break at the first
// collision: every event after it unreadable. So the first writer leaves
// <dataDir>/cockpit.lock holding its pid, host and start time, and a second
// is refused with who holds it.
//
// A lock left by a backend that died (kill -9, power loss) is taken over when
// its pid is no longer running on this host. A lock from another host (a data
// dir on shared storage) cannot be checked from here, so it is refused and the
// message says how to clear it. Node has no flock: two backends starting in
// the same instant over a dead lock could both take it; that race is
// milliseconds wide, and only after a crash.

export const LOCK_FILE = "cockpit.lock";

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder took the lock */
  since: string;
}

export class DataDirBusyError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    const where = holder.host === hostname() ? `pid ${holder.pid}` : `pid ${holder.pid} on host ${holder.host}`;
    super(
      `data dir ${dataDir} is in use by another backend (${where}, since ${holder.since}): stop it first, or give this one another --data-dir. ` +
        `If that backend is surely gone, delete ${join(dataDir, LOCK_FILE)}.`,
    );
  }
}

export interface DataDirLock {
  /** the dead backend whose lock this one took over, if any */
  tookOverFrom?: LockHolder;
  /** Remove the lock (only if it is still this one's). */
  release(): Promise<void>;
}

export interface LockOptions {
  pid?: number;
  host?: string;
  now?: () => Date;
  /** is this pid running on this host (test seam) */
  isAlive?: (pid: number) => boolean;
}

export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid === "number" && Number.isSafeInteger(v.pid) && v.pid > 0 && typeof v.host === "string" && typeof v.since === "string") return { pid: v.pid, host: v.host, since: v.since };
  } catch {
    // a lock torn by a crash while it was being written: nobody holds it
  }
  return null;
}

/** Take the data dir's lock, or throw DataDirBusyError naming the backend that holds it. */
export async function lockDataDir(dataDir: string, opts: LockOptions = {}): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE);
  const me: LockHolder = { pid: opts.pid ?? process.pid, host: opts.host ?? hostname(), since: (opts.now?.() ?? new Date()).toISOString() };
  const mine = JSON.stringify(me) + "\n";
  const isAlive = opts.isAlive ?? pidIsAlive;
  let tookOverFrom: LockHolder | undefined;
  // Twice at most: once as found, once more after clearing a dead backend's lock.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, "wx");
      try {
        await fh.writeFile(mine);
        await fh.sync();
      } finally {
        await fh.close();
      }
      return {
        ...(tookOverFrom ? { tookOverFrom } : {}),
        release: async () => {
          const now = await readFile(path, "utf8").catch(() => null);
          if (now === mine) await unlink(path).catch(() => {});
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const text = await readFile(path, "utf8").catch(() => "");
    const holder = parseHolder(text);
    if (holder !== null && (holder.host !== me.host || isAlive(holder.pid))) throw new DataDirBusyError(dataDir, holder);
    if (holder !== null) tookOverFrom = holder;
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== "ENOENT") throw err;
    });
  }
  const holder = parseHolder(await readFile(path, "utf8").catch(() => "")) ?? { pid: 0, host: "?", since: "?" };
  throw new DataDirBusyError(dataDir, holder);
}
