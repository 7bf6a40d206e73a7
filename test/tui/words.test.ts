import { describe, expect, it } from "vitest";
import { ringStateWord, rolloutStateWord, shortPauseReason } from "../../src/tui/words.js";
import { KEEP_ASIDES_WHOLE, wrapText } from "../../src/tui/spans.js";
import type { RingState, RolloutState } from "../../src/protocol/types.js";

describe("ring state words", () => {
  const ring: RingState = { name: "canary", traffic: 1, state: "baking", bakeUntil: "2026-11-21T14:06:00.000Z" };
  const rollout = (state: RolloutState["state"]): RolloutState => ({
    id: "api-v408", service: "api", version: "v408", previousVersion: "v407", kind: "code", state, ring: "canary", rings: [ring], onBreach: "pause",
  });
  const now = Date.parse("2026-11-21T14:03:00.000Z");
  it("counts the bake down while the rollout progresses", () => {
    expect(ringStateWord(ring, now, rollout("progressing")).text).toBe("baking 3m00s left");
  });
  it("says the bake is held while the rollout is paused, instead of a countdown that will not promote", () => {
    const w = ringStateWord(ring, now, rollout("paused"));
    expect(w.text).toBe("bake held");
    expect(w.glyph).toBe("‖");
  });
});

describe("the pause reason in a rollout's row", () => {
  const paused = (reason: string, automatic: boolean): RolloutState => ({
    id: "api-v408", service: "api", version: "v408", previousVersion: "v407", kind: "code", state: "paused", ring: "canary", rings: [],
    onBreach: "pause", pausedReason: reason, pausedAutomatic: automatic,
  });
  it("keeps the metric and its reading from the engine's sentence, to three significant digits", () => {
    expect(shortPauseReason("p99_latency_ms < 50 for 1m breached in canary (72.38 > 50)")).toBe("p99_latency_ms 72.4 > 50");
    expect(shortPauseReason("error_rate <= baseline + 0.1% for 30s breached in region-1 (0.4% > 0.18%)")).toBe("error_rate 0.4% > 0.18%");
    expect(rolloutStateWord(paused("p99_latency_ms < 50 for 1m breached in canary (72.38 > 50)", true), 0).text).toBe("paused (auto: p99_latency_ms 72.4 > 50)");
  });
  it("keeps a reason of any other shape whole, and a person's reason as written", () => {
    expect(shortPauseReason("burn rate too high")).toBe("burn rate too high");
    expect(rolloutStateWord(paused("burn rate too high", true), 0).text).toBe("paused (auto: burn rate too high)");
    expect(rolloutStateWord(paused("paused by alice: checking p99 < 50 breached in canary (x)", false), 0).text).toBe("paused (by alice: checking p99 < 50 breached in canary (x))");
  });
});

describe("wrapText", () => {
  it("breaks between words and never past the width", () => {
    expect(wrapText("one two three four", 9)).toEqual(["one two", "three", "four"]);
  });
  it("with KEEP_ASIDES_WHOLE keeps a reading in parentheses, and its full stop, on one line", () => {
    const text = "p99_latency_ms < 50 for 1m breached in region-1 (63.2 > 50).";
    expect(wrapText(text, 54, KEEP_ASIDES_WHOLE)).toEqual(["p99_latency_ms < 50 for 1m breached in region-1", "(63.2 > 50)."]);
    expect(wrapText(text, 54)).toEqual(["p99_latency_ms < 50 for 1m breached in region-1 (63.2", "> 50)."]);
  });
});
