import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendCore } from "../../src/backend/core.js";
import { loadScenario } from "../../src/backend/scenarios.js";
import type { ScriptedCommand } from "../../src/domain/scenario-types.js";
import type { CockpitEvent } from "../../src/protocol/types.js";

export const FIXED_START = Date.parse("2026-11-21T14:00:00.000Z");

/** Run a bundled scenario offline on a fixed clock; returns the events and the log's bytes. */
export async function runScenarioOffline(
  name: string,
  opts: { seconds?: number; script?: ScriptedCommand[]; dataDir?: string } = {},
): Promise<{ events: CockpitEvent[]; raw: string; dataDir: string; core: BackendCore }> {
  const scenario = await loadScenario(name);
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), `cockpit-${name}-`));
  const core = await BackendCore.open({
    dataDir,
    plans: [scenario.plan],
    fleet: scenario,
    script: opts.script ?? scenario.script,
    seed: scenario.seed,
    burnWindowScale: scenario.burnWindowScale,
    speed: 1,
    startTime: FIXED_START,
  });
  await core.runUntil(FIXED_START + (opts.seconds ?? scenario.durationSeconds) * 1000);
  await core.close();
  const raw = readFileSync(join(dataDir, "events.jsonl"), "utf8");
  const events = raw
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CockpitEvent);
  return { events, raw, dataDir, core };
}

export function nonSample(events: CockpitEvent[]): CockpitEvent[] {
  return events.filter((e) => e.type !== "sli.sample");
}
