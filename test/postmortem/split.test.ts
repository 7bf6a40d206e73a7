import fc from "fast-check";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildDraft } from "../../src/postmortem/draft.js";
import { renderJson } from "../../src/postmortem/markdown.js";
import { collectSource, scanSource, type OpenSource, type ScanResult } from "../../src/postmortem/pipeline.js";
import { draftFromSource, logFileSource, splitFileSource } from "../../src/postmortem/run.js";
import { chooseScope, type ScopeRequest, type WindowRequest } from "../../src/postmortem/scope.js";
import { eventHash } from "../../src/protocol/canonical.js";
import { nextLineStart, readTail, readTailHere } from "../../src/protocol/logfile.js";
import type { Actor } from "../../src/protocol/types.js";
import { CLI, requireBuild, ROOT } from "../support/processes.js";
import { canaryLatencyLog, ENGINE, human, LogBuilder, T0 } from "./helpers.js";

// A large file's first pass is read in two parts at once: the head in this
// thread, the tail by a worker (readTail: its chain checked there, its lines
// handed back for the index, samples summed up). Whatever the split, the first
// pass must find what a pass over the whole file finds, and the draft must be
// the same. The worker is plumbing around readTail; here readTail runs in this
// thread (readTailHere).

let dir = "";
let fileNo = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "postmortem-split-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function writeLog(text: string): Promise<string> {
  const path = join(dir, `events-${++fileNo}.jsonl`);
  await writeFile(path, text, "utf8");
  return path;
}

async function draftsOf(open: OpenSource, scan: ScanResult, reqs: ScopeRequest[]): Promise<string[]> {
  const out: string[] = [];
  for (const req of reqs) {
    const choice = chooseScope(scan.index, req);
    if (!choice.ok) {
      out.push(choice.message);
      continue;
    }
    const at = scan.index.resumeOffset(choice.scope);
    const c = await collectSource(open, choice.scope, scan.index.peopleFor(choice.scope, at), at);
    out.push(renderJson(buildDraft(c, { names: true, health: scan.health })));
  }
  return out;
}

/** What the first pass found, whole file against split at `at`: health, the index's figures, and the drafts. */
async function compare(path: string, at: number, reqs: ScopeRequest[] = [{}], window?: WindowRequest) {
  const whole = logFileSource(path);
  const w = window ? () => window : null;
  const a = await scanSource(whole, w);
  const boundary = await nextLineStart(path, at);
  const task = readTailHere(path, boundary);
  const split = splitFileSource(path, { boundary, task });
  const b = await scanSource(split, w, { chainTail: { offset: boundary, result: task.chain, cancel: task.cancel } });
  const figures = (s: ScanResult) => {
    const { eventCount, firstMs, lastMs, firstTime, lastTime, lastSeq } = s.index;
    return { eventCount, firstMs, lastMs, firstTime, lastTime, lastSeq, tenants: [...s.index.tenants], incidents: [...s.index.incidents.keys()], health: s.health };
  };
  return { whole: figures(a), split: figures(b), wholeDrafts: await draftsOf(whole, a, reqs), splitDrafts: await draftsOf(split, b, reqs), boundary };
}

const alice = human("alice", "operator");
const bob = human("bob", "commander");

/** Two incidents a long way apart, samples throughout. */
function twoIncidents(): LogBuilder {
  const log = canaryLatencyLog();
  for (let t = 430; t < 7200; t += 10) {
    log.sample(t, "api-v408", "canary", "p99_latency_ms", t > 5000 && t < 5300 ? 75 : 40, "ms", 40);
    if (t === 5100) log.push(t, "slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 75, threshold: 50, consecutive: 3 }, { rollout: "api-v408", ring: "canary" });
    if (t === 5110) log.push(t, "incident.declared", { severity: "sev2", title: "Again" }, { incident: "inc-2", rollout: "api-v408", actor: bob });
    if (t === 5120) log.push(t, "incident.role_assigned", { role: "commander", name: "alice" }, { incident: "inc-2", actor: bob });
    if (t === 5400) log.push(t, "slo.recovered", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 40, threshold: 50, consecutive: 3 }, { rollout: "api-v408", ring: "canary" });
    if (t === 5500) log.push(t, "incident.resolved", { severity: "sev2", title: "Again" }, { incident: "inc-2", actor: alice });
  }
  return log;
}

describe("the first pass split in two", () => {
  it("finds what a pass over the whole file finds, wherever the split falls", async () => {
    const text = twoIncidents().jsonl();
    const path = await writeLog(text);
    const size = (await stat(path)).size;
    for (const at of [0, 1, 500, Math.floor(size / 3), Math.floor(size / 2), size - 300, size - 1, size]) {
      const r = await compare(path, at, [{}, { incident: "inc-1" }, { incident: "inc-2" }]);
      expect(r.split, `split at ${at}`).toEqual(r.whole);
      expect(r.splitDrafts, `split at ${at}`).toEqual(r.wholeDrafts);
    }
  });

  it("reports the same first break of the chain: in the head, at the seam, in the tail", async () => {
    const lines = twoIncidents().jsonl().trimEnd().split("\n");
    const seam = Math.floor(lines.length / 2);
    const edit = (i: number, f: (l: string) => string) => lines.map((l, k) => (k === i ? f(l) : l));
    const cases: Record<string, string[]> = {
      "edited in the head": edit(10, (l) => l.replace('"value":', '"value":1')),
      "edited at the seam": edit(seam, (l) => l.replace('"time":"', '"time":"2')),
      "prev wrong at the seam": edit(seam, (l) => l.replace(/"prev":"[0-9a-f]{64}"/, `"prev":"${"e".repeat(64)}"`)),
      "dropped at the seam": lines.filter((_, k) => k !== seam - 1),
      "edited in the tail": edit(seam + 100, (l) => l.replace('"value":', '"value":2')),
      "reordered in the tail": lines.map((l, k) => (k === seam + 5 ? lines[seam + 6]! : k === seam + 6 ? lines[seam + 5]! : l)),
      "junk and a blank line in the tail": [...lines.slice(0, seam + 3), "{not json", "", ...lines.slice(seam + 3)],
      "a torn last line": [...lines.slice(0, -1), lines[lines.length - 1]!.slice(0, 40)],
    };
    for (const [name, ls] of Object.entries(cases)) {
      const text = ls.join("\n") + (name === "a torn last line" ? "" : "\n");
      const path = await writeLog(text);
      const at = Buffer.byteLength(ls.slice(0, seam).join("\n") + "\n");
      const r = await compare(path, at, [{}, { incident: "inc-1" }]);
      expect(r.boundary, name).toBe(at);
      expect(r.split, name).toEqual(r.whole);
      expect(r.splitDrafts, name).toEqual(r.wholeDrafts);
      expect(r.whole.health.chain.issue !== null || r.whole.health.badLines > 0, name).toBe(true);
    }
  });

  it("resolves a window from the first event even when the head holds none", async () => {
    const log = twoIncidents();
    const path = await writeLog("{not json\n".repeat(50) + log.jsonl());
    const window = { fromMs: T0 + 5000_000, toMs: T0 + 5600_000 };
    const r = await compare(path, 100, [{ window }], window);
    expect(r.split).toEqual(r.whole);
    expect(r.splitDrafts).toEqual(r.wholeDrafts);
  });
});

describe("readTail", () => {
  it("checks the chain from a line start: the first event's content, then every link after it", async () => {
    const log = twoIncidents();
    const path = await writeLog(log.jsonl());
    const lines = log.jsonl().split("\n");
    const start = Buffer.byteLength(lines.slice(0, 100).join("\n") + "\n");
    const r = await readTail(path, start);
    expect(r.first).toMatchObject({ seq: 101, line: 1, hash: log.events[100]!.hash, prev: log.events[99]!.hash });
    expect(r.issue).toBeNull();
    expect(r.events).toBe(log.events.length - 100);
    expect(r.head).toEqual({ seq: log.events.length, hash: log.events[log.events.length - 1]!.hash });
  });

  it("says so when the file cannot be read", async () => {
    await expect(readTail(join(dir, "missing.jsonl"), 0)).rejects.toMatchObject({ code: "ENOENT" });
    await expect(readTailHere(join(dir, "missing.jsonl"), 0).chain).rejects.toMatchObject({ code: "ENOENT" });
  });
});

// ---- random logs, random damage, random splits -------------------------------------------------

const names = fc.constantFrom("alice", "bob", "carol");
const actor: fc.Arbitrary<Actor> = fc.oneof(fc.constant(ENGINE), fc.record({ kind: fc.constant("human" as const), name: names, role: fc.constantFrom("operator", "commander") }));
type Step = { dt: number; kind: string; tenant: string; rollout: string; incident: string; actor: Actor; value: number; name: string; form: number };
const step: fc.Arbitrary<Step> = fc.record({
  dt: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 60 }) }, { weight: 1, arbitrary: fc.integer({ min: -300, max: -1 }) }),
  kind: fc.oneof({ weight: 10, arbitrary: fc.constant("sample") }, { weight: 1, arbitrary: fc.constantFrom("breach", "recover", "declare", "resolve", "note", "assign") }),
  tenant: fc.constantFrom("payments", "payments", "search"),
  rollout: fc.constantFrom("r1", "r2"),
  incident: fc.constantFrom("inc-1", "inc-2"),
  actor,
  value: fc.double({ min: 0, max: 120, noNaN: true }),
  name: names,
  // The same instant written three ways: the index keeps the text of the last event at the latest time.
  form: fc.constantFrom(0, 0, 1, 2),
});

/** Times rewritten in the step's form, and the chain made again over them. */
function rewriteTimes(log: LogBuilder, steps: Step[]): void {
  let prev = "0".repeat(64);
  log.events.forEach((e, i) => {
    const form = steps[i]?.form ?? 0;
    const mutable = e as { time: string; prev: string; hash: string };
    if (form === 1) mutable.time = e.time.replace(".000Z", "Z");
    if (form === 2) mutable.time = e.time.replace("Z", "+00:00");
    mutable.prev = prev;
    const { hash: _h, ...rest } = e;
    mutable.hash = eventHash(rest as never);
    prev = e.hash;
  });
}
const damage = fc.oneof(
  fc.constant(null),
  fc.record({ kind: fc.constantFrom("edit", "drop", "junk", "blank", "swap"), at: fc.nat() }),
);

function randomLog(steps: Step[]): LogBuilder {
  const log = new LogBuilder();
  let sec = 0;
  for (const s of steps) {
    sec = Math.max(0, sec + s.dt);
    const refs = { rollout: s.rollout };
    const e =
      s.kind === "sample"
        ? log.push(sec, "sli.sample", { ring: "canary", metric: "p99_latency_ms", value: s.value, unit: "ms", baseline: 40 }, { ...refs, ring: "canary" })
        : s.kind === "breach"
          ? log.push(sec, "slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: s.value, threshold: 50, consecutive: 3 }, { ...refs, ring: "canary" })
          : s.kind === "recover"
            ? log.push(sec, "slo.recovered", { ring: "canary", assertion: "p99_latency_ms < 50 for 30s", value: 40, threshold: 50, consecutive: 3 }, { ...refs, ring: "canary" })
            : s.kind === "declare"
              ? log.push(sec, "incident.declared", { severity: "sev2", title: s.incident }, { ...refs, incident: s.incident, actor: s.actor })
              : s.kind === "resolve"
                ? log.push(sec, "incident.resolved", { severity: "sev2", title: s.incident }, { incident: s.incident, actor: s.actor })
                : s.kind === "assign"
                  ? log.push(sec, "incident.role_assigned", { role: "scribe", name: s.name }, { incident: s.incident, actor: s.actor })
                  : log.push(sec, "note.added", { text: `${s.name} looked` }, { incident: s.incident, actor: s.actor });
    if (s.tenant !== "payments") (e as { tenant: string }).tenant = s.tenant;
  }
  return log;
}

describe("on random logs", () => {
  it("a split first pass finds what the whole pass finds, and drafts the same", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 300 }), damage, fc.double({ min: 0, max: 1, noNaN: true }), async (steps, dmg, share) => {
        const log = randomLog(steps);
        rewriteTimes(log, steps);
        const lines = log.jsonl().trimEnd().split("\n");
        if (dmg !== null) {
          const i = dmg.at % lines.length;
          if (dmg.kind === "edit") lines[i] = lines[i]!.replace('"time":"', '"time":"1');
          if (dmg.kind === "drop") lines.splice(i, 1);
          if (dmg.kind === "junk") lines.splice(i, 0, '{"seq":1}');
          if (dmg.kind === "blank") lines.splice(i, 0, "");
          if (dmg.kind === "swap" && i + 1 < lines.length) [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
        }
        const text = lines.join("\n") + "\n";
        const path = await writeLog(text);
        const r = await compare(path, Math.floor(Buffer.byteLength(text) * share), [{}, { incident: "inc-1" }, { incident: "inc-2" }]);
        expect(r.split).toEqual(r.whole);
        expect(r.splitDrafts).toEqual(r.wholeDrafts);
        await rm(path);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});

describe("cockpit postmortem on a log large enough to be split (the built CLI, with its worker)", () => {
  it("drafts what the whole pass drafts, broken chain and bad line included", async () => {
    requireBuild();
    // About 20 MB: past the size where the first pass is split and the tail read by a worker.
    const log = twoIncidents();
    const base = log.events.length;
    let t = 7200;
    while (log.events.length < base + 45_000) log.sample((t += 1), "api-v408", "canary", "p99_latency_ms", 40 + (t % 7), "ms", 40);
    const lines = log.jsonl().trimEnd().split("\n");
    // Damage in what will be the tail: an edited line, then a line that is not JSON.
    const edited = Math.floor(lines.length * 0.8);
    lines[edited] = lines[edited]!.replace('"value":', '"value":1');
    lines.splice(Math.floor(lines.length * 0.9), 0, "{not json");
    const path = await writeLog(lines.join("\n") + "\n");
    expect((await stat(path)).size).toBeGreaterThan(16 * 1024 * 1024);
    const here = await draftFromSource(path, { format: "json" });
    if (!here.ok) throw new Error(here.message);
    expect(here.draft.header.chainOk).toBe(false);
    const { stdout } = await promisify(execFile)(process.execPath, [CLI, "postmortem", path, "--format", "json"], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    expect(stdout).toBe(here.text);
  }, 120_000);
});
