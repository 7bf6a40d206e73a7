import { createServer } from "node:net";
import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { EVENTS_USAGE, parseEventsArgs, plainEventLine, runEvents, type EventsIo } from "../../src/client/events-cli.js";
import { startServer } from "../../src/backend/server.js";
import { createTokenTable, hashToken } from "../../src/backend/tokens.js";
import type { CockpitEvent } from "../../src/protocol/types.js";
import { startFaultProxy } from "../support/fault-proxy.js";
import { MemoryBackend } from "../support/memory-backend.js";
import { waitFor } from "./helpers/recording-sink.js";

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

class Collect extends Writable {
  text = "";
  override _write(chunk: unknown, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.text += String(chunk);
    cb();
  }
  lines(): string[] {
    return this.text.split("\n").filter((l) => l.length > 0);
  }
}

function io(extra: Partial<EventsIo> = {}): EventsIo & { stdout: Collect; stderr: Collect } {
  return { stdout: new Collect(), stderr: new Collect(), env: {}, connection: { backoff: { initialMs: 10, maxMs: 40 } }, ...extra } as EventsIo & {
    stdout: Collect;
    stderr: Collect;
  };
}

async function serve(backend: MemoryBackend, extra: Partial<Parameters<typeof startServer>[0]> = {}) {
  const server = await startServer({ backend, serverName: "events-test", pingIntervalMs: 50, ...extra });
  cleanups.push(() => server.close());
  return server;
}

describe("parseEventsArgs", () => {
  it("reads URL, flags and the token from the environment", () => {
    expect(parseEventsArgs(["ws://127.0.0.1:7070", "--json", "--from", "12", "--no-follow"], { COCKPIT_TOKEN: "env-token" })).toEqual({
      ok: true,
      help: false,
      url: "ws://127.0.0.1:7070/v1/stream",
      token: "env-token",
      json: true,
      from: 12,
      follow: false,
    });
  });

  it("prefers --token over COCKPIT_TOKEN", () => {
    const p = parseEventsArgs(["ws://h:1", "--token", "flag-token"], { COCKPIT_TOKEN: "env-token" });
    expect(p).toMatchObject({ ok: true, token: "flag-token", follow: true, from: 0, json: false });
  });

  it.each([
    [[], /missing URL/],
    [["ws://h:1", "ws://h:2"], /one URL expected/],
    [["ws://h:1", "--from", "abc"], /--from abc: must be a sequence number/],
    [["ws://h:1", "--from", "1.5"], /--from 1.5/],
    [["ws://h:1", "--bogus"], /bogus/],
    [["http://h:1"], /must start with ws:\/\//],
    [["localhost:7070"], /try ws:\/\/localhost:7070/],
    [["ws://h:1", "--token"], /token/],
  ])("refuses %j", (argv, message) => {
    const p = parseEventsArgs(argv as string[], {});
    expect(p.ok).toBe(false);
    if (!p.ok) expect(p.error).toMatch(message);
  });
});

describe("runEvents: usage", () => {
  it("prints help with exit 0", async () => {
    const out = io();
    expect(await runEvents(["--help"], out)).toBe(0);
    expect(out.stdout.text).toBe(EVENTS_USAGE);
  });

  it("exits 2 with the reason on stderr for bad arguments", async () => {
    const out = io();
    expect(await runEvents(["ws://h:1", "--from", "-3"], out)).toBe(2);
    expect(out.stderr.text).toMatch(/^cockpit events: /);
    expect(out.stderr.text).toMatch(/--help/);
    expect(out.stdout.text).toBe("");
  });

  it("exits 2 when the --ca file cannot be read", async () => {
    const out = io();
    expect(await runEvents(["wss://h:1", "--ca", "/nonexistent/ca.pem"], out)).toBe(2);
    expect(out.stderr.text).toMatch(/--ca \/nonexistent\/ca.pem: cannot read it \(ENOENT\)/);
  });
});

describe("runEvents: against a server", () => {
  it("--json --no-follow prints exactly the events, one JSON object per line, then exits 0", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.notes("demo", 4);
    backend.note("demo", "sneaky \u001b]52;c;aGk=\u0007 note");
    const server = await serve(backend);
    const out = io();
    expect(await runEvents([server.url, "--json", "--no-follow"], out)).toBe(0);
    const printed = out.stdout.lines().map((l) => JSON.parse(l) as CockpitEvent);
    expect(printed.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(printed.slice(0, 4)).toEqual(backend.log.slice(0, 4));
    expect((printed[4]!.data as { text: string }).text).toBe("sneaky ␛]52;c;aGk=␇ note");
    expect(out.stdout.text).not.toMatch(/\u001b/);
    expect(out.stderr.text).toBe("");
  });

  it("--no-follow ends after the backlog when the log's head belongs to another tenant", async () => {
    const backend = new MemoryBackend(["payments"]);
    backend.notes("payments", 2);
    backend.note("search", "someone else's note");
    const tokens = createTokenTable([
      { sha256: hashToken("payments-token"), name: "ci", role: "viewer", tenant: "payments" },
      { sha256: hashToken("search-token"), name: "ci", role: "viewer", tenant: "search" },
    ]);
    const server = await serve(backend, { tokens });
    const out = io();
    expect(await runEvents([server.url, "--json", "--no-follow", "--token", "payments-token"], out)).toBe(0);
    expect(out.stdout.lines().map((l) => (JSON.parse(l) as CockpitEvent).seq)).toEqual([1, 2]);
  });

  it("--from SEQ starts after SEQ", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.notes("demo", 5);
    const server = await serve(backend);
    const out = io();
    expect(await runEvents([server.url, "--json", "--no-follow", "--from", "3"], out)).toBe(0);
    expect(out.stdout.lines().map((l) => (JSON.parse(l) as CockpitEvent).seq)).toEqual([4, 5]);
  });

  it("--no-follow on an empty log prints nothing and exits 0", async () => {
    const server = await serve(new MemoryBackend(["demo"]));
    const out = io();
    expect(await runEvents([server.url, "--no-follow"], out)).toBe(0);
    expect(out.stdout.text).toBe("");
  });

  it("prints the plain form: time, seq, type and a sentence", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.note("demo", "canary looks fine");
    const server = await serve(backend);
    const out = io();
    expect(await runEvents([server.url, "--no-follow"], out)).toBe(0);
    const lines = out.stdout.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]!.startsWith(`${backend.log[0]!.time}  #1  note.added  `)).toBe(true);
    expect(lines[0]).toContain("canary looks fine");
  });

  it("says when the server no longer holds the asked-for events", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.notes("demo", 5);
    backend.firstHeld = 4;
    const server = await serve(backend);
    const out = io();
    expect(await runEvents([server.url, "--json", "--no-follow"], out)).toBe(0);
    expect(out.stdout.text).toBe("");
    expect(out.stderr.text).toMatch(/no longer holds events 1\.\.5/);
  });

  it("exits 3 when the token is refused, and uses COCKPIT_TOKEN when no --token is given", async () => {
    const backend = new MemoryBackend(["payments"]);
    backend.notes("payments", 2);
    const tokens = createTokenTable([{ sha256: hashToken("good-token-123"), name: "ci", role: "viewer", tenant: "payments" }]);
    const server = await serve(backend, { tokens });

    const refused = io({ env: { COCKPIT_TOKEN: "good-token-123" } });
    expect(await runEvents([server.url, "--token", "bad-token", "--no-follow"], refused)).toBe(3);
    expect(refused.stderr.text).toBe(`cockpit events: token rejected by ${server.url}: check COCKPIT_TOKEN\n`);

    const fromEnv = io({ env: { COCKPIT_TOKEN: "good-token-123" } });
    expect(await runEvents([server.url, "--json", "--no-follow"], fromEnv)).toBe(0);
    expect(fromEnv.stdout.lines()).toHaveLength(2);
  });

  it("exits 4 when nothing answers, after retrying (--no-follow)", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const address = s.address();
    const port = typeof address === "object" && address ? address.port : 0;
    await new Promise<void>((r) => s.close(() => r()));
    const out = io();
    expect(await runEvents([`ws://127.0.0.1:${port}`, "--no-follow"], out)).toBe(4);
    expect(out.stderr.text).toMatch(/cannot reach ws:\/\/127\.0\.0\.1:\d+\/v1\/stream: is `cockpit serve` running\? \(gave up after 5 attempts\)/);
  });

  it("follows the stream across a cut without repeating or skipping, and ends 0 on abort", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.notes("demo", 2);
    const server = await serve(backend);
    const proxy = await startFaultProxy(server.port);
    cleanups.push(() => proxy.close());
    const abort = new AbortController();
    const out = io({ signal: abort.signal });
    const run = runEvents([proxy.url(), "--json"], out);
    const seqs = () => out.stdout.lines().map((l) => (JSON.parse(l) as CockpitEvent).seq);

    await waitFor(() => seqs().length === 2, "the backlog");
    backend.notes("demo", 2);
    await waitFor(() => seqs().length === 4, "live events");
    proxy.cut();
    backend.notes("demo", 3);
    await waitFor(() => seqs().length === 7, "events after the reconnect");
    expect(proxy.accepted).toBe(2);
    abort.abort();
    expect(await run).toBe(0);
    expect(seqs()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(out.stderr.text).toMatch(/reconnecting/);
  });

  it("ends quietly with 0 when the reader of stdout goes away (EPIPE)", async () => {
    const backend = new MemoryBackend(["demo"]);
    backend.notes("demo", 3);
    const server = await serve(backend);
    const stdout = new Writable({
      write(_chunk, _enc, cb) {
        cb(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const stderr = new Collect();
    expect(await runEvents([server.url, "--json"], { stdout, stderr, env: {} })).toBe(0);
    expect(stderr.text).toBe("");
  });
});

describe("plainEventLine", () => {
  it("describes an sli.sample, which has no timeline sentence", () => {
    const e = {
      seq: 9,
      id: "evt_9",
      time: "2026-11-21T14:05:40.123Z",
      tenant: "demo",
      type: "sli.sample",
      rollout: "api-v408",
      ring: "canary",
      actor: { kind: "engine", name: "engine" },
      data: { ring: "canary", metric: "error_rate", value: 0.4, unit: "%", baseline: 0.1 },
      prev: "0".repeat(64),
      hash: "1".repeat(64),
    } as CockpitEvent;
    expect(plainEventLine(e)).toBe("2026-11-21T14:05:40.123Z  #9  sli.sample  canary error_rate = 0.4 % (baseline 0.1 %)");
  });
});
