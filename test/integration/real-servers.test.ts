import { describe, expect, it } from "vitest";
import { binaryGate, findBinary } from "./real-servers.js";

// The integration tests' rule for missing binaries: skip locally with a
// message naming the binary, fail in CI.

describe("binaryGate", () => {
  it("skips locally, naming the missing binary", () => {
    const g = binaryGate(["cockpit-no-such-binary"], false);
    expect(g.skip).toBe(true);
    expect(g.missingMessage).toBe(
      "missing binary cockpit-no-such-binary: install with `apt-get install -y prometheus prometheus-alertmanager` (.ci/run does)",
    );
  });

  it("does not skip in CI, so the suite's beforeAll fails with that message", () => {
    const g = binaryGate(["cockpit-no-such-binary"], true);
    expect(g.skip).toBe(false);
    expect(g.missingMessage).toMatch(/^missing binary cockpit-no-such-binary/);
  });

  it("finds a binary on PATH", () => {
    const g = binaryGate(["node"], true);
    expect(g).toEqual({ paths: { node: findBinary("node") }, skip: false, missingMessage: null });
  });
});
