import { spawn } from "node:child_process";

// Run one program with an argv, no shell: the plan's `apply` / `rollback` /
// `engage` / `release`. The program gets its own process group, so a timeout
// stops what it started too (a deploy script's kubectl), not just the script.

export interface ProcessRun {
  argv: string[];
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** after SIGTERM on timeout, how long before SIGKILL; default 3000 */
  killGraceMs?: number;
}

export interface ProcessResult {
  /** null when the program did not exit on its own: it timed out, was killed, or never started */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** set when the program could not be started (ENOENT, EACCES) */
  spawnError: string | null;
  /** the end of stdout and stderr, interleaved as they came */
  output: string;
  durationMs: number;
}

/** Output kept while a command runs; only its tail is ever logged. */
const KEEP_OUTPUT_BYTES = 64 * 1024;
/** After exit, how long to wait for the pipes (a daemonized grandchild may hold them open forever). */
const DRAIN_MS = 500;

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function runProcess(run: ProcessRun): Promise<ProcessResult> {
  const started = Date.now();
  const [file, ...args] = run.argv;
  return new Promise<ProcessResult>((resolve) => {
    let output = Buffer.alloc(0);
    let timedOut = false;
    let spawnError: string | null = null;
    let done = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    const timers: NodeJS.Timeout[] = [];

    const keep = (chunk: Buffer) => {
      output = Buffer.concat([output, chunk]);
      if (output.length > KEEP_OUTPUT_BYTES) output = output.subarray(output.length - KEEP_OUTPUT_BYTES);
    };
    const finish = () => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({
        exitCode: timedOut ? null : (exit?.code ?? null),
        signal: exit?.signal ?? null,
        timedOut,
        spawnError,
        output: output.toString("utf8"),
        durationMs: Date.now() - started,
      });
    };

    const child = spawn(file ?? "", args, {
      shell: false,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: run.env,
      ...(run.cwd ? { cwd: run.cwd } : {}),
      windowsHide: true,
    });
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("error", (err: NodeJS.ErrnoException) => {
      spawnError = err.code ?? err.message;
      finish();
    });
    child.on("exit", (code, signal) => {
      exit = { code, signal };
      timers.push(setTimeout(finish, DRAIN_MS));
    });
    child.on("close", () => finish());

    timers.push(
      setTimeout(() => {
        if (exit !== null || done) return;
        timedOut = true;
        signalGroup(child.pid, "SIGTERM");
        timers.push(setTimeout(() => signalGroup(child.pid, "SIGKILL"), run.killGraceMs ?? 3000));
      }, run.timeoutMs),
    );
  });
}
