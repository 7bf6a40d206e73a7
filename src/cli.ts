#!/usr/bin/env -S node --max-semi-space-size=8
// Argument routing only: each subcommand lives in its own module, loaded on
// demand so `cockpit events` does not pay for React and `serve` not for Ink.
import type { CommandIo } from "./cli-args.js";
import { VERSION } from "./version.js";

const HELP = `cockpit ${VERSION}: a terminal cockpit for progressive rollouts, and its reference backend

Usage: cockpit <command> [options]     (cockpit <command> --help for each)

Commands:
  demo         start the embedded backend with a scenario and open the cockpit on it
  connect URL  open the cockpit on a running backend (ws:// or wss://)
  events URL   print the event stream, one event per line (--json for jq)
  serve        run the reference rollout backend (engine, event log, WebSocket server)
  postmortem   draft a blameless post-mortem from an event log
  verify-log   check an event log's hash chain
  scenarios    list the bundled simulated incidents
  token        mint an access token for the backend's --tokens file

Options:
  -h, --help     show this help
  -v, --version  print the version

Environment: COCKPIT_TOKEN (token for connect/events), NO_COLOR (no colour; glyphs stay).`;

type Runner = (argv: string[], io: CommandIo) => Promise<number>;

const commands: Record<string, () => Promise<Runner>> = {
  serve: async () => (await import("./backend/serve-cli.js")).runServe,
  events: async () => (await import("./client/events-cli.js")).runEvents,
  "verify-log": async () => (await import("./app/misc-cli.js")).runVerifyLog,
  scenarios: async () => (await import("./app/misc-cli.js")).runScenarios,
  token: async () => (await import("./app/misc-cli.js")).runToken,
  postmortem: async () => (await import("./app/postmortem-cli.js")).runPostmortemCli,
  demo: async () => (await import("./app/cockpit-cli.js")).runDemo,
  connect: async () => (await import("./app/cockpit-cli.js")).runConnect,
};

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === "-h" || cmd === "--help" || cmd === "help") {
    process.stdout.write(HELP + "\n");
    return cmd ? 0 : 2;
  }
  if (cmd === "-v" || cmd === "--version") {
    process.stdout.write(VERSION + "\n");
    return 0;
  }
  const load = commands[cmd];
  if (!load) {
    process.stderr.write(`cockpit: unknown command "${cmd}"\n\n${HELP}\n`);
    return 2;
  }
  // React's development build costs ~1.7x per frame; a shipped CLI renders with the production one.
  process.env.NODE_ENV ??= "production";
  if ((cmd === "demo" || cmd === "connect") && process.stdout.isTTY && process.stdin.isTTY) {
    // Ink renders nothing but the last frame when it thinks it runs in CI; a person
    // at a terminal (CI=1 exported in a shell, a CI job's debug shell) still needs the screen.
    delete process.env.CI;
    delete process.env.CONTINUOUS_INTEGRATION;
  }
  const run = await load();
  return run(rest, { stdout: process.stdout, stderr: process.stderr });
}

// A reader that stops reading (`cockpit events URL --json | head`, `cockpit scenarios | head -1`)
// closes the pipe: that ends the command, quietly, as it would end cat or grep.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`cockpit: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
