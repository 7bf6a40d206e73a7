import { afterEach, describe, expect, it, vi } from "vitest";
import type { CockpitEvent } from "../../../src/protocol/types.js";
import { ALICE, failFile, NODE, openHarness, shipArgv, sleepFile, type Harness } from "./command-harness.js";

// Real processes and sockets: generous per-test time on a loaded machine (no test asserts a duration).
vi.setConfig({ testTimeout: 30_000 });

// The plan's commands acting on the world through the backend core, with a
// real program: a ring takes traffic only after its apply succeeded, a failed
// command is an event and a reason and holds the rollout, a rollback is done
// only when its commands succeeded, and a kill switch is engaged only when its
// program said so.

let h: Harness | null = null;
afterEach(async () => {
  await h?.close();
  h = null;
});

function rollout(dir: string, o: { version?: string; bake?: string; rollback?: boolean; killSwitch?: boolean; applyTimeout?: number } = {}) {
  const apply = o.applyTimeout ? { argv: shipArgv(dir, "apply"), timeoutSeconds: o.applyTimeout } : shipArgv(dir, "apply");
  return {
    id: "api-v2",
    service: "api",
    version: o.version ?? "v2",
    previousVersion: "v1",
    kind: "code",
    ...(o.killSwitch
      ? { killSwitch: { flag: "new_checkout", engage: [NODE, `${dir}/ship.mjs`, "engage", "--flag", "{flag}"], release: [NODE, `${dir}/ship.mjs`, "release", "--flag", "{flag}"] } }
      : {}),
    rings: [
      { name: "canary", traffic: 5, bake: o.bake ?? "1h", slos: [], apply, ...(o.rollback ? { rollback: shipArgv(dir, "rollback") } : {}) },
      { name: "global", traffic: 100, bake: "1h", slos: [], apply: shipArgv(dir, "apply"), ...(o.rollback ? { rollback: shipArgv(dir, "rollback") } : {}) },
    ],
  };
}

const typeOf = (t: string) => (e: CockpitEvent) => e.type === t;

describe("apply: a ring starts taking traffic only after its command succeeded", () => {
  it("runs apply with each placeholder filled as one argument, then starts the ring", async () => {
    h = await openHarness((dir) => rollout(dir, { version: "v2 beta; rm -rf /" }));
    const started = await h.waitFor((e) => e.type === "ring.started" && e.ring === "canary", "canary start");
    const executed = h.events.find(typeOf("command.executed")) as CockpitEvent<"command.executed">;
    expect(executed.seq).toBeLessThan(started.seq);
    expect(executed.ring).toBe("canary");
    expect(executed.data).toMatchObject({ step: "apply", exitCode: 0, outputTail: "apply canary done" });
    expect(executed.data.argv.slice(2)).toEqual(["apply", "--version", "v2 beta; rm -rf /", "--ring", "canary", "--traffic", "5", "--previous", "v1"]);
    const calls = h.calls();
    expect(calls).toHaveLength(1);
    // No shell: the hostile version string arrived as one argv element, untouched.
    expect(calls[0]!.args).toEqual(["--version", "v2 beta; rm -rf /", "--ring", "canary", "--traffic", "5", "--previous", "v1"]);
    expect(calls[0]!.env).toEqual({ ring: "canary", version: "v2 beta; rm -rf /", step: "apply" });
  });

  it("holds the rollout when apply fails: the failure is an event and the pause reason, the ring never starts, and resume retries", async () => {
    h = await openHarness((dir) => {
      failFile(dir, "apply", "canary", "quota exceeded in region eu-west-1");
      return rollout(dir);
    });
    const failed = (await h.waitFor(typeOf("command.failed"), "command.failed")) as CockpitEvent<"command.failed">;
    expect(failed.data).toMatchObject({ step: "apply", exitCode: 3 });
    expect(failed.data.outputTail).toContain("quota exceeded in region eu-west-1");
    expect(failed.data.reason).toBe("exit 3: quota exceeded in region eu-west-1");
    const paused = (await h.waitFor(typeOf("rollout.paused"), "pause")) as CockpitEvent<"rollout.paused">;
    expect(paused.data).toEqual({
      reason: "apply for canary failed (exit 3: quota exceeded in region eu-west-1); canary was not started. Fix the cause, then resume to run it again",
      automatic: true,
    });
    expect(h.core.snapshot("payments").state.rollouts[0]).toMatchObject({ state: "paused", ring: null });
    // Held: no ring started, and the failed command is not retried in a loop.
    await new Promise((r) => setTimeout(r, 1500));
    expect(h.events.filter(typeOf("ring.started"))).toEqual([]);
    expect(h.calls()).toHaveLength(1);
    expect(h.metrics.planCommands.get({ step: "apply", result: "failed" })).toBe(1);

    h.fixed("apply", "canary");
    const ack = await h.command({ id: "resume-1", action: "resume", target: { rollout: "api-v2" }, reason: "quota raised" });
    expect(ack.kind).toBe("ack");
    await h.waitFor((e) => e.type === "ring.started" && e.ring === "canary", "canary start after resume");
    expect(h.calls()).toHaveLength(2);
    expect(h.core.snapshot("payments").state.rollouts[0]).toMatchObject({ state: "progressing", ring: "canary" });
    expect(h.metrics.planCommands.get({ step: "apply", result: "ok" })).toBe(1);
  });

  it("stops a command that runs past its timeout and reports that, holding the rollout", async () => {
    h = await openHarness((dir) => {
      sleepFile(dir, "apply", 5000);
      return rollout(dir, { applyTimeout: 0.5 });
    });
    const failed = (await h.waitFor(typeOf("command.failed"), "command.failed")) as CockpitEvent<"command.failed">;
    expect(failed.data.exitCode).toBeNull();
    expect(failed.data.reason).toBe("timed out after 0.5s and was stopped");
    await h.waitFor(typeOf("rollout.paused"), "pause");
    expect(h.events.filter(typeOf("ring.started"))).toEqual([]);
  });
});

describe("rollback: done only when its commands succeeded", () => {
  it("runs the rollback command of each started ring and reports rolled back after it succeeded", async () => {
    h = await openHarness((dir) => rollout(dir, { rollback: true }));
    await h.waitFor((e) => e.type === "ring.started" && e.ring === "canary", "canary start");
    const ack = await h.command({ id: "rb-1", action: "rollback", target: { rollout: "api-v2" }, reason: "errors" });
    expect(ack.kind).toBe("ack");
    const done = await h.waitFor(typeOf("rollout.rolled_back"), "rolled back");
    const run = h.events.find((e) => e.type === "command.executed" && (e.data as { step: string }).step === "rollback") as CockpitEvent<"command.executed">;
    expect(run.seq).toBeLessThan(done.seq);
    expect(run.ring).toBe("canary");
    expect(done.data).toMatchObject({ scope: ["canary"], automatic: false, toVersion: "v1" });
    expect(h.calls().map((c) => c.step)).toEqual(["apply", "rollback"]);
  });

  it("never reports a failed rollback as done: it pauses with the reason, and rolling back again retries", async () => {
    h = await openHarness((dir) => rollout(dir, { rollback: true }));
    await h.waitFor((e) => e.type === "ring.started" && e.ring === "canary", "canary start");
    h.failNext("rollback", "canary", "kubectl: deployment api not found");
    await h.command({ id: "rb-1", action: "rollback", target: { rollout: "api-v2" } });
    const paused = (await h.waitFor(typeOf("rollout.paused"), "pause")) as CockpitEvent<"rollout.paused">;
    expect(paused.data.reason).toBe(
      "rollback of canary to v1 failed (exit 3: kubectl: deployment api not found); canary may still run v2. Fix the cause, then roll back again",
    );
    expect(h.events.filter(typeOf("rollout.rolled_back"))).toEqual([]);
    expect(h.events.find(typeOf("command.failed"))?.ring).toBe("canary");

    h.fixed("rollback", "canary");
    const again = await h.command({ id: "rb-2", action: "rollback", target: { rollout: "api-v2" } });
    expect(again.kind).toBe("ack");
    await h.waitFor(typeOf("rollout.rolled_back"), "rolled back");
    expect(h.core.snapshot("payments").state.rollouts[0]).toMatchObject({ state: "rolled_back" });
  });
});

describe("a ring applied while a rollback starts", () => {
  it("joins the rollback: its rollback command runs too, after the apply finished, and the scope says so", async () => {
    h = await openHarness((dir) => rollout(dir, { rollback: true, bake: "2s" }));
    await h.waitFor((e) => e.type === "ring.started" && e.ring === "canary", "canary start");
    // From now on apply takes 3 s: global's, due when the canary's 2 s bake ends, will still be running.
    sleepFile(h.dir, "apply", 3000);
    await h.waitFor((e) => e.type === "ring.completed" && e.ring === "canary", "canary completed");
    // global's apply is now running: roll back meanwhile.
    const ack = await h.command({ id: "rb-1", action: "rollback", target: { rollout: "api-v2" } });
    expect(ack.kind).toBe("ack");
    const started = h.events.find(typeOf("rollout.rollback_started")) as CockpitEvent<"rollout.rollback_started">;
    expect(started.data.scope).toEqual(["canary"]);
    const done = (await h.waitFor(typeOf("rollout.rolled_back"), "rolled back")) as CockpitEvent<"rollout.rolled_back">;
    expect(done.data.scope).toEqual(["canary", "global"]);
    // global never took traffic as far as the cockpit is told, and went back before the rollback was done.
    expect(h.events.filter((e) => e.type === "ring.started" && e.ring === "global")).toEqual([]);
    expect(h.calls().map((c) => `${c.step} ${c.env.ring}`)).toEqual(["apply canary", "apply global", "rollback global", "rollback canary"]);
  });
});

describe("kill switch: engaged only when its program succeeded", () => {
  it("answers a kill switch whose engage command fails with a reject naming the failure, and logs it", async () => {
    h = await openHarness((dir) => rollout(dir, { killSwitch: true }));
    await h.waitFor((e) => e.type === "ring.started" && e.ring === "canary", "canary start");
    h.failNext("engage", "new_checkout", "flag service unavailable");
    const answer = await h.command({ id: "ks-1", action: "kill_switch", target: { rollout: "api-v2" }, reason: "checkout errors" });
    expect(answer).toEqual({
      kind: "reject",
      code: "invalid_state",
      message: "the kill switch's engage command failed: exit 3: flag service unavailable; it was not engaged",
      duplicate: false,
    });
    const failed = h.events.find(typeOf("command.failed")) as CockpitEvent<"command.failed">;
    expect(failed.command).toBe("ks-1");
    expect(failed.actor).toEqual({ kind: "human", name: "alice", role: "operator" });
    expect(h.events.filter(typeOf("killswitch.engaged"))).toEqual([]);
    expect(h.core.snapshot("payments").state.rollouts[0]!.killSwitch).toEqual({ flag: "new_checkout", engaged: false });
    // A retry of the same id gets the same answer, without running the program again.
    const retry = await h.command({ id: "ks-1", action: "kill_switch", target: { rollout: "api-v2" } });
    expect(retry).toMatchObject({ kind: "reject", duplicate: true });
    expect(h.calls().filter((c) => c.step === "engage")).toHaveLength(1);
  });

  it("acks the kill switch with the engaged event once its program succeeded, and refuses a second engage while one runs", async () => {
    h = await openHarness((dir) => {
      sleepFile(dir, "engage", 400);
      return rollout(dir, { killSwitch: true });
    });
    await h.waitFor((e) => e.type === "ring.started" && e.ring === "canary", "canary start");
    const first = h.command({ id: "ks-1", action: "kill_switch", target: { rollout: "api-v2" } });
    const retry = h.command({ id: "ks-1", action: "kill_switch", target: { rollout: "api-v2" } });
    const second = h.command({ id: "ks-2", action: "kill_switch", target: { rollout: "api-v2" } }, { ...ALICE, actor: "bob" });
    const [a, r, b] = await Promise.all([first, retry, second]);
    expect(a.kind).toBe("ack");
    // A retry of the same id while its program runs joins it: same answer, marked duplicate.
    expect(r).toEqual({ ...a, duplicate: true });
    expect(b).toMatchObject({ kind: "reject", code: "invalid_state", message: "the kill switch of api-v2 is already running its engage command; wait for it to finish" });
    const engaged = h.events.find(typeOf("killswitch.engaged"))!;
    expect(a.kind === "ack" && a.seq).toBe(engaged.seq);
    const engageRun = h.events.find((e) => e.type === "command.executed" && (e.data as { step: string }).step === "engage") as CockpitEvent<"command.executed">;
    expect(engageRun.seq).toBeLessThan(engaged.seq);
    expect(engageRun.data.argv.slice(2)).toEqual(["engage", "--flag", "new_checkout"]);
    expect(engageRun.command).toBe("ks-1");
    expect(h.calls().filter((c) => c.step === "engage")).toHaveLength(1);
  });
});
