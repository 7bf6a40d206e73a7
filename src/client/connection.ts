import WebSocket, { type RawData } from "ws";
import { decodeServerFrame } from "../protocol/decode.js";
import { sanitizeText } from "../protocol/sanitize.js";
import {
  LIVENESS_TIMEOUT_MS,
  MAX_FRAME_BYTES,
  PROTOCOL_VERSION,
  type Action,
  type CommandMsg,
  type HelloMsg,
  type ServerMsg,
  type Target,
} from "../protocol/types.js";
import type { CockpitStore } from "../store/cockpit-store.js";
import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
import { classifyClose, classifySocketError, type FailureKind, type Verdict } from "./close-reasons.js";
import { nextCommandId } from "./command-ids.js";
import { CommandOutbox, type PendingCommand } from "./outbox.js";
import { streamUrl } from "./stream-url.js";

// The cockpit's one socket to a backend: handshake, liveness, reconnect with
// backoff, resume without gap or repeat, and commands that keep their id
// across reconnects. Everything it learns goes into the store; nothing here
// renders, and a bad frame or a dead server never throws out of it.

export interface CommandRequest {
  action: Action;
  target: Target;
  reason?: string;
  args?: Record<string, unknown>;
}

export interface Connection {
  /**
   * Send a command; returns its id. The command shows in the store at once
   * (pending) and is sent now if live, else queued and sent, with the same id,
   * on the next live connection. Read-only mode: every protocol action changes
   * the log, so nothing is sent: returns "" and puts a sentence in
   * connection.error (no throw, so a key handler cannot crash the UI).
   */
  send(cmd: CommandRequest): string;
  /** Close for good (status "closed"); resolves once the socket is closed. */
  close(): Promise<void>;
}

/** The part of the store the connection writes to (the events CLI supplies its own). */
export type ConnectionSink = Pick<CockpitStore, "ingest">;

export interface ConnectOptions {
  url: string;
  token?: string;
  clientName: string;
  store: ConnectionSink;
  readonly?: boolean;
  /** PEM of the CA that signed a wss:// server's certificate */
  ca?: string;
  /** reconnect waits; default 500 ms doubling to 10 s, full jitter */
  backoff?: BackoffOptions;
  /** silence after which the connection counts as dead; default 15 s (PROTOCOL.md) */
  livenessMs?: number;
  now?: () => number;
  random?: () => number;

  // ---- beyond the store contract (all optional) ----
  /** send the token in hello instead of the Authorization header (for proxies that strip headers) */
  tokenInHello?: boolean;
  /** protocol pings for the RTT display; default 3000 ms */
  pingIntervalMs?: number;
  /** seq already seen before the first hello (events CLI --from); default null: start with a snapshot */
  resumeFrom?: number | null;
  /** consecutive attempts that never reach "live" before giving up (status failed); default unlimited */
  maxAttempts?: number;
  /** a connection live this long resets the backoff; default 5000 ms */
  stableMs?: number;
  /** commands waiting for an answer at most; default 64 */
  commandCapacity?: number;
  /** a command older than this is not sent (again) after a reconnect; default 60 s */
  commandRetryMs?: number;
  /**
   * Called after each welcome once the server has delivered what it queued
   * with the welcome (snapshot or backlog): the pong to a ping sent on welcome
   * comes after those frames on the same ordered stream. Seqs cannot tell this
   * on their own: headSeq counts every tenant, the stream carries only ours.
   */
  onCaughtUp?: () => void;
  /** called once when the connection stops for good on its own (not after close()) */
  onFail?: (failure: FailureKind, error: string) => void;
  /** id generator; default the process-wide `c-<random>-<counter>` */
  nextId?: () => string;
}

export const DEFAULT_PING_INTERVAL_MS = 3_000;
export const DEFAULT_STABLE_MS = 5_000;
export const DEFAULT_COMMAND_CAPACITY = 64;
export const DEFAULT_COMMAND_RETRY_MS = 60_000;
/** How long close() waits for the close handshake before cutting the socket. */
const CLOSE_GRACE_MS = 1_000;
/** A resent command the backend refused for rate goes again after this long. */
export const RATE_LIMITED_RESEND_MS = 1_000;

/** One socket and what this client knows about it. */
interface Link {
  ws: WebSocket;
  /** why the socket failed, from its "error" event (connection refused, HTTP 401, TLS ...) */
  verdict: Verdict | null;
  /** the liveness check killed it */
  silent: boolean;
  openedAt: number;
  live: boolean;
  liveSince: number;
  /** `t` of the ping sent with the welcome, until its pong arrives */
  catchUpPing: number | null;
  pingTimer: NodeJS.Timeout | null;
  livenessTimer: NodeJS.Timeout | null;
}

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}` : (ms / 1000).toFixed(1);
}

export function connect(opts: ConnectOptions): Connection {
  const url = streamUrl(opts.url);
  const store = opts.store;
  const now = opts.now ?? (() => Date.now());
  const livenessMs = opts.livenessMs ?? LIVENESS_TIMEOUT_MS;
  const pingIntervalMs = opts.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
  const stableMs = opts.stableMs ?? DEFAULT_STABLE_MS;
  const maxAttempts = opts.maxAttempts ?? Infinity;
  const commandRetryMs = opts.commandRetryMs ?? DEFAULT_COMMAND_RETRY_MS;
  const nextId = opts.nextId ?? nextCommandId;
  const hadToken = typeof opts.token === "string" && opts.token.length > 0;
  const backoff = new Backoff(opts.backoff ?? DEFAULT_BACKOFF, opts.random ?? Math.random);
  const outbox = new CommandOutbox(opts.commandCapacity ?? DEFAULT_COMMAND_CAPACITY);
  if (!(Number.isFinite(livenessMs) && livenessMs > 0)) throw new RangeError(`livenessMs: must be a positive number of ms, got ${livenessMs}`);
  // Check often enough that a dead link is noticed within a quarter of the window.
  const livenessCheckMs = Math.max(20, Math.min(1_000, Math.floor(livenessMs / 4)));

  let link: Link | null = null;
  /** highest seq handed to the store (snapshot or event); null until the first one */
  let lastSeq: number | null = opts.resumeFrom ?? null;
  /** ms epoch of the last frame of any kind (data, ping, pong); for staleSince */
  let lastFrameAt: number | undefined;
  let failedAttempts = 0;
  let retryTimer: NodeJS.Timeout | null = null;
  /** resent commands the backend refused for rate, to send again (see onReject) */
  const rateLimited = new Set<string>();
  let resendTimer: NodeJS.Timeout | null = null;
  /** closed by the caller or failed: no more sockets */
  let stopped = false;
  let stopReason = "";
  let closing: Promise<void> | null = null;

  function stopLinkTimers(l: Link): void {
    if (l.pingTimer) clearInterval(l.pingTimer);
    if (l.livenessTimer) clearInterval(l.livenessTimer);
    l.pingTimer = l.livenessTimer = null;
  }

  function write(l: Link, frame: unknown): void {
    // The callback swallows write errors: a socket closing under us ends in
    // "close", which is where reconnects happen.
    l.ws.send(JSON.stringify(frame), () => {});
  }

  function sendCommand(l: Link, p: PendingCommand): void {
    write(l, p.msg);
    outbox.markSent(p.msg.id);
  }

  function open(): void {
    if (stopped) return;
    const headers: Record<string, string> = {};
    if (hadToken && !opts.tokenInHello) headers.Authorization = `Bearer ${opts.token}`;
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, {
        headers,
        ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
        handshakeTimeout: livenessMs,
        maxPayload: MAX_FRAME_BYTES,
      });
    } catch (err) {
      // A token with a newline or other byte an HTTP header cannot carry ends up here.
      const why = err instanceof Error ? err.message : String(err);
      fail("auth", `cannot send the token to ${url} (${sanitizeText(why, { maxChars: 120 })}): check COCKPIT_TOKEN`);
      return;
    }
    const l: Link = { ws, verdict: null, silent: false, openedAt: now(), live: false, liveSince: 0, catchUpPing: null, pingTimer: null, livenessTimer: null };
    link = l;
    const heard = () => {
      lastFrameAt = now();
    };

    ws.on("open", () => {
      if (link !== l) return;
      l.openedAt = now();
      const hello: HelloMsg = { type: "hello", protocol: PROTOCOL_VERSION, client: opts.clientName, resumeFrom: lastSeq };
      if (hadToken && opts.tokenInHello) hello.token = opts.token;
      write(l, hello);
      l.livenessTimer = setInterval(() => checkLiveness(l), livenessCheckMs);
    });
    ws.on("message", (data: RawData, isBinary: boolean) => {
      if (link !== l) return;
      heard();
      if (isBinary) {
        store.ingest.connection({ error: `ignored a binary frame from ${url}: the protocol sends JSON text frames` });
        return;
      }
      try {
        onFrame(l, rawToBuffer(data));
      } catch (err) {
        // A store that throws on one frame must not take the socket, or the process, down with it.
        store.ingest.connection({ error: `could not apply a frame from ${url}: ${sanitizeText(String((err as Error)?.message ?? err), { maxChars: 160 })}` });
      }
    });
    ws.on("ping", heard);
    ws.on("pong", heard);
    ws.on("error", (err: Error & { code?: string }) => {
      if (!l.verdict) l.verdict = classifySocketError(err, url, hadToken);
    });
    ws.on("close", (code: number, reason: Buffer) => onClosed(l, code, reason.toString("utf8")));
  }

  function checkLiveness(l: Link): void {
    if (link !== l) return;
    const since = Math.max(l.openedAt, lastFrameAt ?? 0);
    if (now() - since < livenessMs) return;
    l.silent = true;
    store.ingest.connection({
      status: "stale",
      staleSince: lastFrameAt ?? l.openedAt,
      error: `${url} has been silent for ${seconds(livenessMs)} s; reconnecting`,
    });
    // terminate, not close: a silent peer would never finish a close handshake.
    l.ws.terminate();
  }

  function onFrame(l: Link, raw: Buffer): void {
    const decoded = decodeServerFrame(raw);
    if (!decoded.ok) {
      const why = sanitizeText(decoded.error, { maxChars: 200 });
      // Before a welcome nothing else can follow: an unreadable answer to hello
      // is a server speaking another protocol, and retrying would only repeat it.
      if (!l.live) return fail("protocol", `${url} answered the handshake with a frame this cockpit cannot read (${why}): protocol mismatch? upgrade one side`);
      store.ingest.connection({ error: `ignored a malformed frame from ${url}: ${why}` });
      return;
    }
    const msg: ServerMsg = decoded.msg;
    if (msg.type === "welcome") return onWelcome(l, msg);
    if (msg.type === "error") {
      store.ingest.connection({ error: `${url} could not use a frame from this cockpit (${msg.code}): ${msg.message}` });
      return;
    }
    if (!l.live) {
      const article = /^[aeiou]/.test(msg.type) ? "an" : "a";
      store.ingest.connection({ error: `ignored ${article} ${msg.type} frame that ${url} sent before its welcome` });
      return;
    }
    switch (msg.type) {
      case "snapshot":
        // A snapshot is the whole truth as of its seq: later events continue from it.
        lastSeq = msg.seq;
        store.ingest.snapshot(msg);
        return;
      case "event":
        if (lastSeq !== null && msg.event.seq <= lastSeq) return; // seen already: never shown twice
        lastSeq = msg.event.seq;
        store.ingest.event(msg.event);
        return;
      case "ack":
        outbox.settle(msg.id);
        store.ingest.ack(msg);
        return;
      case "reject":
        onReject(msg);
        return;
      case "pong": {
        const rtt = now() - msg.t;
        if (Number.isFinite(rtt) && rtt >= 0) store.ingest.connection({ rttMs: rtt });
        if (l.catchUpPing !== null && msg.t === l.catchUpPing) {
          l.catchUpPing = null;
          opts.onCaughtUp?.();
        }
        return;
      }
    }
  }

  function onReject(msg: Extract<ServerMsg, { type: "reject" }>): void {
    const p = outbox.get(msg.id);
    // The rate limit answers a frame, not the command: a resent command may
    // have run on its first send (its ack lost with the connection), and a
    // queued one was not sent by the person at this rate. Only a command sent
    // once, the moment it was made, has "rate_limited" as its outcome; the
    // others stay pending and go again shortly, so the original answer comes back.
    if (msg.code === "rate_limited" && p !== undefined && !(p.sentAtOnce && p.sends === 1) && !stopped) {
      rateLimited.add(msg.id);
      scheduleRateLimitedResend();
      return;
    }
    outbox.settle(msg.id);
    store.ingest.reject(msg);
  }

  function scheduleRateLimitedResend(): void {
    if (resendTimer !== null) return;
    resendTimer = setTimeout(() => {
      resendTimer = null;
      const l = link;
      // Not live: the next welcome sends every pending command again anyway.
      if (stopped || !l || !l.live) return;
      const cutoff = now() - commandRetryMs;
      for (const id of [...rateLimited]) {
        rateLimited.delete(id);
        const p = outbox.get(id);
        if (!p) continue;
        if (p.createdAt <= cutoff) {
          outbox.settle(id);
          store.ingest.commandUnknown(id, "outcome unknown: the backend kept refusing its resend (rate limited); check the timeline before giving it again");
          continue;
        }
        sendCommand(l, p);
      }
    }, RATE_LIMITED_RESEND_MS);
  }

  function stopResends(): void {
    if (resendTimer !== null) clearTimeout(resendTimer);
    resendTimer = null;
    rateLimited.clear();
  }

  function onWelcome(l: Link, msg: Extract<ServerMsg, { type: "welcome" }>): void {
    if (l.live) {
      store.ingest.connection({ error: `ignored a second welcome from ${url}` });
      return;
    }
    if (msg.protocol !== PROTOCOL_VERSION) {
      fail("protocol", `${url} speaks protocol ${String(msg.protocol)}, this cockpit speaks ${PROTOCOL_VERSION}: upgrade one side`);
      return;
    }
    l.live = true;
    l.liveSince = now();
    failedAttempts = 0;
    store.ingest.welcome(msg);
    store.ingest.connection({ status: "live", session: msg.session, error: undefined, retryAt: undefined, staleSince: undefined });
    l.catchUpPing = now();
    write(l, { type: "ping", t: l.catchUpPing });
    l.pingTimer = setInterval(() => {
      if (link === l && l.live) write(l, { type: "ping", t: now() });
    }, pingIntervalMs);
    // Unanswered commands go again with their own ids: the server answers a
    // repeat with the original outcome, so a command that already ran is not run twice.
    for (const p of outbox.takeOlderThan(now() - commandRetryMs)) {
      store.ingest.commandUnknown(
        p.msg.id,
        p.sends > 0
          ? "outcome unknown: the connection was cut before the answer and it is too old to send again; check the timeline"
          : "not sent: the connection was down too long; give the command again if it is still needed",
      );
    }
    stopResends(); // every pending command goes now
    for (const p of outbox.pending()) sendCommand(l, p);
  }

  function onClosed(l: Link, code: number, reason: string): void {
    stopLinkTimers(l);
    if (link !== l) return; // replaced or closed by close()
    link = null;
    if (stopped) return;
    const wasLive = l.live;
    l.live = false;
    let verdict: Verdict;
    if (l.silent) verdict = { action: "reconnect", error: `${url} was silent for ${seconds(livenessMs)} s; reconnecting` };
    else if (code === 1005 || code === 1006) verdict = l.verdict ?? { action: "reconnect", error: `connection to ${url} lost; reconnecting` };
    else verdict = classifyClose(code, reason, url, hadToken);
    if (verdict.action === "fail") return fail(verdict.failure, verdict.error);
    if (wasLive && now() - l.liveSince >= stableMs) backoff.reset();
    if (!wasLive) {
      failedAttempts += 1;
      if (failedAttempts >= maxAttempts) {
        const why = verdict.error?.replace(/; reconnecting$/, "") ?? `cannot reach ${url}`;
        return fail("unreachable", `${why} (gave up after ${failedAttempts} attempts)`);
      }
    }
    scheduleReconnect(verdict.error);
  }

  function scheduleReconnect(error: string | undefined): void {
    const delay = backoff.next();
    store.ingest.connection({ status: "reconnecting", retryAt: now() + delay, staleSince: lastFrameAt, error, rttMs: undefined });
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (stopped) return;
      store.ingest.connection({ retryAt: undefined }); // attempt under way
      open();
    }, delay);
  }

  function settleAllUnknown(why: string): void {
    for (const p of outbox.drain()) store.ingest.commandUnknown(p.msg.id, p.sends > 0 ? `outcome unknown: ${why}` : `not sent: ${why}`);
  }

  function fail(kind: FailureKind, error: string): void {
    if (stopped) return;
    stopped = true;
    stopReason = error;
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    stopResends();
    const l = link;
    link = null;
    if (l) {
      stopLinkTimers(l);
      l.ws.terminate();
    }
    store.ingest.connection({ status: "failed", error, retryAt: undefined, rttMs: undefined });
    settleAllUnknown(error);
    opts.onFail?.(kind, error);
  }

  function send(req: CommandRequest): string {
    if (opts.readonly) {
      store.ingest.connection({ error: `read-only mode: ${req.action} was not sent` });
      return "";
    }
    const id = nextId();
    const msg: CommandMsg = { type: "command", id, action: req.action, target: req.target };
    if (req.reason !== undefined) msg.reason = req.reason;
    if (req.args !== undefined) msg.args = req.args;
    store.ingest.commandSent(msg);
    // Refusals below are answered locally as rejects, so the command line in
    // the UI says why, just as for a server's reject.
    const refuse = (code: "bad_request" | "rate_limited", message: string) => store.ingest.reject({ type: "reject", id, code, message });
    let bytes: number;
    try {
      bytes = Buffer.byteLength(JSON.stringify(msg), "utf8");
    } catch {
      refuse("bad_request", "not sent: its arguments cannot be written as JSON");
      return id;
    }
    if (bytes > MAX_FRAME_BYTES) {
      refuse("bad_request", "not sent: larger than the 1 MiB frame limit; shorten the text");
      return id;
    }
    if (stopped) {
      store.ingest.commandUnknown(id, `not sent: ${stopReason || "the connection is closed"}`);
      return id;
    }
    if (!outbox.add(msg, now())) {
      refuse("rate_limited", `not sent: ${outbox.capacity} commands already wait for an answer from ${url}; wait for them`);
      return id;
    }
    const l = link;
    const pending = outbox.get(id);
    if (l && l.live && pending) {
      pending.sentAtOnce = true;
      sendCommand(l, pending);
    }
    return id;
  }

  function close(): Promise<void> {
    if (closing) return closing;
    const wasStopped = stopped;
    stopped = true;
    stopReason = "the connection was closed";
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    stopResends();
    const l = link;
    link = null;
    if (!wasStopped) {
      store.ingest.connection({ status: "closed", retryAt: undefined });
      settleAllUnknown("the cockpit closed the connection first");
    }
    if (!l) return (closing = Promise.resolve());
    stopLinkTimers(l);
    closing = new Promise<void>((resolve) => {
      if (l.ws.readyState === WebSocket.CLOSED) return resolve();
      const cut = setTimeout(() => l.ws.terminate(), CLOSE_GRACE_MS);
      l.ws.once("close", () => {
        clearTimeout(cut);
        resolve();
      });
      if (l.ws.readyState === WebSocket.CONNECTING) l.ws.terminate();
      else l.ws.close(1000, "cockpit closing");
    });
    return closing;
  }

  store.ingest.connection({ status: "connecting", url });
  open();
  return { send, close };
}
