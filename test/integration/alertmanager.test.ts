import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { request } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBackend, type StartedBackend } from "../../src/backend/serve-cli.js";
import { labelsFingerprint } from "../../src/backend/sources/alertmanager.js";
import { hashToken } from "../../src/backend/tokens.js";
import { validatePlan } from "../../src/domain/plan.js";
import type { AckMsg, CockpitEvent } from "../../src/protocol/types.js";
import { TestClient } from "../support/processes.js";
import { binaryGate, freePort, getJson, postJson, startAlertmanager, tempDir, waitUntil, type RealServer } from "./real-servers.js";

// Issue 5 end to end against a real Alertmanager: an alert posted to it
// reaches the cockpit through the backend's events, both ways in (the backend
// polling GET /api/v2/alerts, and Alertmanager's webhook receiver POSTing to
// the backend's /v1/alertmanager with a bearer token); acking it in the
// cockpit creates a real silence; resolving it resolves it in the cockpit.

const gate = binaryGate(["prometheus-alertmanager"]);

const TOKENS = { alice: "alice-operator-token-0123456789", bob: "bob-viewer-token-0123456789", bot: "alertmanager-bot-token-0123456789" };

interface AmAlert {
  fingerprint: string;
  labels: Record<string, string>;
  status: { state: string; silencedBy: string[] };
}
interface AmSilence {
  id: string;
  matchers: Array<{ name: string; value: string; isRegex: boolean; isEqual?: boolean }>;
  createdBy: string;
  comment: string;
  status: { state: string };
  endsAt: string;
}

function events(c: TestClient): CockpitEvent[] {
  return c.frames.flatMap((f) => (f.type === "event" ? [f.event] : []));
}

describe.skipIf(gate.skip)("alerts from a real Alertmanager", () => {
  let am: RealServer | null = null;
  let polling: StartedBackend | null = null;
  let hooked: StartedBackend | null = null;
  const clients: TestClient[] = [];
  const labels = { alertname: "CanaryErrorRate", severity: "critical", service: "api", rollout: "api-v2", ring: "canary" };

  beforeAll(async () => {
    if (gate.missingMessage) throw new Error(gate.missingMessage);
    const dir = tempDir("am-test");
    const tokensFile = join(dir, "tokens.json");
    writeFileSync(
      tokensFile,
      JSON.stringify({
        tokens: [
          { sha256: hashToken(TOKENS.alice), name: "alice", role: "operator", tenant: "payments" },
          { sha256: hashToken(TOKENS.bob), name: "bob", role: "viewer", tenant: "payments" },
          { sha256: hashToken(TOKENS.bot), name: "alertmanager", role: "operator", tenant: "payments" },
        ],
      }),
    );
    const plan = validatePlan(
      {
        tenant: "payments",
        alertmanager: { silenceOnAck: "2h" },
        rollouts: [
          {
            id: "api-v2",
            service: "api",
            version: "v2",
            previousVersion: "v1",
            kind: "code",
            rings: [
              { name: "canary", traffic: 5, bake: "10m", slos: [] },
              { name: "global", traffic: 100, bake: "10m", slos: [] },
            ],
          },
        ],
      },
      "plan",
    );
    if (!plan.ok) throw new Error(plan.errors.join("\n"));
    const amPort = await freePort();
    const common = { setup: { plans: [plan.plan], scenario: null }, host: "127.0.0.1", port: 0, speed: 1, log: () => undefined, tokensPath: tokensFile };
    // One backend polls Alertmanager (and silences in it); the other only hears its webhook.
    polling = await startBackend({ ...common, dataDir: join(dir, "polling"), alertmanager: { url: `http://127.0.0.1:${amPort}`, pollMs: 500 } });
    hooked = await startBackend({ ...common, dataDir: join(dir, "hooked") });
    am = await startAlertmanager(gate.paths["prometheus-alertmanager"]!, {
      port: amPort,
      webhooks: [{ url: `http://127.0.0.1:${hooked.server.port}/v1/alertmanager`, bearer: TOKENS.bot }],
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of clients) await c.close().catch(() => undefined);
    await polling?.close();
    await hooked?.close();
    await am?.stop();
  }, 30_000);

  async function cockpit(b: StartedBackend): Promise<TestClient> {
    const c = await TestClient.open(b.server.url, { token: TOKENS.alice });
    clients.push(c);
    await c.waitFor((m) => m.type === "snapshot");
    return c;
  }

  it("brings an alert posted to Alertmanager into the cockpit, by poll and by webhook; an ack creates a real silence; resolving resolves", async () => {
    const viaPoll = await cockpit(polling!);
    const viaHook = await cockpit(hooked!);
    const posted = await postJson(`${am!.url}/api/v2/alerts`, [
      { labels, annotations: { summary: "canary 5xx above 2% for 5m" }, generatorURL: "http://prometheus.example/graph" },
    ]);
    expect(posted.status).toBe(200);
    const fingerprint = await waitUntil("the alert in Alertmanager", async () => {
      const list = (await getJson(`${am!.url}/api/v2/alerts`)).body as AmAlert[];
      return list.find((a) => a.labels.alertname === "CanaryErrorRate")?.fingerprint ?? null;
    });

    // Our fingerprint of the label set is Alertmanager's own (used when a webhook omits it).
    expect(labelsFingerprint(labels)).toBe(fingerprint);
    for (const c of [viaPoll, viaHook]) {
      const firing = await c.waitFor((m) => m.type === "event" && m.event.type === "alert.firing", 15_000);
      const e = (firing as { event: CockpitEvent<"alert.firing"> }).event;
      expect(e.alert).toBe(fingerprint);
      expect(e.rollout).toBe("api-v2");
      expect(e.ring).toBe("canary");
      expect(e.actor).toEqual({ kind: "integration", name: "alertmanager" });
      expect(e.data).toEqual({ severity: "critical", title: "canary 5xx above 2% for 5m", source: "alertmanager", labels });
    }

    // Ack it in the cockpit: a silence appears in Alertmanager, with who and why.
    viaPoll.send({ type: "command", id: "ack-1", action: "ack_alert", target: { alert: fingerprint }, reason: "looking at the canary's 5xx" });
    const ack = await viaPoll.waitFor<AckMsg>((m) => m.type === "ack" && m.id === "ack-1", 10_000);
    expect(ack.duplicate).toBe(false);
    const silenced = await viaPoll.waitFor((m) => m.type === "event" && m.event.type === "command.executed" && (m.event.data as { step: string }).step === "silence", 10_000);
    const run = (silenced as { event: CockpitEvent<"command.executed"> }).event;
    expect(run.alert).toBe(fingerprint);
    expect(run.actor).toMatchObject({ kind: "human", name: "alice" });
    const silenceId = /^silence (\S+) until /.exec(run.data.outputTail)?.[1];
    expect(silenceId).toBeTruthy();
    const silences = (await getJson(`${am!.url}/api/v2/silences`)).body as AmSilence[];
    const silence = silences.find((s) => s.id === silenceId)!;
    expect(silence.status.state).toBe("active");
    expect(silence.createdBy).toBe("alice");
    expect(silence.comment).toBe("acknowledged in rollout-cockpit by alice (operator): looking at the canary's 5xx");
    expect(Object.fromEntries(silence.matchers.map((m) => [m.name, m.value]))).toEqual(labels);
    expect(silence.matchers.every((m) => !m.isRegex)).toBe(true);
    const hours = (Date.parse(silence.endsAt) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(1.9);
    expect(hours).toBeLessThanOrEqual(2);
    await waitUntil("Alertmanager to mark the alert silenced", async () => {
      const list = (await getJson(`${am!.url}/api/v2/alerts`)).body as AmAlert[];
      return list.find((a) => a.fingerprint === fingerprint)?.status.silencedBy.includes(silenceId!) ?? false;
    });
    // A silenced alert still fires: no resolution in the cockpit for it.
    expect(events(viaPoll).filter((e) => e.type === "alert.resolved")).toEqual([]);

    // Alertmanager sends no webhook for a silenced alert, not even its resolution
    // (polling still sees it go): expire the silence, then resolve the alert.
    const expired = await request(`${am!.url}/api/v2/silence/${silenceId}`, { method: "DELETE" });
    await expired.body.text();
    expect(expired.statusCode).toBe(200);
    // Resolve it in Alertmanager (endsAt in the past): both cockpits see it resolve.
    const resolvedPost = await postJson(`${am!.url}/api/v2/alerts`, [
      { labels, annotations: { summary: "canary 5xx above 2% for 5m" }, startsAt: new Date(Date.now() - 60_000).toISOString(), endsAt: new Date(Date.now() - 1000).toISOString() },
    ]);
    expect(resolvedPost.status).toBe(200);
    for (const c of [viaPoll, viaHook]) {
      const resolved = await c.waitFor((m) => m.type === "event" && m.event.type === "alert.resolved", 20_000);
      expect((resolved as { event: CockpitEvent }).event.alert).toBe(fingerprint);
    }
    expect(events(viaPoll).filter((e) => e.type === "alert.firing")).toHaveLength(1);
    expect(events(viaHook).filter((e) => e.type === "alert.firing")).toHaveLength(1);
  }, 90_000);

  it("refuses webhook posts without a token, with a bad one, or from a viewer", async () => {
    const url = `http://127.0.0.1:${hooked!.server.port}/v1/alertmanager`;
    const body = { version: "4", status: "firing", alerts: [{ status: "firing", labels: { alertname: "Forged" }, annotations: {} }] };
    const none = await postJson(url, body);
    expect(none.status).toBe(401);
    expect((none.body as { error: string }).error).toMatch(/missing "Authorization: Bearer <token>"/);
    const bad = await postJson(url, body, { authorization: "Bearer not-a-token" });
    expect(bad.status).toBe(401);
    const viewer = await postJson(url, body, { authorization: `Bearer ${TOKENS.bob}` });
    expect(viewer.status).toBe(403);
    expect((viewer.body as { error: string }).error).toBe("bob is a viewer; posting alerts needs the operator or commander role");
    const snap = hooked!.core.snapshot("payments");
    expect(snap.state.alerts.some((a) => a.title === "Forged")).toBe(false);
  }, 30_000);
});
