import { describe, expect, it } from "vitest";
import { ringStateWord } from "../../src/tui/words.js";
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
