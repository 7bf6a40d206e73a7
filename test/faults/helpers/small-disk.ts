import { execFile } from "node:child_process";
import { closeSync, mkdirSync, openSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

// A data directory whose disk can be filled and freed while a backend runs.
// Root ignores chmod, so "full" has to be real:
//  - tmpfs: a small tmpfs mounted for the test; full means ENOSPC, and it can
//    also be remounted read-only (EROFS) once the backend holds no fd open for writing;
//  - fsize: where mounting is not allowed, the backend's RLIMIT_FSIZE is set
//    to the log's current size with prlimit; writes fail with EFBIG (Node
//    ignores SIGXFSZ). No read-only mode there.

const run = promisify(execFile);

export interface SmallDisk {
  kind: "tmpfs" | "fsize";
  /** the data directory to give `serve --data-dir` */
  dataDir: string;
  /** make the log's next write fail; `pid` is the backend's */
  fill(pid: number): Promise<void>;
  /** room again */
  free(pid: number): Promise<void>;
  /** tmpfs only: remount read-only / read-write; retries while a write is under way (EBUSY) */
  readOnly?(on: boolean): Promise<void>;
  dispose(): Promise<void>;
}

async function tryMount(dir: string, sizeBytes: number): Promise<boolean> {
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", dir]);
    return true;
  } catch {
    return false;
  }
}

function fillUntilFull(path: string): number {
  const fd = openSync(path, "w");
  const chunk = Buffer.alloc(16 * 1024, 120);
  let written = 0;
  try {
    for (;;) written += writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
  return written;
}

export async function smallDisk(root: string, sizeBytes = 2 * 1024 * 1024): Promise<SmallDisk> {
  const mnt = join(root, "mnt");
  mkdirSync(mnt, { recursive: true });
  const dataDir = join(mnt, "data");
  // COCKPIT_TEST_NO_MOUNT=1 runs the fallback where mounting would work too.
  if (process.env.COCKPIT_TEST_NO_MOUNT !== "1" && (await tryMount(mnt, sizeBytes))) {
    const filler = join(mnt, "filler");
    let mounted = true;
    const remount = async (mode: "ro" | "rw") => {
      for (let attempt = 0; ; attempt++) {
        try {
          await run("mount", ["-o", `remount,${mode}`, mnt]);
          return;
        } catch (err) {
          // EBUSY: the backend's retry loop holds the log open for a moment.
          if (attempt >= 200) throw new Error(`cannot remount ${mnt} ${mode}: ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      }
    };
    return {
      kind: "tmpfs",
      dataDir,
      async fill() {
        fillUntilFull(filler);
      },
      async free() {
        rmSync(filler, { force: true });
      },
      readOnly: (on) => remount(on ? "ro" : "rw"),
      async dispose() {
        if (!mounted) return;
        mounted = false;
        await run("umount", ["-l", mnt]).catch(() => undefined);
      },
    };
  }
  return {
    kind: "fsize",
    dataDir,
    async fill(pid) {
      const size = statSync(join(dataDir, "events.jsonl")).size;
      await run("prlimit", ["--pid", String(pid), `--fsize=${size}:unlimited`]);
    },
    async free(pid) {
      await run("prlimit", ["--pid", String(pid), "--fsize=unlimited:unlimited"]);
    },
    async dispose() {},
  };
}
