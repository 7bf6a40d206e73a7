import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocket, WebSocketServer, type RawData } from "ws";
import { decodeClientFrame } from "../protocol/decode.js";
import { sanitizeText } from "../protocol/sanitize.js";
import {
  CLOSE,
  HELLO_TIMEOUT_MS,
  LIVENESS_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  PING_INTERVAL_MS,
  PROTOCOL_VERSION,
  STREAM_PATH,
  type CockpitEvent,
  type CommandMsg,
  type HelloMsg,
  type RejectCode,
  type ServerMsg,
  type Session,
} from "../protocol/types.js";
import type { BackendPort } from "./backend-port.js";
import type { TokenTable } from "./tokens.js";

// The backend's WebSocket endpoint (PROTOCOL.md): handshake and auth, the
// snapshot-or-backlog then live event stream per tenant, commands with rate
// limiting, liveness, and a bounded send queue per client. The engine stays
// behind BackendPort; this module only moves frames.

export interface CommandRate {
  perSecond: number;
  burst: number;
}

/** One plain HTTP endpoint served next to the stream (e.g. GET /metrics, POST /v1/alertmanager). */
export interface HttpRoute {
  method: string;
  /** exact path, without query string */
  path: string;
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
}

export interface ServerOptions {
  backend: BackendPort;
  /** default 127.0.0.1 */
  host?: string;
  /** 0 (default) picks a free port */
  port?: number;
  /** null/undefined: demo mode without tokens, loopback hosts only */
  tokens?: TokenTable | null;
  /** demo mode's session; default {actor: "demo", role: "commander", tenant: the backend's first tenant or "demo"} */
  demoSession?: Session;
  serverName: string;
  /** bytes waiting for one client (socket buffer + queue) before it is closed 4409; default 8 MiB */
  maxQueueBytes?: number;
  pingIntervalMs?: number;
  livenessMs?: number;
  helloTimeoutMs?: number;
  /** per connection; default 20/s, burst 40 */
  commandRate?: CommandRate;
  /** how long a client the server closed has to finish the close handshake before its socket is destroyed; default 5000 */
  closeGraceMs?: number;
  /** serve https, so clients connect with wss:// */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** extra HTTP endpoints; GET /healthz is built in */
  routes?: HttpRoute[];
  log?: (line: string) => void;
  /** clock for liveness and rate limiting (ms); default Date.now */
  now?: () => number;
}

export interface RunningServer {
  /** ws://host:port/v1/stream (wss:// with tls) */
  url: string;
  port: number;
  /** closes every client with `code` ("server going away"), then the HTTP server */
  close(code?: number): Promise<void>;
  /** connected clients the server has not started closing */
  clients(): number;
  /** per-connection figures for GET /metrics: tenant (once past hello) and what waits to be sent */
  stats(): ClientStats[];
}

export interface ClientStats {
  /** null until the client said hello and was let in */
  tenant: string | null;
  /** frames and bytes queued in the server, not yet handed to the socket (a resume backlog counts its events) */
  queuedFrames: number;
  queuedBytes: number;
  /** bytes handed to the socket but not yet sent */
  bufferedBytes: number;
}

export const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;
export const DEFAULT_COMMAND_RATE: CommandRate = { perSecond: 20, burst: 40 };
const DEFAULT_CLOSE_GRACE_MS = 5_000;
/** On shutdown nobody waits long for a client that does not answer the close. */
const SHUTDOWN_GRACE_MS = 1_000;
/** RFC 6455: a close reason is at most 123 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 123;

const REASON = {
  tokenRejected: "token rejected: check COCKPIT_TOKEN",
  tokenMissing: "token required: set COCKPIT_TOKEN",
  tooSlow: "too slow: resume later",
  goingAway: "server going away",
  backendFailed: "backend error: reconnect later",
} as const;

// ---- small helpers ------------------------------------------------------------------

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (h === "localhost" || h === "::1") return true;
  if (h.startsWith("::ffff:")) return isLoopbackHost(h.slice("::ffff:".length));
  return isIP(h) === 4 && h.startsWith("127.");
}

function fitCloseReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_CLOSE_REASON_BYTES) return text;
  let out = "";
  for (const ch of text) {
    if (Buffer.byteLength(out + ch + "…") > MAX_CLOSE_REASON_BYTES) break;
    out += ch;
  }
  return out + "…";
}

function pathOf(url: string | undefined): string {
  try {
    return new URL(url ?? "/", "http://local").pathname;
  } catch {
    return "";
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  socket.on("error", () => undefined);
  const body = message + "\n";
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
      "Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

type BearerHeader = { kind: "none" } | { kind: "malformed" } | { kind: "token"; token: string };

function readBearer(req: IncomingMessage): BearerHeader {
  const header = req.headers.authorization;
  if (header === undefined) return { kind: "none" };
  const m = /^Bearer +(\S+) *$/i.exec(header);
  return m ? { kind: "token", token: m[1]! } : { kind: "malformed" };
}

/** Token bucket: `burst` commands at once, refilled at `perSecond`. */
class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(
    private readonly rate: CommandRate,
    private readonly now: () => number,
  ) {
    this.tokens = rate.burst;
    this.last = now();
  }
  take(): boolean {
    const t = this.now();
    this.tokens = Math.min(this.rate.burst, this.tokens + (Math.max(0, t - this.last) / 1000) * this.rate.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

interface Frame {
  text: string;
  bytes: number;
}

function frameOf(msg: ServerMsg): Frame {
  const text = JSON.stringify(msg);
  return { text, bytes: Buffer.byteLength(text) };
}

// Every streaming client of a tenant gets the same event frame: serialize it once.
const eventFrames = new WeakMap<CockpitEvent, Frame>();
function eventFrame(event: CockpitEvent): Frame {
  let frame = eventFrames.get(event);
  if (frame === undefined) {
    frame = frameOf({ type: "event", event });
    eventFrames.set(event, frame);
  }
  return frame;
}

/** Events read from the backend for a resume, sent as the socket drains. */
interface Backlog {
  events: CockpitEvent[];
  next: number;
}

/** FIFO with O(1) shift: a slow client can hold thousands of frames. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T): void {
    this.items.push(item);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  /** the i-th waiting item, 0 = next out */
  at(i: number): T | undefined {
    return this.items[this.head + i];
  }
  shift(): void {
    this.items[this.head] = undefined as T;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}

// ---- one client ---------------------------------------------------------------------

interface ConnectionContext {
  backend: BackendPort;
  tokens: TokenTable | null;
  demoSession(): Session;
  serverName: string;
  maxQueueBytes: number;
  /** the pump refills the socket buffer up to here, so a backlog never bloats it */
  lowWaterBytes: number;
  helloTimeoutMs: number;
  livenessMs: number;
  closeGraceMs: number;
  commandRate: CommandRate;
  now: () => number;
  log: (line: string) => void;
  /** the connection is past hello and wants live events */
  onStreaming(conn: ClientConnection): void;
  /** the connection no longer wants events (closing or closed) */
  onDetached(conn: ClientConnection): void;
  /** the socket is gone */
  onGone(conn: ClientConnection): void;
}

type Phase = "hello" | "streaming" | "closed";

class ClientConnection {
  phase: Phase = "hello";
  private session: Session | null = null;
  private headerSession: Session | null = null;
  private lastHeard: number;
  /** highest seq queued or skipped (any tenant): nothing at or below it is sent again */
  private watermark = 0;
  private readonly queue = new Fifo<Frame | Backlog>();
  /** bytes of frames in the queue (backlog excluded: the backend holds those anyway) */
  private queuedBytes = 0;
  private waitingForFlush = false;
  private helloTimer: NodeJS.Timeout | null;
  private killTimer: NodeJS.Timeout | null = null;
  private readonly bucket: TokenBucket;
  private gone = false;
  private readonly goneWaiters: Array<() => void> = [];

  constructor(
    private readonly ws: WebSocket,
    private readonly ctx: ConnectionContext,
    private readonly label: string,
    bearer: BearerHeader,
  ) {
    this.lastHeard = ctx.now();
    this.bucket = new TokenBucket(ctx.commandRate, ctx.now);
    ws.on("message", (data, isBinary) => this.onMessage(data, isBinary));
    ws.on("pong", () => (this.lastHeard = ctx.now()));
    ws.on("ping", () => (this.lastHeard = ctx.now()));
    ws.on("error", (err) => ctx.log(`${label}: socket error: ${err.message}`));
    ws.on("close", (code) => this.onClose(code));
    this.helloTimer = setTimeout(() => {
      this.helloTimer = null;
      this.closeWith(CLOSE.handshakeTimeout, `hello not received within ${ctx.helloTimeoutMs} ms`);
    }, ctx.helloTimeoutMs);

    // A header token is checked at once: a wrong one need not wait for hello.
    if (ctx.tokens && bearer.kind !== "none") {
      const session = bearer.kind === "token" ? ctx.tokens.lookup(bearer.token) : null;
      if (session === null) this.closeWith(CLOSE.unauthorized, REASON.tokenRejected);
      else this.headerSession = session;
    }
  }

  /** For GET /metrics. */
  stats(): ClientStats {
    let frames = 0;
    for (let i = 0; ; i++) {
      const item = this.queue.at(i);
      if (item === undefined) break;
      frames += "text" in item ? 1 : item.events.length - item.next;
    }
    return { tenant: this.phase === "streaming" ? (this.session?.tenant ?? null) : null, queuedFrames: frames, queuedBytes: this.queuedBytes, bufferedBytes: this.ws.bufferedAmount };
  }

  /** Called by the server's ping timer. */
  heartbeat(now: number): void {
    if (this.gone) return;
    if (now - this.lastHeard >= this.ctx.livenessMs) {
      this.ctx.log(`${this.label}: nothing heard for ${now - this.lastHeard} ms; dropping the connection`);
      this.detach();
      this.ws.terminate();
      return;
    }
    if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
  }

  /** New durable events from the backend, in seq order. */
  deliver(batch: readonly CockpitEvent[]): void {
    if (this.phase !== "streaming" || this.session === null) return;
    const tenant = this.session.tenant;
    let queued = false;
    for (const event of batch) {
      if (event.seq <= this.watermark) continue; // already in the snapshot or backlog
      this.watermark = event.seq;
      if (event.tenant !== tenant) continue;
      this.enqueue(eventFrame(event));
      queued = true;
    }
    if (queued) this.flush();
  }

  /** Close with `code` and resolve once the socket is gone (destroyed after a short grace). */
  shutdown(code: number, reason: string): Promise<void> {
    if (this.gone) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.goneWaiters.push(resolve));
    this.closeWith(code, reason);
    this.armKillTimer(SHUTDOWN_GRACE_MS);
    return done;
  }

  // ---- incoming ----

  private onMessage(data: RawData, isBinary: boolean): void {
    this.lastHeard = this.ctx.now();
    if (this.phase === "closed") return;
    if (this.phase === "hello") {
      this.onFirstFrame(data, isBinary);
      return;
    }
    if (isBinary) {
      this.send({ type: "error", code: "bad_request", message: "binary frames are not accepted: send one JSON object per text frame" });
      return;
    }
    const decoded = decodeClientFrame(toBuffer(data));
    if (!decoded.ok) {
      if (decoded.id !== undefined) this.send({ type: "reject", id: decoded.id, code: "bad_request", message: decoded.error });
      else this.send({ type: "error", code: decoded.code, message: decoded.error });
      return;
    }
    const msg = decoded.msg;
    switch (msg.type) {
      case "hello":
        this.send({ type: "error", code: "bad_request", message: "hello was already received on this connection: send commands or pings" });
        return;
      case "ping":
        this.send({ type: "pong", t: msg.t });
        return;
      case "command":
        this.onCommand(msg);
        return;
    }
  }

  private onFirstFrame(data: RawData, isBinary: boolean): void {
    this.clearHelloTimer();
    if (isBinary) {
      this.closeWith(CLOSE.badHandshake, "bad handshake: the first frame must be a JSON hello text frame");
      return;
    }
    const decoded = decodeClientFrame(toBuffer(data));
    if (!decoded.ok) {
      this.closeWith(CLOSE.badHandshake, `bad handshake: ${decoded.error}`);
      return;
    }
    const msg = decoded.msg;
    if (msg.type !== "hello") {
      this.closeWith(CLOSE.badHandshake, `bad handshake: the first frame must be hello, not ${msg.type}`);
      return;
    }
    if ((msg.protocol as number) !== PROTOCOL_VERSION) {
      this.closeWith(CLOSE.badHandshake, `bad handshake: protocol ${String(msg.protocol)} is not spoken here; this server speaks ${PROTOCOL_VERSION}`);
      return;
    }
    const session = this.authenticate(msg);
    if (session !== null) this.startStreaming(session, msg);
  }

  private authenticate(hello: HelloMsg): Session | null {
    const tokens = this.ctx.tokens;
    if (tokens === null) return this.ctx.demoSession();
    if (this.headerSession !== null) return this.headerSession;
    if (typeof hello.token !== "string" || hello.token.length === 0) {
      this.closeWith(CLOSE.unauthorized, REASON.tokenMissing);
      return null;
    }
    const session = tokens.lookup(hello.token);
    if (session === null) this.closeWith(CLOSE.unauthorized, REASON.tokenRejected);
    return session;
  }

  private startStreaming(session: Session, hello: HelloMsg): void {
    const { backend } = this.ctx;
    this.session = session;
    this.phase = "streaming";
    try {
      const headSeq = backend.headSeq();
      const clock = backend.serverClock?.();
      this.enqueue(frameOf({ type: "welcome", protocol: PROTOCOL_VERSION, server: this.ctx.serverName, session: { ...session }, headSeq, ...(clock ? { clock } : {}) }));
      const resumeFrom = hello.resumeFrom;
      // A resume point past our head comes from another log (a restarted demo,
      // another server): events up to it are not the ones the client saw.
      const canResume = typeof resumeFrom === "number" && Number.isSafeInteger(resumeFrom) && resumeFrom >= 0 && resumeFrom <= headSeq;
      const backlog = canResume ? backend.eventsSince(resumeFrom) : null;
      if (backlog === null) {
        const snap = backend.snapshot(session.tenant);
        this.enqueue(frameOf({ type: "snapshot", seq: snap.seq, state: snap.state }));
        this.watermark = snap.seq;
      } else {
        this.watermark = resumeFrom as number;
        const mine: CockpitEvent[] = [];
        for (const event of backlog) {
          if (event.seq <= this.watermark) continue;
          this.watermark = event.seq;
          if (event.tenant === session.tenant) mine.push(event);
        }
        if (mine.length > 0) this.queue.push({ events: mine, next: 0 });
      }
      this.ctx.log(
        `${this.label}: ${session.actor}@${session.tenant} (${session.role}) via ${sanitizeText(hello.client, { maxChars: 80 })}, ` +
          (backlog === null ? `snapshot at ${this.watermark}` : `resume from ${String(resumeFrom)} with ${backlog.length} events held`),
      );
    } catch (err) {
      this.ctx.log(`${this.label}: backend failed during the handshake: ${(err as Error).message}`);
      this.closeWith(1011, REASON.backendFailed);
      return;
    }
    this.ctx.onStreaming(this);
    this.flush();
  }

  private onCommand(cmd: CommandMsg): void {
    const session = this.session!;
    // A resend of a command the backend knows (a client retrying after a reconnect) is answered with the
    // first outcome and runs nothing again: it is not held to the rate, so the answer is not a rate_limited.
    const repeat = this.ctx.backend.knowsCommand?.(session, cmd.id) === true;
    if (!repeat && !this.bucket.take()) {
      const { perSecond, burst } = this.ctx.commandRate;
      this.sendReject(cmd.id, "rate_limited", `too many commands: at most ${perSecond}/s (burst ${burst}); wait and retry`);
      return;
    }
    this.ctx.backend.submitCommand(session, cmd).then(
      (outcome) => {
        if (outcome.kind === "ack") this.send({ type: "ack", id: cmd.id, seq: outcome.seq, duplicate: outcome.duplicate });
        else this.send({ type: "reject", id: cmd.id, code: outcome.code, message: outcome.message, duplicate: outcome.duplicate });
      },
      (err: unknown) => {
        this.ctx.log(`${this.label}: command ${cmd.id} (${cmd.action}) failed in the backend: ${(err as Error)?.message ?? String(err)}`);
        // The protocol promises one ack or reject per command id; "invalid_state"
        // is the closest code for "the backend could not apply it now".
        this.sendReject(cmd.id, "invalid_state", "the backend failed to run this command; retry later");
      },
    );
  }

  // ---- outgoing ----

  private send(msg: ServerMsg): void {
    if (this.phase !== "streaming") return;
    this.enqueue(frameOf(msg));
    this.flush();
  }

  private sendReject(id: string, code: RejectCode, message: string): void {
    this.send({ type: "reject", id, code, message });
  }

  private enqueue(frame: Frame): void {
    this.queue.push(frame);
    this.queuedBytes += frame.bytes;
  }

  /** Send what the socket can take, then enforce the queue bound. */
  private flush(): void {
    this.pump();
    if (this.phase === "streaming" && this.queuedBytes + this.ws.bufferedAmount > this.ctx.maxQueueBytes) {
      this.ctx.log(`${this.label}: ${this.queuedBytes + this.ws.bufferedAmount} bytes waiting; closing as too slow`);
      this.closeWith(CLOSE.tooSlow, REASON.tooSlow);
    }
  }

  private pump(): void {
    if (this.phase !== "streaming" || this.waitingForFlush) return;
    // The frames that go out together are one write to the kernel, not one each: a batch of
    // events costs the client one read (ws keeps its socket as _socket; without it, one write each).
    const socket = (this.ws as unknown as { _socket?: { cork(): void; uncork(): void } })._socket;
    socket?.cork();
    try {
      while (this.ws.readyState === WebSocket.OPEN && this.ws.bufferedAmount < this.ctx.lowWaterBytes) {
        const text = this.nextFrame();
        if (text === null) return;
        this.ws.send(text, this.onWritten);
      }
      if (this.queue.length > 0) this.waitingForFlush = true;
    } finally {
      socket?.uncork();
    }
  }

  // One shared callback per connection (not one closure per frame): each frame
  // written to the kernel is a chance to refill the socket buffer.
  private readonly onWritten = (err?: Error | null): void => {
    if (err || !this.waitingForFlush || this.ws.bufferedAmount >= this.ctx.lowWaterBytes) return;
    this.waitingForFlush = false;
    this.pump();
  };

  private nextFrame(): string | null {
    for (;;) {
      const head = this.queue.peek();
      if (head === undefined) return null;
      if ("text" in head) {
        this.queue.shift();
        this.queuedBytes -= head.bytes;
        return head.text;
      }
      const event = head.events[head.next++];
      if (head.next >= head.events.length) this.queue.shift();
      if (event !== undefined) return eventFrame(event).text;
    }
  }

  // ---- closing ----

  /** Stop serving: no more events, and what never went out is dropped (a closed client must not hold memory). */
  private detach(): boolean {
    this.clearHelloTimer();
    if (this.phase === "closed") return false;
    this.phase = "closed";
    this.queue.clear();
    this.queuedBytes = 0;
    this.ctx.onDetached(this);
    return true;
  }

  private closeWith(code: number, reason: string): void {
    if (this.detach() && code !== CLOSE.goingAway) this.ctx.log(`${this.label}: closing ${code} (${reason})`);
    if (this.gone) return;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(code, fitCloseReason(reason));
    this.armKillTimer(this.ctx.closeGraceMs);
  }

  private armKillTimer(ms: number): void {
    if (this.gone) return;
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    this.killTimer = setTimeout(() => this.ws.terminate(), ms);
    this.killTimer.unref();
  }

  private clearHelloTimer(): void {
    if (this.helloTimer !== null) {
      clearTimeout(this.helloTimer);
      this.helloTimer = null;
    }
  }

  private onClose(code: number): void {
    if (this.killTimer !== null) clearTimeout(this.killTimer);
    this.detach();
    this.gone = true;
    this.ctx.log(`${this.label}: closed (${code})`);
    this.ctx.onGone(this);
    for (const resolve of this.goneWaiters.splice(0)) resolve();
  }
}

// ---- the server -----------------------------------------------------------------------

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`startServer: ${name} must be a positive number, got ${String(value)}`);
  return value;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const hint = err.code === "EADDRINUSE" ? "the port is taken; pick another port or stop the other server" : "check host and port";
      reject(new Error(`cannot listen on ${host}:${port} (${err.code ?? err.message}): ${hint}`));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const address = server.address();
      resolve(typeof address === "object" && address !== null ? address.port : port);
    });
  });
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const host = opts.host ?? "127.0.0.1";
  const tokens = opts.tokens ?? null;
  if (tokens === null && !isLoopbackHost(host)) {
    throw new Error(`startServer: no tokens file, and ${host} is not a loopback address; pass a tokens file or bind 127.0.0.1 (demo mode)`);
  }
  const { backend } = opts;
  const log = opts.log ?? (() => undefined);
  const now = opts.now ?? Date.now;
  const maxQueueBytes = positive("maxQueueBytes", opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES);
  const pingIntervalMs = positive("pingIntervalMs", opts.pingIntervalMs ?? PING_INTERVAL_MS);
  const commandRate = opts.commandRate ?? DEFAULT_COMMAND_RATE;
  positive("commandRate.perSecond", commandRate.perSecond);
  positive("commandRate.burst", commandRate.burst);

  const all = new Set<ClientConnection>();
  const streaming = new Set<ClientConnection>();
  let closing: Promise<void> | null = null;
  let nextId = 1;

  const ctx: ConnectionContext = {
    backend,
    tokens,
    demoSession: () => opts.demoSession ?? { actor: "demo", role: "commander", tenant: backend.tenants?.()[0] ?? "demo" },
    serverName: opts.serverName,
    maxQueueBytes,
    lowWaterBytes: Math.max(1, Math.floor(maxQueueBytes / 4)),
    helloTimeoutMs: positive("helloTimeoutMs", opts.helloTimeoutMs ?? HELLO_TIMEOUT_MS),
    livenessMs: positive("livenessMs", opts.livenessMs ?? LIVENESS_TIMEOUT_MS),
    closeGraceMs: positive("closeGraceMs", opts.closeGraceMs ?? DEFAULT_CLOSE_GRACE_MS),
    commandRate,
    now,
    log,
    onStreaming: (conn) => streaming.add(conn),
    onDetached: (conn) => streaming.delete(conn),
    onGone: (conn) => all.delete(conn),
  };

  const routes: HttpRoute[] = [
    { method: "GET", path: "/healthz", handle: (_req, res) => sendJson(res, 200, { headSeq: backend.headSeq(), clients: countClients() }) },
    ...(opts.routes ?? []),
  ];

  function countClients(): number {
    let n = 0;
    for (const conn of all) if (conn.phase !== "closed") n++;
    return n;
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = pathOf(req.url);
    const method = req.method ?? "GET";
    const route = routes.find((r) => r.path === path && r.method === method);
    if (route) {
      try {
        await route.handle(req, res);
      } catch (err) {
        log(`http ${method} ${path} failed: ${(err as Error).message}`);
        if (!res.headersSent) sendJson(res, 500, { error: `${method} ${path} failed inside the server; see its log` });
        else res.destroy();
      }
      return;
    }
    const allowed = routes.filter((r) => r.path === path).map((r) => r.method);
    if (allowed.length > 0) {
      sendJson(res, 405, { error: `${method} is not allowed on ${path}; use ${allowed.join(", ")}` }, { allow: allowed.join(", ") });
    } else if (path === STREAM_PATH) {
      sendJson(res, 426, { error: `${STREAM_PATH} is a WebSocket endpoint: connect with a WebSocket client` }, { upgrade: "websocket" });
    } else {
      sendJson(res, 404, { error: `nothing at ${path}: the stream is ws ${STREAM_PATH}, health is GET /healthz` });
    }
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => void onRequest(req, res);
  const httpServer: Server = opts.tls ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : createHttpServer(handler);
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, perMessageDeflate: false, clientTracking: false });

  httpServer.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (pathOf(req.url) !== STREAM_PATH) return rejectUpgrade(socket, 404, `no WebSocket endpoint here: connect to ${STREAM_PATH}`);
    if (closing) return rejectUpgrade(socket, 503, "server is shutting down: reconnect later");
    // Browsers send Origin and let any web page open a socket to loopback: in
    // demo mode (no token) that page would get a commander session.
    if (tokens === null && req.headers.origin !== undefined) {
      return rejectUpgrade(socket, 403, "browser origins are refused in demo mode: run the backend with a tokens file");
    }
    const bearer = readBearer(req);
    wss.handleUpgrade(req, socket, head, (ws) => {
      const label = `ws#${nextId++} ${req.socket.remoteAddress ?? "?"}:${req.socket.remotePort ?? "?"}`;
      all.add(new ClientConnection(ws, ctx, label, bearer));
    });
  });

  const unsubscribe = backend.subscribe((batch) => {
    for (const conn of streaming) {
      try {
        conn.deliver(batch);
      } catch (err) {
        log(`delivering events failed for one client: ${(err as Error).message}`);
      }
    }
  });

  let port: number;
  try {
    port = await listen(httpServer, opts.port ?? 0, host);
  } catch (err) {
    unsubscribe();
    throw err;
  }

  const pinger = setInterval(() => {
    const t = now();
    for (const conn of all) conn.heartbeat(t);
  }, pingIntervalMs);
  pinger.unref();

  const urlHost = isIP(host) === 6 ? `[${host}]` : host;
  const url = `${opts.tls ? "wss" : "ws"}://${urlHost}:${port}${STREAM_PATH}`;
  log(`listening on ${url}${tokens === null ? " (demo mode: no tokens)" : ` (${tokens.size} tokens)`}`);

  return {
    url,
    port,
    clients: countClients,
    stats: () => [...all].filter((conn) => conn.phase !== "closed").map((conn) => conn.stats()),
    close(code: number = CLOSE.goingAway): Promise<void> {
      closing ??= (async () => {
        clearInterval(pinger);
        unsubscribe();
        // Stop listening at once; the callback waits for open connections.
        const stopped = new Promise<void>((resolve) => httpServer.close(() => resolve()));
        httpServer.closeIdleConnections();
        await Promise.all([...all].map((conn) => conn.shutdown(code, REASON.goingAway)));
        httpServer.closeAllConnections();
        await stopped;
        wss.close();
      })();
      return closing;
    },
  };
}
