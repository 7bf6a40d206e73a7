import fc from "fast-check";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDraft } from "../../src/postmortem/draft.js";
import { renderJson } from "../../src/postmortem/markdown.js";
import { collectSource, draftFromEvents, scanSource, type OpenSource } from "../../src/postmortem/pipeline.js";
import { draftFromSource, logFileSource } from "../../src/postmortem/run.js";
import { chooseScope, LogIndex, type ScopeRequest } from "../../src/postmortem/scope.js";
import type { Actor } from "../../src/protocol/types.js";
import { canaryLatencyLog, ENGINE, human, LogBuilder, T0 } from "./helpers.js";

// The second pass over a file starts where the span needs it
// (LogIndex.resumeOffset) instead of at the first line. The draft must be the
// one a pass from the start gives: the same bytes, for any log and any span.

let dir = "";
let fileNo = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "postmortem-resume-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function logFile(log: LogBuilder): Promise<string> {
  const path = join(dir, `events-${++fileNo}.jsonl`);
  await writeFile(path, log.jsonl(), "utf8");
  return path;
}

/** A source that counts the records the second pass pulls. */
function counting(open: OpenSource): { open: OpenSource; pulled: () => number } {
  let n = 0;
  return {
    open: (opts) => ({
      async *[Symbol.asyncIterator]() {
        for await (const item of open(opts)) {
          n += Array.isArray(item) ? item.length : 1;
          yield item;
        }
      },
    }),
    pulled: () => n,
  };
}

/** Both ways of running the second pass over the same file: the drafts (with and without names) and how much each read. */
async function bothWays(path: string, req: ScopeRequest): Promise<{ full: string[]; resumed: string[]; offset: number; fullRead: number; resumedRead: number } | null> {
  const open = logFileSource(path);
  const window = req.window;
  const { index, health } = await scanSource(open, window ? () => window : null);
  const choice = chooseScope(index, req);
  if (!choice.ok) return null;
  const scope = choice.scope;
  const offset = index.resumeOffset(scope);
  const a = counting(open);
  const b = counting(open);
  const full = await collectSource(a.open, scope, index.peopleFor(scope));
  const resumed = await collectSource(b.open, scope, index.peopleFor(scope, offset), offset);
  const render = (c: typeof full) => [false, true].map((names) => renderJson(buildDraft(c, { names, health })));
  return { full: render(full), resumed: render(resumed), offset, fullRead: a.pulled(), resumedRead: b.pulled() };
}

const alice = human("alice", "operator");
const bob = human("bob", "commander");

/**
 * Day-long log of one tenant: a rollout and an incident every two hours, with
 * samples between; people whose roles change from incident to incident; an
 * actor who first acts without a role and later with one; another tenant
 * interleaved.
 */
function longLog(): LogBuilder {
  const log = new LogBuilder();
  const other: Actor = { kind: "human", name: "carol" };
  for (let k = 0; k < 6; k++) {
    const t0 = k * 7200;
    const R = `api-v${500 + k}`;
    const inc = `inc-${k + 1}`;
    log.push(t0, "rollout.created", { service: "api", version: `v${500 + k}`, previousVersion: `v${499 + k}`, kind: "code", rings: [{ name: "canary", traffic: 5, bakeSeconds: 600, slos: ["p99_latency_ms < 50 for 30s", "error_rate < 1%"] }], onBreach: "pause" }, { rollout: R });
    log.push(t0, "ring.started", { ring: "canary", traffic: 5 }, { rollout: R, ring: "canary" });
    for (let t = 10; t < 7200; t += 30) {
      const bad = t >= 3000 && t < 3300;
      log.sample(t0 + t, R, "canary", "p99_latency_ms", bad ? 70 + (t % 7) : 40 + (t % 5) / 10, "ms", 40);
      log.sample(t0 + t, R, "canary", "error_rate", bad ? 2.5 : 0.2, "%", 0.2);
      if (t === 3100) {
        log.push(t0 + t, "slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 72, threshold: 50, consecutive: 4 }, { rollout: R, ring: "canary" });
        log.push(t0 + t, "alert.firing", { severity: "critical", title: `${R} canary p99`, source: "engine" }, { rollout: R, ring: "canary", alert: `alert-${k}` });
      }
      if (t === 3130) {
        log.push(t0 + t, "incident.declared", { severity: "sev2", title: `Latency ${k}` }, { incident: inc, rollout: R, actor: k % 2 ? alice : bob });
        // Roles swap from one incident to the next; the role is not always a string.
        log.push(t0 + t, "incident.role_assigned", { role: k % 2 ? "commander" : "operator", name: "alice" }, { incident: inc, actor: bob });
        log.push(t0 + t, "incident.role_assigned", { role: (k === 2 ? 7 : "scribe") as never, name: "dave" }, { incident: inc, actor: bob });
      }
      if (t === 3160) log.push(t0 + t, "note.added", { text: `carol and dave looked at ${R}` }, { incident: inc, actor: k === 0 ? other : { ...other, role: "viewer" } });
      if (t === 3200) log.push(t0 + t, "rollout.rollback_started", { fromVersion: "b", toVersion: "a", scope: ["canary"], automatic: false }, { rollout: R, actor: alice });
      if (t === 3230) log.push(t0 + t, "rollout.rolled_back", { fromVersion: "b", toVersion: "a", scope: ["canary"], automatic: false }, { rollout: R });
      if (t === 3400) {
        log.push(t0 + t, "slo.recovered", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 41, threshold: 50, consecutive: 3 }, { rollout: R, ring: "canary" });
        log.push(t0 + t, "alert.resolved", { severity: "critical", title: `${R} canary p99`, source: "engine" }, { rollout: R, ring: "canary", alert: `alert-${k}` });
      }
      if (t === 3700) log.push(t0 + t, "incident.resolved", { severity: "sev2", title: `Latency ${k}` }, { incident: inc, actor: bob });
    }
  }
  return log;
}

describe("the second pass over a file, resumed", () => {
  let path = "";
  beforeAll(async () => {
    path = await logFile(longLog());
  });

  it("drafts the most recent incident exactly as a pass from the start, reading a fraction of the log", async () => {
    const r = (await bothWays(path, {}))!;
    expect(r.resumed).toEqual(r.full);
    expect(r.offset).toBeGreaterThan(0);
    expect(r.resumedRead).toBeLessThan(r.fullRead / 4);
  });

  it("and every earlier incident, each with the roles it had", async () => {
    for (let k = 1; k <= 6; k++) {
      const r = (await bothWays(path, { incident: `inc-${k}` }))!;
      expect(r.resumed, `inc-${k}`).toEqual(r.full);
      if (k > 1) expect(r.offset, `inc-${k}`).toBeGreaterThan(0);
    }
  });

  it("and a window (every rollout of the tenant: from its first rollout)", async () => {
    const r = (await bothWays(path, { window: { fromMs: T0 + 4 * 7200_000, toMs: T0 + 4 * 7200_000 + 3600_000 } }))!;
    expect(r.resumed).toEqual(r.full);
  });

  it("gives the same draft as the same events held in memory", async () => {
    const log = canaryLatencyLog();
    const file = await logFile(log);
    const fromFile = await draftFromSource(file, { format: "json" });
    const fromMemory = await draftFromEvents(log.events);
    expect(fromFile.ok && fromMemory.ok).toBe(true);
    if (fromFile.ok && fromMemory.ok) expect(fromFile.text).toBe(renderJson(fromMemory.draft));
  });
});

describe("LogIndex.resumeOffset", () => {
  it("keeps a rollout's first events, however long before the span they are", async () => {
    const log = new LogBuilder();
    // api-b runs a while; api-a is created and stays quiet; api-b has trouble that ends; then api-a has an incident.
    log.push(0, "rollout.created", { service: "b", version: "2", previousVersion: "1", kind: "code", rings: [{ name: "canary", traffic: 5, bakeSeconds: 300, slos: ["p99_latency_ms < 50 for 30s"] }], onBreach: "pause" }, { rollout: "api-b" });
    for (let t = 10; t < 110; t += 10) log.sample(t, "api-b", "canary", "p99_latency_ms", 40, "ms", 40);
    log.push(100, "rollout.created", { service: "a", version: "2", previousVersion: "1", kind: "code", rings: [{ name: "canary", traffic: 5, bakeSeconds: 300, slos: ["p99_latency_ms < 50 for 30s"] }], onBreach: "pause" }, { rollout: "api-a" });
    log.push(100, "ring.started", { ring: "canary", traffic: 5 }, { rollout: "api-a", ring: "canary" });
    for (let t = 110; t < 6000; t += 10) {
      log.sample(t, "api-a", "canary", "p99_latency_ms", t >= 5000 && t < 5200 ? 80 : 40, "ms", 40);
      log.sample(t, "api-b", "canary", "p99_latency_ms", t >= 1000 && t < 1100 ? 80 : 40, "ms", 40);
      if (t === 1050) log.push(t, "slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 80, threshold: 50, consecutive: 3 }, { rollout: "api-b", ring: "canary" });
      if (t === 1200) log.push(t, "slo.recovered", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 40, threshold: 50, consecutive: 3 }, { rollout: "api-b", ring: "canary" });
      if (t === 5050) log.push(t, "slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 80, threshold: 50, consecutive: 3 }, { rollout: "api-a", ring: "canary" });
      if (t === 5060) log.push(t, "incident.declared", { severity: "sev2", title: "a is slow" }, { incident: "inc-a", rollout: "api-a", actor: bob });
      if (t === 5300) log.push(t, "slo.recovered", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 40, threshold: 50, consecutive: 3 }, { rollout: "api-a", ring: "canary" });
      if (t === 5400) log.push(t, "incident.resolved", { severity: "sev2", title: "a is slow" }, { incident: "inc-a", actor: bob });
    }
    const r = (await bothWays(await logFile(log), {}))!;
    expect(r.resumed).toEqual(r.full);
    expect(r.offset).toBeGreaterThan(0);
    expect(JSON.parse(r.resumed[0]!).appendix.plans.map((p: { rollout: string }) => p.rollout)).toEqual(["api-a"]);
  });


  it("does not pass a role assignment the index could not keep (past its limit), so no name escapes", async () => {
    const log = new LogBuilder();
    log.push(0, "incident.declared", { severity: "sev3", title: "old" }, { incident: "inc-old", actor: bob });
    // More assignments than the index keeps; the last one names someone nobody else names.
    for (let i = 0; i < 10_000; i++) log.push(1, "incident.role_assigned", { role: "scribe", name: `p${i}` }, { incident: "inc-old", actor: bob });
    log.push(2, "incident.role_assigned", { role: "scribe", name: "zed" }, { incident: "inc-old", actor: bob });
    for (let i = 0; i < 100; i++) log.push(2, "incident.role_assigned", { role: "scribe", name: `q${i}` }, { incident: "inc-old", actor: bob });
    log.push(3, "incident.resolved", { severity: "sev3", title: "old" }, { incident: "inc-old", actor: bob });
    for (let t = 10; t < 4000; t += 10) log.sample(t, "api-z", "canary", "p99_latency_ms", 40, "ms", 40);
    log.push(3000, "slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 80, threshold: 50, consecutive: 3 }, { rollout: "api-z", ring: "canary" });
    log.push(3010, "incident.declared", { severity: "sev2", title: "new" }, { incident: "inc-new", rollout: "api-z", actor: bob });
    log.push(3020, "note.added", { text: "paged zed about it" }, { incident: "inc-new", actor: alice });
    const r = (await bothWays(await logFile(log), { incident: "inc-new" }))!;
    expect(r.resumed).toEqual(r.full);
    expect(r.resumed[0]).not.toMatch(/\bzed\b/);
  }, 60_000);

  it("keeps an actor's role learnt before the span, when the span only names them", async () => {
    const log = new LogBuilder();
    // erin first acts with no role, then as operator; in the incident, months of samples later, bob only names her.
    log.push(0, "note.added", { text: "hello" }, { actor: { kind: "human", name: "erin" } });
    log.push(10, "note.added", { text: "on call now" }, { actor: { kind: "human", name: "erin", role: "operator" } });
    for (let t = 20; t < 4000; t += 10) {
      log.sample(t, "api-x", "canary", "p99_latency_ms", 40, "ms", 40);
      // An earlier episode on another rollout, over long before the incident.
      if (t === 100) log.push(t, "slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 80, threshold: 50, consecutive: 3 }, { rollout: "api-x", ring: "canary" });
      if (t === 200) log.push(t, "slo.recovered", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 40, threshold: 50, consecutive: 3 }, { rollout: "api-x", ring: "canary" });
      if (t >= 2900) log.sample(t, "api-e", "canary", "p99_latency_ms", 40, "ms", 40);
    }
    log.push(3000, "slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 80, threshold: 50, consecutive: 3 }, { rollout: "api-e", ring: "canary" });
    log.push(3010, "incident.declared", { severity: "sev2", title: "e" }, { incident: "inc-e", rollout: "api-e", actor: bob });
    log.push(3020, "note.added", { text: "erin is rolling back" }, { incident: "inc-e", actor: bob });
    const r = (await bothWays(await logFile(log), {}))!;
    expect(r.offset).toBeGreaterThan(0);
    expect(r.resumed).toEqual(r.full);
    expect(r.resumed[0]).toContain("The on-call operator is rolling back");
  });

  it("is 0 for events that came without offsets (in memory, a stream)", async () => {
    const log = longLog();
    const index = new LogIndex();
    for (const e of log.events) index.add(e);
    const choice = chooseScope(index, {});
    expect(choice.ok && index.resumeOffset(choice.scope)).toBe(0);
  });

  it("never passes a line whose time is at or after the span's start, when times go back and forth", () => {
    const index = new LogIndex();
    // Offsets 0, 100, 200...; times mostly rising, with one old line late and one new line early.
    const times = [0, 10, 20, 900, 30, 40, 50, 60, 5, 70, 80, 90];
    times.forEach((sec, i) => index.addSample(i + 1, T0 + sec * 1000, new Date(T0 + sec * 1000).toISOString(), "payments", i * 100));
    const scope = { kind: "window" as const, tenant: "payments", incidentId: null, fromMs: T0 + 50_000, toMs: T0 + 95_000, sampleFromMs: T0 + 50_000, sampleToMs: T0 + 95_000, rollouts: ["x"], lastSeq: 12, readUntilMs: T0 + 95_000, readUntilSeq: 0, choice: "" };
    // The line at 900 s (offset 300) is later than the span's start: nothing after offset 300 may be skipped.
    expect(index.resumeOffset(scope)).toBeLessThanOrEqual(300);
    // A span that ends before it starts: no skipping at all.
    expect(index.resumeOffset({ ...scope, readUntilMs: T0 })).toBe(0);
  });
});

// ---- random logs -------------------------------------------------------------------------------

const names = fc.constantFrom("alice", "bob", "carol", "dave");
const actorArb: fc.Arbitrary<Actor> = fc.oneof(
  fc.constant(ENGINE),
  fc.record({ kind: fc.constant("human" as const), name: names }),
  fc.record({ kind: fc.constant("human" as const), name: names, role: fc.constantFrom("operator", "commander", "viewer") }),
);
const rollout = fc.constantFrom("r1", "r2", "r3");
const incident = fc.constantFrom("inc-1", "inc-2", "inc-3");
type Step = { dt: number; tenant: string; kind: string; rollout: string; incident: string; actor: Actor; value: number; name: string; role: unknown };
const step: fc.Arbitrary<Step> = fc.record({
  // Mostly forward in time, now and then back (a log merged by hand, a clock step).
  dt: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 120 }) }, { weight: 1, arbitrary: fc.integer({ min: -600, max: -1 }) }),
  tenant: fc.constantFrom("payments", "payments", "payments", "search"),
  kind: fc.oneof(
    { weight: 12, arbitrary: fc.constant("sample") },
    { weight: 4, arbitrary: fc.constantFrom("episode", "note", "assign", "created", "started") },
    // Single trouble events, which may leave an episode open for good.
    { weight: 1, arbitrary: fc.constantFrom("breach", "recover", "alert", "resolve-alert", "declare", "resolve", "rollback", "rolled-back", "killswitch") },
  ),
  rollout,
  incident,
  actor: actorArb,
  value: fc.double({ min: 0, max: 200, noNaN: true }),
  name: names,
  role: fc.oneof(fc.constantFrom("commander", "operator", "scribe"), fc.constant(3), fc.constant(null)),
});

function randomLog(steps: Step[]): LogBuilder {
  const log = new LogBuilder();
  let sec = 0;
  for (const s of steps) {
    sec = Math.max(0, sec + s.dt);
    const at = { rollout: s.rollout, tenant: s.tenant };
    const push = (type: string, data: Record<string, unknown>, refs: Record<string, unknown>) => {
      const e = log.push(sec, type as never, data as never, refs);
      if (s.tenant !== "payments") (e as { tenant: string }).tenant = s.tenant;
    };
    switch (s.kind) {
      case "sample":
        push("sli.sample", { ring: "canary", metric: s.value > 100 ? "error_rate" : "p99_latency_ms", value: s.value, unit: s.value > 100 ? "%" : "ms", baseline: 40 }, { ...at, ring: "canary" });
        break;
      case "created":
        push("rollout.created", { service: "api", version: "2", previousVersion: "1", kind: "code", rings: [{ name: "canary", traffic: 5, bakeSeconds: 300, slos: ["p99_latency_ms < 50 for 30s"] }], onBreach: "pause" }, at);
        break;
      case "started":
        push("ring.started", { ring: "canary", traffic: 5 }, { ...at, ring: "canary" });
        break;
      case "breach":
        push("slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: s.value, threshold: 50, consecutive: 3 }, { ...at, ring: "canary" });
        break;
      case "recover":
        push("slo.recovered", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 40, threshold: 50, consecutive: 3 }, { ...at, ring: "canary" });
        break;
      case "alert":
        push("alert.firing", { severity: "critical", title: `alert on ${s.rollout}`, source: "engine" }, { ...at, alert: `a-${s.rollout}` });
        break;
      case "resolve-alert":
        push("alert.resolved", { severity: "critical", title: `alert on ${s.rollout}`, source: "engine" }, { ...at, alert: `a-${s.rollout}` });
        break;
      case "declare":
        push("incident.declared", { severity: "sev2", title: `trouble ${s.incident}` }, { ...at, incident: s.incident, actor: s.actor });
        break;
      case "assign":
        push("incident.role_assigned", { role: s.role, name: s.name }, { incident: s.incident, actor: s.actor, tenant: s.tenant });
        break;
      case "resolve":
        push("incident.resolved", { severity: "sev2", title: `trouble ${s.incident}` }, { incident: s.incident, actor: s.actor, tenant: s.tenant });
        break;
      case "note":
        push("note.added", { text: `${s.name} says hello` }, { incident: s.incident, actor: s.actor, tenant: s.tenant });
        break;
      case "rollback":
        push("rollout.rollback_started", { fromVersion: "2", toVersion: "1", scope: ["canary"], automatic: false }, { ...at, actor: s.actor });
        break;
      case "rolled-back":
        push("rollout.rolled_back", { fromVersion: "2", toVersion: "1", scope: ["canary"], automatic: false }, at);
        break;
      case "episode": {
        // A whole trouble episode that closes: breach, an incident, a rollback, recovery, resolution.
        const incident = { incident: s.incident, tenant: s.tenant };
        push("slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 90, threshold: 50, consecutive: 3 }, { ...at, ring: "canary" });
        push("incident.declared", { severity: "sev2", title: `trouble ${s.incident}` }, { ...at, ...incident, actor: s.actor });
        push("incident.role_assigned", { role: s.role, name: s.name }, { ...incident, actor: s.actor });
        push("rollout.rollback_started", { fromVersion: "2", toVersion: "1", scope: ["canary"], automatic: false }, { ...at, actor: s.actor });
        push("rollout.rolled_back", { fromVersion: "2", toVersion: "1", scope: ["canary"], automatic: false }, at);
        push("slo.recovered", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 40, threshold: 50, consecutive: 3 }, { ...at, ring: "canary" });
        push("incident.resolved", { severity: "sev2", title: `trouble ${s.incident}` }, { ...incident, actor: s.actor });
        break;
      }
      default:
        push("killswitch.engaged", { flag: "f" }, { ...at, actor: s.actor });
    }
  }
  return log;
}

describe("on random logs", () => {
  it("a resumed second pass drafts what a full one does, for the chosen span, each incident and a window", async () => {
    let resumedSomewhere = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 40, maxLength: 250 }), fc.nat(), fc.nat(), async (steps, a, b) => {
        const log = randomLog(steps);
        const path = await logFile(log);
        const lastSec = Math.max(...log.events.map((e) => (Date.parse(e.time) - T0) / 1000));
        const from = T0 + (a % (lastSec + 1)) * 1000;
        const requests: ScopeRequest[] = [{}, { incident: "inc-1" }, { incident: "inc-2" }, { incident: "inc-3" }, { window: { fromMs: from, toMs: from + (b % 3600) * 1000 } }];
        for (const req of requests) {
          const r = await bothWays(path, req);
          if (r === null) continue;
          expect(r.resumed, JSON.stringify(req)).toEqual(r.full);
          if (r.offset > 0) resumedSomewhere++;
        }
        await rm(path);
      }),
      { numRuns: 100 },
    );
    // The property is about resumed passes: enough of them must have started late.
    expect(resumedSomewhere).toBeGreaterThan(100);
  }, 120_000);
});
