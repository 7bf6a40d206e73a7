import { render, type Instance } from "ink";
import { App } from "../../components/App.js";
import type { CommandRequest, Connection } from "../client/connection.js";
import type { CockpitStore } from "../store/cockpit-store.js";
import { installFastOutput } from "./ink-fast-output.js";
import { guardedStdin } from "./input-guard.js";
import { anchoredStdout } from "./terminal.js";

// Bootstrap of the terminal UI: alternate screen in, Ink app, and the terminal
// given back (main screen, cursor, cooked mode) on EVERY way out: q, Ctrl+C
// (a key in raw mode, not a signal), SIGTERM, SIGHUP, SIGINT from kill, a
// crash inside React or anywhere else in the process.

export const ENTER_ALT_SCREEN = "\x1b[?1049h";
export const LEAVE_ALT_SCREEN = "\x1b[?1049l";
export const HIDE_CURSOR = "\x1b[?25l";
export const SHOW_CURSOR = "\x1b[?25h";
const CLEAR_HOME = "\x1b[2J\x1b[H";

/** Exit codes: 128 + the signal number for signals, as shells report them. */
export const EXIT_CODES = { quit: 0, crash: 1, SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

export interface StartOptions {
  store: CockpitStore;
  connection: Connection;
  readonly: boolean;
  onExportDraft?: () => Promise<string>;
  // ---- for tests; the defaults are the process's own ----
  stdout?: NodeJS.WriteStream;
  stdin?: NodeJS.ReadStream;
  stderr?: NodeJS.WriteStream;
  /** where signals and crashes are listened for (default: process) */
  processLike?: NodeJS.EventEmitter;
  /** NO_COLOR and friends (default: process.env) */
  env?: NodeJS.ProcessEnv;
}

/** https://no-color.org: set and not empty means no colour. */
export function colorWanted(env: NodeJS.ProcessEnv): boolean {
  return !(typeof env.NO_COLOR === "string" && env.NO_COLOR !== "");
}

export async function startCockpit(opts: StartOptions): Promise<number> {
  const stdout = opts.stdout ?? process.stdout;
  const stdin = opts.stdin ?? process.stdin;
  const stderr = opts.stderr ?? process.stderr;
  const proc = opts.processLike ?? process;
  const env = opts.env ?? process.env;

  let restored = false;
  /** Idempotent and synchronous, so it also works from process "exit". */
  const restoreTerminal = () => {
    if (restored) return;
    restored = true;
    try {
      if (stdin.isTTY && typeof stdin.setRawMode === "function") stdin.setRawMode(false);
    } catch {
      // stdin already closed: nothing to restore there
    }
    try {
      stdout.write(SHOW_CURSOR + LEAVE_ALT_SCREEN);
    } catch {
      // stdout gone (terminal closed, SIGHUP): nothing left to restore
    }
  };

  let exitCode: number = EXIT_CODES.quit;
  let crash: unknown;
  let instance: Instance | undefined;
  let finished = false;
  const finish = (code: number) => {
    if (finished) return;
    finished = true;
    exitCode = code;
    // The last frame goes away with the alternate screen; unmount stops Ink writing.
    instance?.unmount();
  };
  const onSigterm = () => finish(EXIT_CODES.SIGTERM);
  const onSighup = () => finish(EXIT_CODES.SIGHUP);
  const onSigint = () => finish(EXIT_CODES.SIGINT);
  const onCrash = (err: unknown) => {
    crash ??= err;
    finish(EXIT_CODES.crash);
    restoreTerminal();
  };
  proc.on("SIGTERM", onSigterm);
  proc.on("SIGHUP", onSighup);
  proc.on("SIGINT", onSigint);
  proc.on("uncaughtException", onCrash);
  proc.on("unhandledRejection", onCrash);
  proc.on("exit", restoreTerminal);

  const sender = (cmd: CommandRequest): string => {
    // Keys that change things are not offered read-only; this is the second lock.
    if (opts.readonly) return "";
    return opts.connection.send(cmd);
  };

  try {
    await installFastOutput();
    stdout.write(ENTER_ALT_SCREEN + CLEAR_HOME + HIDE_CURSOR);
    instance = render(
      <App
        store={opts.store.store}
        sender={sender}
        readonly={opts.readonly}
        color={colorWanted(env)}
        onQuit={() => finish(EXIT_CODES.quit)}
        {...(opts.onExportDraft ? { onExportDraft: opts.onExportDraft } : {})}
      />,
      // guardedStdin: a pasted escape sequence Ink cannot parse would otherwise crash the cockpit (input-guard.ts).
      // maxFps 0: the cockpit store already batches the event stream into at most 10 publishes a second, so that is
      // what paces frames. Ink's own throttle would only delay the frames that must not wait: a key's echo, a
      // command's ack (its trailing edge restarts with every update, so a 20 fps cap cost up to 50 ms per ack).
      { stdout: anchoredStdout(stdout), stdin: guardedStdin(stdin), stderr, incrementalRendering: true, maxFps: 0, patchConsole: false, exitOnCtrlC: false },
    );
    // A signal may have arrived between listening and rendering.
    if (finished) instance.unmount();
    await instance.waitUntilExit();
  } catch (err) {
    crash ??= err;
    exitCode = EXIT_CODES.crash;
  } finally {
    proc.off("SIGTERM", onSigterm);
    proc.off("SIGHUP", onSighup);
    proc.off("SIGINT", onSigint);
    proc.off("uncaughtException", onCrash);
    proc.off("unhandledRejection", onCrash);
    proc.off("exit", restoreTerminal);
    try {
      instance?.cleanup();
    } catch {
      // already cleaned up by unmount
    }
    restoreTerminal();
  }
  if (crash !== undefined) {
    const e = crash as Error;
    stderr.write(`cockpit: stopped by an unexpected error: ${e?.stack ?? String(crash)}\nThe terminal was restored. Please report this with the lines above.\n`);
    exitCode = EXIT_CODES.crash;
  }
  return exitCode;
}
