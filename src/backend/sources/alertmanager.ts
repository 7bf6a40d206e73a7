import { timingSafeEqual, createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Role, Severity } from "../../protocol/types.js";
import type { HttpRoute } from "../server.js";
import type { TokenTable } from "../tokens.js";
import { bodyGist, httpAgent, httpCall, safeUrl, type HttpPool } from "./http.js";

// Alerts from Alertmanager, two ways in:
// - polling its v2 API (GET /api/v2/alerts): the complete list of active
//   alerts, so an alert missing from it has resolved;
// - its webhook receiver format, POSTed to the backend's /v1/alertmanager:
//   changes as they happen, authenticated with a bearer token.
// Both map an Alertmanager alert to the same ExternalAlert, keyed by its
// fingerprint, so an alert seen both ways is one alert in the cockpit.
// And one way out: an ack in the cockpit can create a silence (POST /api/v2/silences).

export const ALERTMANAGER_SOURCE = "alertmanager";
export const WEBHOOK_PATH = "/v1/alertmanager";

export interface ExternalAlert {
  /** Alertmanager's fingerprint of the label set */
  id: string;
  state: "firing" | "resolved";
  severity: Severity;
  title: string;
  labels: Record<string, string>;
}

const MAX_LABELS = 64;
const MAX_LABEL_CHARS = 512;
const MAX_TITLE_CHARS = 300;
const MAX_WEBHOOK_BYTES = 1024 * 1024;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function cut(s: string, max: number): string {
  return s.length > max ? s.slice(0, max - 1) + "…" : s;
}

/** Alertmanager's fingerprint of a label set (FNV-1a 64 over sorted name, 0xff, value, 0xff), as 16 hex digits. */
export function labelsFingerprint(labels: Record<string, string>): string {
  const PRIME = 0x100000001b3n;
  const MASK = 0xffffffffffffffffn;
  let h = 0xcbf29ce484222325n;
  const add = (bytes: Uint8Array) => {
    for (const b of bytes) h = ((h ^ BigInt(b)) * PRIME) & MASK;
  };
  const sep = new Uint8Array([255]);
  const enc = new TextEncoder();
  for (const name of Object.keys(labels).sort()) {
    add(enc.encode(name));
    add(sep);
    add(enc.encode(labels[name]!));
    add(sep);
  }
  return h.toString(16).padStart(16, "0");
}

export function severityOf(labels: Record<string, string>): Severity {
  const s = (labels.severity ?? labels.priority ?? "").toLowerCase();
  if (["critical", "page", "error", "high", "p1", "sev1", "sev2"].includes(s)) return "critical";
  if (["info", "informational", "none", "low", "notice"].includes(s)) return "info";
  return "warning";
}

function stringRecord(v: unknown): Record<string, string> | null {
  if (!isObj(v)) return null;
  const out: Record<string, string> = {};
  let n = 0;
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== "string") continue;
    if (n++ >= MAX_LABELS) break;
    out[cut(k, 128)] = cut(val, MAX_LABEL_CHARS);
  }
  return out;
}

/**
 * One alert, as the v2 API or the webhook writes it, or an error naming what
 * is wrong. `state` comes from the webhook's "status" string; the v2 API lists
 * active alerts only, so its alerts are firing.
 */
export function toExternalAlert(raw: unknown, path: string): ExternalAlert | string {
  if (!isObj(raw)) return `${path}: must be an alert object with "labels"`;
  const labels = stringRecord(raw.labels);
  if (!labels || Object.keys(labels).length === 0) return `${path}.labels: must be an object of label strings (at least alertname)`;
  const annotations = stringRecord(raw.annotations) ?? {};
  const status = raw.status;
  let state: ExternalAlert["state"] = "firing";
  if (typeof status === "string") {
    if (status !== "firing" && status !== "resolved") return `${path}.status: must be "firing" or "resolved"`;
    state = status;
  }
  const fingerprint = typeof raw.fingerprint === "string" && /^[0-9a-f]{1,32}$/i.test(raw.fingerprint) ? raw.fingerprint.toLowerCase() : labelsFingerprint(labels);
  const title = annotations.summary ?? annotations.title ?? annotations.description ?? labels.alertname ?? fingerprint;
  return { id: fingerprint, state, severity: severityOf(labels), title: cut(title.replace(/\s+/g, " ").trim() || fingerprint, MAX_TITLE_CHARS), labels };
}

/** The webhook receiver's payload ({"version": "4", "alerts": [...]}), or an error naming the field at fault. */
export function parseWebhookPayload(json: unknown): { ok: true; alerts: ExternalAlert[] } | { ok: false; error: string } {
  if (!isObj(json) || !Array.isArray(json.alerts)) return { ok: false, error: 'body: must be Alertmanager\'s webhook payload {"version": "4", "alerts": [...]}' };
  const alerts: ExternalAlert[] = [];
  for (let i = 0; i < json.alerts.length; i++) {
    const a = toExternalAlert(json.alerts[i], `alerts[${i}]`);
    if (typeof a === "string") return { ok: false, error: a };
    alerts.push(a);
  }
  return { ok: true, alerts };
}

// ---- the API client -----------------------------------------------------------------

export interface SilenceRequest {
  labels: Record<string, string>;
  startsAt: Date;
  endsAt: Date;
  createdBy: string;
  comment: string;
}

export class AlertmanagerClient {
  private readonly base: string;
  private readonly agent: HttpPool;
  readonly timeoutMs: number;

  constructor(url: string, opts: { timeoutMs?: number } = {}) {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw new Error(`--alertmanager ${url}: not a URL; give one like http://127.0.0.1:9093`);
    }
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error(`--alertmanager ${url}: must be an http:// or https:// URL`);
    this.base = u.toString().replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.agent = httpAgent(this.timeoutMs);
  }

  get url(): string {
    return safeUrl(this.base);
  }

  /** Every active alert (silenced and inhibited ones too: they still fire). */
  async alerts(): Promise<ExternalAlert[]> {
    const answer = await httpCall(
      { method: "GET", url: `${this.base}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`, headers: { accept: "application/json" }, timeoutMs: this.timeoutMs, what: "Alertmanager" },
      this.agent,
    );
    if (answer.status !== 200) throw new Error(`Alertmanager at ${this.url} answered ${answer.status} to GET /api/v2/alerts: ${bodyGist(answer.text) || "(empty)"}`);
    let list: unknown;
    try {
      list = JSON.parse(answer.text);
    } catch {
      throw new Error(`Alertmanager at ${this.url} answered GET /api/v2/alerts with a body that is not JSON; is the URL an Alertmanager (v0.16 or later)?`);
    }
    if (!Array.isArray(list)) throw new Error(`Alertmanager at ${this.url} answered GET /api/v2/alerts with something other than a list`);
    const out: ExternalAlert[] = [];
    list.forEach((raw, i) => {
      const a = toExternalAlert(isObj(raw) ? { ...raw, status: undefined } : raw, `alerts[${i}]`);
      if (typeof a !== "string") out.push(a);
    });
    return out;
  }

  /** Create a silence matching exactly these labels; resolves with its id. */
  async createSilence(s: SilenceRequest): Promise<string> {
    const body = JSON.stringify({
      matchers: Object.entries(s.labels).map(([name, value]) => ({ name, value, isRegex: false, isEqual: true })),
      startsAt: s.startsAt.toISOString(),
      endsAt: s.endsAt.toISOString(),
      createdBy: s.createdBy,
      comment: s.comment,
    });
    const answer = await httpCall(
      { method: "POST", url: `${this.base}/api/v2/silences`, headers: { "content-type": "application/json", accept: "application/json" }, body, timeoutMs: this.timeoutMs, what: "Alertmanager" },
      this.agent,
    );
    if (answer.status !== 200) throw new Error(`Alertmanager at ${this.url} refused the silence (${answer.status}): ${bodyGist(answer.text) || "(empty)"}`);
    try {
      const id = (JSON.parse(answer.text) as { silenceID?: unknown }).silenceID;
      if (typeof id === "string" && id) return id;
    } catch {
      // fall through
    }
    throw new Error(`Alertmanager at ${this.url} answered the silence without a silenceID: ${bodyGist(answer.text)}`);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

// ---- the webhook receiver -----------------------------------------------------------------

export interface WebhookReceiverOptions {
  /** bearer tokens (operator or commander role); the token's tenant receives the alerts */
  tokens: TokenTable | null;
  /** a shared secret, sent as "Authorization: Bearer <secret>"; its alerts go to `defaultTenant` (or ?tenant=) */
  sharedSecret: string | null;
  tenants: () => string[];
  ingest(tenant: string, alerts: ExternalAlert[]): Promise<number>;
  log?: (line: string) => void;
}

const ALLOWED_ROLES: readonly Role[] = ["operator", "commander"];

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sameSecret(a: string, b: string): boolean {
  // Hash first: timingSafeEqual needs equal lengths, and the length must not leak either.
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  return timingSafeEqual(ha, hb);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

type Auth = { ok: true; tenant: string; who: string } | { ok: false; status: number; error: string };

function authenticate(req: IncomingMessage, o: WebhookReceiverOptions): Auth {
  if (!o.tokens && !o.sharedSecret) {
    return { ok: false, status: 401, error: "this backend accepts no Alertmanager webhooks: start it with --tokens (and give Alertmanager an operator token) or --alertmanager-secret-file" };
  }
  const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? "");
  if (!m) return { ok: false, status: 401, error: 'missing "Authorization: Bearer <token>": set http_config.authorization.credentials in the Alertmanager receiver' };
  const presented = m[1]!;
  const tenants = o.tenants();
  if (o.sharedSecret && sameSecret(presented, o.sharedSecret)) {
    const asked = new URL(req.url ?? "/", "http://local").searchParams.get("tenant");
    if (asked !== null && !tenants.includes(asked)) return { ok: false, status: 404, error: `no tenant named ${cut(asked, 64)} here` };
    const tenant = asked ?? tenants[0];
    if (!tenant) return { ok: false, status: 503, error: "the backend serves no tenant yet" };
    return { ok: true, tenant, who: "shared secret" };
  }
  const session = o.tokens?.lookup(presented) ?? null;
  if (!session) return { ok: false, status: 401, error: "token rejected: check the credentials in the Alertmanager receiver" };
  if (!ALLOWED_ROLES.includes(session.role)) {
    return { ok: false, status: 403, error: `${session.actor} is a ${session.role}; posting alerts needs the operator or commander role` };
  }
  return { ok: true, tenant: session.tenant, who: session.actor };
}

/** POST /v1/alertmanager: Alertmanager's webhook receiver, authenticated. */
export function alertmanagerWebhookRoute(o: WebhookReceiverOptions): HttpRoute {
  return {
    method: "POST",
    path: WEBHOOK_PATH,
    async handle(req, res) {
      const auth = authenticate(req, o);
      if (!auth.ok) {
        // Drain what was sent, so the client reads our answer rather than a reset.
        req.resume();
        send(res, auth.status, { error: auth.error }, auth.status === 401 ? { "www-authenticate": 'Bearer realm="cockpit"' } : {});
        return;
      }
      const body = await readBody(req, MAX_WEBHOOK_BYTES);
      if (body === null) {
        send(res, 413, { error: `body over ${MAX_WEBHOOK_BYTES} bytes; lower max_alerts in the receiver` }, { connection: "close" });
        req.destroy();
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(body.toString("utf8"));
      } catch (err) {
        send(res, 400, { error: `body is not JSON (${(err as Error).message})` });
        return;
      }
      const parsed = parseWebhookPayload(json);
      if (!parsed.ok) {
        send(res, 400, { error: parsed.error });
        return;
      }
      const changed = await o.ingest(auth.tenant, parsed.alerts);
      o.log?.(`alertmanager webhook (${auth.who} -> ${auth.tenant}): ${parsed.alerts.length} alerts, ${changed} changes`);
      send(res, 200, { received: parsed.alerts.length, changed });
    },
  };
}
