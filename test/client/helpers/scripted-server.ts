import type { IncomingMessage } from "node:http";
import { WebSocketServer, type WebSocket } from "ws";
import { GENESIS_HASH, type CockpitEvent, type HelloMsg } from "../../../src/protocol/types.js";
import { eventHash } from "../../../src/protocol/canonical.js";

// A plain ws server whose every frame the test scripts: for what a correct
// server never does (stay silent, send garbage, repeat events, close with a
// given code). It records each hello and Authorization header it receives.

export interface ScriptedServer {
  url: string;
  port: number;
  hellos: HelloMsg[];
  authorizations: Array<string | undefined>;
  /** every non-hello frame the clients sent, parsed */
  frames: Array<Record<string, unknown>>;
  sockets: WebSocket[];
  close(): Promise<void>;
}

/** `script(ws, hello, n)` runs when connection n (0-based) says hello. */
export async function startScriptedServer(script: (ws: WebSocket, hello: HelloMsg, n: number) => void): Promise<ScriptedServer> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  const address = wss.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  const server: ScriptedServer = {
    url: `ws://127.0.0.1:${port}/v1/stream`,
    port,
    hellos: [],
    authorizations: [],
    frames: [],
    sockets: [],
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of server.sockets) ws.terminate();
        wss.close(() => resolve());
      }),
  };
  wss.on("connection", (ws: WebSocket, req: IncomingMessage) => {
    const n = server.sockets.length;
    server.sockets.push(ws);
    server.authorizations.push(req.headers.authorization);
    let greeted = false;
    ws.on("error", () => {});
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      if (!greeted && msg.type === "hello") {
        greeted = true;
        server.hellos.push(msg as unknown as HelloMsg);
        script(ws, msg as unknown as HelloMsg, n);
      } else server.frames.push(msg);
    });
  });
  return server;
}

export function welcome(headSeq: number) {
  return JSON.stringify({ type: "welcome", protocol: 1, server: "scripted", session: { actor: "tester", role: "operator", tenant: "demo" }, headSeq });
}

export function snapshot(seq: number) {
  return JSON.stringify({ type: "snapshot", seq, state: { rollouts: [], alerts: [], incidents: [] } });
}

/** Events 1..n of a valid hash chain (note.added). */
export function chain(n: number): CockpitEvent[] {
  const out: CockpitEvent[] = [];
  for (let seq = 1; seq <= n; seq++) {
    const body: Omit<CockpitEvent, "hash"> = {
      seq,
      id: `evt_${seq}`,
      time: new Date(Date.parse("2026-11-21T14:00:00.000Z") + seq * 1000).toISOString(),
      tenant: "demo",
      type: "note.added",
      actor: { kind: "engine", name: "engine" },
      data: { text: `note ${seq}` },
      prev: out.at(-1)?.hash ?? GENESIS_HASH,
    };
    out.push({ ...body, hash: eventHash(body) } as CockpitEvent);
  }
  return out;
}

export function eventFrame(e: CockpitEvent) {
  return JSON.stringify({ type: "event", event: e });
}
