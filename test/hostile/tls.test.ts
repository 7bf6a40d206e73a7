import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../../src/backend/tokens.js";
import { connect } from "../../src/client/connection.js";
import { createCockpitStore } from "../../src/store/cockpit-store.js";
import type { CockpitEvent } from "../../src/protocol/types.js";
import { CLI, startServe, type ServeProcess } from "../support/processes.js";
import { IN_CI } from "../support/ci.js";

// wss:// end to end: a self-signed certificate made here with openssl, a real
// `cockpit serve --tls-cert --tls-key`, and both clients (the events CLI and
// the cockpit's connection) trusting it only through --ca / `ca`.

const run = promisify(execFile);

/** openssl on PATH (or the usual place); null when this machine has none. */
function findOpenssl(): string | null {
  for (const d of [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/local/bin"]) {
    const p = join(d, "openssl");
    if (d && existsSync(p)) return p;
  }
  return null;
}

const OPENSSL = findOpenssl();
const TOKEN = "tls-operator-token-0001";

describe("openssl for the wss:// tests", () => {
  // CI must run the wss:// tests: there a missing openssl is a failure, not a skip.
  it.runIf(IN_CI)("is installed in CI (apt-get install openssl)", () => {
    expect(OPENSSL, "openssl is missing: the wss:// tests need it to make a certificate; add it to .ci/run").not.toBeNull();
  });
});

if (!OPENSSL) console.warn("test/hostile/tls.test.ts: openssl not found, skipping the wss:// tests (they run in CI)");

describe.skipIf(OPENSSL === null)("wss:// with a self-signed certificate", () => {
  let dir: string;
  let serve: ServeProcess;
  let certPath: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "cockpit-hostile-tls-"));
    certPath = join(dir, "cert.pem");
    const keyPath = join(dir, "key.pem");
    await run(OPENSSL!, [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", keyPath, "-out", certPath, "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]);
    const tokens = join(dir, "tokens.json");
    writeFileSync(tokens, JSON.stringify({ tokens: [{ sha256: hashToken(TOKEN), name: "tina", role: "operator", tenant: "payments" }] }));
    serve = await startServe([
      "--scenario", "canary-latency", "--speed", "30", "--port", "0",
      "--data-dir", join(dir, "data"), "--tokens", tokens, "--tls-cert", certPath, "--tls-key", keyPath,
    ]);
  }, 60_000);

  afterAll(async () => {
    await serve?.stop("SIGTERM");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("serve prints a wss:// URL", () => {
    expect(serve.url).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/v1\/stream$/);
  });

  it("cockpit events --ca reads the log over wss:// as JSON lines", async () => {
    const { stdout } = await run(process.execPath, [CLI, "events", serve.url, "--ca", certPath, "--token", TOKEN, "--json", "--no-follow"], { timeout: 30_000 });
    const events = stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as CockpitEvent);
    expect(events.length).toBeGreaterThan(0);
    expect(events.some((e) => e.type === "rollout.created")).toBe(true);
    for (let i = 1; i < events.length; i++) expect(events[i]!.seq).toBeGreaterThan(events[i - 1]!.seq);
  }, 40_000);

  it("cockpit events without --ca refuses the certificate and says to pass --ca", async () => {
    const err = await run(process.execPath, [CLI, "events", serve.url, "--token", TOKEN, "--json", "--no-follow"], { timeout: 30_000, env: { ...process.env, NODE_EXTRA_CA_CERTS: "" } }).then(
      () => null,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.code).toBe(4);
    expect(err!.stderr).toContain("--ca");
  }, 40_000);

  it("the cockpit's connection with `ca` goes live over wss://; without it, it fails naming --ca", async () => {
    const ca = readFileSync(certPath, "utf8");
    const live = createCockpitStore({ url: serve.url, tickMs: 0 });
    let caughtUp: () => void = () => undefined;
    const ready = new Promise<void>((r) => (caughtUp = r));
    const conn = connect({ url: serve.url, ca, token: TOKEN, clientName: "tls-test", store: live, onCaughtUp: () => caughtUp() });
    await ready;
    live.flush();
    const view = live.store.getState();
    expect(view.connection.status).toBe("live");
    expect(view.connection.session).toEqual({ actor: "tina", role: "operator", tenant: "payments" });
    expect(view.state.rollouts.some((r) => r.id === "api-v408")).toBe(true);
    await conn.close();
    live.dispose();

    const refused = createCockpitStore({ url: serve.url, tickMs: 0 });
    let failed: (e: string) => void = () => undefined;
    const gaveUp = new Promise<string>((r) => (failed = r));
    const bare = connect({ url: serve.url, token: TOKEN, clientName: "tls-test", store: refused, onFail: (_kind, error) => failed(error) });
    const error = await gaveUp;
    expect(error).toContain("--ca");
    refused.flush();
    expect(refused.store.getState().connection.status).toBe("failed");
    await bare.close();
    refused.dispose();
  }, 40_000);

  it("--ca with another certificate does not make this one trusted", async () => {
    const otherKey = join(dir, "other-key.pem");
    const otherCert = join(dir, "other-cert.pem");
    await run(OPENSSL!, [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", otherKey, "-out", otherCert, "-days", "1", "-subj", "/CN=localhost",
      "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]);
    const err = await run(process.execPath, [CLI, "events", serve.url, "--ca", otherCert, "--token", TOKEN, "--json", "--no-follow"], { timeout: 30_000 }).then(
      () => null,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(err).not.toBeNull();
    expect(err!.code).toBe(4);
    expect(err!.stderr).toMatch(/certificate/);
  }, 40_000);
});
