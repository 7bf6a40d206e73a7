import { WebSocket } from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { isLoopbackHost, startServer, type RunningServer, type ServerOptions } from "../../src/backend/server.js";
import { createTokenTable, hashToken, mintToken } from "../../src/backend/tokens.js";
import { MemoryBackend } from "../support/memory-backend.js";
import { join, type TestClient } from "./server-helpers.js";

// Starting the server, its plain HTTP side, and which upgrades it refuses.

const servers: RunningServer[] = [];
const clients: TestClient[] = [];

async function start(backend: MemoryBackend, extra: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const server = await startServer({ backend, serverName: "http-test", ...extra });
  servers.push(server);
  return server;
}

function httpBase(server: RunningServer): string {
  return `http://127.0.0.1:${server.port}`;
}

/** The HTTP status a WebSocket upgrade is refused with. */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on("open", () => reject(new Error(`upgrade to ${url} was accepted`)));
    ws.on("error", () => undefined);
  });
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  for (const s of servers.splice(0)) await s.close();
});

describe("startServer", () => {
  it("refuses demo mode (no tokens) on a host that is not loopback", async () => {
    await expect(startServer({ backend: new MemoryBackend(), serverName: "x", host: "0.0.0.0" })).rejects.toThrow(
      "no tokens file, and 0.0.0.0 is not a loopback address; pass a tokens file or bind 127.0.0.1",
    );
    await expect(startServer({ backend: new MemoryBackend(), serverName: "x", host: "10.1.2.3", tokens: null })).rejects.toThrow(/not a loopback/);
  });

  it("listens on any host when a token table is given", async () => {
    const tokens = createTokenTable([{ sha256: hashToken(mintToken()), name: "a", role: "viewer", tenant: "t" }]);
    const server = await start(new MemoryBackend(), { host: "0.0.0.0", tokens });
    expect(server.url).toBe(`ws://0.0.0.0:${server.port}/v1/stream`);
  });

  it("says which port is taken, and leaves the backend unsubscribed", async () => {
    const backend = new MemoryBackend();
    const first = await start(backend);
    await expect(startServer({ backend, serverName: "x", port: first.port })).rejects.toThrow(
      `cannot listen on 127.0.0.1:${first.port} (EADDRINUSE)`,
    );
    expect(backend.listenerCount()).toBe(1);
  });

  it("refuses option values that cannot work", async () => {
    await expect(startServer({ backend: new MemoryBackend(), serverName: "x", maxQueueBytes: 0 })).rejects.toThrow("maxQueueBytes must be a positive number");
    await expect(startServer({ backend: new MemoryBackend(), serverName: "x", commandRate: { perSecond: 5, burst: -1 } })).rejects.toThrow(
      "commandRate.burst must be a positive number",
    );
  });
});

describe("isLoopbackHost", () => {
  it.each(["127.0.0.1", "127.9.8.7", "localhost", "LOCALHOST", "::1", "[::1]", "::ffff:127.0.0.1"])("treats %s as loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  it.each(["0.0.0.0", "::", "10.0.0.1", "192.168.1.10", "example.com", "localhost.example.com", "127.0.0.1.nip.io", ""])(
    "treats %s as not loopback",
    (host) => {
      expect(isLoopbackHost(host)).toBe(false);
    },
  );
});

describe("HTTP", () => {
  it("answers GET /healthz with headSeq and clients", async () => {
    const backend = new MemoryBackend(["payments"]);
    backend.note("payments");
    backend.note("payments");
    const server = await start(backend);
    const client = await join(server.url);
    clients.push(client);
    const res = await fetch(`${httpBase(server)}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ headSeq: 2, clients: 1 });
  });

  it("answers unknown paths 404, a wrong method 405 and a plain GET of the stream 426", async () => {
    const server = await start(new MemoryBackend());
    const notFound = await fetch(`${httpBase(server)}/nope`);
    expect(notFound.status).toBe(404);
    expect((await notFound.json()).error).toContain("/healthz");

    const wrongMethod = await fetch(`${httpBase(server)}/healthz`, { method: "POST" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("GET");
    await wrongMethod.body?.cancel();

    const plain = await fetch(`${httpBase(server)}/v1/stream`);
    expect(plain.status).toBe(426);
    await plain.body?.cancel();
  });

  it("serves routes added through the routes option, and turns their failures into 500", async () => {
    const server = await start(new MemoryBackend(), {
      routes: [
        { method: "GET", path: "/metrics", handle: (_req, res) => void res.end("cockpit_clients 0\n") },
        {
          method: "POST",
          path: "/v1/alertmanager",
          handle: async () => {
            throw new Error("bad payload");
          },
        },
      ],
    });
    const metrics = await fetch(`${httpBase(server)}/metrics?x=1`);
    expect(await metrics.text()).toBe("cockpit_clients 0\n");
    const failed = await fetch(`${httpBase(server)}/v1/alertmanager`, { method: "POST", body: "{}" });
    expect(failed.status).toBe(500);
    await failed.body?.cancel();
    // The server is still fine afterwards.
    expect((await fetch(`${httpBase(server)}/healthz`)).status).toBe(200);
  });
});

describe("upgrades", () => {
  it("refuses WebSocket upgrades on other paths with 404", async () => {
    const server = await start(new MemoryBackend());
    expect(await upgradeStatus(`ws://127.0.0.1:${server.port}/v2/stream`)).toBe(404);
    expect(await upgradeStatus(`ws://127.0.0.1:${server.port}/`)).toBe(404);
  });

  it("accepts the stream path with a query string", async () => {
    const server = await start(new MemoryBackend());
    const client = await join(`${server.url}?client=x`);
    clients.push(client);
    expect((await client.next("welcome")).protocol).toBe(1);
  });

  it("refuses browser origins in demo mode with 403", async () => {
    const server = await start(new MemoryBackend());
    expect(await upgradeStatus(server.url, { origin: "https://evil.example" })).toBe(403);
    expect(server.clients()).toBe(0);
  });

  it("stops listening as soon as close() starts", async () => {
    const server = await start(new MemoryBackend());
    const stalled = await join(server.url);
    clients.push(stalled);
    stalled.ws.pause(); // its close takes a while: close() is still running below
    const closing = server.close();
    await expect(join(server.url)).rejects.toThrow(/ECONNREFUSED/);
    stalled.ws.resume();
    await closing;
  });
});
