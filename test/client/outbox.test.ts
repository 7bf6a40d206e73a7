import { describe, expect, it } from "vitest";
import { CommandOutbox } from "../../src/client/outbox.js";
import type { CommandMsg } from "../../src/protocol/types.js";

const cmd = (id: string): CommandMsg => ({ type: "command", id, action: "pause", target: { rollout: "api" } });

describe("CommandOutbox", () => {
  it("keeps unanswered commands in the order they were made, until settled", () => {
    const box = new CommandOutbox(10);
    box.add(cmd("c-1"), 100);
    box.add(cmd("c-2"), 200);
    box.add(cmd("c-3"), 300);
    expect(box.settle("c-2")).toBe(true);
    expect(box.settle("c-2")).toBe(false);
    expect(box.pending().map((p) => p.msg.id)).toEqual(["c-1", "c-3"]);
  });

  it("counts the frames written per command", () => {
    const box = new CommandOutbox(10);
    box.add(cmd("c-1"), 0);
    expect(box.get("c-1")!.sends).toBe(0);
    box.markSent("c-1");
    box.markSent("c-1");
    expect(box.get("c-1")!.sends).toBe(2);
  });

  it("refuses a command when full, and a repeated id", () => {
    const box = new CommandOutbox(2);
    expect(box.add(cmd("c-1"), 0)).toBe(true);
    expect(box.add(cmd("c-1"), 0)).toBe(false);
    expect(box.add(cmd("c-2"), 0)).toBe(true);
    expect(box.full).toBe(true);
    expect(box.add(cmd("c-3"), 0)).toBe(false);
    expect(box.has("c-3")).toBe(false);
  });

  it("hands out commands too old to send and keeps the rest", () => {
    const box = new CommandOutbox(10);
    box.add(cmd("old"), 1000);
    box.add(cmd("edge"), 2000);
    box.add(cmd("new"), 3000);
    expect(box.takeOlderThan(2000).map((p) => p.msg.id)).toEqual(["old", "edge"]);
    expect(box.pending().map((p) => p.msg.id)).toEqual(["new"]);
  });

  it("drains everything when the connection stops for good", () => {
    const box = new CommandOutbox(10);
    box.add(cmd("a"), 0);
    box.add(cmd("b"), 0);
    expect(box.drain().map((p) => p.msg.id)).toEqual(["a", "b"]);
    expect(box.size).toBe(0);
  });

  it("rejects a capacity that is not a positive integer", () => {
    expect(() => new CommandOutbox(0)).toThrow(/capacity/);
    expect(() => new CommandOutbox(1.5)).toThrow(/capacity/);
  });
});
