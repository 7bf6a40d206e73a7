import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CLI, ROOT, requireBuild } from "../../support/processes.js";

// A `cockpit serve` child for fault and load tests: a fixed port across
// restarts (so a cockpit reconnects on its own), its stderr kept for
// assertions, its resident memory read from /proc, and kill -9 on demand.

const run = promisify(execFile);

export interface ServeChild {
  child: ChildProcessWithoutNullStreams;
  pid: number;
  url: string;
  stderr(): string;
  /** resolves with how the process ended */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** wait until stderr matches (checks what is there first) */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** send a signal and wait for the exit */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<ServeChild>();

/** Kill every serve child still running (afterEach/afterAll). */
export async function killAllServe(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop("SIGKILL")));
}

export interface SpawnOptions {
  /** how long to wait for the URL; default 30 s */
  timeoutMs?: number;
  /** extra environment, e.g. NODE_OPTIONS */
  env?: Record<string, string>;
}

export async function spawnServe(args: string[], opts: SpawnOptions = {}): Promise<ServeChild> {
  requireBuild();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const child = spawn(process.execPath, [CLI, "serve", ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", ...opts.env } });
  let err = "";
  const stderrWaiters = new Set<() => void>();
  child.stderr.on("data", (d: Buffer) => {
    err += d.toString();
    for (const w of [...stderrWaiters]) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`cockpit serve printed no URL within ${timeoutMs} ms:\n${err}`)), timeoutMs);
    const onData = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        clearTimeout(timer);
        child.stdout.off("data", onData);
        resolve(out.slice(0, nl).trim());
      }
    };
    child.stdout.on("data", onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`cockpit serve exited (${code ?? signal}) before printing its URL:\n${err}`));
    });
  });
  // Keep draining stdout so the child never blocks on a full pipe.
  child.stdout.resume();
  const s: ServeChild = {
    child,
    pid: child.pid!,
    url,
    stderr: () => err,
    exited,
    async waitForStderr(pattern, ms = 15_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const m = pattern.exec(err);
        if (m) return m[0];
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve exited while waiting for ${pattern}:\n${err}`);
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`serve stderr never matched ${pattern} within ${ms} ms:\n${err.slice(-2000)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(done, Math.min(left, 200));
          function done() {
            clearTimeout(t);
            stderrWaiters.delete(done);
            r();
          }
          stderrWaiters.add(done);
        });
      }
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const r = await exited;
      live.delete(s);
      return r;
    },
  };
  live.add(s);
  void exited.then(() => live.delete(s));
  return s;
}

/** A port free right now on 127.0.0.1 (the kernel's pick). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const address = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return typeof address === "object" && address ? address.port : 0;
}

/** Resident set size of a process in KiB (VmRSS), or null once it is gone. */
export function rssKiB(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Run `cockpit verify-log DIR` as a process, as an operator would. */
export async function verifyLogCli(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, "verify-log", dir]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : 1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

const dirs: string[] = [];
/** A temp directory, preferring tmpfs (/dev/shm) when `fast` (load tests that do not test the disk). */
export function tempDir(prefix: string, fast = false): string {
  const base = fast && existsSync("/dev/shm") ? "/dev/shm" : tmpdir();
  const d = mkdtempSync(join(base, `cockpit-${prefix}-`));
  dirs.push(d);
  return d;
}
export function removeTempDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}
