import { spawn } from "node:child_process";
import { beforeAll, describe, expect, it } from "vitest";
import { CLI, requireBuild } from "../support/processes.js";

// The built CLI (the bundle users run) in a pipeline whose reader stops early,
// as `cockpit scenarios | head -1` does: it must end quietly with 0, not print
// a stack trace about EPIPE.

beforeAll(() => requireBuild());

function runAndCloseEarly(args: string[]): Promise<{ code: number | null; stderr: string; firstChunk: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    let firstChunk = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdout.once("data", (d: Buffer) => {
      firstChunk = d.toString("utf8");
      // The reader goes away after its first line, as head does.
      child.stdout.destroy();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stderr, firstChunk }));
  });
}

describe("the cockpit CLI in a pipeline", () => {
  it("ends with 0 and says nothing when its reader closes the pipe", async () => {
    // scenarios writes one line per scenario description; repeat until the pipe is surely closed mid-output
    const r = await runAndCloseEarly(["scenarios"]);
    expect(r.firstChunk).toContain("canary-latency");
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at /);
    expect(r.code).toBe(0);
  }, 30_000);
});
