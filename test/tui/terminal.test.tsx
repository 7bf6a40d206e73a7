import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import type { CockpitStore } from "../../src/store/cockpit-store.js";
import { anchorFrameStart, anchoredStdout } from "../../src/tui/terminal.js";
import { startCockpit } from "../../src/tui/start.js";
import { canaryIncident, clock, ev, FakeStdin, FakeStdout, makeStore, welcome } from "../components/harness.js";
import { Vt } from "./vt.js";

let stores: CockpitStore[] = [];
afterEach(() => {
  for (const s of stores) s.dispose();
  stores = [];
});

describe("anchorFrameStart", () => {
  it("turns the cursor-up that opens a frame into cursor home", () => {
    expect(anchorFrameStart("\x1b[22A\x1b[1Gheader")).toBe("\x1b[H\x1b[1Gheader");
    expect(anchorFrameStart("\x1b[A\x1b[1Gx")).toBe("\x1b[H\x1b[1Gx");
  });

  it("leaves everything else alone: text, erase-lines frames, cursor-ups inside a frame", () => {
    for (const s of ["plain", "\x1b[2K\x1b[1A\x1b[2K\x1b[G", "\x1b[?2026h", "x\x1b[3A"]) expect(anchorFrameStart(s)).toBe(s);
  });

  it("the wrapped stream passes other members through to the real one", () => {
    const out = new FakeStdout(90, 30);
    const wrapped = anchoredStdout(out as unknown as NodeJS.WriteStream);
    expect(wrapped.columns).toBe(90);
    expect(wrapped.rows).toBe(30);
    let resized = 0;
    wrapped.on("resize", () => resized++);
    out.resize(100, 40);
    expect(resized).toBe(1);
    wrapped.write("\x1b[5Aabc");
    expect(out.frames[out.frames.length - 1]).toBe("\x1b[Habc");
  });
});

describe("the real renderer on a terminal", () => {
  it("every frame lands at the top: after many updates the screen shows one header, not a stack of copies", async () => {
    const c = clock();
    const store = makeStore(c);
    stores.push(store);
    welcome(store);
    let seq = canaryIncident(store);
    store.flush();
    const stdout = new FakeStdout(80, 24);
    const vt = new Vt(80, 24);
    const write = stdout.write;
    stdout.write = (s: string) => {
      vt.write(s);
      return write(s);
    };
    const stdin = new FakeStdin();
    const run = startCockpit({
      store,
      connection: { send: () => "", close: async () => undefined },
      readonly: false,
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      stderr: new FakeStdout(80, 24) as unknown as NodeJS.WriteStream,
      processLike: new EventEmitter(),
      env: {},
    });
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 80));
      store.ingest.event(ev(++seq, "note.added", { text: `update ${i}` }, { actor: { kind: "human", name: "bob", role: "operator" } }));
      c.advance(1000);
      store.flush();
    }
    await new Promise((r) => setTimeout(r, 100));
    const screen = vt.lines();
    expect(screen[0]).toMatch(/^● live/);
    expect(screen.filter((l) => l.startsWith("● live"))).toHaveLength(1);
    expect(screen[1]).toContain("ROLLOUTS");
    expect(screen.join("\n")).toContain("note by bob (operator): update 7");
    stdin.write("q");
    expect(await run).toBe(0);
  });
});
