import { describe, expect, it } from "vitest";
import { unmountAfterEach } from "./mounted.js";
import { sanitizeDeep } from "../../src/protocol/sanitize.js";
import type { CockpitEvent } from "../../src/protocol/types.js";
import type { CockpitStore } from "../../src/store/cockpit-store.js";
import { canaryIncident, clock, ev, makeStore, renderApp, settle, T0, welcome, type Clock, type Rendered } from "./harness.js";

// What a person reads on the screen, frame by frame.

const open = unmountAfterEach();

async function scene(
  opts: { role?: "viewer" | "operator" | "commander"; readonly?: boolean; columns?: number; rows?: number; killSwitch?: boolean; paused?: boolean; onExportDraft?: () => Promise<string> } = {},
): Promise<{ store: CockpitStore; r: Rendered; c: Clock; last: number }> {
  const c = clock();
  const store = makeStore(c, opts.readonly ? { readonly: true } : {});
  welcome(store, opts.role ?? "operator");
  const last = canaryIncident(store, { killSwitch: opts.killSwitch ?? true, ...(opts.paused === false ? { paused: false } : {}) });
  c.set(T0 + 65_000);
  store.flush();
  const r = await renderApp(store, {
    columns: opts.columns ?? 80,
    rows: opts.rows ?? 24,
    ...(opts.onExportDraft ? { onExportDraft: opts.onExportDraft } : {}),
  });
  open.push({ store, r });
  return { store, r, c, last };
}

async function update(store: CockpitStore, f: () => void): Promise<void> {
  f();
  store.flush();
  await settle();
}

/** The footer's lines (one below 40 rows, two from 40). */
const footer = (r: Rendered) => r.lines().slice(r.stdout.rows >= 40 ? -2 : -1).join("\n");

describe("header", () => {
  it("says live, where, the last seq, tenant, who you are and the UTC time", async () => {
    const { r, store } = await scene();
    await update(store, () => store.ingest.connection({ rttMs: 3.4 }));
    const head = r.lines()[0]!;
    expect(head).toContain("● live");
    // narrow: the loopback scheme goes so the port survives
    expect(head).toContain("127.0.0.1:7420");
    expect(head).toContain("rtt 3ms");
    expect(head).toMatch(/seq \d+/);
    expect(head).toContain("payments alice/operator");
    expect(head).toContain("14:01:05Z");
    expect(head).not.toContain("READ-ONLY");
  });

  it("at 80 columns a crowded header cuts the address in its middle: the port that tells backends apart stays", async () => {
    const { r, store } = await scene();
    await update(store, () =>
      store.ingest.connection({ rttMs: 12, lastSeq: 1_234_567, url: "ws://staging-rollouts.internal.example.com:7421/v1/stream", clock: { serverTime: T0, localTime: T0, speed: 10 } }),
    );
    const head = r.lines()[0]!;
    expect(head).toMatch(/^● live  staging-[^ ]*…:7421 /);
    // the round trip gave way to the address
    expect(head).not.toContain("rtt");
    expect(head).toContain("seq 1234567");
    expect(head).toContain("sim ×10");
    expect(head.trimEnd().length).toBeLessThanOrEqual(80);
  });

  it("wider terminals spell the header out", async () => {
    const { r } = await scene({ columns: 140, rows: 40 });
    const head = r.lines()[0]!;
    expect(head).toContain("payments · alice (operator)");
    expect(head).toContain("14:01:05 UTC");
  });

  it("connecting and reconnecting-in-Ns are spelled out", async () => {
    const { r, store } = await scene();
    await update(store, () => store.ingest.connection({ status: "reconnecting", retryAt: T0 + 69_000, staleSince: T0 + 60_000 }));
    expect(r.lines()[0]).toContain("↻ reconnecting in 4s");
    await update(store, () => store.ingest.connection({ status: "connecting", retryAt: undefined, staleSince: undefined }));
    expect(r.lines()[0]).toContain("◌ connecting");
  });

  it("stale is impossible to mistake for live: header, a banner line, and every pane marked", async () => {
    const { r, store } = await scene();
    await update(store, () => store.ingest.connection({ status: "stale", staleSince: T0 + 5_000 }));
    const lines = r.lines();
    expect(lines[0]).toContain("⚠ STALE since 14:00:05");
    expect(lines[0]).not.toContain("● live");
    expect(lines[1]).toContain("⚠ STALE — NOT LIVE: data as of 14:00:05 UTC (1m ago)");
    for (const title of ["ROLLOUTS", "DETAIL", "ALERTS", "TIMELINE"]) {
      const line = lines.find((l) => l.includes(title))!;
      expect(line, title).toContain("⚠ STALE");
    }
    await update(store, () => store.ingest.connection({ status: "live", staleSince: undefined }));
    expect(r.lastFrame()).not.toContain("STALE");
  });

  it("in a simulation faster than real time, stale times are on the same clock as the header's", async () => {
    const { r, store } = await scene({ columns: 120, rows: 30 });
    // ×10 from T0: 65 s of wall time since T0 is 650 s on the backend's clock (14:10:50); the
    // data stopped 5 s of wall time after T0, which the backend's clock read as 14:00:50.
    await update(store, () =>
      store.ingest.connection({ status: "stale", staleSince: T0 + 5_000, clock: { serverTime: T0, localTime: T0, speed: 10 } }),
    );
    const lines = r.lines();
    expect(lines[0]).toContain("⚠ STALE since 14:00:50");
    expect(lines[0]).toContain("sim ×10 14:10:50 UTC");
    expect(lines[1]).toContain("data as of 14:00:50 UTC (10m ago)");
  });

  it("before the backend ever answered, empty panes say nothing is known, not that all is well", async () => {
    const c = clock();
    const store = makeStore(c);
    store.ingest.connection({ status: "reconnecting", retryAt: T0 + 5_000, error: "cannot reach ws://127.0.0.1:7420/v1/stream: is `cockpit serve` running?" });
    store.flush();
    const r = await renderApp(store, { columns: 120, rows: 30 });
    open.push({ store, r });
    const frame = r.lastFrame();
    // what went wrong first: it says what to do
    expect(r.lines()[1]).toMatch(/^⚠ NOT CONNECTED: cannot reach ws:\/\/127\.0\.0\.1:7420\/v1\/stream: is `cockpit serve` running\? · reconnecting in 5s ⚠/);
    expect(frame).not.toContain("no alerts");
    expect(frame).not.toContain("0 firing");
    expect(frame).toContain("ALERTS (no data)");
    expect(frame.match(/nothing from the backend yet/g)?.length).toBe(3);
  });

  it("at 80 columns a refused token's banner takes two lines rather than lose the next step", async () => {
    const c = clock();
    const store = makeStore(c);
    store.ingest.connection({ status: "failed", error: "token rejected by ws://127.0.0.1:7420/v1/stream: check COCKPIT_TOKEN" });
    store.flush();
    const r = await renderApp(store, { columns: 80, rows: 24 });
    open.push({ store, r });
    const lines = r.lines();
    expect(lines[0]).toContain("✗ FAILED");
    expect(lines[1]).toMatch(/^⚠ NOT CONNECTED: token rejected by ws:\/\/127\.0\.0\.1:7420\/v1\/stream: check\s*$/);
    expect(lines[2]).toMatch(/^COCKPIT_TOKEN ⚠\s*$/);
    expect(lines[3]).toContain("ROLLOUTS");
    expect(lines.length).toBeLessThanOrEqual(24);
  });

  it("a read-only session says so", async () => {
    const { r } = await scene({ readonly: true });
    expect(r.lines()[0]).toContain("READ-ONLY");
  });
});

describe("rollouts and detail", () => {
  it("a paused rollout shows why, in the list and in words in the detail", async () => {
    const { r } = await scene();
    const frame = r.lastFrame();
    const row = r.lines().find((l) => l.includes("api v408"))!;
    expect(row).toContain("code");
    expect(row).toContain("region-1");
    expect(row).toContain("■▣□");
    // The engine's reason shortened to what a row has room for: metric, reading, threshold.
    expect(row).toContain("‖ paused (auto: p99_latency_ms 63.2 > 50)");
    // The detail gives the whole sentence: at 80 columns it fits one line.
    expect(frame).toContain("  ‖ Auto-paused: p99_latency_ms < 50 for 1m breached in region-1 (63.2 > 50).");
  });

  it("a pause reason longer than the detail pane wraps, marked ↳, instead of being cut", async () => {
    const { r } = await scene({ columns: 60, rows: 30 });
    const lines = r.lines();
    const at = lines.findIndex((l) => l.includes("‖ Auto-paused:"));
    expect(lines[at]).toMatch(/^  ‖ Auto-paused: p99_latency_ms < 50 for 1m breached in\s*$/);
    // the reading stays in one piece, and the line says it carries on the one above
    expect(lines[at + 1]).toMatch(/^  ↳ region-1 \(63\.2 > 50\)\.\s*$/);
    // the rings follow it, none pushed out
    for (const ring of ["canary", "region-1", "global"]) expect(lines.slice(at + 2).some((l) => new RegExp(`^  ${ring}\\s+\\d+%`).test(l))).toBe(true);
  });

  it("kill switch ON comes first in the row, and the detail says what it means", async () => {
    const { r, store, last } = await scene();
    await update(store, () => store.ingest.event(ev(last + 1, "killswitch.engaged", { flag: "checkout_v2" }, { rollout: "api-v408" })));
    const row = r.lines().find((l) => l.includes("api v408"))!;
    expect(row).toMatch(/⊘ kill switch ON · ‖ paused/);
    expect(r.lastFrame()).toContain("Kill switch checkout_v2 is ON");
  });

  it("a baking ring counts down; rings show traffic, state and gate results", async () => {
    const { r, store, c } = await scene({ paused: false });
    const row = r.lines().find((l) => l.includes("api v408"))!;
    expect(row).toContain("◷ baking 8m55s left");
    const region = r.lines().find((l) => l.includes("region-1") && l.includes("10%"))!;
    expect(region).toContain("◷ baking 8m55s left");
    expect(region).toContain("✓ p99_latency_ms < 50 for 1m");
    const canary = r.lines().find((l) => l.includes("canary") && l.includes("1%"))!;
    expect(canary).toContain("✓ completed");
    const global = r.lines().find((l) => l.includes("global") && l.includes("100%"))!;
    expect(global).toContain("○ pending");
    expect(global).toContain("· p99_latency_ms < 50 for 1m");
    c.advance(60_000);
    await update(store, () => undefined);
    expect(r.lines().find((l) => l.includes("api v408"))).toContain("baking 7m55s left");
  });

  it("SLI rows: sparkline, current value against the SLO with ✗ when breaching and ✓ when not, baseline", async () => {
    const { r } = await scene();
    const p99 = r.lines().find((l) => l.includes("p99_latency_ms") && l.includes("base"))!;
    expect(p99).toMatch(/[▁▂▃▄▅▆▇█]{10,}/);
    expect(p99).toContain("✗ 62.8ms > 50");
    expect(p99).toContain("base 41ms");
    const err = r.lines().find((l) => l.includes("error_rate") && l.includes("base"))!;
    expect(err).toContain("✓ 0.2% < 1");
  });

  it("SLI rows scroll in the detail pane; past the end one k still moves back", async () => {
    const { r, store, last } = await scene();
    await update(store, () => {
      let s = last;
      for (const metric of ["throughput_rps", "cpu_saturation"])
        store.ingest.event(ev(++s, "sli.sample", { ring: "region-1", metric, value: 50, unit: metric === "cpu_saturation" ? "%" : "rps", baseline: 48 }, { rollout: "api-v408", ring: "region-1" }));
    });
    const sliRows = () => r.lines().filter((l) => /base /.test(l)).map((l) => /(p99_latency_ms|error_rate|throughput_rps|cpu_saturation)/.exec(l)![1]);
    expect(sliRows()).toEqual(["p99_latency_ms", "error_rate"]);
    await r.press("\t");
    await r.press("jjjjjjjj");
    expect(sliRows()).toEqual(["throughput_rps", "cpu_saturation"]);
    await r.press("k");
    expect(sliRows()).toEqual(["error_rate", "throughput_rps"]);
  });

  it("rolled back and completed read as such", async () => {
    const { r, store, last } = await scene();
    await update(store, () => {
      store.ingest.event(ev(last + 1, "rollout.rollback_started", { fromVersion: "v408", toVersion: "v407", scope: ["canary", "region-1"], automatic: false }, { rollout: "api-v408" }));
    });
    expect(r.lines().find((l) => l.includes("api v408"))).toContain("↺ rolling back");
    await update(store, () => {
      store.ingest.event(ev(last + 2, "rollout.rolled_back", { fromVersion: "v408", toVersion: "v407", scope: ["canary", "region-1"], automatic: false }, { rollout: "api-v408" }));
    });
    expect(r.lines().find((l) => l.includes("api v408"))).toContain("↩ rolled back");
    expect(r.lastFrame()).toContain("Rolled back to v407");
  });

  it("the rollout that needs attention is listed first", async () => {
    const { r, store, last } = await scene();
    await update(store, () =>
      store.ingest.event(
        ev(last + 1, "rollout.created", { service: "web", version: "v2", previousVersion: "v1", kind: "flag", rings: [{ name: "canary", traffic: 5, bakeSeconds: 60, slos: [] }], onBreach: "rollback" }, { rollout: "web-v2" }),
      ),
    );
    const rows = r.lines().filter((l) => l.includes("api v408") || l.includes("web v2"));
    expect(rows[0]).toContain("api v408");
    expect(rows[1]).toContain("web v2");
    expect(rows[1]).toContain("○ pending");
  });
});

describe("alerts and timeline", () => {
  it("alerts: severity glyph and word, title, where, age, acked-by; critical first", async () => {
    const { r, store, last } = await scene({ rows: 40, columns: 110 });
    await update(store, () => {
      store.ingest.event(ev(last + 1, "alert.firing", { severity: "warning", title: "error budget burning", source: "burn-rate" }, { alert: "al-2", rollout: "api-v408" }));
      store.ingest.event(
        ev(last + 2, "alert.acknowledged", { severity: "critical", title: "x", source: "engine" }, { alert: "al-1", actor: { kind: "human", name: "bob", role: "operator" } }),
      );
    });
    const lines = r.lines();
    const crit = lines.findIndex((l) => l.includes("✖ critical"));
    const warn = lines.findIndex((l) => l.includes("▲ warning"));
    expect(crit).toBeGreaterThan(0);
    expect(warn).toBeGreaterThan(crit);
    expect(lines[crit]).toContain("api p99 latency over SLO");
    expect(lines[crit]).toContain("api-v408/region-1");
    expect(lines[crit]).toContain("ago");
    expect(lines[crit]).toContain("✓ acked by bob");
    expect(lines[warn]).toContain("◇ not acked");
  });

  it("at 80 columns an alert's title is kept whole before its rollout/ring", async () => {
    const { r } = await scene();
    const row = r.lines().find((l) => l.includes("✖ critical"))!;
    expect(row).toContain("api p99 latency over SLO in region-1");
    expect(row).toContain("◇ not acked");
  });

  it("timeline: plain sentences with UTC time; no SLI samples; / filters it", async () => {
    const { r } = await scene({ rows: 40 });
    const frame = r.lastFrame();
    expect(frame).toContain("14:00:47  the engine paused api-v408 automatically");
    expect(frame).not.toMatch(/sli\.sample/);
    await r.press("/");
    await r.press("firing");
    expect(footer(r)).toContain("Enter ok");
    expect(r.lastFrame()).toContain("Filter timeline › firing▌");
    await r.press("\r");
    const after = r.lines();
    const start = after.findIndex((l) => l.includes("TIMELINE"));
    expect(after[start]).toContain("filter “firing”");
    const body = after.slice(start + 1, after.length - 2).filter((l) => /^\s+\d\d:\d\d:\d\d/.test(l));
    expect(body.length).toBe(1);
    expect(body[0]).toContain("alert firing (critical)");
  });

  it("timeline scrolls back with k and forward with j when focused", async () => {
    const { r, store, last } = await scene();
    await update(store, () => {
      for (let i = 1; i <= 5; i++) store.ingest.event(ev(last + i, "note.added", { text: `note ${i}` }, { actor: { kind: "human", name: "bob", role: "operator" } }));
    });
    const newest = "note by bob (operator): note 5";
    expect(r.lastFrame()).toContain(newest);
    await r.press("\t\t\t");
    expect(r.lines().find((l) => l.includes("TIMELINE"))).toMatch(/^▸/);
    await r.press("kk");
    expect(r.lines().find((l) => l.includes("TIMELINE"))).toContain("↓ 2 newer below");
    expect(r.lastFrame()).not.toContain(newest);
    // far past the oldest line: the view stops there, and one j still moves it
    await r.press("kkkkkkkkkkkkkkkkkkkk");
    const top = r.lines().find((l) => l.includes("TIMELINE"))!;
    const back = Number(/↓ (\d+) newer below/.exec(top)![1]);
    await r.press("j");
    expect(r.lines().find((l) => l.includes("TIMELINE"))).toContain(`↓ ${back - 1} newer below`);
    await r.press("j".repeat(back - 1));
    expect(r.lastFrame()).toContain(newest);
    expect(r.lastFrame()).not.toContain("newer below");
  });

  it("below 160 columns the panes stack, and at 120 a timeline sentence is whole on one line", async () => {
    const { r } = await scene({ columns: 120, rows: 35 });
    const lines = r.lines();
    for (const title of ["ROLLOUTS", "DETAIL", "ALERTS", "TIMELINE"]) expect(lines.filter((l) => l.includes(title))).toHaveLength(1);
    expect(lines.some((l) => l.includes("ROLLOUTS") && l.includes("ALERTS"))).toBe(false);
    expect(lines.map((l) => l.trimEnd())).toContain("  14:00:47  the engine paused api-v408 automatically: p99_latency_ms < 50 for 1m breached in region-1 (63.2 > 50)");
    const wide = await scene({ columns: 160, rows: 40 });
    expect(wide.r.lines().some((l) => l.includes("ROLLOUTS") && l.includes("ALERTS"))).toBe(true);
  });

  it("a timeline sentence too long for its line goes on under it, marked ↳; k moves back one event, not one line", async () => {
    const { r, store, last } = await scene({ columns: 80, rows: 30 });
    const lines = r.lines();
    const at = lines.findIndex((l) => l.includes("14:00:47  the engine paused api-v408 automatically"));
    expect(lines[at]).toMatch(/^  14:00:47  the engine paused api-v408 automatically: p99_latency_ms < 50 for 1m\s*$/);
    expect(lines[at + 1]).toMatch(/^          ↳ breached in region-1 \(63\.2 > 50\)\s*$/);
    await update(store, () => {
      for (let i = 1; i <= 12; i++) store.ingest.event(ev(last + i, "note.added", { text: `note ${i}` }, { actor: { kind: "human", name: "bob", role: "operator" } }));
    });
    await r.press("\t\t\t");
    await r.press("k");
    expect(r.lines().find((l) => l.includes("TIMELINE"))).toContain("↓ 1 newer below");
    const tail = r.lines().filter((l) => /^  \d\d:\d\d:\d\d  /.test(l)).at(-1)!;
    expect(tail).toContain("note by bob (operator): note 11");
    // as far back as it goes: the oldest event is the top row, whole
    await r.press("k".repeat(40));
    const body = r.lines();
    const first = body.findIndex((l) => l.includes("TIMELINE")) + 1;
    expect(body[first]).toMatch(/^  14:00:01  the engine created rollout api-v408/);
    expect(body[first + 1]).toMatch(/^          ↳ /);
  });

  it("a long note keeps its end in view while typing", async () => {
    const { r } = await scene();
    await r.press("n");
    await r.press("a".repeat(150) + "THE END");
    const status = r.lines()[r.lines().length - 2]!;
    expect(status).toMatch(/^Note › …a+THE END▌$/);
  });
});

describe("footer and keys", () => {
  it("footer keys follow the focus", async () => {
    const { r } = await scene();
    expect(footer(r)).toContain("p resume");
    expect(footer(r)).toContain("r roll back…");
    expect(footer(r)).toContain("x kill switch…");
    expect(footer(r)).not.toContain("a ack");
    await r.press("\t");
    await r.press("\t");
    expect(footer(r)).toContain("a ack");
    expect(footer(r)).not.toContain("p resume");
    expect(footer(r)).toContain("? help");
  });

  it("a viewer sees no p, r or x, and pressing them sends nothing", async () => {
    const { r } = await scene({ role: "viewer" });
    const f = footer(r);
    expect(f).not.toMatch(/\bp (pause|resume)/);
    expect(f).not.toContain("roll back");
    expect(f).not.toContain("kill switch");
    expect(f).toContain("q/^C quit");
    await r.press("r");
    expect(r.lastFrame()).not.toContain("CONFIRM");
    expect(r.sent).toEqual([]);
  });

  it("read-only hides the dangerous keys whatever the role", async () => {
    const { r } = await scene({ readonly: true, role: "commander" });
    const f = footer(r);
    expect(f).not.toContain("roll back");
    expect(f).not.toContain("kill switch");
    expect(f).not.toContain("note");
    await r.press("p");
    await r.press("x");
    expect(r.sent).toEqual([]);
  });

  it("help lists the keys this session may use", async () => {
    const { r } = await scene({ rows: 40 });
    await r.press("?");
    const frame = r.lastFrame();
    expect(frame).toContain("KEYS");
    expect(frame).toContain("Roll the selected rollout back");
    expect(frame).toContain("In a confirmation:");
    await r.press("?");
    expect(r.lastFrame()).not.toContain("KEYS");
  });

  it("a viewer's help does not offer what it cannot do", async () => {
    const { r } = await scene({ role: "viewer", rows: 40 });
    await r.press("?");
    expect(r.lastFrame()).not.toContain("Roll the selected rollout back");
    expect(r.lastFrame()).toContain("Your role (viewer) reads only");
  });

  it("e is offered only with an export handler, and reports where the draft went", async () => {
    const without = await scene();
    expect(footer(without.r)).not.toContain("post-mortem");
    const { r } = await scene({ onExportDraft: async () => "/tmp/draft.md", rows: 40 });
    expect(r.lines().slice(-2).join("\n")).toContain("e post-mortem");
    await r.press("e");
    await settle();
    expect(r.lastFrame()).toContain("post-mortem draft written: /tmp/draft.md");
  });

  it("at 80 columns a long draft path loses its start, never the file's name", async () => {
    const path = "/tmp/cockpit-demo-TIsKVk/postmortem-rollout-20261206T045211Z.md";
    const { r } = await scene({ onExportDraft: async () => path });
    await r.press("e");
    await settle();
    const line = r.lines().find((l) => l.includes("post-mortem draft written:"))!;
    expect(line.trimEnd()).toBe("› post-mortem draft written: …demo-TIsKVk/postmortem-rollout-20261206T045211Z.md");
    expect(line.trimEnd().length).toBeLessThanOrEqual(80);
  });
});

describe("confirmation and command outcomes", () => {
  it("r asks, naming versions and rings, with Cancel as default: Enter cancels", async () => {
    const { r } = await scene();
    await r.press("r");
    const frame = r.lastFrame();
    expect(frame).toContain("Roll back api v408 → v407 in canary, region-1?");
    expect(frame).toContain("[ Cancel ] Enter/Esc/n (default)");
    expect(frame).toContain("y roll back");
    expect(footer(r)).toContain("y yes, do it");
    await r.press("\r");
    expect(r.lastFrame()).not.toContain("Roll back api v408");
    expect(r.lastFrame()).toContain("cancelled: nothing sent");
    expect(r.sent).toEqual([]);
  });

  it("y goes: the command shows pending, then acked", async () => {
    const { r, store } = await scene();
    await r.press("r");
    await r.press("y");
    expect(r.sent).toEqual([{ action: "rollback", target: { rollout: "api-v408" } }]);
    expect(r.lastFrame()).toContain("⋯ pending  roll back api v408 → v407 (0s)");
    await update(store, () => store.ingest.ack({ type: "ack", id: "c1", seq: 99, duplicate: false }));
    expect(r.lastFrame()).toContain("✓ acked  roll back api v408 → v407");
  });

  it("a reason typed in the dialog goes with the command", async () => {
    const { r } = await scene();
    await r.press("x");
    expect(r.lastFrame()).toContain("Engage kill switch checkout_v2 for api v408?");
    await r.press("\t");
    await r.press("p99 doubled");
    expect(r.lastFrame()).toContain("Reason (optional): p99 doubled▌");
    await r.press("\r");
    await r.press("y");
    expect(r.sent).toEqual([{ action: "kill_switch", target: { rollout: "api-v408" }, reason: "p99 doubled" }]);
  });

  it("a reject shows the server's sentence", async () => {
    const { r, store } = await scene();
    await r.press("p");
    await update(store, () => store.ingest.reject({ type: "reject", id: "c1", code: "invalid_state", message: "cannot resume api-v408: it was rolled back at 14:01" }));
    const status = r.lines()[r.lines().length - 2]!;
    expect(status).toContain("✗ rejected  resume api v408: cannot resume api-v408: it was rolled back at 14:01");
  });

  it("no answer in 10 s shows a timeout, and nothing is sent again", async () => {
    const { r, store, c } = await scene();
    await r.press("p");
    c.advance(9_000);
    await update(store, () => undefined);
    expect(r.lastFrame()).toContain("⋯ pending  resume api v408 (9s)");
    c.advance(1_000);
    await update(store, () => undefined);
    expect(r.lastFrame()).toContain("⧗ timeout  resume api v408: no answer in 10s: check the timeline");
    expect(r.sent).toHaveLength(1);
  });
});

describe("hostile text", () => {
  it("an alert title full of escape sequences renders inert (visible, not executed) and the layout holds", async () => {
    const c = clock();
    const store = makeStore(c);
    open.push({ store });
    welcome(store);
    canaryIncident(store);
    const hostile = "pwn \x1b]52;c;Y3VybCBldmlsLnNo\x07 \x1b[2J\x1b[31mred \u202Eevil\u202C \r\b\x9b6n end";
    // What decode hands the store: the same sanitizer the client runs on every frame.
    const e = sanitizeDeep(ev(900, "alert.firing", { severity: "critical", title: hostile, source: "x" }, { alert: "al-h", rollout: "api-v408" })) as CockpitEvent;
    store.ingest.event(e);
    store.ingest.event(sanitizeDeep(ev(901, "note.added", { text: hostile }, { actor: { kind: "human", name: "mallory\x1b[8m", role: "operator" } })) as CockpitEvent);
    store.flush();
    const r = await renderApp(store, { columns: 80, rows: 24 });
    open[open.length - 1]!.r = r;
    const frame = r.lastFrame();
    // Our own styling may add SGR codes when colour is on (stripped by lastFrame); nothing else may reach the terminal.
    const withoutSgr = frame;
    expect(r.raw().replace(/\x1b\[[0-9;]*m/g, "")).toBe(frame);
    expect(withoutSgr).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]/);
    expect(frame).toContain("␛]52;c;");
    const lines = r.lines();
    expect(lines.length).toBeLessThanOrEqual(23);
  });
});
