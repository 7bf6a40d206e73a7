import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataDirBusyError, LOCK_FILE, lockDataDir } from "../../src/backend/data-dir-lock.js";
import { EventLog } from "../../src/backend/eventlog.js";
import { CLI, requireBuild, startServe, type ServeProcess } from "../support/processes.js";

// One writer per data dir: a second backend on the same log would interleave
// lines and break the hash chain for every event after the collision.

const dirs: string[] = [];
const serves: ServeProcess[] = [];
afterEach(async () => {
  for (const s of serves.splice(0)) await s.stop().catch(() => undefined);
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function dataDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "cockpit-lock-"));
  dirs.push(d);
  return d;
}
/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await once(child, "exit");
  return child.pid!;
}

describe("lockDataDir", () => {
  it("refuses a second holder while the first runs, naming its pid and the way out", async () => {
    const dir = await dataDir();
    const first = await lockDataDir(dir);
    const err = await lockDataDir(dir, { pid: process.pid + 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirBusyError);
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    expect((err as Error).message).toContain("stop it first, or give this one another --data-dir");
    expect((err as Error).message).toContain(join(dir, LOCK_FILE));
    await first.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    // free again
    await (await lockDataDir(dir)).release();
  });

  it("takes over the lock of a backend that died, and says whose it was", async () => {
    const dir = await dataDir();
    const pid = await deadPid();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), since: "2026-11-22T01:00:00.000Z" }) + "\n");
    const lock = await lockDataDir(dir);
    expect(lock.tookOverFrom).toEqual({ pid, host: hostname(), since: "2026-11-22T01:00:00.000Z" });
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), "utf8"))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it("takes over a lock torn by a crash while it was being written", async () => {
    const dir = await dataDir();
    await writeFile(join(dir, LOCK_FILE), '{"pid": 12');
    const lock = await lockDataDir(dir);
    expect(lock.tookOverFrom).toBeUndefined();
    await lock.release();
  });

  it("refuses a lock held from another host: it cannot tell from here whether that backend runs", async () => {
    const dir = await dataDir();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), host: "other-host.example", since: "2026-11-22T01:00:00.000Z" }));
    const err = await lockDataDir(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataDirBusyError);
    expect((err as Error).message).toContain("on host other-host.example");
  });

  it("release leaves alone a lock that is no longer this holder's", async () => {
    const dir = await dataDir();
    const lock = await lockDataDir(dir);
    const other = JSON.stringify({ pid: process.pid, host: hostname(), since: "later" }) + "\n";
    await writeFile(join(dir, LOCK_FILE), other);
    await lock.release();
    expect(await readFile(join(dir, LOCK_FILE), "utf8")).toBe(other);
  });
});

describe("the event log holds its data dir's lock", () => {
  it("from open until close, and reports a dead backend's lock it took over", async () => {
    const dir = await dataDir();
    const pid = await deadPid();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify({ pid, host: hostname(), since: "2026-11-22T01:00:00.000Z" }));
    const { log, recovery } = await EventLog.open(dir);
    expect(recovery.staleLock?.pid).toBe(pid);
    expect(JSON.parse(await readFile(join(dir, LOCK_FILE), "utf8"))).toMatchObject({ pid: process.pid });
    await log.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});

describe("two `cockpit serve` on one data dir", () => {
  it("the second exits 4 naming the first, and the log is left to the first", async () => {
    requireBuild();
    const dir = await dataDir();
    const first = await startServe(["--scenario", "healthy", "--port", "0", "--data-dir", dir]);
    serves.push(first);
    const second = spawn(process.execPath, [CLI, "serve", "--scenario", "healthy", "--port", "0", "--data-dir", dir], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    second.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const [code] = (await once(second, "exit")) as [number | null];
    expect(code).toBe(4);
    expect(stderr).toContain(`is in use by another backend (pid ${first.child.pid}`);
    // The first one is untouched and stops cleanly, giving the dir back.
    expect(await first.stop("SIGTERM")).toBe(0);
    serves.length = 0;
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
