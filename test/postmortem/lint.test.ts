import { describe, expect, it } from "vitest";
import { lintBlame } from "../../src/postmortem/lint.js";

describe("lintBlame", () => {
  it.each([
    ["This was human error on deploy", "human error"],
    ["We should have waited for the bake", "should have"],
    ["someone shouldn't have promoted it", "shouldn't have"],
    ["a careless config change", "careless"],
    ["it was the operator's fault", "fault"],
    ["nobody is to blame but", "to blame"],
    ["they blamed the load balancer", "blamed"],
    ["if only we had looked at the graph", "if only"],
    ["negligent review of the flag", "negligent"],
    ["they didn't bother to check", "didn't bother"],
    ["a stupid typo in the flag", "stupid"],
    ["why didn't anyone page the owner?", "why didn't"],
  ])("finds the phrase in %j", (text, phrase) => {
    const found = lintBlame([{ seq: 7, text }]);
    expect(found.map((f) => f.phrase.toLowerCase())).toContain(phrase);
    expect(found[0]!.seq).toBe(7);
    expect(found[0]!.excerpt).toContain(found[0]!.phrase);
  });

  it.each([
    "blameless review at 15:00",
    "the cluster is fault-tolerant across zones",
    "run the fault injection test again",
    "errors stayed under the gate",
    "the operator rolled back at 14:03",
    "faulty disk in rack 4 replaced",
  ])("leaves %j alone", (text) => {
    expect(lintBlame([{ seq: 1, text }])).toEqual([]);
  });

  it("lists each phrase once, in text order, with a one-line excerpt", () => {
    const text = "Honestly it was human error.\nThey should have known; if only the dashboard had been open. " + "x".repeat(100);
    const found = lintBlame([{ seq: 3, text }]);
    expect(found.map((f) => f.phrase)).toEqual(["human error", "should have", "if only"]);
    for (const f of found) expect(f.excerpt).not.toContain("\n");
    expect(found[2]!.excerpt.endsWith("…")).toBe(true);
  });

  it("never changes the notes it reads", () => {
    const notes = [{ seq: 1, text: "careless mistake" }];
    lintBlame(notes);
    expect(notes[0]!.text).toBe("careless mistake");
  });
});
