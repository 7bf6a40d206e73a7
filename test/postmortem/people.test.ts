import { describe, expect, it } from "vitest";
import { actorLabel, anonymizeText, PeopleDirectory, personLabel } from "../../src/postmortem/people.js";

function directory(): PeopleDirectory {
  const p = new PeopleDirectory();
  p.noteActor({ kind: "human", name: "alice", role: "operator" });
  p.noteActor({ kind: "human", name: "bob", role: "commander" });
  p.noteActor({ kind: "human", name: "vic", role: "viewer" });
  p.noteRoleAssigned("sam", "scribe");
  return p;
}

describe("people by role", () => {
  it("names people by their incident role first, else by their actor role", () => {
    const p = directory();
    p.noteRoleAssigned("alice", "commander");
    p.noteRoleAssigned("bob", "liaison");
    expect(p.labelOf("alice")).toBe("the incident commander");
    expect(p.labelOf("bob")).toBe("the communications liaison");
    expect(p.labelOf("vic")).toBe("a viewer");
    expect(p.labelOf("sam")).toBe("the scribe");
  });

  it("numbers people who share a role, in order of appearance", () => {
    const p = new PeopleDirectory();
    p.noteActor({ kind: "human", name: "zed", role: "operator" });
    p.noteActor({ kind: "human", name: "amy", role: "operator" });
    expect(p.labelOf("zed")).toBe("the on-call operator (1)");
    expect(p.labelOf("amy")).toBe("the on-call operator (2)");
  });

  it("labels the engine and integrations as systems, never as people", () => {
    const p = directory();
    expect(actorLabel({ kind: "engine", name: "engine" }, p, { names: false })).toBe("the rollout engine");
    expect(actorLabel({ kind: "integration", name: "prometheus" }, p, { names: false })).toBe("the prometheus integration");
    expect(actorLabel({ kind: "human", name: "alice", role: "operator" }, p, { names: false })).toBe("the on-call operator");
  });

  it("keeps names with --names", () => {
    const p = directory();
    expect(actorLabel({ kind: "human", name: "alice", role: "operator" }, p, { names: true })).toBe("alice");
    expect(personLabel("sam", p, { names: true })).toBe("sam");
    expect(anonymizeText("alice paged bob", p, { names: true })).toBe("alice paged bob");
  });
});

describe("anonymizeText", () => {
  it("replaces known names in free text, whole words only, any case", () => {
    const p = directory();
    expect(anonymizeText("Paged @bob; ALICE is rolling back. Alicea and bobcat are not people.", p, { names: false })).toBe(
      "Paged the incident commander; the on-call operator is rolling back. Alicea and bobcat are not people.",
    );
  });

  it("capitalizes a label that starts the text or a sentence", () => {
    const p = directory();
    expect(anonymizeText("sam took notes. vic watched", p, { names: false })).toBe("The scribe took notes. A viewer watched");
  });

  it("replaces the longest name first and never re-replaces a label", () => {
    const p = new PeopleDirectory();
    p.noteActor({ kind: "human", name: "ann", role: "operator" });
    p.noteActor({ kind: "human", name: "ann lee", role: "commander" });
    p.noteRoleAssigned("operator", "scribe"); // a person whose name is a word in a label
    expect(anonymizeText("then ann lee and ann spoke", p, { names: false })).toBe("then the incident commander and the on-call operator spoke");
  });

  it("leaves text alone when nobody is known", () => {
    expect(anonymizeText("alice was here", new PeopleDirectory(), { names: false })).toBe("alice was here");
  });
});
