import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import type { CommandRequest, Connection } from "../../src/client/connection.js";
import type { CockpitStore } from "../../src/store/cockpit-store.js";
import { colorWanted, ENTER_ALT_SCREEN, EXIT_CODES, LEAVE_ALT_SCREEN, SHOW_CURSOR, startCockpit } from "../../src/tui/start.js";
import { canaryIncident, clock, FakeStdin, FakeStdout, makeStore, welcome } from "../components/harness.js";

// The terminal is given back on every way out: q, Ctrl+C, SIGTERM, SIGHUP,
// SIGINT and a crash. Signals and crashes are emitted on a stand-in for
// `process`, so the test runner itself is never signalled.

class RawStdin extends FakeStdin {
  rawCalls: boolean[] = [];
  override setRawMode(on?: boolean): void {
    this.rawCalls.push(on === true);
  }
}

let stores: CockpitStore[] = [];
afterEach(() => {
  for (const s of stores) s.dispose();
  stores = [];
});

function setup(opts: { readonly?: boolean } = {}) {
  const c = clock();
  const store = makeStore(c, opts.readonly ? { readonly: true } : {});
  stores.push(store);
  welcome(store);
  canaryIncident(store);
  store.flush();
  const stdout = new FakeStdout(80, 24);
  const stderr = new FakeStdout(80, 24);
  const stdin = new RawStdin();
  const proc = new EventEmitter();
  const sent: CommandRequest[] = [];
  const connection: Connection = {
    send: (cmd) => {
      sent.push(cmd);
      return `c${sent.length}`;
    },
    close: async () => undefined,
  };
  const run = startCockpit({
    store,
    connection,
    readonly: opts.readonly ?? false,
    stdout: stdout as unknown as NodeJS.WriteStream,
    stderr: stderr as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    processLike: proc,
    env: {},
  });
  const written = () => stdout.frames.join("");
  return { store, stdout, stderr, stdin, proc, sent, run, written };
}

const tick = () => new Promise((r) => setTimeout(r, 20));

/** Until the first frame is on screen (keys are listened to from then on): start-up time varies with the machine's load. */
async function drawn(t: ReturnType<typeof setup>): Promise<void> {
  for (let i = 0; i < 250 && !t.written().includes("ROLLOUTS"); i++) await tick();
}

function expectRestored(t: ReturnType<typeof setup>): void {
  const out = t.written();
  expect(out.startsWith(ENTER_ALT_SCREEN)).toBe(true);
  expect(out.endsWith(SHOW_CURSOR + LEAVE_ALT_SCREEN)).toBe(true);
  expect(t.stdin.rawCalls).toContain(true);
  expect(t.stdin.rawCalls[t.stdin.rawCalls.length - 1]).toBe(false);
  // no listener left behind on the process
  for (const ev of ["SIGTERM", "SIGHUP", "SIGINT", "uncaughtException", "unhandledRejection", "exit"]) expect(t.proc.listenerCount(ev), ev).toBe(0);
}

describe("startCockpit", () => {
  it("draws in the alternate screen; q quits with 0 and restores the terminal", async () => {
    const t = setup();
    await drawn(t);
    expect(t.written()).toContain("ROLLOUTS");
    t.stdin.write("q");
    expect(await t.run).toBe(EXIT_CODES.quit);
    expectRestored(t);
  });

  it("Ctrl+C (a key in raw mode) quits with 0", async () => {
    const t = setup();
    await drawn(t);
    t.stdin.write("\x03");
    expect(await t.run).toBe(0);
    expectRestored(t);
  });

  it("SIGTERM, SIGHUP and SIGINT exit with 128 + the signal and restore the terminal", async () => {
    for (const [sig, code] of [
      ["SIGTERM", 143],
      ["SIGHUP", 129],
      ["SIGINT", 130],
    ] as const) {
      const t = setup();
      await drawn(t);
      t.proc.emit(sig);
      expect(await t.run, sig).toBe(code);
      expectRestored(t);
    }
  });

  it("an uncaught exception anywhere restores the terminal, says what happened, exits 1", async () => {
    const t = setup();
    await drawn(t);
    t.proc.emit("uncaughtException", new Error("boom in a timer"));
    expect(await t.run).toBe(1);
    expectRestored(t);
    expect(t.stderr.frames.join("")).toMatch(/stopped by an unexpected error: Error: boom in a timer[\s\S]*terminal was restored/);
  });

  it("a crash inside a component exits 1 with the terminal restored", async () => {
    const t = setup();
    await drawn(t);
    // A state no decoder would let through breaks rendering: the worst a bug can do.
    t.store.ingest.snapshot({ type: "snapshot", seq: 999, state: { rollouts: null as never, alerts: [], incidents: [] } });
    t.store.flush();
    expect(await t.run).toBe(1);
    expectRestored(t);
  });

  it("read-only: p and r y send nothing even if a key got through", async () => {
    const t = setup({ readonly: true });
    await drawn(t);
    t.stdin.write("p");
    await tick();
    t.stdin.write("r");
    await tick();
    t.stdin.write("y");
    await tick();
    t.stdin.write("q");
    expect(await t.run).toBe(0);
    expect(t.sent).toEqual([]);
  });

  it("commands go out through the connection", async () => {
    const t = setup();
    await drawn(t);
    t.stdin.write("p");
    await tick();
    t.stdin.write("q");
    await t.run;
    expect(t.sent).toEqual([{ action: "resume", target: { rollout: "api-v408" } }]);
  });
});

describe("colorWanted", () => {
  it("NO_COLOR set and not empty turns colour off", () => {
    expect(colorWanted({})).toBe(true);
    expect(colorWanted({ NO_COLOR: "" })).toBe(true);
    expect(colorWanted({ NO_COLOR: "1" })).toBe(false);
  });
});
