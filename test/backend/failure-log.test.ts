import { describe, expect, it } from "vitest";
import { FAILURE_SUMMARY_EVERY_MS, FailureLog } from "../../src/backend/failure-log.js";

// An engine step retried every 50 ms while the disk is full must not write
// twenty lines a second: said once, summed up once a minute, then "works again".

function setup() {
  let t = Date.parse("2026-11-22T03:00:00.000Z");
  const lines: string[] = [];
  const f = new FailureLog("engine step", (l) => lines.push(l), () => t);
  return { f, lines, advance: (ms: number) => (t += ms) };
}

describe("FailureLog", () => {
  it("says a failure once, then once a minute while it repeats, then that it works again", () => {
    const { f, lines, advance } = setup();
    for (let i = 0; i <= 1200; i++) {
      f.failed("ENOSPC: no space left on device");
      advance(50);
    }
    // 60 s of failures every 50 ms: the first line, and one summary when the minute is up
    expect(lines).toEqual([
      "engine step failed: ENOSPC: no space left on device; will retry",
      "engine step still failing (1201 times since 2026-11-22T03:00:00.000Z): ENOSPC: no space left on device; will retry",
    ]);
    f.succeeded();
    expect(lines.at(-1)).toBe("engine step works again after 1201 failures since 2026-11-22T03:00:00.000Z");
    f.succeeded();
    expect(lines).toHaveLength(3);
  });

  it("says at once when the failure changes, and starts afresh after a success", () => {
    const { f, lines, advance } = setup();
    f.failed("ENOSPC");
    advance(50);
    f.failed("EIO: i/o error");
    expect(lines[1]).toBe("engine step failed (2 times since 2026-11-22T03:00:00.000Z): EIO: i/o error; will retry");
    advance(FAILURE_SUMMARY_EVERY_MS - 1);
    f.failed("EIO: i/o error");
    expect(lines).toHaveLength(2);
    f.succeeded();
    f.failed("ENOSPC");
    expect(lines.at(-1)).toBe("engine step failed: ENOSPC; will retry");
  });
});
