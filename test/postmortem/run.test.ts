import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { draftFromSource, runPostmortem, type PostmortemIo } from "../../src/postmortem/run.js";
import type { CockpitEvent } from "../../src/protocol/types.js";
import { canaryLatencyLog, flagMisconfigLog, LogBuilder } from "./helpers.js";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "postmortem-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function io(extra: Partial<PostmortemIo> = {}): PostmortemIo & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    out: () => out,
    err: () => err,
    ...extra,
  };
}

async function dataDir(log: LogBuilder | string): Promise<string> {
  await writeFile(join(dir, "events.jsonl"), typeof log === "string" ? log : log.jsonl(), "utf8");
  return dir;
}

describe("runPostmortem: drafts", () => {
  it("drafts the most recent incident of a data directory to stdout (exit 0)", async () => {
    const src = await dataDir(canaryLatencyLog());
    const o = io();
    expect(await runPostmortem([src], o)).toBe(0);
    expect(o.out()).toMatch(/^# Post-mortem: Checkout latency in canary\n/);
    expect(o.out()).toContain("| Event log | verified: hash chain intact over 101 events |");
    expect(o.err()).toContain('This draft covers the most recent incident, inc-1 ("Checkout latency in canary")');
  });

  it("reads an events.jsonl path too, and writes JSON with --format json", async () => {
    await dataDir(flagMisconfigLog());
    const o = io();
    expect(await runPostmortem([join(dir, "events.jsonl"), "--format", "json"], o)).toBe(0);
    const draft = JSON.parse(o.out());
    expect(draft.header.status).toBe("DRAFT");
    expect(draft.metrics.map((m: { name: string }) => m.name)).toEqual(["TTD", "TTA", "TTM", "TTR"]);
  });

  it("writes to --out and prints the path", async () => {
    const src = await dataDir(canaryLatencyLog());
    const target = join(dir, "draft.md");
    const o = io();
    expect(await runPostmortem([src, "--out", target, "--incident", "inc-1"], o)).toBe(0);
    expect(o.out()).toBe(`${target}\n`);
    expect(await readFile(target, "utf8")).toContain("## Key moments and metrics");
  });

  it("gives byte-identical output for the same log", async () => {
    const src = await dataDir(canaryLatencyLog());
    const a = io();
    const b = io();
    await runPostmortem([src], a);
    await runPostmortem([src], b);
    expect(a.out()).toBe(b.out());
    expect(a.out().length).toBeGreaterThan(1000);
  });

  it("keeps names only with --names", async () => {
    const src = await dataDir(canaryLatencyLog());
    const plain = io();
    const named = io();
    await runPostmortem([src], plain);
    await runPostmortem([src, "--names"], named);
    expect(plain.out()).not.toMatch(/\balice\b/i);
    expect(named.out()).toMatch(/\balice\b/);
  });

  it("drafts a --from/--to window, times of day on the log's date", async () => {
    const src = await dataDir(canaryLatencyLog());
    const o = io();
    expect(await runPostmortem([src, "--from", "14:01", "--to", "14:05"], o)).toBe(0);
    expect(o.out()).toContain("> This draft covers the span from 2026-11-21T14:01:00.000Z to 2026-11-21T14:05:00.000Z, as asked with --from and --to.");
  });

  it("still drafts a truncated log, warning about the first bad line", async () => {
    const text = canaryLatencyLog().jsonl();
    const cut = text.slice(0, text.length - 40); // the last line torn mid-write
    const src = await dataDir(cut);
    const o = io();
    expect(await runPostmortem([src], o)).toBe(0);
    expect(o.out()).toContain("> **Warning:** The log has 1 unreadable line, left out of this draft; the first: line 101 is not valid JSON");
    expect(o.out()).toContain("## Timeline");
    expect(o.err()).toContain("warning: The log has 1 unreadable line");
  });

  it("names the first bad line when several are bad", async () => {
    const lines = canaryLatencyLog().jsonl().split("\n");
    lines.splice(10, 0, "not json at all");
    lines.splice(20, 0, "{}");
    const src = await dataDir(lines.join("\n"));
    const o = io();
    expect(await runPostmortem([src], o)).toBe(0);
    expect(o.out()).toContain("The log has 2 unreadable lines, left out of this draft; the first: line 11 is not valid JSON");
  });

  it("reports a broken hash chain in the header", async () => {
    const log = canaryLatencyLog();
    const lines = log.jsonl().split("\n");
    const i = log.events.findIndex((e) => e.type === "note.added");
    const edited = JSON.parse(lines[i]!);
    edited.data.text = "nothing to see here";
    lines[i] = JSON.stringify(edited);
    const src = await dataDir(lines.join("\n"));
    const o = io();
    expect(await runPostmortem([src], o)).toBe(0);
    const seq = log.events[i]!.seq;
    expect(o.out()).toContain(`| Event log | **hash chain BROKEN at seq ${seq} (line ${i + 1}): seq ${seq}: hash does not match its content (edited line?).`);
    expect(o.err()).toContain(`warning: hash chain BROKEN at seq ${seq} (line ${i + 1})`);
  });

  it("reads over ws through the source the CLI supplies, once per pass", async () => {
    const events = canaryLatencyLog().events;
    let opened = 0;
    const o = io({
      openWsSource: (url: string) => {
        expect(url).toBe("ws://127.0.0.1:7070");
        opened++;
        return (async function* (): AsyncGenerator<CockpitEvent> {
          for (const e of events) yield e;
        })();
      },
    });
    expect(await runPostmortem(["ws://127.0.0.1:7070"], o)).toBe(0);
    expect(opened).toBe(2);
    // One tenant's events, cleaned by the client: the chain cannot be recomputed, and the draft says so.
    expect(o.out()).toContain("| Event log | hash chain not checked: read over the protocol, where a stream carries only one tenant's events");
    expect(o.out()).toContain("run cockpit verify-log on the data directory");
    expect(o.out()).toMatch(/^# Post-mortem: Checkout latency in canary/);
  });
});

describe("runPostmortem: nothing to draft (exit 1)", () => {
  it("an empty log", async () => {
    const src = await dataDir("");
    const o = io();
    expect(await runPostmortem([src], o)).toBe(1);
    expect(o.err()).toContain("nothing to draft: the log holds no events");
  });

  it("an incident that is not in the log, naming those that are", async () => {
    const src = await dataDir(canaryLatencyLog());
    const o = io();
    expect(await runPostmortem([src, "--incident", "inc-7"], o)).toBe(1);
    expect(o.err()).toContain('no incident "inc-7" in the log (incidents in the log: inc-1)');
    expect(o.out()).toBe("");
  });

  it("a log with only unreadable lines says so", async () => {
    const src = await dataDir("garbage\nmore garbage\n");
    const o = io();
    expect(await runPostmortem([src], o)).toBe(1);
    expect(o.err()).toContain("has 2 unreadable lines; the first: line 1 is not valid JSON");
  });
});

describe("runPostmortem: usage and source errors (exit 2)", () => {
  it.each([
    [[], "give the event log to read"],
    [["a", "b"], "give one source, not 2"],
    [["x", "--format", "xml"], "--format must be md or json"],
    [["x", "--from", "14:00"], "--from and --to go together"],
    [["x", "--incident", "inc-1", "--from", "14:00", "--to", "15:00"], "either --incident or --from/--to"],
    [["x", "--from", "noon", "--to", "15:00"], '--from: "noon" is not a time'],
    [["x", "--from", "15:00", "--to", "14:00"], "--from (15:00) is after --to (14:00)"],
    [["x", "--bogus"], "Unknown option '--bogus'"],
  ])("%j", async (argv, message) => {
    const o = io();
    expect(await runPostmortem(argv as string[], o)).toBe(2);
    expect(o.err()).toContain(message);
    expect(o.err()).toContain("--help");
  });

  it("a source that does not exist", async () => {
    const o = io();
    expect(await runPostmortem([join(dir, "nope")], o)).toBe(2);
    expect(o.err()).toContain("no event log at");
  });

  it("a directory without an event log", async () => {
    const o = io();
    expect(await runPostmortem([dir], o)).toBe(2);
    expect(o.err()).toContain("is this a cockpit data directory?");
  });

  it("a ws URL when no ws source is supplied", async () => {
    const o = io();
    expect(await runPostmortem(["wss://rollouts.example.com"], o)).toBe(2);
    expect(o.err()).toContain("give a data directory or its events.jsonl");
  });

  it("a ws source that fails", async () => {
    const o = io({
      openWsSource: () =>
        (async function* (): AsyncGenerator<CockpitEvent> {
          throw new Error("connection refused");
        })(),
    });
    expect(await runPostmortem(["ws://127.0.0.1:1"], o)).toBe(2);
    expect(o.err()).toContain("cannot read ws://127.0.0.1:1: connection refused");
  });

  it("an --out file that cannot be written", async () => {
    const src = await dataDir(canaryLatencyLog());
    const o = io();
    expect(await runPostmortem([src, "--out", join(dir, "missing", "draft.md")], o)).toBe(2);
    expect(o.err()).toContain("cannot write");
  });
});

describe("runPostmortem --help", () => {
  it("prints the usage and exits 0", async () => {
    const o = io();
    expect(await runPostmortem(["--help"], o)).toBe(0);
    expect(o.out()).toContain("Usage: cockpit postmortem SOURCE [--incident ID | --from T --to T]");
    expect(o.out()).toContain("Exit codes: 0 draft written, 1 nothing to draft, 2 usage error or unreadable source.");
  });
});

describe("draftFromSource (for the cockpit's e key)", () => {
  it("returns the rendered draft of a data directory", async () => {
    const src = await dataDir(canaryLatencyLog());
    const r = await draftFromSource(src, { incident: "inc-1" });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.text).toMatch(/^# Post-mortem: Checkout latency in canary/);
    expect(r.draft.header.incidentId).toBe("inc-1");
  });

  it("says why there is no draft, with the exit code the CLI would use", async () => {
    expect(await draftFromSource(join(dir, "nope"))).toMatchObject({ ok: false, code: 2 });
    const src = await dataDir(canaryLatencyLog());
    expect(await draftFromSource(src, { incident: "inc-2" })).toMatchObject({ ok: false, code: 1, message: expect.stringContaining('no incident "inc-2"') });
  });
});
