import { createServer, connect as tcpConnect, type Server, type Socket } from "node:net";

// A TCP relay between the client and a real server, so a test can do to the
// wire what networks do: cut every connection at once, or let one go silent
// (bytes from the server dropped) while the sockets stay open.

interface Pair {
  client: Socket;
  upstream: Socket;
  /** server-to-client bytes are dropped */
  silent: boolean;
}

export interface TcpProxy {
  port: number;
  /** ws://127.0.0.1:<port><path> */
  url(path?: string): string;
  /** connections accepted so far */
  readonly accepted: number;
  /** destroy every current connection (both sides) */
  cut(): void;
  /** current connections stop delivering server bytes; new ones work */
  silence(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let accepted = 0;
  const server: Server = createServer((client) => {
    accepted += 1;
    const upstream = tcpConnect(targetPort, "127.0.0.1");
    const pair: Pair = { client, upstream, silent: false };
    pairs.add(pair);
    client.on("data", (d) => upstream.write(d));
    upstream.on("data", (d) => {
      if (!pair.silent) client.write(d);
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end);
    upstream.on("close", end);
    client.on("error", () => {});
    upstream.on("error", () => {});
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
    cut() {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    silence() {
      for (const p of pairs) p.silent = true;
    },
    close() {
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
