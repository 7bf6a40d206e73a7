import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../src/postmortem/markdown.js";
import { collectSource, draftFromEvents, eventsAsRecords, scanSource, type OpenSource } from "../../src/postmortem/pipeline.js";
import { chooseScope } from "../../src/postmortem/scope.js";
import { canaryLatencyLog, flagMisconfigLog, human, LogBuilder, T0 } from "./helpers.js";

/** A source that counts how many records the second pass pulled. */
function counting(log: LogBuilder): { open: OpenSource; pulled: () => number } {
  let n = 0;
  return {
    open: () => ({
      *[Symbol.iterator]() {
        for (const rec of eventsAsRecords(log.events)) {
          n++;
          yield rec;
        }
      },
    }),
    pulled: () => n,
  };
}

/** canary-latency, then an hour of quiet samples after the incident. */
function longTail(): LogBuilder {
  const log = canaryLatencyLog();
  for (let t = 430; t < 3600; t += 10) log.sample(t, "api-v408", "canary", "p99_latency_ms", 40, "ms", 40);
  return log;
}

describe("the second pass", () => {
  it("stops once it is past the span, its sample tail and the incident's last event", async () => {
    const log = longTail();
    const { index } = await scanSource(() => eventsAsRecords(log.events));
    const choice = chooseScope(index, {});
    if (!choice.ok) throw new Error(choice.message);
    const src = counting(log);
    await collectSource(src.open, choice.scope, index.peopleFor(choice.scope));
    expect(src.pulled()).toBeLessThan(log.events.length / 2);
  });

  it("still reads a milestone set long after the incident was resolved", async () => {
    const log = longTail();
    log.push(3600, "incident.milestone", { milestone: "impact_started", at: new Date(T0 + 65_000).toISOString() }, { incident: "inc-1", actor: human("bob", "commander") });
    const r = await draftFromEvents(log.events);
    if (!r.ok) throw new Error(r.message);
    expect(r.draft.milestones[0]).toMatchObject({ at: new Date(T0 + 65_000).toISOString(), inferred: false });
  });

  it("keeps out a name that only appears in the log after the span", async () => {
    const log = flagMisconfigLog();
    // carol's note names "zoe", who acts only an hour later.
    log.push(120, "note.added", { text: "asked zoe to check the flag service" }, { actor: human("carol", "operator") });
    log.push(3600, "note.added", { text: "follow-up" }, { actor: human("zoe", "operator") });
    const r = await draftFromEvents(log.events, { window: { fromMs: T0, toMs: T0 + 500_000 } });
    if (!r.ok) throw new Error(r.message);
    const md = renderMarkdown(r.draft);
    expect(md).not.toMatch(/\bzoe\b/i);
    expect(md).toContain("asked the on-call operator (2) to check the flag service");
  });
});

describe("draftFromEvents (the cockpit's e key)", () => {
  it("drafts from events held in memory, and says when there is nothing to draft", async () => {
    const ok = await draftFromEvents(canaryLatencyLog().events, { incident: "inc-1" });
    expect(ok.ok && ok.draft.header.incidentId).toBe("inc-1");
    const none = await draftFromEvents([]);
    expect(none).toEqual({ ok: false, message: "nothing to draft: the log holds no events" });
  });

  it("reports events that are not events as bad records, not as a crash", async () => {
    const events: unknown[] = [...canaryLatencyLog().events];
    events.splice(3, 0, { seq: "x" });
    const r = await draftFromEvents(events as never);
    if (!r.ok) throw new Error(r.message);
    expect(r.draft.warnings[0]).toContain("event 4 of the stream is not an event: event.seq must be a positive integer");
  });
});
