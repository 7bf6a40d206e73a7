import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { BackendCore } from "../../../src/backend/core.js";
import type { AlertmanagerClient, ExternalAlert, SilenceRequest } from "../../../src/backend/sources/alertmanager.js";
import { validatePlan } from "../../../src/domain/plan.js";
import type { CockpitEvent, Session } from "../../../src/protocol/types.js";

// Real processes and sockets: generous per-test time on a loaded machine (no test asserts a duration).
vi.setConfig({ testTimeout: 30_000 });

// Alertmanager alerts through the backend core: polls (complete lists) and
// webhook deliveries (changes) become alert.firing / alert.resolved once each,
// linked to the rollout and ring their labels name; an ack silences the alert
// in Alertmanager when the plan asks for it; a failing poll is a failing source.

const START = Date.parse("2026-11-21T14:00:00.000Z");
const ALICE: Session = { actor: "alice", role: "operator", tenant: "payments" };

class FakeAm {
  alertsNow: ExternalAlert[] | Error = [];
  silences: SilenceRequest[] = [];
  silenceError: Error | null = null;
  readonly url = "http://am.example:9093/";
  async alerts(): Promise<ExternalAlert[]> {
    if (this.alertsNow instanceof Error) throw this.alertsNow;
    return this.alertsNow;
  }
  async createSilence(s: SilenceRequest): Promise<string> {
    if (this.silenceError) throw this.silenceError;
    this.silences.push(s);
    return `sil-${this.silences.length}`;
  }
  async close(): Promise<void> {}
}

function alert(id: string, labels: Record<string, string>, state: ExternalAlert["state"] = "firing"): ExternalAlert {
  return { id, state, severity: "critical", title: `${labels.alertname} title`, labels };
}

async function open(o: { silenceOnAck?: string } = {}) {
  const plan = validatePlan(
    {
      tenant: "payments",
      ...(o.silenceOnAck ? { alertmanager: { silenceOnAck: o.silenceOnAck } } : {}),
      rollouts: [{ id: "api-v2", service: "api", version: "v2", previousVersion: "v1", kind: "code", rings: [{ name: "canary", traffic: 5, bake: "1h", slos: [] }] }],
    },
    "plan",
  );
  if (!plan.ok) throw new Error(plan.errors.join("\n"));
  const am = new FakeAm();
  const core = await BackendCore.open({
    dataDir: mkdtempSync(join(tmpdir(), "cockpit-alerts-")),
    plans: [plan.plan],
    fleet: null,
    seed: 1,
    burnWindowScale: 1,
    speed: 1,
    startTime: START,
    alertmanager: am as unknown as AlertmanagerClient,
  });
  const events: CockpitEvent[] = [];
  core.subscribe((b) => events.push(...b));
  await core.runUntil(START);
  return { core, am, events, of: (t: string) => events.filter((e) => e.type === t) };
}

describe("alerts from Alertmanager", () => {
  it("fires once per alert, links it to the rollout and ring its labels name, and resolves it when a poll no longer lists it", async () => {
    const { core, am, of } = await open();
    am.alertsNow = [
      alert("aa01", { alertname: "CanaryErrors", rollout: "api-v2", ring: "canary" }),
      alert("aa02", { alertname: "Other", rollout: "nope-v9", ring: "canary" }),
      alert("aa03", { alertname: "WrongRing", rollout: "api-v2", ring: "eu-west" }),
    ];
    await core.pollAlerts();
    await core.pollAlerts();
    const firing = of("alert.firing");
    expect(firing.map((e) => [e.alert, e.rollout, e.ring])).toEqual([
      ["aa01", "api-v2", "canary"],
      ["aa02", undefined, undefined],
      ["aa03", "api-v2", undefined],
    ]);
    expect(firing[0]!.actor).toEqual({ kind: "integration", name: "alertmanager" });
    expect(firing[0]!.data).toEqual({ severity: "critical", title: "CanaryErrors title", source: "alertmanager", labels: { alertname: "CanaryErrors", rollout: "api-v2", ring: "canary" } });

    am.alertsNow = [am.alertsNow[1]!];
    await core.pollAlerts();
    expect(of("alert.resolved").map((e) => [e.alert, e.rollout, e.ring])).toEqual([
      ["aa01", "api-v2", "canary"],
      ["aa03", "api-v2", undefined],
    ]);
    expect(core.snapshot("payments").state.alerts.filter((a) => a.state === "firing").map((a) => a.id)).toEqual(["aa02"]);
    await core.close();
  });

  it("takes webhook deliveries as changes: resolved resolves, an unknown resolved alert changes nothing", async () => {
    const { core, of } = await open();
    expect(await core.ingestAlerts("payments", [alert("bb01", { alertname: "A" })], false)).toBe(1);
    expect(await core.ingestAlerts("payments", [alert("bb01", { alertname: "A" })], false)).toBe(0);
    expect(await core.ingestAlerts("payments", [alert("bb02", { alertname: "B" }, "resolved")], false)).toBe(0);
    expect(await core.ingestAlerts("payments", [alert("bb01", { alertname: "A" }, "resolved")], false)).toBe(1);
    expect(of("alert.firing")).toHaveLength(1);
    expect(of("alert.resolved").map((e) => e.alert)).toEqual(["bb01"]);
    // A later delivery of the same alert firing again fires it again.
    expect(await core.ingestAlerts("payments", [alert("bb01", { alertname: "A" })], false)).toBe(1);
    await core.close();
  });

  it("reports a failing poll as a failing source, once, and its recovery", async () => {
    const { core, am, of } = await open();
    am.alertsNow = new Error("cannot reach Alertmanager at http://am.example:9093/ (connection refused): is it running, and is the URL right?");
    await core.pollAlerts();
    await core.pollAlerts();
    am.alertsNow = [];
    await core.pollAlerts();
    expect(of("source.degraded").map((e) => e.data)).toEqual([
      { source: "alertmanager", message: "cannot reach Alertmanager at http://am.example:9093/ (connection refused): is it running, and is the URL right?" },
    ]);
    expect(of("source.recovered").map((e) => (e.data as { source: string }).source)).toEqual(["alertmanager"]);
    await core.close();
  });
});

describe("acking an Alertmanager alert", () => {
  it("creates a silence matching its labels for the plan's duration, with who and why in the comment", async () => {
    const { core, am, of } = await open({ silenceOnAck: "90m" });
    const labels = { alertname: "CanaryErrors", rollout: "api-v2", ring: "canary" };
    await core.ingestAlerts("payments", [alert("cc01", labels)], false);
    const before = Date.now();
    const ack = await core.submitCommand(ALICE, { type: "command", id: "ack-1", action: "ack_alert", target: { alert: "cc01" }, reason: "on it" });
    expect(ack.kind).toBe("ack");
    await core.idle();
    expect(am.silences).toHaveLength(1);
    const s = am.silences[0]!;
    expect(s.labels).toEqual(labels);
    expect(s.createdBy).toBe("alice");
    expect(s.comment).toBe("acknowledged in rollout-cockpit by alice (operator): on it");
    expect(s.endsAt.getTime() - s.startsAt.getTime()).toBe(90 * 60 * 1000);
    expect(s.startsAt.getTime()).toBeGreaterThanOrEqual(before);
    const run = of("command.executed")[0] as CockpitEvent<"command.executed">;
    expect(run.data).toMatchObject({ step: "silence", argv: ["POST", "http://am.example:9093/api/v2/silences"], status: 200 });
    expect(run.data.outputTail).toMatch(/^silence sil-1 until \d{4}-/);
    expect([run.alert, run.rollout, run.ring, run.command]).toEqual(["cc01", "api-v2", "canary", "ack-1"]);
    await core.close();
  });

  it("logs a silence that failed, keeping the ack", async () => {
    const { core, am, of } = await open({ silenceOnAck: "1h" });
    am.silenceError = new Error("Alertmanager at http://am.example:9093/ refused the silence (400): bad matchers");
    await core.ingestAlerts("payments", [alert("cc02", { alertname: "X" })], false);
    const ack = await core.submitCommand(ALICE, { type: "command", id: "ack-2", action: "ack_alert", target: { alert: "cc02" } });
    expect(ack.kind).toBe("ack");
    await core.idle();
    const failed = of("command.failed")[0] as CockpitEvent<"command.failed">;
    expect(failed.data).toMatchObject({ step: "silence", reason: "Alertmanager at http://am.example:9093/ refused the silence (400): bad matchers" });
    expect(core.snapshot("payments").state.alerts.find((a) => a.id === "cc02")?.ackedBy).toBe("alice");
    await core.close();
  });

  it("creates no silence when the plan does not ask for one", async () => {
    const { core, am } = await open();
    await core.ingestAlerts("payments", [alert("cc03", { alertname: "X" })], false);
    await core.submitCommand(ALICE, { type: "command", id: "ack-3", action: "ack_alert", target: { alert: "cc03" } });
    await core.idle();
    expect(am.silences).toEqual([]);
    await core.close();
  });
});
