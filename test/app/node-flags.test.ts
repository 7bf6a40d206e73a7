import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { COCKPIT_NODE_FLAGS } from "../../src/node-flags.js";
import { CLI, ROOT, requireBuild } from "../support/processes.js";

// The cockpit's Node flags (src/node-flags.ts: why each one) are written in
// several places that a person edits by hand; they must all say the same, and
// the `cockpit` command must really start Node with them.

beforeAll(() => requireBuild());

const flags = COCKPIT_NODE_FLAGS.join(" ");
const firstLine = async (path: string) => (await readFile(path, "utf8")).split("\n", 1)[0];

describe("the cockpit's Node flags", () => {
  it("are on the first line of the CLI source and of the bundle the `cockpit` command runs", async () => {
    expect(await firstLine(join(ROOT, "src", "cli.ts"))).toBe(`#!/usr/bin/env -S node ${flags}`);
    expect(await firstLine(CLI)).toBe(`#!/usr/bin/env -S node ${flags}`);
  });

  it("are given by npm start and npm run bench", async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`node ${flags} dist/bundle/cli.js demo`);
    expect(pkg.scripts.bench).toBe(`node ${flags} dist/bench/run.js`);
  });

  it("reach Node when the bundle is run as a command, through its first line", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cockpit-flags-"));
    // Run as a shell runs `cockpit`: the file itself, so the kernel reads its #! line.
    const child = spawn(CLI, ["serve", "--scenario", "healthy", "--port", "0", "--data-dir", join(dir, "data")], { stdio: ["ignore", "pipe", "pipe"] });
    try {
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.setEncoding("utf8").once("data", (d: string) => resolve(d.trim()));
        child.once("exit", (code) => reject(new Error(`cockpit serve exited ${code}: ${stderr}`)));
      });
      expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
      // env -S replaces itself with node, so this pid is node's, and its command line holds the flags.
      const cmdline = (await readFile(`/proc/${child.pid}/cmdline`, "utf8")).split("\0");
      for (const f of COCKPIT_NODE_FLAGS) expect(cmdline).toContain(f);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
