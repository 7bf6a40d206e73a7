import { describe, expect, it } from "vitest";
import { describeEvent } from "../../src/render/describe.js";
import type { Actor } from "../../src/protocol/types.js";
import { makeEvent, VALID_DATA } from "../protocol/event-fixtures.js";

// Sentences for the events of issue 5: sources failing and recovering, and
// the plan's commands acting on the world.

const ALICE: Actor = { kind: "human", name: "alice", role: "operator" };

describe("describeEvent: commands run on the world", () => {
  it("names who asked for a kill switch program and how it ended", () => {
    const e = makeEvent("command.executed", { step: "engage", argv: ["flagctl", "set", "new_checkout", "off"], exitCode: 0, outputTail: "" }, { actor: ALICE });
    expect(describeEvent(e)).toBe("engage of api-v408 (asked by alice (operator)) succeeded (exit 0): flagctl set new_checkout off");
    const f = makeEvent("command.failed", { step: "engage", argv: ["flagctl", "set", "new_checkout", "off"], exitCode: 1, outputTail: "", reason: "exit 1: flag service unavailable" }, { actor: ALICE });
    expect(describeEvent(f)).toBe("engage of api-v408 (asked by alice (operator)) failed: exit 1: flag service unavailable — flagctl set new_checkout off");
  });

  it("reports a webhook by its HTTP answer, and quotes arguments with spaces", () => {
    const e = makeEvent("command.executed", { step: "apply", argv: ["POST", "https://deploy.example.com/ship"], exitCode: null, outputTail: "queued", status: 202 }, { ring: "canary" });
    expect(describeEvent(e)).toBe("apply for canary of api-v408 succeeded (answered 202): POST https://deploy.example.com/ship");
    const q = makeEvent("command.executed", { step: "apply", argv: ["bin/ship", "--note", "two words"], exitCode: 0, outputTail: "" }, { ring: "canary" });
    expect(describeEvent(q)).toBe('apply for canary of api-v408 succeeded (exit 0): bin/ship --note "two words"');
  });

  it("names the alert a silence was made for", () => {
    const e = makeEvent("command.executed", { step: "silence", argv: ["POST", "http://am:9093/api/v2/silences"], exitCode: null, outputTail: "silence 1 until x", status: 200 }, { rollout: undefined, alert: "4f2a", actor: ALICE });
    expect(describeEvent(e)).toBe("silence for alert 4f2a (asked by alice (operator)) succeeded (answered 200): POST http://am:9093/api/v2/silences");
  });

  it("keeps a long command to one readable line", () => {
    const e = makeEvent("command.failed", { ...VALID_DATA["command.failed"], argv: ["x".repeat(300)] }, { ring: "canary" });
    const s = describeEvent(e)!;
    expect(s.endsWith("…")).toBe(true);
    expect(s.includes("\n")).toBe(false);
    expect(s.length).toBeLessThan(300);
  });

  it("puts ? for missing fields of the new events", () => {
    expect(describeEvent(makeEvent("source.degraded", {} as never, { rollout: undefined }))).toBe("source ? is failing: ?; rollouts reading it hold until it answers");
    expect(describeEvent(makeEvent("command.failed", {} as never, { rollout: undefined }))).toBe("? failed: ?");
  });
});
