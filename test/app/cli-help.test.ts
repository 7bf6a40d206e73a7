import { beforeAll, describe, expect, it } from "vitest";
import { requireBuild, runCli as run } from "../support/processes.js";

// Every subcommand of the built CLI answers --help on stdout with exit 0, and
// refuses a flag it does not know with exit 2, naming itself and the flag, so
// a typo in a script fails loudly instead of running with defaults.

const SUBCOMMANDS = ["serve", "connect", "events", "postmortem", "verify-log", "scenarios", "token", "demo"];

beforeAll(() => requireBuild());

describe("cockpit SUBCOMMAND --help and unknown flags", () => {
  it("names every subcommand in the top-level help", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    for (const cmd of SUBCOMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, "m"));
  }, 30_000);

  it.each(SUBCOMMANDS)("%s --help prints its usage and exits 0", async (cmd) => {
    const r = await run([cmd, "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith(`Usage: cockpit ${cmd}`)).toBe(true);
    expect(r.stderr).toBe("");
  }, 30_000);

  it.each(SUBCOMMANDS)("%s --bogus exits 2 and names the flag", async (cmd) => {
    const r = await run([cmd, "--bogus"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`cockpit ${cmd}: Unknown option '--bogus'`);
    expect(r.stdout).toBe("");
  }, 30_000);
});
