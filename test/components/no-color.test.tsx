import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unmountAfterEach } from "./mounted.js";

// NO_COLOR: Ink's chalk does not read NO_COLOR, so the App takes `color` (set
// from the environment by startCockpit) and then asks for no colour at all.
// Colour is forced on for this file so there is something to take away; with
// it gone, every state must still read the same through glyphs and words.

const before = process.env.FORCE_COLOR;
process.env.FORCE_COLOR = "3";
afterAll(() => {
  if (before === undefined) delete process.env.FORCE_COLOR;
  else process.env.FORCE_COLOR = before;
});
let h: typeof import("./harness.js");

beforeAll(async () => {
  h = await import("./harness.js");
});

const open = unmountAfterEach();

const COLOR_SGR = /\x1b\[(?:3[0-9]|9[0-7]|4[0-9]|10[0-7])(?:;[0-9;]*)?m/;
const strip = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, "");

async function frame(color: boolean): Promise<string> {
  const c = h.clock();
  const store = h.makeStore(c);
  h.welcome(store);
  h.canaryIncident(store, { killSwitch: true });
  c.set(h.T0 + 65_000);
  store.ingest.connection({ status: "stale", staleSince: h.T0 });
  store.flush();
  const r = await h.renderApp(store, { columns: 100, rows: 30, color });
  open.push({ store, r });
  return r.raw();
}

describe("NO_COLOR", () => {
  it("with colour on, states are coloured (the test can see colour at all)", async () => {
    expect(await frame(true)).toMatch(COLOR_SGR);
  });

  it("with colour off, no colour code is written, and the same words and glyphs are there", async () => {
    const on = await frame(true);
    const off = await frame(false);
    expect(off).not.toMatch(COLOR_SGR);
    expect(strip(off)).toBe(strip(on));
    for (const text of ["⚠ STALE", "‖ paused (auto:", "✗ 62.8ms > 50", "✖ critical", "✓ completed", "‖ bake held"]) expect(strip(off)).toContain(text);
  });
});
