import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { hashToken } from "../../src/backend/tokens.js";
import { ACTIONS, type Action, type CockpitEvent, type EventMsg, type RejectMsg, type ServerMsg, type SnapshotMsg } from "../../src/protocol/types.js";
import { startServe, TestClient, type ServeProcess } from "../support/processes.js";
import { BIDI_OR_INVISIBLE, CONTROL_EXCEPT_NEWLINE } from "./payloads.js";

// Authentication and authorization over real sockets, against a real
// `cockpit serve` with a tokens file: missing, wrong and malformed tokens,
// another tenant's token, a viewer trying every mutating action, commands
// aimed at another tenant's rollout, alert and incident, and rate limiting.

// Real processes and sockets: a loaded machine (CI) may take longer than the default 5 s.
vi.setConfig({ testTimeout: 60_000 });

const TOKENS = {
  vera: "viewer-token-payments-0001",
  olga: "operator-token-payments-0002",
  cora: "commander-token-payments-0003",
  otto: "operator-token-search-0004",
  sam: "commander-token-search-0005",
};

let dir: string;
let serve: ServeProcess;
let url: string;
/** Payments' real alert and incident ids, for the cross-tenant attempts. */
let alertId: string;
let incidentId: string;
const ROLLOUT = "api-v408";
const open: TestClient[] = [];

async function client(token: string | null, hello: Record<string, unknown> = {}): Promise<TestClient> {
  const c = await TestClient.open(url, hello, token === null ? {} : { Authorization: `Bearer ${token}` });
  open.push(c);
  return c;
}

async function welcomed(token: string): Promise<TestClient> {
  const c = await client(token);
  await c.waitFor((m) => m.type === "welcome");
  return c;
}

/** The close code and reason of a connection the server refuses, whatever the stage (HTTP or WebSocket close). */
async function refusal(headers: Record<string, string>, hello: Record<string, unknown> = {}): Promise<{ code: number; reason: string; frames: ServerMsg[] }> {
  const ws = new WebSocket(url, { headers });
  const frames: ServerMsg[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the server neither closed nor refused the connection within 10 s")), 10_000);
    ws.on("unexpected-response", (_req, res) => {
      clearTimeout(timer);
      resolve({ code: res.statusCode ?? 0, reason: `HTTP ${res.statusCode}`, frames });
      ws.terminate();
    });
    ws.on("open", () => ws.send(JSON.stringify({ type: "hello", protocol: 1, client: "auth-test", resumeFrom: null, ...hello })));
    ws.on("message", (d) => frames.push(JSON.parse(String(d)) as ServerMsg));
    ws.on("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString(), frames });
    });
    ws.on("error", () => undefined);
  });
}

let cmdNo = 0;
async function command(c: TestClient, action: Action, target: Record<string, string>, args?: Record<string, unknown>): Promise<RejectMsg | Extract<ServerMsg, { type: "ack" }>> {
  const id = `auth-${++cmdNo}`;
  c.send({ type: "command", id, action, target, ...(args ? { args } : {}) });
  return c.waitFor((m) => (m.type === "ack" || m.type === "reject") && m.id === id);
}

function logEvents(): CockpitEvent[] {
  return readFileSync(join(dir, "data", "events.jsonl"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as CockpitEvent);
}

/** Every mutating action with a well-formed target and args, aimed at payments' things. */
function everyAction(): [Action, Record<string, string>, Record<string, unknown> | undefined][] {
  return [
    ["pause", { rollout: ROLLOUT }, undefined],
    ["resume", { rollout: ROLLOUT }, undefined],
    ["rollback", { rollout: ROLLOUT }, undefined],
    ["kill_switch", { rollout: ROLLOUT }, undefined],
    ["release_kill_switch", { rollout: ROLLOUT }, undefined],
    ["promote", { rollout: ROLLOUT }, undefined],
    ["ack_alert", { alert: alertId }, undefined],
    ["note", { rollout: ROLLOUT }, { text: "viewer trying to write" }],
    ["declare_incident", {}, { severity: "SEV2", title: "viewer incident" }],
    ["resolve_incident", { incident: incidentId }, undefined],
    ["assign_role", { incident: incidentId }, { role: "scribe", name: "vera" }],
    ["set_milestone", { incident: incidentId }, { milestone: "detected" }],
  ];
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "cockpit-hostile-auth-"));
  const tokensPath = join(dir, "tokens.json");
  const tenantOf = { vera: "payments", olga: "payments", cora: "payments", otto: "search", sam: "search" } as const;
  const roleOf = { vera: "viewer", olga: "operator", cora: "commander", otto: "operator", sam: "commander" } as const;
  writeFileSync(
    tokensPath,
    JSON.stringify({ tokens: (Object.keys(TOKENS) as (keyof typeof TOKENS)[]).map((name) => ({ sha256: hashToken(TOKENS[name]), name, role: roleOf[name], tenant: tenantOf[name] })) }),
  );
  serve = await startServe(["--scenario", "canary-latency", "--speed", "60", "--port", "0", "--data-dir", join(dir, "data"), "--tokens", tokensPath]);
  url = serve.url;
  // Payments' incident (declared by its commander) and an alert the engine raises when the canary breaches.
  const cora = await welcomed(TOKENS.cora);
  const declared = await command(cora, "declare_incident", {}, { severity: "SEV2", title: "checkout latency" });
  expect(declared.type).toBe("ack");
  const decl = await cora.waitFor<EventMsg>((m) => m.type === "event" && m.event.type === "incident.declared");
  incidentId = decl.event.incident!;
  const firing = await cora.waitFor<EventMsg | SnapshotMsg>(
    (m) => (m.type === "event" && m.event.type === "alert.firing") || (m.type === "snapshot" && m.state.alerts.length > 0),
    45_000,
  );
  alertId = firing.type === "event" ? firing.event.alert! : firing.state.alerts[0]!.id;
  expect(alertId).toBeTruthy();
}, 90_000);

afterAll(async () => {
  for (const c of open) await c.close().catch(() => undefined);
  await serve?.stop("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
});

describe("tokens at the door", () => {
  it("no token at all: closed 4401, saying a token is required", async () => {
    const r = await refusal({});
    expect(r.code).toBe(4401);
    expect(r.reason).toMatch(/token required/);
    expect(r.frames.filter((f) => f.type === "welcome" || f.type === "snapshot" || f.type === "event")).toEqual([]);
  });

  it("a wrong token, in the header or in hello: closed 4401 and nothing sent", async () => {
    for (const r of [await refusal({ Authorization: "Bearer not-a-token-at-all" }), await refusal({}, { token: "not-a-token-at-all" })]) {
      expect(r.code).toBe(4401);
      expect(r.reason).toMatch(/token rejected/);
      expect(r.frames).toEqual([]);
    }
  });

  it("malformed Authorization headers are refused: non-ASCII, 10 KB, Bearer without a token, Basic, extra words, no scheme", async () => {
    const nonAscii = Buffer.from(`${TOKENS.cora}✓ö`, "utf8").toString("latin1");
    const headers = [
      `Bearer ${nonAscii}`,
      `Bearer ${"x".repeat(10 * 1024)}`,
      `Bearer ${TOKENS.cora.repeat(400)}`,
      "Bearer",
      "Bearer ",
      `Basic ${Buffer.from(`cora:${TOKENS.cora}`).toString("base64")}`,
      `Bearer ${TOKENS.cora} extra`,
      TOKENS.cora,
      `Token ${TOKENS.cora}`,
      "Bearer \u00ff\u00fe",
    ];
    for (const h of headers) {
      const r = await refusal({ Authorization: h });
      // Refused at the upgrade (HTTP 4xx) or right after it (4401): never a session.
      expect([4401, 400, 401, 403, 431], h.slice(0, 40)).toContain(r.code);
      expect(r.frames.some((f) => f.type === "welcome")).toBe(false);
    }
  });

  it("malformed hello tokens are refused too: 10 KB, non-ASCII, not a string", async () => {
    for (const token of ["y".repeat(10 * 1024), `${TOKENS.cora}\u2603`, "", 12345, { sha256: hashToken(TOKENS.cora) }, [TOKENS.cora]]) {
      const r = await refusal({}, { token });
      expect([4400, 4401]).toContain(r.code);
      expect(r.frames.some((f) => f.type === "welcome")).toBe(false);
    }
  });

  it("a close reason never echoes the presented token", async () => {
    const secret = "Bearer s3cr3t-probe-\x1b]0;x\x07";
    const r = await refusal({ Authorization: secret.replace(/[\x00-\x1f]/g, "") });
    expect(r.reason).not.toContain("s3cr3t");
    expect(r.reason).not.toMatch(CONTROL_EXCEPT_NEWLINE);
  });

  it("the right token in another case of 'Bearer' still opens exactly its own session", async () => {
    const ok = await TestClient.open(url, {}, { Authorization: `bearer ${TOKENS.olga}` });
    open.push(ok);
    const w = await ok.waitFor<Extract<ServerMsg, { type: "welcome" }>>((m) => m.type === "welcome");
    expect(w.session).toEqual({ actor: "olga", role: "operator", tenant: "payments" });
  });
});

describe("a viewer trying every mutating action", () => {
  it("each is refused forbidden, and each refusal is in the audit trail with the viewer as actor", async () => {
    const vera = await welcomed(TOKENS.vera);
    expect(everyAction().map(([a]) => a).sort()).toEqual([...ACTIONS].sort());
    const ids: string[] = [];
    for (const [action, target, args] of everyAction()) {
      const answer = await command(vera, action, target, args);
      expect(answer, action).toMatchObject({ type: "reject", code: "forbidden" });
      const msg = (answer as RejectMsg).message;
      expect(msg).toMatch(/viewer|role/);
      expect(msg).not.toMatch(CONTROL_EXCEPT_NEWLINE);
      ids.push(answer.id);
    }
    // the viewer sees its own refusals on its stream, as command.rejected, in order
    for (const id of ids) {
      const e = await vera.waitFor<EventMsg>((m) => m.type === "event" && m.event.type === "command.rejected" && m.event.command === id);
      expect(e.event.actor).toMatchObject({ kind: "human", name: "vera", role: "viewer" });
      expect(e.event.tenant).toBe("payments");
      expect(e.event.data).toMatchObject({ code: "forbidden" });
    }
    // and they are durable: in the log, one each, nothing else from vera
    const fromVera = logEvents().filter((e) => e.actor.name === "vera");
    expect(fromVera.every((e) => e.type === "command.rejected")).toBe(true);
    for (const [i, [action]] of everyAction().entries()) expect(fromVera.filter((e) => e.command === ids[i] && (e.data as { action: string }).action === action)).toHaveLength(1);
  }, 60_000);
});

describe("another tenant's token", () => {
  it("sees none of payments' state or events", async () => {
    const otto = await client(TOKENS.otto);
    const snap = await otto.waitFor<SnapshotMsg>((m) => m.type === "snapshot");
    expect(snap.state.rollouts).toEqual([]);
    expect(snap.state.alerts).toEqual([]);
    expect(snap.state.incidents).toEqual([]);
    // payments keeps producing events meanwhile (samples every few simulated seconds)
    const cora = await welcomed(TOKENS.cora);
    await cora.waitFor((m) => m.type === "event" && m.event.type === "sli.sample");
    await new Promise((r) => setTimeout(r, 500));
    expect(otto.frames.filter((m) => m.type === "event" && m.event.tenant !== "search")).toEqual([]);
  }, 30_000);

  it("a command at payments' rollout, alert or incident is not_found, worded exactly as for an id that exists nowhere", async () => {
    const otto = await welcomed(TOKENS.otto);
    const sam = await welcomed(TOKENS.sam);
    const attempts: [TestClient, Action, "rollout" | "alert" | "incident", string, Record<string, unknown>?][] = [
      [otto, "pause", "rollout", ROLLOUT],
      [otto, "rollback", "rollout", ROLLOUT],
      [otto, "kill_switch", "rollout", ROLLOUT],
      [otto, "promote", "rollout", ROLLOUT],
      [otto, "ack_alert", "alert", alertId],
      [otto, "note", "rollout", ROLLOUT, { text: "hello from search" }],
      [sam, "note", "incident", incidentId, { text: "hello from search" }],
      [sam, "resolve_incident", "incident", incidentId],
      [sam, "assign_role", "incident", incidentId, { role: "scribe", name: "sam" }],
      [sam, "set_milestone", "incident", incidentId, { milestone: "mitigated" }],
    ];
    for (const [c, action, kind, realId, args] of attempts) {
      const missing = `${kind}-that-exists-nowhere-9f3`;
      const there = (await command(c, action, { [kind]: realId }, args)) as RejectMsg;
      const nowhere = (await command(c, action, { [kind]: missing }, args)) as RejectMsg;
      expect(there, `${action} ${realId}`).toMatchObject({ type: "reject", code: "not_found" });
      expect(nowhere).toMatchObject({ type: "reject", code: "not_found" });
      // Same sentence with the id swapped: nothing tells the two apart.
      expect(there.message.split(realId).join("<id>")).toBe(nowhere.message.split(missing).join("<id>"));
    }
    // The refusals are audited in search's trail, not payments'.
    const log = logEvents();
    const refused = log.filter((e) => e.type === "command.rejected" && (e.actor.name === "otto" || e.actor.name === "sam"));
    expect(refused.length).toBe(attempts.length * 2);
    for (const e of refused) {
      expect(e.tenant).toBe("search");
      expect(e.rollout).toBeUndefined();
    }
    // and payments' rollout, alert and incident are as they were
    const paymentsChanged = log.filter((e) => e.tenant === "payments" && (e.actor.name === "otto" || e.actor.name === "sam"));
    expect(paymentsChanged).toEqual([]);
  }, 60_000);
});

describe("command rate limiting per connection", () => {
  it("a burst past the limit is answered rate_limited, every command exactly once, while another connection is unaffected", async () => {
    const olga = await welcomed(TOKENS.olga);
    const cora = await welcomed(TOKENS.cora);
    const burst = 70;
    const ids = Array.from({ length: burst }, (_, i) => `burst-${i}`);
    // One write each, as fast as the socket takes them (the default is 20/s with a burst of 40).
    for (const id of ids) olga.send({ type: "command", id, action: "note", target: {}, args: { text: `burst ${id}` } });
    // Meanwhile the other connection's commands go through.
    const calm: string[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await command(cora, "note", {}, { text: `calm ${i}` });
      calm.push(a.type === "reject" ? a.code : "ack");
    }
    const answers = await Promise.all(ids.map((id) => olga.waitFor((m) => (m.type === "ack" || m.type === "reject") && m.id === id, 20_000)));
    const limited = answers.filter((a) => a.type === "reject" && a.code === "rate_limited") as RejectMsg[];
    expect(limited.length).toBeGreaterThanOrEqual(burst - 40 - 10);
    expect(answers.filter((a) => a.type === "ack").length).toBeGreaterThanOrEqual(40);
    for (const r of limited) {
      expect(r.message).toMatch(/too many commands/);
      expect(r.message).not.toMatch(BIDI_OR_INVISIBLE);
    }
    for (const id of ids) expect(olga.frames.filter((m) => (m.type === "ack" || m.type === "reject") && m.id === id)).toHaveLength(1);
    expect(calm).toEqual(["ack", "ack", "ack", "ack", "ack"]);
    // after a pause the bucket refills: the same connection is served again
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await command(olga, "note", {}, { text: "after the burst" })).type).toBe("ack");
  }, 60_000);
});
