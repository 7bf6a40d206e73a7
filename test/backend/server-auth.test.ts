import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startServer, type RunningServer } from "../../src/backend/server.js";
import { MAX_TOKEN_CHARS, createTokenTable, hashToken, loadTokens, mintToken, parseTokenFile, type TokenTable } from "../../src/backend/tokens.js";
import { MemoryBackend } from "../support/memory-backend.js";
import { connect, join, type TestClient } from "./server-helpers.js";

// Tokens: the file format, lookups, and authentication on the socket (4401).

const aliceToken = mintToken();
const bobToken = mintToken();
const tableEntries = [
  { sha256: hashToken(aliceToken), name: "alice", role: "operator" as const, tenant: "payments" },
  { sha256: hashToken(bobToken), name: "bob", role: "viewer" as const, tenant: "search" },
];

describe("hashToken and mintToken", () => {
  it("hashes the token's UTF-8 bytes with sha256, as lowercase hex", () => {
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("mints distinct 32-byte base64url tokens", () => {
    const a = mintToken();
    const b = mintToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(a, "base64url")).toHaveLength(32);
    expect(a).not.toBe(b);
  });
});

describe("TokenTable.lookup", () => {
  const table = createTokenTable(tableEntries);

  it("returns the session of a matching token", () => {
    expect(table.lookup(aliceToken)).toEqual({ actor: "alice", role: "operator", tenant: "payments" });
    expect(table.lookup(bobToken)).toEqual({ actor: "bob", role: "viewer", tenant: "search" });
  });

  it("returns null for unknown, empty, too long or near-miss tokens", () => {
    expect(table.lookup(mintToken())).toBeNull();
    expect(table.lookup("")).toBeNull();
    expect(table.lookup(aliceToken + "x")).toBeNull();
    expect(table.lookup(aliceToken.slice(1))).toBeNull();
    expect(table.lookup("a".repeat(MAX_TOKEN_CHARS + 1))).toBeNull();
  });

  it("matches hashes written in upper case", () => {
    const upper = createTokenTable([{ ...tableEntries[0]!, sha256: hashToken(aliceToken).toUpperCase() }]);
    expect(upper.lookup(aliceToken)?.actor).toBe("alice");
  });

  it("hands out a copy, so a caller cannot change the table", () => {
    const s = table.lookup(aliceToken)!;
    s.role = "commander";
    expect(table.lookup(aliceToken)!.role).toBe("operator");
  });

  it("lists tenants once each, in file order", () => {
    const t = createTokenTable([...tableEntries, { sha256: hashToken("z"), name: "zed", role: "commander", tenant: "payments" }]);
    expect(t.tenants()).toEqual(["payments", "search"]);
    expect(t.size).toBe(3);
  });
});

describe("loadTokens", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(joinPath(tmpdir(), "cockpit-tokens-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, text: string): Promise<string> {
    const path = joinPath(dir, name);
    await writeFile(path, text);
    return path;
  }

  it("loads a valid file", async () => {
    const path = await file("ok.json", JSON.stringify({ tokens: tableEntries }));
    const table = await loadTokens(path);
    expect(table.lookup(aliceToken)).toEqual({ actor: "alice", role: "operator", tenant: "payments" });
  });

  it("names the file when it cannot be read", async () => {
    const path = joinPath(dir, "missing.json");
    await expect(loadTokens(path)).rejects.toThrow(`${path}: cannot read the tokens file (ENOENT)`);
  });

  it("names the file when it is not JSON", async () => {
    const path = await file("bad.json", "{tokens: [");
    await expect(loadTokens(path)).rejects.toThrow(`${path}: not valid JSON`);
  });

  const bad: Array<[string, unknown, string]> = [
    ["no tokens list", { users: [] }, 'f.json: expected {"tokens"'],
    ["an empty list", { tokens: [] }, "f.json: tokens: the list is empty"],
    ["an entry that is not an object", { tokens: ["abc"] }, "f.json: tokens[0]: must be an object"],
    ["a raw token instead of a hash", { tokens: [{ ...tableEntries[0], sha256: aliceToken }] }, "f.json: tokens[0].sha256: must be 64 hex digits"],
    ["a missing name", { tokens: [tableEntries[0], { ...tableEntries[1], name: " " }] }, "f.json: tokens[1].name: must be a non-empty string"],
    ["an unknown role", { tokens: [{ ...tableEntries[0], role: "admin" }] }, "f.json: tokens[0].role: must be one of viewer, operator, commander"],
    ["a missing tenant", { tokens: [{ ...tableEntries[0], tenant: undefined }] }, "f.json: tokens[0].tenant: must be a non-empty string"],
    ["a repeated hash", { tokens: [tableEntries[0], { ...tableEntries[0], name: "eve" }] }, "f.json: tokens[1].sha256: same hash as tokens[0]"],
  ];
  for (const [what, value, message] of bad) {
    it(`rejects ${what}, naming the file and entry`, () => {
      expect(() => parseTokenFile(value, "f.json")).toThrow(message);
    });
  }

  it("passes the file's path into entry errors", async () => {
    const path = await file("role.json", JSON.stringify({ tokens: [{ ...tableEntries[0], role: "root" }] }));
    await expect(loadTokens(path)).rejects.toThrow(`${path}: tokens[0].role`);
  });
});

describe("authentication on the socket", () => {
  let server: RunningServer;
  let backend: MemoryBackend;
  const clients: TestClient[] = [];
  const tokens: TokenTable = createTokenTable(tableEntries);

  beforeAll(async () => {
    backend = new MemoryBackend(["payments", "search"]);
    backend.rollout("payments", "api-v2");
    server = await startServer({ backend, tokens, serverName: "auth-test" });
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.ws.terminate();
  });
  afterAll(async () => {
    await server.close();
  });

  async function rawClient(headers: Record<string, string> = {}): Promise<TestClient> {
    const client = await connect(server.url, { headers });
    clients.push(client);
    return client;
  }

  it("accepts a bearer token on the upgrade", async () => {
    const client = await join(server.url, null, { headers: { authorization: `Bearer ${aliceToken}` } });
    clients.push(client);
    expect((await client.next("welcome")).session).toEqual({ actor: "alice", role: "operator", tenant: "payments" });
    expect((await client.next("snapshot")).state.rollouts).toHaveLength(1);
  });

  it("accepts a token in hello", async () => {
    const client = await join(server.url, null, { token: bobToken });
    clients.push(client);
    expect((await client.next("welcome")).session).toEqual({ actor: "bob", role: "viewer", tenant: "search" });
    expect((await client.next("snapshot")).state.rollouts).toEqual([]);
  });

  it("closes 4401 at once when the header token is wrong", async () => {
    const client = await rawClient({ authorization: `Bearer ${mintToken()}` });
    expect(await client.closed).toEqual({ code: 4401, reason: "token rejected: check COCKPIT_TOKEN" });
    expect(client.received).toEqual([]);
  });

  it("closes 4401 when the Authorization header is malformed", async () => {
    for (const header of ["Basic dXNlcjpwYXNz", "Bearer", `Token ${aliceToken}`]) {
      const client = await rawClient({ authorization: header });
      expect((await client.closed).code).toBe(4401);
    }
  });

  it("closes 4401 when the hello token is wrong", async () => {
    const client = await rawClient();
    client.hello(null, { token: "not-a-token" });
    expect(await client.closed).toEqual({ code: 4401, reason: "token rejected: check COCKPIT_TOKEN" });
    expect(client.received).toEqual([]);
  });

  it("closes 4401 when no token is given at all", async () => {
    const client = await rawClient();
    client.hello(null);
    expect(await client.closed).toEqual({ code: 4401, reason: "token required: set COCKPIT_TOKEN" });
  });

  it("keeps a wrong header token fatal even with a right token in hello", async () => {
    const client = await rawClient({ authorization: "Bearer wrong" });
    client.hello(null, { token: aliceToken });
    expect((await client.closed).code).toBe(4401);
    expect(client.received).toEqual([]);
  });

  it("allows browser origins when tokens are required", async () => {
    const client = await join(server.url, null, { token: aliceToken, headers: { origin: "https://cockpit.example" } });
    clients.push(client);
    expect((await client.next("welcome")).session.actor).toBe("alice");
  });
});
