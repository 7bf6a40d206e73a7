import { describe, expect, it } from "vitest";
import { createCockpitStore } from "../../src/store/cockpit-store.js";
import { decodeServerFrame } from "../../src/protocol/decode.js";

// Event times are on the backend's clock; a simulation runs it faster than real
// time. Countdowns must use that clock or "baking 4m left" would lie.
describe("the backend's clock", () => {
  it("maps local time onto the backend's clock at the speed the welcome names", () => {
    let local = 1_000_000;
    const s = createCockpitStore({ url: "ws://127.0.0.1:1/v1/stream", tickMs: 0, now: () => local });
    s.ingest.welcome({
      type: "welcome",
      protocol: 1,
      server: "t",
      session: { actor: "a", role: "operator", tenant: "t" },
      headSeq: 0,
      clock: { time: "2026-11-21T14:00:00.000Z", speed: 10 },
    });
    s.flush();
    expect(s.store.getState().serverNow).toBe(Date.parse("2026-11-21T14:00:00.000Z"));
    local += 3_000;
    s.flush();
    const v = s.store.getState();
    expect(v.now).toBe(1_003_000);
    expect(v.serverNow).toBe(Date.parse("2026-11-21T14:00:30.000Z"));
    s.dispose();
  });

  it("uses the local clock when the backend says nothing about its own", () => {
    const s = createCockpitStore({ url: "ws://127.0.0.1:1/v1/stream", tickMs: 0, now: () => 42_000 });
    s.ingest.welcome({ type: "welcome", protocol: 1, server: "t", session: { actor: "a", role: "viewer", tenant: "t" }, headSeq: 0 });
    s.flush();
    expect(s.store.getState().serverNow).toBe(42_000);
    s.dispose();
  });

  it("decode accepts a welcome clock and refuses a nonsense speed", () => {
    const base = { type: "welcome", protocol: 1, server: "s", session: { actor: "a", role: "viewer", tenant: "t" }, headSeq: 3 };
    const ok = decodeServerFrame(JSON.stringify({ ...base, clock: { time: "2026-11-21T14:00:00.000Z", speed: 20 } }));
    expect(ok.ok).toBe(true);
    const bad = decodeServerFrame(JSON.stringify({ ...base, clock: { time: "2026-11-21T14:00:00.000Z", speed: -1 } }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toMatch(/clock\.speed/);
  });
});
