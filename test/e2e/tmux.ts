import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { describe, it } from "vitest";
import { IN_CI } from "../support/ci.js";

// A real terminal for end-to-end tests: tmux runs the built CLI in a detached
// session of a chosen size; we type with send-keys and read what a person
// would see with capture-pane. Everything goes through execFile with argument
// lists: no shell ever parses a URL, a key or a note text.
//
// All sessions of one test process live on a private tmux server (-L) that
// reads no config file (-f /dev/null), so a developer's own tmux is never
// touched and options like remain-on-exit do not leak either way.

const SOCKET = `cockpit-e2e-${process.pid}-${randomBytes(3).toString("hex")}`;

/**
 * Options of the private server, set before the first program starts. Fixed
 * text: nothing from a test goes in here.
 */
const SERVER_OPTIONS: readonly (readonly string[])[] = [
  // A pane whose program ended stays, so a crash's last words can be read in a failure message.
  ["remain-on-exit", "on"],
  // Programs may create tmux paste buffers with OSC 52: a leak of that sequence becomes visible as a buffer.
  ["set-clipboard", "on"],
  ["default-terminal", "screen-256color"],
  ["history-limit", "2000"],
  ["status", "off"],
];

function tmuxInstalled(): boolean {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export const TMUX_AVAILABLE = tmuxInstalled();
const MISSING = "tmux is not installed (apt-get install tmux / brew install tmux)";

/**
 * A describe block that needs tmux. Without tmux it is skipped with a message
 * on a developer's machine, but in CI (CI set) it fails: an end-to-end suite
 * that silently skips there would prove nothing.
 */
export function describeWithTmux(title: string, body: () => void): void {
  if (TMUX_AVAILABLE) {
    describe(title, body);
  } else if (IN_CI) {
    describe(title, () => {
      it("has tmux to run in", () => {
        throw new Error(`${MISSING}; CI must install it for the end-to-end tests`);
      });
    });
  } else {
    process.stderr.write(`[e2e] skipping "${title}": ${MISSING}\n`);
    describe.skip(`${title} (skipped: ${MISSING})`, body);
  }
}

/**
 * The tmux server's environment, which its programs inherit, comes from
 * whoever starts it: ours, minus a parent tmux, and minus the CI markers.
 * Ink draws nothing until exit when CI is set (is-in-ci), and a terminal in
 * tmux is exactly the interactive case these tests are about; the markers are
 * for the test runner, not for the program under test.
 */
function tmuxEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ["TMUX", "TMUX_PANE", "CI", "CONTINUOUS_INTEGRATION"]) delete env[k];
  return env;
}

/**
 * tmux ends a command at any argument ending in ";" (its command separator on
 * the command line); "\\;" keeps a literal one. Every argument we pass is data.
 */
function literal(arg: string): string {
  return arg.endsWith(";") ? arg.slice(0, -1) + "\\;" : arg;
}

// -u: UTF-8 whatever the locale says, so ● and ␛ read back as themselves in CI too.
function run(argv: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("tmux", ["-u", "-L", SOCKET, "-f", "/dev/null", ...argv], { env: tmuxEnv(), maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tmux ${argv.join(" ")}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** One tmux command on the private server, e.g. tmux(["list-buffers"]). */
export function tmux(args: readonly string[]): Promise<string> {
  return run(args.map(literal));
}

/** Several tmux commands in one go, run in order by the server before anything else happens. */
function tmuxChain(commands: readonly (readonly string[])[]): Promise<string> {
  return run(commands.flatMap((c, i) => [...(i > 0 ? [";"] : []), ...c.map(literal)]));
}

let socketPath: string | undefined;
function rememberSocket(path: string): void {
  socketPath ??= path;
}

const live = new Set<TmuxSession>();
let counter = 0;

export interface StartOptions {
  columns: number;
  rows: number;
  /** argv of the program; run directly, no shell */
  command: readonly string[];
  cwd?: string;
  /** extra environment for the program */
  env?: Record<string, string>;
  /** a word in the session name, to tell sessions apart when debugging */
  label?: string;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** what is awaited, for the failure message */
  what?: string;
  /** read with escape sequences (capture-pane -e) */
  escapes?: boolean;
}

/** One detached tmux session running one program. */
export class TmuxSession {
  private constructor(
    readonly name: string,
    /** the pane's first process: its process group holds everything the test started in it */
    readonly panePid: number,
  ) {}

  static async start(o: StartOptions): Promise<TmuxSession> {
    const name = `${o.label ?? "e2e"}-${process.pid}-${++counter}`;
    const envArgs = Object.entries(o.env ?? {}).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    // The options go in the same call, so they hold before the program can exit.
    await tmuxChain([
      ["start-server"],
      ...SERVER_OPTIONS.map(([k, v]) => ["set-option", "-g", k!, v!]),
      [
        "new-session",
        "-d",
        "-s",
        name,
        "-x",
        String(o.columns),
        "-y",
        String(o.rows),
        ...(o.cwd ? ["-c", o.cwd] : []),
        ...envArgs,
        "--",
        ...o.command,
      ],
    ]);
    const info = (await tmux(["display-message", "-p", "-t", name, "#{pane_pid} #{socket_path}"])).trim();
    const space = info.indexOf(" ");
    const pid = info.slice(0, space);
    rememberSocket(info.slice(space + 1));
    const s = new TmuxSession(name, Number(pid));
    live.add(s);
    return s;
  }

  /** Key names as tmux spells them: "p", "Enter", "Escape", "C-c". */
  async keys(...keys: string[]): Promise<void> {
    await tmux(["send-keys", "-t", this.name, ...keys]);
  }

  /** Text typed as it is, key names not interpreted. */
  async type(text: string): Promise<void> {
    await tmux(["send-keys", "-t", this.name, "-l", text]);
  }

  /** The visible screen, one string per row (exactly `rows` of them). */
  async lines(o: { escapes?: boolean } = {}): Promise<string[]> {
    const out = await tmux(["capture-pane", "-p", ...(o.escapes ? ["-e"] : []), "-t", this.name]);
    const rows = out.split("\n");
    // capture-pane ends every row with a newline, the last one included
    if (rows[rows.length - 1] === "") rows.pop();
    return rows;
  }

  async screen(o: { escapes?: boolean } = {}): Promise<string> {
    return (await this.lines(o)).join("\n");
  }

  /** A tmux format about this pane, e.g. "#{alternate_on}". */
  async display(format: string): Promise<string> {
    return (await tmux(["display-message", "-p", "-t", this.name, format])).trim();
  }

  async resize(columns: number, rows: number): Promise<void> {
    await tmux(["resize-window", "-t", this.name, "-x", String(columns), "-y", String(rows)]);
  }

  /**
   * Poll the screen until `test` passes (a regex, or a predicate over the
   * rows). Waits on state, never on time: the timeout only bounds a failure,
   * whose message shows the last screen.
   */
  async waitFor(test: RegExp | ((lines: string[]) => boolean), o: WaitOptions = {}): Promise<string[]> {
    const timeoutMs = o.timeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    const pass = typeof test === "function" ? test : (l: string[]) => test.test(l.join("\n"));
    let last: string[] = [];
    for (;;) {
      last = await this.lines({ escapes: o.escapes ?? false });
      if (pass(last)) return last;
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const what = o.what ?? String(test);
    const dead = await this.display("#{pane_dead} #{pane_dead_status}").catch(() => "?");
    throw new Error(`tmux ${this.name}: no "${what}" on screen within ${timeoutMs} ms (pane dead/status: ${dead}). Last screen:\n${last.join("\n")}`);
  }

  async kill(): Promise<void> {
    live.delete(this);
    await tmux(["kill-session", "-t", this.name]).catch(() => undefined);
    // Closing the pane hangs up its programs; whatever ignored that goes now.
    try {
      process.kill(-this.panePid, "SIGKILL");
    } catch {
      // the process group is already gone
    }
  }
}

/**
 * For afterEach: end every session a test started, passed or failed, and the
 * private server with them (so paste buffers and titles never carry over to
 * the next test); a new session starts a fresh one.
 */
export async function killAllSessions(): Promise<void> {
  for (const s of [...live]) await s.kill();
  await tmux(["kill-server"]).catch(() => undefined);
  // tmux leaves its socket file behind
  if (socketPath) rmSync(socketPath, { force: true });
  socketPath = undefined;
}

/**
 * argv that runs `argv`, then shows how it ended and the tty's line settings,
 * and keeps the pane open: a person looking at that pane sees the prompt a
 * shell would give back. The script is fixed text; `argv` reaches it as "$@".
 */
export function thenHold(argv: readonly string[]): string[] {
  const script = `"$@"; code=$?; printf '\\n[exited %s]\\n' "$code"; stty -a; exec sleep 600`;
  return ["sh", "-c", script, "sh", ...argv];
}
