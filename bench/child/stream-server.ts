import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { parseArgs } from "node:util";
import { WebSocketServer, type WebSocket } from "ws";
import type { WelcomeMsg } from "../../src/protocol/types.js";

// A benchmark's backend, in its own process so it does not share a core with
// the client being measured. It answers hello with welcome and then streams
// the frames of a file (one server frame per line), to each connection anew:
//   burst  as fast as the socket drains: the frames are framed once up front
//          (RFC 6455 unmasked text frames, what ws itself sends) and written
//          straight to the socket, so the server costs next to nothing and the
//          client is the bottleneck;
//   rate   --rate frames per second through ws.send, for --seconds.
// Prints "URL <ws url>"; "STREAMED <n> <ms>" after each connection's stream.

const { values } = parseArgs({
  options: {
    frames: { type: "string" },
    mode: { type: "string", default: "burst" },
    rate: { type: "string", default: "2000" },
    seconds: { type: "string", default: "10" },
  },
});
if (!values.frames) throw new Error("stream-server: give --frames FILE");
const frames = readFileSync(values.frames, "utf8").split("\n").filter(Boolean);
const rate = Number(values.rate);
const seconds = Number(values.seconds);

/** One unmasked, final text frame. */
function wsFrame(payload: Buffer): Buffer {
  const n = payload.length;
  const headerLength = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(headerLength + n);
  out[0] = 0x81;
  if (n < 126) out[1] = n;
  else if (n < 65536) {
    out[1] = 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  payload.copy(out, headerLength);
  return out;
}

/** The whole stream as ~64 KiB chunks that end on frame boundaries. */
function burstChunks(): Buffer[] {
  const chunks: Buffer[] = [];
  let pending: Buffer[] = [];
  let size = 0;
  for (const f of frames) {
    const b = wsFrame(Buffer.from(f, "utf8"));
    pending.push(b);
    size += b.length;
    if (size >= 64 * 1024) {
      chunks.push(Buffer.concat(pending));
      pending = [];
      size = 0;
    }
  }
  if (pending.length > 0) chunks.push(Buffer.concat(pending));
  return chunks;
}
const chunks = values.mode === "burst" ? burstChunks() : [];

function welcome(): string {
  const msg: WelcomeMsg = {
    type: "welcome",
    protocol: 1,
    server: "bench-stream-server",
    session: { actor: "bench", role: "operator", tenant: "payments" },
    headSeq: frames.length,
  };
  return JSON.stringify(msg);
}

async function burst(ws: WebSocket): Promise<void> {
  const socket = (ws as unknown as { _socket: Socket })._socket;
  const t0 = performance.now();
  for (const c of chunks) {
    if (ws.readyState !== ws.OPEN) return;
    if (!socket.write(c)) await new Promise((r) => socket.once("drain", r));
  }
  process.stdout.write(`STREAMED ${frames.length} ${Math.round(performance.now() - t0)}\n`);
}

function paced(ws: WebSocket): void {
  const t0 = performance.now();
  const total = Math.min(frames.length, Math.round(rate * seconds));
  let sent = 0;
  const timer = setInterval(() => {
    if (ws.readyState !== ws.OPEN) return clearInterval(timer);
    const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000));
    // As the backend's fan-out does (src/backend/server.ts): the frames due at once go out in one write.
    const socket = (ws as unknown as { _socket?: Socket })._socket;
    socket?.cork();
    while (sent < due) ws.send(frames[sent++]!);
    socket?.uncork();
    if (sent >= total) {
      clearInterval(timer);
      process.stdout.write(`STREAMED ${sent} ${Math.round(performance.now() - t0)}\n`);
    }
  }, 5);
}

const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, path: "/v1/stream", perMessageDeflate: false });
wss.on("connection", (ws) => {
  let started = false;
  ws.on("message", (data) => {
    let msg: { type?: string; t?: number };
    try {
      msg = JSON.parse(String(data)) as { type?: string; t?: number };
    } catch {
      return;
    }
    if (msg.type === "hello" && !started) {
      started = true;
      ws.send(welcome());
      if (values.mode === "burst") void burst(ws);
      else paced(ws);
    } else if (msg.type === "ping" && values.mode !== "burst") {
      // The cockpit's latency display; in burst mode the socket is written raw, so nothing may interleave.
      ws.send(JSON.stringify({ type: "pong", t: msg.t }));
    }
  });
  ws.on("error", () => undefined);
});
wss.on("listening", () => {
  const addr = wss.address();
  if (typeof addr === "object" && addr !== null) process.stdout.write(`URL ws://127.0.0.1:${addr.port}/v1/stream\n`);
});
process.on("SIGTERM", () => {
  for (const c of wss.clients) c.terminate();
  wss.close(() => process.exit(0));
});
