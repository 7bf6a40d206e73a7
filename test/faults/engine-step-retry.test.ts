import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { BackendCore } from "../../src/backend/core.js";
import { LogWriteError } from "../../src/backend/eventlog.js";
import { validateScenario } from "../../src/domain/scenario.js";
import type { EventDraft } from "../../src/protocol/types.js";
import { readLogEvents } from "./helpers/log-check.js";
import { steadyScenario } from "./helpers/scenario-file.js";

// Found while writing the disk-full test (a bug in src/backend/core.ts,
// BackendCore.step, left for its owner): a sample step writes its SLI samples,
// then its decisions (ring.completed, ring.started, ...). When the samples are
// written but the decisions' write fails (the disk fills between the two),
// the step is retried whole: the same samples are written and applied to the
// engine a second time. A retried step must not repeat what is already durable.
// Nor may it lose what did not become durable: a scenario's scripted command
// whose write failed was dropped from the script, never to run.

const START = Date.parse("2026-11-21T14:00:00.000Z");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("an engine step whose second write fails", () => {
  it("is retried without writing its samples twice", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cockpit-step-retry-"));
    dirs.push(dir);
    // The canary bakes 60 s: the step at +60 s has samples AND decisions.
    const r = validateScenario(steadyScenario({ rollouts: 1, metrics: 2, sampleEverySeconds: 5, bakeSeconds: 60 }), "steady");
    if (!r.ok) throw new Error(r.errors.join("\n"));
    const s = r.scenario;
    const core = await BackendCore.open({ dataDir: dir, plans: [s.plan], fleet: s, seed: s.seed, burnWindowScale: 1, speed: 1, startTime: START });
    await core.runUntil(START + 55_000);

    // The disk fills after the samples of the +60 s step are written: the
    // first write with anything but samples in it fails.
    const append = core.log.append.bind(core.log);
    let failed = false;
    core.log.append = (drafts: EventDraft[]) => {
      if (!failed && drafts.some((d) => d.type !== "sli.sample")) {
        failed = true;
        return Promise.reject(new LogWriteError(core.log.path, "write", Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }), "test"));
      }
      return append(drafts);
    };
    await expect(core.runUntil(START + 60_000)).rejects.toThrow(LogWriteError);
    expect(failed).toBe(true);
    await core.runUntil(START + 60_000); // room again: the step is retried
    await core.close();

    const samples = readLogEvents(dir).filter((e) => e.type === "sli.sample");
    const keys = samples.map((e) => `${e.time} ${e.ring} ${(e.data as { metric: string }).metric}`);
    const repeated = keys.filter((k, i) => keys.indexOf(k) !== i);
    expect(repeated, "samples written twice for one time").toEqual([]);
    expect(readLogEvents(dir).some((e) => e.type === "ring.completed")).toBe(true);
  });

  it("keeps a scripted command whose write failed, and runs it once when the step is retried", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cockpit-step-retry-"));
    dirs.push(dir);
    const raw = { ...steadyScenario({ rollouts: 1, metrics: 1, sampleEverySeconds: 5 }), script: [{ at: 20, actor: { name: "sre", role: "operator" }, action: "note", target: {}, args: { text: "scripted note" } }] };
    const r = validateScenario(raw, "steady");
    if (!r.ok) throw new Error(r.errors.join("\n"));
    const s = r.scenario;
    const core = await BackendCore.open({ dataDir: dir, plans: [s.plan], fleet: s, script: s.script, seed: s.seed, burnWindowScale: 1, speed: 1, startTime: START });
    const append = core.log.append.bind(core.log);
    let failed = false;
    core.log.append = (drafts: EventDraft[]) => {
      if (!failed && drafts.some((d) => d.type === "note.added")) {
        failed = true;
        return Promise.reject(new LogWriteError(core.log.path, "write", Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }), "test"));
      }
      return append(drafts);
    };
    await expect(core.runUntil(START + 20_000)).rejects.toThrow(/scripted note at \+20s could not be written/);
    expect(failed).toBe(true);
    await core.runUntil(START + 30_000); // room again
    await core.close();
    const notes = readLogEvents(dir).filter((e) => e.type === "note.added");
    expect(notes.map((e) => (e.data as { text: string }).text)).toEqual(["scripted note"]);
    expect(notes[0]!.actor).toMatchObject({ kind: "human", name: "sre" });
  });
});
