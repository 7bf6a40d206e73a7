import type { Agent, Dispatcher } from "undici";

// One small HTTP client for the outside systems the backend talks to
// (Prometheus, Alertmanager, webhooks): a deadline on every call, and failures
// turned into sentences a person can act on ("cannot reach Prometheus at
// http://127.0.0.1:9090 (connection refused): is it running?").

export interface HttpAnswer {
  status: number;
  /** the body as text, cut at maxBodyBytes */
  text: string;
}

export interface HttpCall {
  method: "GET" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** what is being called, for error sentences: "Prometheus", "Alertmanager", "webhook" */
  what: string;
  /** default 4 MiB: enough for any sane query result or alert list */
  maxBodyBytes?: number;
}

/** A call that got no HTTP answer at all; `message` says why and what to check. */
export class HttpCallError extends Error {
  override name = "HttpCallError";
  constructor(
    message: string,
    /** short stable key for "the same failure again": "refused", "timeout", "dns", ... */
    readonly kind: string,
  ) {
    super(message);
  }
}

const DEFAULT_MAX_BODY = 4 * 1024 * 1024;

// undici is loaded on first use: a backend that talks to no outside system
// (a simulation, a demo) starts without paying for it, and restarts fast.
let undiciModule: Promise<typeof import("undici")> | null = null;
function undici(): Promise<typeof import("undici")> {
  // From the bundle (esbuild), a CommonJS package imported on demand arrives as its default export only;
  // Node's own loader also gives the named ones.
  undiciModule ??= import("undici").then((m) => (typeof m.Agent === "function" ? m : (m as unknown as { default: typeof import("undici") }).default));
  return undiciModule;
}

/** A keep-alive connection pool, made on first use; close it when the client goes away. */
export class HttpPool {
  private agent: Promise<Agent> | null = null;
  constructor(private readonly connectTimeoutMs: number) {}

  get(): Promise<Dispatcher> {
    this.agent ??= undici().then((u) => new u.Agent({ connect: { timeout: this.connectTimeoutMs }, keepAliveTimeout: 10_000 }));
    return this.agent;
  }

  async close(): Promise<void> {
    const agent = this.agent;
    this.agent = null;
    if (agent) await (await agent).close();
  }
}

export function httpAgent(connectTimeoutMs: number): HttpPool {
  return new HttpPool(connectTimeoutMs);
}

/** The URL without user:password, for messages and logs. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = "";
      u.password = "";
    }
    u.search = u.search ? "?…" : "";
    return u.toString();
  } catch {
    return "(an invalid URL)";
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

export function describeHttpFailure(err: unknown, call: Pick<HttpCall, "what" | "url" | "timeoutMs">): HttpCallError {
  const where = `${call.what} at ${safeUrl(call.url)}`;
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string } };
  const code = e?.code ?? e?.cause?.code ?? "";
  if (e?.name === "TimeoutError" || e?.name === "AbortError" || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT") {
    return new HttpCallError(`${where} did not answer within ${seconds(call.timeoutMs)}: it may be overloaded or stuck`, "timeout");
  }
  switch (code) {
    case "ECONNREFUSED":
      return new HttpCallError(`cannot reach ${where} (connection refused): is it running, and is the URL right?`, "refused");
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new HttpCallError(`cannot reach ${where}: the host name does not resolve; check the URL`, "dns");
    case "ECONNRESET":
    case "UND_ERR_SOCKET":
    case "EPIPE":
      return new HttpCallError(`${where} closed the connection before answering; it may be restarting`, "reset");
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return new HttpCallError(`cannot reach ${where}: no route to the host; check the network`, "unreachable");
    default:
      return new HttpCallError(`calling ${where} failed: ${e?.message ?? String(err)}`, code || "error");
  }
}

/** Make one call. Resolves with any HTTP answer (the caller judges the status); rejects with HttpCallError otherwise. */
export async function httpCall(call: HttpCall, pool?: HttpPool): Promise<HttpAnswer> {
  const maxBody = call.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const signal = AbortSignal.timeout(call.timeoutMs);
  const { request } = await undici();
  try {
    const dispatcher = pool ? await pool.get() : undefined;
    const res = await request(call.url, {
      method: call.method,
      headers: call.headers ?? {},
      ...(call.body !== undefined ? { body: call.body } : {}),
      signal,
      ...(dispatcher ? { dispatcher } : {}),
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      const buf = chunk as Buffer;
      if (size + buf.length > maxBody) {
        chunks.push(buf.subarray(0, maxBody - size));
        size = maxBody;
        res.body.destroy();
        break;
      }
      chunks.push(buf);
      size += buf.length;
    }
    return { status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") };
  } catch (err) {
    throw describeHttpFailure(err, call);
  }
}

/** The first line of a body, trimmed and cut, for "answered 500: ..." sentences. */
export function bodyGist(text: string, max = 200): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? line.slice(0, max - 1) + "…" : line;
}
