import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { COCKPIT_NODE_FLAGS } from "../../src/node-flags.js";
import { childScript } from "./paths.js";

// Child processes of a benchmark: a server on another core, or a measured
// process that must start with a clean heap. A child speaks in lines on
// stdout: "URL <url>" when it listens, "RESULT <json>" when it is done.
// Each has a deadline; a child that misses it is killed (by its own pid).

export interface RunningChild {
  proc: ChildProcess;
  /** resolves with the rest of the first stdout line starting with `prefix` */
  line(prefix: string): Promise<string>;
  /** resolves with the child's RESULT, rejects if it exits without one */
  result<T>(): Promise<T>;
  stderr(): string;
  /** SIGTERM, then SIGKILL after a second; resolves once it has exited */
  stop(): Promise<void>;
}

export function startChild(name: string, args: string[], opts: { nodeFlags?: string[]; timeoutMs: number; env?: NodeJS.ProcessEnv }): RunningChild {
  // Children stand in for cockpit and backend processes, so they run with the `cockpit` command's flags.
  const proc = spawn(process.execPath, [...COCKPIT_NODE_FLAGS, ...(opts.nodeFlags ?? []), childScript(name), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: opts.env ?? process.env,
  });
  let err = "";
  proc.stderr!.setEncoding("utf8");
  proc.stderr!.on("data", (d: string) => {
    err = (err + d).slice(-20_000);
  });
  const waiting: { prefix: string; resolve: (s: string) => void }[] = [];
  const seen: string[] = [];
  const rl = createInterface({ input: proc.stdout! });
  rl.on("line", (l) => {
    seen.push(l);
    for (let i = waiting.length - 1; i >= 0; i--) {
      const w = waiting[i]!;
      if (l.startsWith(w.prefix)) {
        waiting.splice(i, 1);
        w.resolve(l.slice(w.prefix.length));
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const deadline = setTimeout(() => {
    err += `\n[bench] ${name} passed its ${opts.timeoutMs} ms deadline and was killed`;
    proc.kill("SIGKILL");
  }, opts.timeoutMs);
  deadline.unref();
  void exited.then(() => clearTimeout(deadline));

  const failure = (what: string, code: number | null) => new Error(`bench child ${name} exited (${code}) before ${what}:\n${err.trim().split("\n").slice(-15).join("\n")}`);

  function line(prefix: string): Promise<string> {
    const found = seen.find((l) => l.startsWith(prefix));
    if (found !== undefined) return Promise.resolve(found.slice(prefix.length));
    return Promise.race([
      new Promise<string>((resolve) => waiting.push({ prefix, resolve })),
      exited.then((code) => {
        // The line may have been read just before the exit was seen.
        const late = seen.find((l) => l.startsWith(prefix));
        if (late !== undefined) return late.slice(prefix.length);
        throw failure(`printing "${prefix.trim()}"`, code);
      }),
    ]);
  }

  return {
    proc,
    line,
    async result<T>() {
      return JSON.parse(await line("RESULT ")) as T;
    },
    stderr: () => err,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill("SIGTERM");
      const kill = setTimeout(() => proc.kill("SIGKILL"), 1_000);
      await exited;
      clearTimeout(kill);
    },
  };
}

/** Run a child to completion and return its RESULT. */
export async function runChild<T>(name: string, args: string[], opts: { nodeFlags?: string[]; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<T> {
  const child = startChild(name, args, opts);
  try {
    return await child.result<T>();
  } finally {
    await child.stop();
  }
}

/** For child scripts: print the result line the parent waits for. */
export function emitResult(value: unknown): void {
  process.stdout.write(`RESULT ${JSON.stringify(value)}\n`);
}
