import { once } from "node:events";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { commandEnv, fillArg, fillArgv, shellQuote, type CommandVars } from "../../../src/backend/actuators/placeholders.js";
import { outputTail, REDACTED, redactSecrets, secretsFromEnv } from "../../../src/backend/actuators/redact.js";
import { CommandRunner } from "../../../src/backend/actuators/runner.js";
import { DELIVERY_HEADER, SIGNATURE_HEADER, signBody } from "../../../src/backend/actuators/webhook.js";

// Real processes and sockets: generous per-test time on a loaded machine (no test asserts a duration).
vi.setConfig({ testTimeout: 30_000 });

// Running the plan's commands: argv without a shell, placeholders per
// argument, timeouts that stop the whole process group, readable failures,
// redacted output, and the signed webhook form.

const NODE = process.execPath;
const VARS: CommandVars = { step: "apply", tenant: "payments", rollout: "api-v2", service: "api", version: "v2", previousVersion: "v1", ring: "canary", traffic: "5", flag: "new_checkout" };

function script(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), "cockpit-runner-"));
  const path = join(dir, "s.mjs");
  writeFileSync(path, body);
  return path;
}

describe("placeholders", () => {
  it("fills each argument on its own, leaving unknown names", () => {
    expect(fillArgv(["ship", "--version={version}", "{ring}", "{traffic}%", "{nope}", "{step}"], VARS, false)).toEqual(["ship", "--version=v2", "canary", "5%", "{nope}", "{step}"]);
  });
  it("single-quotes values for a shell, so a hostile value stays one word", () => {
    const hostile = { ...VARS, version: "v2'; rm -rf / #" };
    expect(fillArg("deploy {version}", hostile, shellQuote)).toBe(`deploy 'v2'\\''; rm -rf / #'`);
  });
  it("gives the same values as COCKPIT_* variables", () => {
    expect(commandEnv(VARS)).toEqual({
      COCKPIT_STEP: "apply",
      COCKPIT_TENANT: "payments",
      COCKPIT_ROLLOUT: "api-v2",
      COCKPIT_SERVICE: "api",
      COCKPIT_VERSION: "v2",
      COCKPIT_PREVIOUS_VERSION: "v1",
      COCKPIT_RING: "canary",
      COCKPIT_TRAFFIC: "5",
      COCKPIT_FLAG: "new_checkout",
    });
  });
});

describe("redaction", () => {
  it("takes out values after secret-looking keys, bearer tokens, URL passwords and known key shapes", () => {
    expect(redactSecrets("token=abc123 password: hunter22 --api-key s3cr3t --verbose")).toBe(`token=${REDACTED} password: ${REDACTED} --api-key ${REDACTED} --verbose`);
    expect(redactSecrets("Authorization: Bearer eyJabc.def")).toBe(`Authorization: Bearer ${REDACTED}`);
    expect(redactSecrets("curl -H 'authorization: token abcdefgh12'")).toBe(`curl -H 'authorization: token ${REDACTED}'`);
    expect(redactSecrets("curl -H 'x' https://deploy:pa55word@git.example.com/repo")).toBe(`curl -H 'x' https://deploy:${REDACTED}@git.example.com/repo`);
    expect(redactSecrets("key AKIAABCDEFGHIJKLMNOP and ghp_" + "a".repeat(36))).toBe(`key ${REDACTED} and ${REDACTED}`);
    expect(redactSecrets('{"client_secret":"xyz"}')).toBe(`{"client_secret":"${REDACTED}"}`);
  });
  it("leaves ordinary output alone", () => {
    const line = "deployment.apps/api image updated to registry/api:v2 (sha256:0123abcd) in 4.2s";
    expect(redactSecrets(line)).toBe(line);
  });
  it("takes out the values of secret-looking environment variables, wherever they appear", () => {
    const secrets = secretsFromEnv({ DEPLOY_TOKEN: "tok-9f8e7d6c", PATH: "/usr/bin", SHORT_SECRET: "abc", HOME: "/root" });
    expect(secrets).toEqual(["tok-9f8e7d6c"]);
    expect(redactSecrets("using tok-9f8e7d6c now", secrets)).toBe(`using ${REDACTED} now`);
  });
  it("keeps the last lines, without colour codes or carriage returns, redacting before cutting", () => {
    const raw = Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\n") + "\n\u001b[31mred\u001b[0m\rprogress token=zzz\n";
    const tail = outputTail(raw, [], 3);
    expect(tail).toBe(`line 29\nred\nprogress token=${REDACTED}`);
    expect(outputTail("x".repeat(5000), [], 20, 100)).toHaveLength(100);
  });
});

describe("CommandRunner: programs", () => {
  const runner = new CommandRunner({ env: { ...process.env, DEPLOY_TOKEN: "tok-9f8e7d6c5b" } });

  it("runs a program with its argv and reports success with the output tail", async () => {
    const s = script('console.log("args:" + JSON.stringify(process.argv.slice(2)) + " ring=" + process.env.COCKPIT_RING);');
    const r = await runner.run({ argv: [NODE, s, "--version", "{version}", "--ring", "{ring}"] }, VARS);
    expect(r).toMatchObject({ ok: true, exitCode: 0, outputTail: 'args:["--version","v2","--ring","canary"] ring=canary' });
    expect(r.argv).toEqual([NODE, s, "--version", "v2", "--ring", "canary"]);
    expect(r.reason).toBeUndefined();
  });

  it("reports a non-zero exit with the last line of output as the reason, and redacts what it printed", async () => {
    const s = script('console.log("using " + process.env.DEPLOY_TOKEN); console.error("error: quota exceeded"); process.exit(4);');
    const r = await runner.run({ argv: [NODE, s] }, VARS);
    expect(r).toMatchObject({ ok: false, exitCode: 4, reason: "exit 4: error: quota exceeded" });
    expect(r.outputTail).toBe(`using ${REDACTED}\nerror: quota exceeded`);
  });

  it("reports a program that cannot start, with a hint", async () => {
    const r = await runner.run({ argv: ["./bin/no-such-ship", "{ring}"] }, VARS);
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBeNull();
    expect(r.reason).toBe(`could not start ./bin/no-such-ship: ENOENT (not found; check the path (relative paths start from ${process.cwd()}) or PATH)`);
  });

  it("stops a program past its timeout, and what it started too", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cockpit-runner-"));
    const marker = join(dir, "grandchild-survived");
    // The program starts a grandchild that would write the marker after 2 s, then hangs.
    const s = script(
      `import { spawn } from "node:child_process";
       spawn(process.execPath, ["-e", "setTimeout(() => require('fs').writeFileSync('${marker}', 'x'), 2000)"], { stdio: "ignore" });
       console.log("started");
       setInterval(() => {}, 1000);`,
    );
    const r = await runner.run({ argv: [NODE, s], timeoutSeconds: 1 }, VARS);
    expect(r).toMatchObject({ ok: false, exitCode: null, reason: "timed out after 1s and was stopped; last output: started" });
    await new Promise((res) => setTimeout(res, 2500));
    expect(existsSync(marker)).toBe(false);
  });

  it("runs a shell script only when asked, with values quoted", async () => {
    const out = join(mkdtempSync(join(tmpdir(), "cockpit-runner-")), "out");
    const hostile = { ...VARS, version: "v2; touch /tmp/pwned-by-cockpit" };
    const r = await runner.run({ argv: [`printf '%s' {version} > ${out} && echo wrote`], shell: true }, hostile);
    expect(r).toMatchObject({ ok: true, outputTail: "wrote" });
    expect(readFileSync(out, "utf8")).toBe("v2; touch /tmp/pwned-by-cockpit");
    expect(r.argv.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
  });
});

describe("CommandRunner: webhooks", () => {
  let server: Server | null = null;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = null;
  });

  async function hook(status: number, reply: string) {
    const got: Array<{ headers: Record<string, unknown>; body: string; url: string }> = [];
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => (body += d.toString()));
      req.on("end", () => {
        got.push({ headers: req.headers, body, url: req.url! });
        res.writeHead(status).end(reply);
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return { got, url: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
  }

  it("POSTs the values as JSON with an HMAC-SHA256 signature of the body", async () => {
    const h = await hook(202, "queued");
    const runner = new CommandRunner({ env: { SHIP_SECRET: "s3cret-hmac-key" }, now: () => Date.parse("2026-11-21T14:00:00Z") });
    const r = await runner.run({ webhook: `${h.url}/ship/{ring}`, secretEnv: "SHIP_SECRET" }, VARS);
    expect(r).toMatchObject({ ok: true, status: 202, exitCode: null, outputTail: "queued", argv: ["POST", `${h.url}/ship/canary`] });
    const { headers, body, url } = h.got[0]!;
    expect(url).toBe("/ship/canary");
    expect(headers[SIGNATURE_HEADER]).toBe(signBody("s3cret-hmac-key", body));
    const parsed = JSON.parse(body) as Record<string, unknown>;
    expect(parsed).toMatchObject({ step: "apply", rollout: "api-v2", ring: "canary", version: "v2", previousVersion: "v1", traffic: 5, flag: "new_checkout", time: "2026-11-21T14:00:00.000Z" });
    expect(headers[DELIVERY_HEADER]).toBe(parsed.delivery);
  });

  it("fails on a non-2xx answer with the status and body in the reason", async () => {
    const h = await hook(409, "ring canary is locked by another deploy");
    const r = await new CommandRunner({ env: { SHIP_SECRET: "k" } }).run({ webhook: h.url, secretEnv: "SHIP_SECRET" }, VARS);
    expect(r).toMatchObject({ ok: false, status: 409, reason: "the webhook answered 409: ring canary is locked by another deploy" });
  });

  it("fails without calling when its secret is not in the environment", async () => {
    const h = await hook(200, "");
    const r = await new CommandRunner({ env: {} }).run({ webhook: h.url, secretEnv: "SHIP_SECRET" }, VARS);
    expect(r).toMatchObject({ ok: false, reason: "environment variable SHIP_SECRET is not set; set it to the webhook's HMAC secret and restart the backend" });
    expect(h.got).toEqual([]);
  });
});
