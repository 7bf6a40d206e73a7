import { describe, expect, it } from "vitest";
import { redactDeep, redactSecrets, REDACTED } from "../../src/postmortem/redact.js";

describe("redactSecrets: each secret pattern", () => {
  it("redacts a bearer token but keeps the word Bearer", () => {
    const out = redactSecrets("curl -H 'Authorization: Bearer eyZ9abc.DEF-123_xyz456' https://api");
    expect(out).not.toContain("eyZ9abc.DEF-123_xyz456");
    expect(out).toContain("Bearer [REDACTED]");
  });

  it("redacts a bearer token that is not in an Authorization header", () => {
    const out = redactSecrets("used bearer a1b2c3d4e5f6g7h8 to call it");
    expect(out).toBe("used bearer [REDACTED] to call it");
  });

  it("redacts a Basic authorization credential", () => {
    const out = redactSecrets("Authorization: Basic YWxpY2U6czNjcjN0");
    expect(out).toBe("Authorization: Basic [REDACTED]");
  });

  it("redacts a JWT anywhere in the text", () => {
    const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const out = redactSecrets(`token was ${jwt}, rotated`);
    expect(out).toBe(`token was ${REDACTED}, rotated`);
  });

  it("redacts an AWS access key id", () => {
    const out = redactSecrets("key AKIAIOSFODNN7EXAMPLE leaked");
    expect(out).toBe(`key ${REDACTED} leaked`);
  });

  it("redacts an AWS secret access key standing alone", () => {
    const out = redactSecrets("secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY is in the note");
    expect(out).toBe(`secret ${REDACTED} is in the note`);
  });

  it("keeps the user and host of a URL with a password, redacting the password only", () => {
    expect(redactSecrets("postgres://user:pass@host:5432/db")).toBe("postgres://user:[REDACTED]@host:5432/db");
    expect(redactSecrets("amqp://svc:p@ss@rabbit/vhost")).toBe("amqp://svc:[REDACTED]@rabbit/vhost");
  });

  it.each([
    ["DB_SECRET=abc123", "DB_SECRET=[REDACTED]"],
    ["GITHUB_TOKEN=ghx_0123", "GITHUB_TOKEN=[REDACTED]"],
    ["STRIPE_KEY=sk_test_abc", "STRIPE_KEY=[REDACTED]"],
    ["PASSWORD=hunter2", "PASSWORD=[REDACTED]"],
    ["password: hunter2", "password: [REDACTED]"],
    ["DB_PASSWORD = 'hunter two'", "DB_PASSWORD = '[REDACTED]'"],
    ['{"api_key": "abc123"}', '{"api_key": "[REDACTED]"}'],
    ["aws_secret_access_key=wJalrXUtnFEMI", "aws_secret_access_key=[REDACTED]"],
    ["https://x/cb?token=abc123&next=1", "https://x/cb?token=[REDACTED]&next=1"],
  ])("redacts the value of the assignment %s", (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });

  it("redacts a private key block across lines, keeping the text around it", () => {
    const block = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234\nabcdEFGH==\n-----END RSA PRIVATE KEY-----";
    const out = redactSecrets(`pasted by mistake:\n${block}\nsorry`);
    expect(out).not.toContain("MIIEpAIBAAKCAQEA1234");
    expect(out).toContain("pasted by mistake:");
    expect(out).toContain("sorry");
    expect(out).toContain("-----BEGIN RSA PRIVATE KEY----- [REDACTED] -----END RSA PRIVATE KEY-----");
  });

  it("redacts a private key block cut off before its END line", () => {
    const out = redactSecrets("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC");
    expect(out).not.toContain("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC");
  });

  it("redacts well-known token prefixes (GitHub, Slack)", () => {
    expect(redactSecrets("ghp_abcdefghijklmnopqrstuvwxyz0123456789")).toBe(REDACTED);
    expect(redactSecrets("xoxb-1234567890-abcdefghij")).toBe(REDACTED);
  });
});

describe("redactSecrets: near misses stay as written", () => {
  it.each([
    "the token bucket refilled at 100/s",
    "rotate the KEY_ID after the audit",
    "AWS_ACCESS_KEY_ID is set by the instance role",
    "the password policy requires 12 characters",
    "see https://grafana.example.com/d/abc?orgId=1 for the graph",
    "ssh://git@github.com/org/repo.git",
    "deployed commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "Bearer authentication failed for the canary",
    "primary_key: order_id",
    "max_tokens: 512",
    "the secret to a good rollout is a small canary",
    "p99_latency_ms < 50 for 30s breached in canary (73 > 50)",
    "blameless culture keeps the key facts visible",
  ])("%s", (text) => {
    expect(redactSecrets(text)).toBe(text);
  });
});

describe("redactDeep", () => {
  it("redacts every string of an event but leaves hashes alone", () => {
    const hash = "a".repeat(64);
    const out = redactDeep({ data: { text: "PASSWORD=x1", labels: { db: "postgres://u:p@h/d" } }, hash, prev: hash, seq: 3 });
    expect(out).toEqual({ data: { text: "PASSWORD=[REDACTED]", labels: { db: "postgres://u:[REDACTED]@h/d" } }, hash, prev: hash, seq: 3 });
  });
});
