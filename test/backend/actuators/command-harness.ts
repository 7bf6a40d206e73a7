import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BackendCore } from "../../../src/backend/core.js";
import { BackendMetrics } from "../../../src/backend/metrics.js";
import { validatePlan } from "../../../src/domain/plan.js";
import type { CockpitEvent, CommandMsg, Session } from "../../../src/protocol/types.js";

// A backend core with a plan whose commands are a real program (ship.mjs)
// that records how it was called and fails on demand, so the tests watch the
// engine act on the world through real child processes.

export const NODE = process.execPath;

const SHIP = `
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
const dir = process.env.SHIP_DIR;
const [step, ...rest] = process.argv.slice(2);
appendFileSync(join(dir, "calls.jsonl"), JSON.stringify({ step, args: rest, env: { ring: process.env.COCKPIT_RING, version: process.env.COCKPIT_VERSION, step: process.env.COCKPIT_STEP } }) + "\\n");
const target = step === "engage" || step === "release" ? process.env.COCKPIT_FLAG : process.env.COCKPIT_RING;
const fail = join(dir, "fail-" + step + "-" + target);
if (existsSync(fail)) {
  console.log("shipping " + target + " ...");
  console.error(readFileSync(fail, "utf8"));
  process.exit(3);
}
const sleep = join(dir, "sleep-" + step);
if (existsSync(sleep)) await new Promise((r) => setTimeout(r, Number(readFileSync(sleep, "utf8"))));
console.log(step + " " + target + " done");
`;

export interface Harness {
  dir: string;
  core: BackendCore;
  metrics: BackendMetrics;
  events: CockpitEvent[];
  calls(): Array<{ step: string; args: string[]; env: Record<string, string> }>;
  failNext(step: string, target: string, message: string): void;
  fixed(step: string, target: string): void;
  waitFor(pred: (e: CockpitEvent) => boolean, what: string, timeoutMs?: number): Promise<CockpitEvent>;
  command(msg: Omit<CommandMsg, "type">, session?: Session): ReturnType<BackendCore["submitCommand"]>;
  close(): Promise<void>;
}

/** Make `step` for `target` (a ring, or the flag) fail with `message`, before the core starts. */
export function failFile(dir: string, step: string, target: string, message: string): void {
  writeFileSync(join(dir, `fail-${step}-${target}`), message);
}

/** Make `step` take `ms` before it finishes. */
export function sleepFile(dir: string, step: string, ms: number): void {
  writeFileSync(join(dir, `sleep-${step}`), String(ms));
}

export const ALICE: Session = { actor: "alice", role: "operator", tenant: "payments" };

export function shipArgv(dir: string, step: string): string[] {
  return [NODE, join(dir, "ship.mjs"), step, "--version", "{version}", "--ring", "{ring}", "--traffic", "{traffic}", "--previous", "{previousVersion}"];
}

/** Open a core on `rollout` (plan JSON of one rollout) with SHIP_DIR set for the program, and start its live loop. */
export async function openHarness(makeRollout: (dir: string) => Record<string, unknown>, extra: { plan?: Record<string, unknown> } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "cockpit-commands-"));
  writeFileSync(join(dir, "ship.mjs"), SHIP);
  process.env.SHIP_DIR = dir;
  const v = validatePlan({ tenant: "payments", rollouts: [makeRollout(dir)], ...(extra.plan ?? {}) }, "test plan");
  if (!v.ok) throw new Error(v.errors.join("\n"));
  const metrics = new BackendMetrics();
  const core = await BackendCore.open({
    metrics,
    dataDir: join(dir, "data"),
    plans: [v.plan],
    fleet: null,
    sampleEverySeconds: 1,
    seed: 1,
    burnWindowScale: 1,
    speed: 1,
    loopMs: 20,
  });
  const events: CockpitEvent[] = [];
  const waiters = new Set<() => void>();
  core.subscribe((batch) => {
    events.push(...batch);
    for (const w of waiters) w();
  });
  core.start();
  return {
    dir,
    core,
    metrics,
    events,
    calls: () =>
      existsSync(join(dir, "calls.jsonl"))
        ? readFileSync(join(dir, "calls.jsonl"), "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => JSON.parse(l) as { step: string; args: string[]; env: Record<string, string> })
        : [],
    failNext: (step, target, message) => failFile(dir, step, target, message),
    fixed: (step, target) => rmSync(join(dir, `fail-${step}-${target}`), { force: true }),
    async waitFor(pred, what, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.find(pred);
        if (hit) return hit;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${what} within ${timeoutMs} ms; events: ${events.map((e) => e.type).join(", ")}`);
        await new Promise<void>((r) => {
          const t = setTimeout(done, Math.min(left, 100));
          function done() {
            clearTimeout(t);
            waiters.delete(done);
            r();
          }
          waiters.add(done);
        });
      }
    },
    command: (msg, session = ALICE) => core.submitCommand(session, { type: "command", ...msg } as CommandMsg),
    async close() {
      await core.close();
      await core.idle();
    },
  };
}
