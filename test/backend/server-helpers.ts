import { WebSocket, type ClientOptions } from "ws";
import type { ServerMsg } from "../../src/protocol/types.js";

// Test doubles for the server: a ws client that records frames (the in-memory
// BackendPort is test/support/memory-backend.ts). Real sockets everywhere;
// nothing here mocks the network.

export interface Closed {
  code: number;
  reason: string;
}

/** A ws client that records every frame, for asserting order and content. */
export class TestClient {
  readonly received: ServerMsg[] = [];
  readonly closed: Promise<Closed>;
  readonly opened: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(readonly ws: WebSocket) {
    this.opened = new Promise((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    this.closed = new Promise((resolve) => ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on("error", () => undefined);
    ws.on("message", (data) => {
      this.received.push(JSON.parse(data.toString()) as ServerMsg);
      this.wake();
    });
    ws.on("close", () => this.wake());
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(value: unknown): void {
    this.ws.send(typeof value === "string" ? value : JSON.stringify(value));
  }

  hello(resumeFrom: number | null = null, extra: Record<string, unknown> = {}): void {
    this.send({ type: "hello", protocol: 1, client: "test/1", resumeFrom, ...extra });
  }

  /** Resolve once `pred` holds for the frames so far (the test timeout bounds the wait). */
  async until(pred: (received: ServerMsg[]) => boolean, what = "condition"): Promise<void> {
    while (!pred(this.received)) {
      if (this.ws.readyState === WebSocket.CLOSED) {
        throw new Error(`connection closed while waiting for ${what}; got ${JSON.stringify(this.received.map((m) => m.type))}`);
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** The first frame of `type` after the first `skip` of that type. */
  async next<T extends ServerMsg["type"]>(type: T, skip = 0): Promise<Extract<ServerMsg, { type: T }>> {
    await this.until((r) => r.filter((m) => m.type === type).length > skip, `a ${type} frame`);
    return this.received.filter((m) => m.type === type)[skip] as Extract<ServerMsg, { type: T }>;
  }

  eventSeqs(): number[] {
    return this.received.flatMap((m) => (m.type === "event" ? [m.event.seq] : []));
  }

  async untilEvent(seq: number): Promise<void> {
    await this.until((r) => r.some((m) => m.type === "event" && m.event.seq >= seq), `event ${seq}`);
  }

  close(): Promise<Closed> {
    this.ws.close();
    return this.closed;
  }
}

export async function connect(url: string, options: ClientOptions = {}): Promise<TestClient> {
  const client = new TestClient(new WebSocket(url, options));
  await client.opened;
  return client;
}

/** Connect, say hello and wait for the welcome. */
export async function join(url: string, resumeFrom: number | null = null, options: ClientOptions & { token?: string } = {}): Promise<TestClient> {
  const { token, ...wsOptions } = options;
  const client = await connect(url, wsOptions);
  client.hello(resumeFrom, token === undefined ? {} : { token });
  await client.next("welcome");
  return client;
}

export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Frames in the order they came, as type names. */
export function types(client: TestClient): string[] {
  return client.received.map((m) => m.type);
}
