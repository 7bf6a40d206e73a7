import WebSocket from "ws";
import { decodeServerFrame } from "../protocol/decode.js";
import type { CockpitEvent } from "../protocol/types.js";
import { VERSION } from "../version.js";

// Reading the event log over the protocol (for `postmortem ws://...`): hello
// from seq 0, take the backlog, and stop once a ping sent right after welcome
// comes back, since the server answers it after everything queued before it.
// A snapshot instead of events means the backend no longer holds its whole
// history in memory: a post-mortem from a partial log would mislead, so say so.

export interface WsSourceOptions {
  token?: string;
  ca?: string;
  timeoutMs?: number;
}

export async function* readLogOverWs(url: string, opts: WsSourceOptions = {}): AsyncGenerator<CockpitEvent> {
  const headers: Record<string, string> = opts.token ? { Authorization: `Bearer ${opts.token}` } : {};
  const ws = new WebSocket(url, { headers, ...(opts.ca ? { ca: opts.ca } : {}), maxPayload: 1024 * 1024 });
  const queue: CockpitEvent[] = [];
  let done = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const fail = (err: Error) => {
    if (!failure && !done) failure = err;
    notify();
  };
  const pingT = Date.now();
  const timer = setTimeout(() => fail(new Error(`${url} did not send its log within ${(opts.timeoutMs ?? 30_000) / 1000}s`)), opts.timeoutMs ?? 30_000);
  ws.on("open", () => ws.send(JSON.stringify({ type: "hello", protocol: 1, client: `cockpit-postmortem/${VERSION}`, resumeFrom: 0 })));
  ws.on("message", (data, isBinary) => {
    if (isBinary) return;
    const d = decodeServerFrame(data as Buffer);
    if (!d.ok) return;
    const m = d.msg;
    if (m.type === "welcome") ws.send(JSON.stringify({ type: "ping", t: pingT }));
    else if (m.type === "event") queue.push(m.event);
    else if (m.type === "snapshot" && m.seq > 0)
      fail(new Error(`${url} no longer holds its whole event log in memory (it sent a snapshot at seq ${m.seq}); run cockpit postmortem on the backend's data directory instead`));
    else if (m.type === "pong" && m.t === pingT) {
      done = true;
      notify();
    }
    notify();
  });
  ws.on("close", (code, reason) => {
    if (!done) fail(new Error(`${url} closed the connection (${code}${reason.length ? `: ${reason.toString()}` : ""})${code === 4401 ? "; check COCKPIT_TOKEN" : ""}`));
  });
  ws.on("error", (err) => fail(new Error(`cannot read ${url}: ${err.message}`)));
  try {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (failure) throw failure;
      if (done) return;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    clearTimeout(timer);
    ws.removeAllListeners("close");
    ws.on("error", () => undefined);
    ws.terminate();
  }
}
