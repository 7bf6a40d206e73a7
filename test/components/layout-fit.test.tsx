import { describe, expect, it } from "vitest";
import { unmountAfterEach } from "./mounted.js";
import { displayWidth } from "../../src/render/width.js";
import type { CockpitStore } from "../../src/store/cockpit-store.js";
import { canaryIncident, clock, ev, makeStore, renderApp, T0, welcome, type Rendered } from "./harness.js";

// The frame must fit: at most rows - 1 lines (a frame as tall as the terminal
// makes Ink clear the screen every time) and no line wider than the terminal
// (a wrapped line pushes everything down). Measured in terminal cells.

const open = unmountAfterEach();

function busyStore(role: "operator" | "commander" = "commander"): { store: CockpitStore; last: number } {
  const c = clock();
  const store = makeStore(c);
  welcome(store, role, "alice-with-a-rather-long-name");
  let s = canaryIncident(store, { killSwitch: true });
  for (let i = 0; i < 12; i++) {
    store.ingest.event(
      ev(++s, "rollout.created", {
        service: `service-with-a-long-name-${i}`,
        version: `v${1000 + i}-rc.${i}`,
        previousVersion: "v999",
        kind: i % 2 ? "flag" : "config",
        rings: Array.from({ length: 14 }, (_, k) => ({ name: `ring-${k}-eu-west`, traffic: k + 1, bakeSeconds: 60, slos: ["error_rate < baseline + 0.1% for 30s"] })),
        onBreach: "rollback",
      }, { rollout: `svc-${i}` }),
    );
    store.ingest.event(ev(++s, "ring.started", { ring: "ring-0-eu-west", traffic: 1 }, { rollout: `svc-${i}` }));
  }
  for (let i = 0; i < 8; i++) {
    store.ingest.event(
      ev(++s, "alert.firing", { severity: i % 3 === 0 ? "critical" : "warning", title: `告警 ${i}: 延迟过高 🚨🔥 in every ring of the fleet, really long title text`, source: "x" }, { alert: `al-x${i}`, rollout: "svc-1", ring: "ring-0-eu-west" }),
    );
  }
  for (let i = 0; i < 60; i++) store.ingest.event(ev(++s, "note.added", { text: `note ${i} ` + "wide 全角文字 text ".repeat(10) }, { actor: { kind: "human", name: "bob", role: "operator" } }));
  store.ingest.event(ev(++s, "incident.declared", { severity: "SEV1", title: "everything is slow" }, { incident: "inc-1" }));
  for (let i = 0; i < 30; i++) {
    for (const metric of ["p99_latency_ms", "error_rate", "throughput_rps", "cpu_saturation"]) {
      store.ingest.event(ev(++s, "sli.sample", { ring: "region-1", metric, value: 10 + i, unit: metric === "error_rate" ? "%" : "ms", baseline: 12 }, { rollout: "api-v408" }));
    }
  }
  c.set(T0 + 3_600_000);
  store.flush();
  return { store, last: s };
}

function expectFits(r: Rendered, columns: number, rows: number, what: string): void {
  const lines = r.lines();
  expect(lines.length, `${what}: ${lines.length} lines`).toBeLessThanOrEqual(rows - 1);
  lines.forEach((l, i) => expect(displayWidth(l), `${what}: line ${i + 1} "${l}"`).toBeLessThanOrEqual(columns));
}

async function mount(store: CockpitStore, columns: number, rows: number): Promise<Rendered> {
  const r = await renderApp(store, { columns, rows, onExportDraft: async () => "x" });
  open.push({ store, r });
  return r;
}

describe("80x24", () => {
  it("fits in 23 rows and 80 columns in every mode, stale or not", async () => {
    const { store } = busyStore();
    const r = await mount(store, 80, 24);
    expectFits(r, 80, 24, "main");
    expect(r.lines()[0]).toContain("● live");
    await r.press("r");
    expectFits(r, 80, 24, "confirm");
    expect(r.lastFrame()).toContain("Roll back api v408 → v407");
    await r.press("\t");
    await r.press("a reason that is much longer than the dialog is wide, to see it cut and not wrapped at all");
    expectFits(r, 80, 24, "reason");
    await r.press("\x1b");
    await new Promise((res) => setTimeout(res, 30));
    await r.press("?");
    expectFits(r, 80, 24, "help");
    await r.press("?");
    await r.press("m");
    expectFits(r, 80, 24, "milestone");
    await r.press("\r");
    await r.press("n");
    await r.press("x".repeat(200));
    expectFits(r, 80, 24, "note prompt");
    await r.press("\r");
    store.ingest.connection({ status: "stale", staleSince: T0, error: "the server at ws://127.0.0.1:7420 stopped answering (no frame for 15s); retrying" });
    store.flush();
    await r.press("\t");
    expectFits(r, 80, 24, "stale");
    expect(r.lastFrame()).toContain("NOT LIVE");
    for (let i = 0; i < 4; i++) await r.press("\t");
    await r.press("kkkkkkkkkkkk");
    expectFits(r, 80, 24, "timeline scrolled");
  });

  it("a small list still fills the screen exactly (no frame as tall as the terminal)", async () => {
    const c = clock();
    const store = makeStore(c);
    welcome(store);
    canaryIncident(store);
    store.flush();
    const r = await mount(store, 80, 24);
    expect(r.lines().length).toBe(23);
  });
});

/** Wait for the re-render a resize causes, on state rather than on a fixed delay (the machine may be loaded). */
async function until(done: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done() && Date.now() < end) await new Promise((res) => setTimeout(res, 10));
}

describe("large terminals and resizes", () => {
  it("fits 250x70 in 69 rows and uses two columns", async () => {
    const { store } = busyStore();
    const r = await mount(store, 250, 70);
    expectFits(r, 250, 70, "250x70");
    const titles = r.lines().find((l) => l.includes("ROLLOUTS"))!;
    expect(titles).toContain("ALERTS");
  });

  it("follows a resize from 160x45 down to 80x24 and back up", async () => {
    const { store } = busyStore();
    const r = await mount(store, 160, 45);
    expectFits(r, 160, 45, "160x45");
    r.stdout.resize(80, 24);
    await until(() => !(r.lines().find((l) => l.includes("ROLLOUTS")) ?? "ALERTS").includes("ALERTS"));
    expectFits(r, 80, 24, "after shrinking");
    expect(r.lines().find((l) => l.includes("ROLLOUTS"))).not.toContain("ALERTS");
    r.stdout.resize(200, 60);
    await until(() => r.lines().length === 59);
    expectFits(r, 200, 60, "after growing");
    expect(r.lines().length).toBe(59);
  });

  it("a terminal too small says so instead of drawing a broken screen", async () => {
    const { store } = busyStore();
    const r = await mount(store, 50, 10);
    expect(r.lastFrame()).toContain("Terminal 50x10 is too small");
    expectFits(r, 50, 10, "50x10");
  });
});
