import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";

// A TCP relay between a cockpit and a real backend that does to the wire what
// networks do:
//   stall()  - every byte, both ways, on every connection old and new, is held
//              (not lost) until resume(); a side that hung up meanwhile still
//              gets what was held for the other side delivered late, as a slow
//              network delivers a command after the client gave up on it
//   drop()   - the connections open now become black holes: bytes both ways
//              are discarded, sockets stay open (a NAT or firewall that lost
//              the flow); new connections work
//   mute()   - on the connections open now, bytes from the server are
//              discarded while the client's still go through (commands arrive
//              and run, their answers are lost)
//   cut()    - every current connection is destroyed (RST/FIN both ways)
//   refuse() - new connections are closed as soon as they arrive, until accept()

interface Pair {
  client: Socket;
  upstream: Socket;
  blackhole: boolean;
  muted: boolean;
  /** bytes held while stalled, in order */
  toUpstream: Buffer[];
  toClient: Buffer[];
  clientGone: boolean;
  upstreamGone: boolean;
}

export interface FaultProxy {
  port: number;
  /** ws://127.0.0.1:<port><path> */
  url(path?: string): string;
  /** connections accepted (refused ones included) */
  readonly accepted: number;
  /** connections currently relayed */
  readonly open: number;
  stall(): void;
  resume(): void;
  drop(): void;
  mute(): void;
  cut(): void;
  refuse(): void;
  accept(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  let accepted = 0;
  let stalled = false;
  let refusing = false;

  function forget(p: Pair): void {
    pairs.delete(p);
    p.client.destroy();
    p.upstream.destroy();
  }

  function toUp(p: Pair, d: Buffer): void {
    if (p.blackhole) return;
    if (stalled) p.toUpstream.push(d);
    else if (!p.upstreamGone) p.upstream.write(d);
  }

  function toDown(p: Pair, d: Buffer): void {
    if (p.blackhole || p.muted) return;
    if (stalled) p.toClient.push(d);
    else if (!p.clientGone) p.client.write(d);
  }

  const server: Server = createServer((client) => {
    accepted += 1;
    client.on("error", () => {});
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(targetPort, "127.0.0.1");
    upstream.on("error", () => {});
    const p: Pair = { client, upstream, blackhole: false, muted: false, toUpstream: [], toClient: [], clientGone: false, upstreamGone: false };
    pairs.add(p);
    client.on("data", (d: Buffer) => toUp(p, d));
    upstream.on("data", (d: Buffer) => toDown(p, d));
    client.on("close", () => {
      p.clientGone = true;
      // While stalled, what the client sent is still "in the network": keep the
      // upstream open so resume() can deliver it late, then hang up.
      if (!stalled || p.toUpstream.length === 0) forget(p);
    });
    upstream.on("close", () => {
      p.upstreamGone = true;
      if (!stalled || p.toClient.length === 0) forget(p);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  return {
    port,
    url: (path = "/v1/stream") => `ws://127.0.0.1:${port}${path}`,
    get accepted() {
      return accepted;
    },
    get open() {
      return pairs.size;
    },
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const p of [...pairs]) {
        const up = p.toUpstream.splice(0);
        const down = p.toClient.splice(0);
        if (!p.upstreamGone) for (const d of up) p.upstream.write(d);
        if (!p.clientGone) for (const d of down) p.client.write(d);
        // A side that hung up during the stall: finish the other one after the late bytes.
        if (p.clientGone) {
          pairs.delete(p);
          p.upstream.end();
        } else if (p.upstreamGone) {
          pairs.delete(p);
          p.client.end();
        }
      }
    },
    drop() {
      for (const p of pairs) {
        p.blackhole = true;
        p.toUpstream.length = 0;
        p.toClient.length = 0;
      }
    },
    mute() {
      for (const p of pairs) p.muted = true;
    },
    cut() {
      for (const p of [...pairs]) forget(p);
    },
    refuse() {
      refusing = true;
    },
    accept() {
      refusing = false;
    },
    close() {
      for (const p of [...pairs]) forget(p);
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
