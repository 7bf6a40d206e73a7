import { describe, expect, it } from "vitest";
import type { AlertState, RolloutState } from "../../src/protocol/types.js";
import type { CockpitView, ConnectionView } from "../../src/store/cockpit-store.js";
import {
  attentionRank,
  filterTimeline,
  isStale,
  memoOn,
  openIncident,
  selectAlertsSorted,
  selectRolloutsSorted,
  sortAlerts,
  sortRolloutsByAttention,
} from "../../src/store/selectors.js";

function rollout(id: string, state: RolloutState["state"], extra: Partial<RolloutState> = {}): RolloutState {
  return {
    id,
    service: id,
    version: "v2",
    previousVersion: "v1",
    kind: "code",
    state,
    ring: "canary",
    rings: [{ name: "canary", traffic: 1, state: "progressing" }],
    onBreach: "pause",
    ...extra,
  };
}

function alert(id: string, severity: AlertState["severity"], extra: Partial<AlertState> = {}): AlertState {
  return { id, severity, title: id, state: "firing", since: "2026-11-21T14:00:00.000Z", ...extra };
}

function view(rollouts: RolloutState[], alerts: AlertState[] = []): CockpitView {
  return {
    connection: { status: "live", url: "ws://x", lastSeq: 0 },
    readonly: false,
    state: { rollouts, alerts, incidents: [] },
    timeline: [],
    series: new Map(),
    commands: [],
    now: 0,
    serverNow: 0,
    revision: 0,
  };
}

describe("rollouts, attention first", () => {
  it("orders paused, rolling back, kill switch, breaching, progressing, then the rest", () => {
    const list = [
      rollout("done", "completed"),
      rollout("moving", "progressing"),
      rollout("waiting", "pending"),
      rollout("breach", "progressing", { rings: [{ name: "canary", traffic: 1, state: "progressing", breaches: ["p99 < 50"] }] }),
      rollout("ks", "progressing", { killSwitch: { flag: "f", engaged: true } }),
      rollout("back", "rolling_back"),
      rollout("held", "paused"),
      rollout("reverted", "rolled_back"),
    ];
    expect(sortRolloutsByAttention(list).map((r) => r.id)).toEqual(["held", "back", "ks", "breach", "moving", "done", "waiting", "reverted"]);
  });

  it("a rolled back rollout with an old breach mark does not jump the queue", () => {
    const r = rollout("old", "rolled_back", { rings: [{ name: "canary", traffic: 1, state: "rolled_back", breaches: ["x"] }] });
    expect(attentionRank(r)).toBe(5);
  });

  it("returns the same array until the rollouts change (stable for useStore)", () => {
    const v = view([rollout("a", "progressing"), rollout("b", "paused")]);
    const first = selectRolloutsSorted(v);
    expect(selectRolloutsSorted({ ...v, now: 5 })).toBe(first);
    expect(first.map((r) => r.id)).toEqual(["b", "a"]);
    const v2 = view([rollout("a", "paused")]);
    expect(selectRolloutsSorted(v2)).not.toBe(first);
  });
});

describe("alerts, critical first", () => {
  it("firing before resolved, by severity, unacked before acked, newest first", () => {
    const list = [
      alert("info", "info"),
      alert("warn", "warning"),
      alert("crit-acked", "critical", { ackedBy: "bob" }),
      alert("crit-old", "critical", { since: "2026-11-21T13:00:00.000Z" }),
      alert("crit-new", "critical", { since: "2026-11-21T14:30:00.000Z" }),
      alert("gone", "critical", { state: "resolved" }),
    ];
    expect(sortAlerts(list).map((a) => a.id)).toEqual(["crit-new", "crit-old", "crit-acked", "warn", "info", "gone"]);
  });

  it("memoized on the alerts array", () => {
    const v = view([], [alert("a", "info"), alert("b", "critical")]);
    expect(selectAlertsSorted(v)).toBe(selectAlertsSorted({ ...v, revision: 9 }));
  });
});

describe("helpers", () => {
  it("memoOn recomputes only when the input identity changes", () => {
    let calls = 0;
    const sel = memoOn(
      (v: CockpitView) => v.timeline,
      (t) => {
        calls++;
        return t.length;
      },
    );
    const v = view([]);
    sel(v);
    sel({ ...v, now: 1 });
    expect(calls).toBe(1);
    sel({ ...v, timeline: [] });
    expect(calls).toBe(2);
  });

  it("memoOn does not keep a stale output when derive throws", () => {
    let fail = false;
    const sel = memoOn(
      (v: CockpitView) => v.timeline,
      (t) => {
        if (fail) throw new Error("bad input");
        return t.length;
      },
    );
    const v = view([]);
    expect(sel(v)).toBe(0);
    fail = true;
    const broken = { ...v, timeline: [] };
    expect(() => sel(broken)).toThrow("bad input");
    expect(() => sel(broken)).toThrow("bad input");
  });

  it("openIncident is the newest open one", () => {
    const inc = (id: string, status: "open" | "resolved") => ({ id, severity: "SEV2", title: id, status, roles: {}, milestones: {} });
    expect(openIncident([inc("a", "open"), inc("b", "open"), inc("c", "resolved")])?.id).toBe("b");
    expect(openIncident([inc("a", "resolved")])).toBeUndefined();
  });

  it("isStale: live is fresh; a first connecting has nothing yet; everything else is stale", () => {
    const c = (p: Partial<ConnectionView>): ConnectionView => ({ status: "live", url: "", lastSeq: 0, ...p });
    expect(isStale(c({}))).toBe(false);
    expect(isStale(c({ status: "connecting" }))).toBe(false);
    expect(isStale(c({ status: "connecting", staleSince: 1 }))).toBe(true);
    expect(isStale(c({ status: "reconnecting" }))).toBe(true);
    expect(isStale(c({ status: "stale" }))).toBe(true);
    expect(isStale(c({ status: "closed" }))).toBe(true);
    expect(isStale(c({ status: "failed" }))).toBe(true);
  });

  it("filterTimeline matches text, type, rollout and ring, case-insensitively; blank keeps all", () => {
    const entries = [
      { seq: 1, time: "", type: "note.added", text: "note by alice: Looking", rollout: "api-v408" },
      { seq: 2, time: "", type: "rollout.paused", text: "paused web-v2", rollout: "web-v2", ring: "EU" },
    ];
    expect(filterTimeline(entries, "  ")).toBe(entries);
    expect(filterTimeline(entries, "looking").map((e) => e.seq)).toEqual([1]);
    expect(filterTimeline(entries, "PAUSED").map((e) => e.seq)).toEqual([2]);
    expect(filterTimeline(entries, "api-v4").map((e) => e.seq)).toEqual([1]);
    expect(filterTimeline(entries, "eu").map((e) => e.seq)).toEqual([2]);
    expect(filterTimeline(entries, "nothing")).toEqual([]);
  });
});

describe("series order", () => {
  it("current ring first, then plan order; latency, errors, traffic, saturation within a ring", async () => {
    const { seriesOf, metricRank } = await import("../../src/store/selectors.js");
    const { RingBuffer } = await import("../../src/store/ring-buffer.js");
    const mk = (ring: string, metric: string) => ({
      key: `api/${ring}/${metric}`,
      rollout: "api",
      ring,
      metric,
      unit: "",
      values: new RingBuffer(2),
      baselines: new RingBuffer(2),
      last: null,
      baseline: null,
      updatedSeq: 1,
    });
    const r = rollout("api", "progressing", {
      ring: "region-1",
      rings: [
        { name: "canary", traffic: 1, state: "completed" },
        { name: "region-1", traffic: 10, state: "progressing" },
      ],
    });
    const all = [mk("canary", "error_rate"), mk("canary", "p99_latency_ms"), mk("region-1", "cpu_saturation"), mk("region-1", "error_rate"), mk("region-1", "p99_latency_ms"), mk("other", "zzz")];
    const map = new Map(all.map((s) => [s.key, s]));
    map.set("web/canary/x", { ...mk("canary", "x"), rollout: "web", key: "web/canary/x" });
    expect(seriesOf(map, r).map((s) => `${s.ring}/${s.metric}`)).toEqual([
      "region-1/p99_latency_ms",
      "region-1/error_rate",
      "region-1/cpu_saturation",
      "canary/p99_latency_ms",
      "canary/error_rate",
      "other/zzz",
    ]);
    expect(seriesOf(map, undefined)).toEqual([]);
    expect([metricRank("p95_latency"), metricRank("http_5xx"), metricRank("rps"), metricRank("mem_util"), metricRank("queue")]).toEqual([0, 1, 2, 3, 4]);
  });
});
