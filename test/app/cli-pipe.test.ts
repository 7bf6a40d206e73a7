import { beforeAll, describe, expect, it } from "vitest";
import { requireBuild, runCli } from "../support/processes.js";

// The built CLI (the bundle users run) in a pipeline whose reader stops early,
// as `cockpit scenarios | head -1` does: it must end quietly with 0, not print
// a stack trace about EPIPE.

beforeAll(() => requireBuild());

describe("the cockpit CLI in a pipeline", () => {
  it("ends with 0 and says nothing when its reader closes the pipe", async () => {
    // scenarios writes one line per scenario description; repeat until the pipe is surely closed mid-output
    const r = await runCli(["scenarios"], { closeAfterFirstChunk: true });
    expect(r.stdout).toContain("canary-latency");
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled|at /);
    expect(r.code).toBe(0);
  }, 30_000);
});
