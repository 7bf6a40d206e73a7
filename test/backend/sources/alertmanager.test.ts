import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { request } from "undici";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  AlertmanagerClient,
  alertmanagerWebhookRoute,
  labelsFingerprint,
  parseWebhookPayload,
  severityOf,
  toExternalAlert,
  type ExternalAlert,
} from "../../../src/backend/sources/alertmanager.js";
import { createTokenTable, hashToken } from "../../../src/backend/tokens.js";

// Real processes and sockets: generous per-test time on a loaded machine (no test asserts a duration).
vi.setConfig({ testTimeout: 30_000 });

// Alertmanager's two formats mapped to one alert, its API client against a
// stub, and the webhook receiver's authentication and input checks.

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

async function listen(server: Server): Promise<string> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const LABELS = { alertname: "CanaryErrorRate", severity: "critical", rollout: "api-v2", ring: "canary" };

describe("mapping alerts", () => {
  it("computes Alertmanager's fingerprint of a label set, whatever the key order", () => {
    // Value checked against a real Alertmanager in test/integration/alertmanager.test.ts.
    const fp = labelsFingerprint(LABELS);
    expect(fp).toMatch(/^[0-9a-f]{16}$/);
    expect(labelsFingerprint({ ring: "canary", rollout: "api-v2", severity: "critical", alertname: "CanaryErrorRate" })).toBe(fp);
    expect(labelsFingerprint({ ...LABELS, ring: "global" })).not.toBe(fp);
    expect(labelsFingerprint({})).toBe("cbf29ce484222325");
  });

  it("maps severities, defaulting to warning", () => {
    expect(severityOf({ severity: "critical" })).toBe("critical");
    expect(severityOf({ severity: "page" })).toBe("critical");
    expect(severityOf({ severity: "info" })).toBe("info");
    expect(severityOf({ severity: "warning" })).toBe("warning");
    expect(severityOf({})).toBe("warning");
  });

  it("takes the fingerprint as id, the summary as title and keeps every label", () => {
    const a = toExternalAlert({ labels: LABELS, annotations: { summary: "canary 5xx\nabove 2%" }, fingerprint: "ABCDEF0123456789", status: "firing" }, "a");
    expect(a).toEqual({ id: "abcdef0123456789", state: "firing", severity: "critical", title: "canary 5xx above 2%", labels: LABELS });
    const noFp = toExternalAlert({ labels: LABELS, status: "resolved" }, "a") as ExternalAlert;
    expect(noFp.id).toBe(labelsFingerprint(LABELS));
    expect(noFp.title).toBe("CanaryErrorRate");
    expect(noFp.state).toBe("resolved");
  });

  it("names what is wrong with a malformed alert", () => {
    expect(toExternalAlert("x", "alerts[0]")).toBe('alerts[0]: must be an alert object with "labels"');
    expect(toExternalAlert({ labels: {} }, "alerts[1]")).toBe("alerts[1].labels: must be an object of label strings (at least alertname)");
    expect(toExternalAlert({ labels: LABELS, status: "pending" }, "alerts[2]")).toBe('alerts[2].status: must be "firing" or "resolved"');
  });

  it("parses the webhook payload, refusing one that is not", () => {
    const ok = parseWebhookPayload({ version: "4", status: "firing", alerts: [{ status: "firing", labels: LABELS, annotations: {} }] });
    expect(ok).toEqual({ ok: true, alerts: [{ id: labelsFingerprint(LABELS), state: "firing", severity: "critical", title: "CanaryErrorRate", labels: LABELS }] });
    expect(parseWebhookPayload({ alerts: "no" })).toEqual({ ok: false, error: 'body: must be Alertmanager\'s webhook payload {"version": "4", "alerts": [...]}' });
    expect(parseWebhookPayload({ alerts: [{ labels: 5 }] })).toEqual({ ok: false, error: "alerts[0].labels: must be an object of label strings (at least alertname)" });
  });
});

describe("AlertmanagerClient", () => {
  it("lists active alerts (silenced ones too) and creates a silence matching exactly the labels", async () => {
    const seen: Array<{ method: string; url: string; body: string }> = [];
    const url = await listen(
      createServer((req, res) => {
        let body = "";
        req.on("data", (d: Buffer) => (body += d.toString()));
        req.on("end", () => {
          seen.push({ method: req.method!, url: req.url!, body });
          if (req.method === "GET") res.end(JSON.stringify([{ labels: LABELS, annotations: { summary: "s" }, fingerprint: "00aa", status: { state: "suppressed", silencedBy: ["x"] } }]));
          else res.end(JSON.stringify({ silenceID: "sil-1" }));
        });
      }),
    );
    const am = new AlertmanagerClient(url);
    expect(await am.alerts()).toEqual([{ id: "00aa", state: "firing", severity: "critical", title: "s", labels: LABELS }]);
    expect(seen[0]!.url).toBe("/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true");
    const id = await am.createSilence({ labels: { alertname: "A", ring: "canary" }, startsAt: new Date(0), endsAt: new Date(3_600_000), createdBy: "alice", comment: "why" });
    expect(id).toBe("sil-1");
    expect(JSON.parse(seen[1]!.body)).toEqual({
      matchers: [
        { name: "alertname", value: "A", isRegex: false, isEqual: true },
        { name: "ring", value: "canary", isRegex: false, isEqual: true },
      ],
      startsAt: "1970-01-01T00:00:00.000Z",
      endsAt: "1970-01-01T01:00:00.000Z",
      createdBy: "alice",
      comment: "why",
    });
    await am.close();
  });

  it("says what went wrong when Alertmanager refuses or answers nonsense", async () => {
    const url = await listen(
      createServer((req, res) => {
        req.resume();
        if (req.method === "GET") res.end("<html>proxy login</html>");
        else res.writeHead(400).end(JSON.stringify("silence invalid: comment missing"));
      }),
    );
    const am = new AlertmanagerClient(url);
    await expect(am.alerts()).rejects.toThrow(`Alertmanager at ${url}/ answered GET /api/v2/alerts with a body that is not JSON; is the URL an Alertmanager (v0.16 or later)?`);
    await expect(am.createSilence({ labels: { a: "b" }, startsAt: new Date(), endsAt: new Date(), createdBy: "x", comment: "" })).rejects.toThrow(
      `Alertmanager at ${url}/ refused the silence (400): "silence invalid: comment missing"`,
    );
    await am.close();
    expect(() => new AlertmanagerClient("ftp://x")).toThrow("--alertmanager ftp://x: must be an http:// or https:// URL");
  });
});

describe("POST /v1/alertmanager", () => {
  const tokens = createTokenTable([
    { sha256: hashToken("op-token"), name: "am-bot", role: "operator", tenant: "payments" },
    { sha256: hashToken("viewer-token"), name: "bob", role: "viewer", tenant: "payments" },
    { sha256: hashToken("other-token"), name: "am-other", role: "commander", tenant: "search" },
  ]);

  async function receiver(o: { withTokens?: boolean; secret?: string | null } = {}) {
    const got: Array<{ tenant: string; alerts: ExternalAlert[] }> = [];
    const route = alertmanagerWebhookRoute({
      tokens: o.withTokens === false ? null : tokens,
      sharedSecret: o.secret ?? null,
      tenants: () => ["payments", "search"],
      ingest: async (tenant, alerts) => {
        got.push({ tenant, alerts });
        return alerts.length;
      },
    });
    const url = await listen(createServer((req, res) => void route.handle(req, res)));
    const post = async (body: unknown, headers: Record<string, string> = {}, path = "/v1/alertmanager") => {
      const res = await request(url + path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });
      return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
    };
    return { got, post };
  }

  const payload = { version: "4", alerts: [{ status: "firing", labels: LABELS, annotations: { summary: "s" } }] };

  it("accepts an operator's token and files the alerts under the token's tenant", async () => {
    const r = await receiver();
    expect(await r.post(payload, { authorization: "Bearer op-token" })).toEqual({ status: 200, body: { received: 1, changed: 1 } });
    expect(await r.post(payload, { authorization: "Bearer other-token" })).toMatchObject({ status: 200 });
    expect(r.got.map((g) => g.tenant)).toEqual(["payments", "search"]);
    expect(r.got[0]!.alerts[0]!.labels).toEqual(LABELS);
  });

  it("refuses no token, a wrong token and a viewer's token", async () => {
    const r = await receiver();
    const none = await r.post(payload);
    expect(none.status).toBe(401);
    expect(await r.post(payload, { authorization: "Bearer nope" })).toEqual({ status: 401, body: { error: "token rejected: check the credentials in the Alertmanager receiver" } });
    expect(await r.post(payload, { authorization: "Basic b3A6dG9rZW4=" })).toMatchObject({ status: 401 });
    expect(await r.post(payload, { authorization: "Bearer viewer-token" })).toEqual({ status: 403, body: { error: "bob is a viewer; posting alerts needs the operator or commander role" } });
    expect(r.got).toEqual([]);
  });

  it("accepts the shared secret, for the first tenant or the one ?tenant= names", async () => {
    const r = await receiver({ withTokens: false, secret: "a-long-shared-secret" });
    expect((await r.post(payload, { authorization: "Bearer a-long-shared-secret" })).status).toBe(200);
    expect((await r.post(payload, { authorization: "Bearer a-long-shared-secret" }, "/v1/alertmanager?tenant=search")).status).toBe(200);
    expect(await r.post(payload, { authorization: "Bearer a-long-shared-secret" }, "/v1/alertmanager?tenant=nobody")).toEqual({ status: 404, body: { error: "no tenant named nobody here" } });
    expect((await r.post(payload, { authorization: "Bearer a-long-shared-secreT" })).status).toBe(401);
    expect(r.got.map((g) => g.tenant)).toEqual(["payments", "search"]);
  });

  it("refuses everything when neither tokens nor a secret are configured", async () => {
    const r = await receiver({ withTokens: false });
    const res = await r.post(payload, { authorization: "Bearer anything" });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatch(/^this backend accepts no Alertmanager webhooks: start it with --tokens/);
  });

  it("answers 400 to a body that is not JSON or not the webhook format, and 413 to one too big", async () => {
    const r = await receiver();
    const auth = { authorization: "Bearer op-token" };
    const notJson = await r.post("{nope", auth);
    expect(notJson.status).toBe(400);
    expect(String(notJson.body.error)).toMatch(/^body is not JSON/);
    expect(await r.post({ alerts: [{ labels: LABELS, status: "pending" }] }, auth)).toEqual({ status: 400, body: { error: 'alerts[0].status: must be "firing" or "resolved"' } });
    const big = await r.post({ alerts: [], pad: "x".repeat(1024 * 1024 + 10) }, auth);
    expect(big.status).toBe(413);
    expect(r.got).toEqual([]);
  });
});
