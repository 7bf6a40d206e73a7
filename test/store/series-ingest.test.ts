import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { createCockpitStore, seriesKey, type CockpitStore, type SeriesView } from "../../src/store/cockpit-store.js";
import type { CockpitEvent } from "../../src/protocol/types.js";

// The store's sample path finds a series without building its key and
// updates a series view in place while no flush has published it yet. What
// subscribers see must be what a new view per sample gave them: the same
// series, fields and history at each flush, and a view once published never
// changing afterwards (only the shared ring buffers move on, as always).

let stores: CockpitStore[] = [];
function make(seriesCapacity = 5): CockpitStore {
  const s = createCockpitStore({ url: "ws://127.0.0.1:1/v1/stream", tickMs: 0, flushIntervalMs: 1_000_000, seriesCapacity });
  stores.push(s);
  return s;
}

afterEach(() => {
  for (const s of stores) s.dispose();
  stores = [];
});

interface Sample {
  rollout?: string;
  ring: unknown;
  metric: unknown;
  value: unknown;
  unit?: unknown;
  baseline?: unknown;
}

function sampleEvent(seq: number, s: Sample): CockpitEvent {
  const data: Record<string, unknown> = { ring: s.ring, metric: s.metric, value: s.value };
  if ("unit" in s) data.unit = s.unit;
  if ("baseline" in s) data.baseline = s.baseline;
  const e: Record<string, unknown> = {
    seq,
    id: `evt_${seq}`,
    time: "2026-11-21T14:00:00.000Z",
    tenant: "payments",
    type: "sli.sample",
    actor: { kind: "engine", name: "engine" },
    data,
    prev: "0".repeat(64),
    hash: "1".repeat(64),
  };
  if (s.rollout !== undefined) e.rollout = s.rollout;
  return e as unknown as CockpitEvent;
}

/** The fields of a view a subscriber reads, buffers as plain arrays. */
function seen(v: SeriesView) {
  return {
    key: v.key,
    rollout: v.rollout,
    ring: v.ring,
    metric: v.metric,
    unit: v.unit,
    last: v.last,
    baseline: v.baseline,
    updatedSeq: v.updatedSeq,
    values: Array.from(v.values.toArray()),
    baselines: Array.from(v.baselines.toArray()),
  };
}

/** The fields a published view holds by itself (its buffers are shared with later views by design). */
function ownFields(v: SeriesView) {
  const { values: _v, baselines: _b, ...own } = seen(v);
  return own;
}

/** The sample path as it was: one new view per sample, keyed by seriesKey. The reference. */
class ReferenceSeries {
  readonly series = new Map<string, ReturnType<typeof seen>>();
  changed = false;
  constructor(private readonly capacity: number) {}
  ingest(e: CockpitEvent): void {
    const d = e.data as unknown as Record<string, unknown>;
    if (!e.rollout || typeof d.metric !== "string" || typeof d.ring !== "string") return;
    const key = seriesKey(e.rollout, d.ring, d.metric);
    const old = this.series.get(key);
    const value = typeof d.value === "number" && Number.isFinite(d.value) ? d.value : null;
    const baseline = typeof d.baseline === "number" && Number.isFinite(d.baseline) ? d.baseline : null;
    const keep = (xs: number[], x: number) => [...xs, x].slice(-this.capacity);
    this.series.set(key, {
      key,
      rollout: e.rollout,
      ring: d.ring,
      metric: d.metric,
      unit: typeof d.unit === "string" ? d.unit : (old?.unit ?? ""),
      last: value,
      baseline: baseline ?? old?.baseline ?? null,
      updatedSeq: e.seq,
      values: keep(old?.values ?? [], value ?? NaN),
      baselines: keep(old?.baselines ?? [], baseline ?? NaN),
    });
    this.changed = true;
  }
}

describe("sample ingest: what subscribers see", () => {
  it("a published view never changes; the next sample after a flush makes a new one", () => {
    const s = make();
    s.ingest.event(sampleEvent(1, { rollout: "api", ring: "canary", metric: "p99", value: 40, unit: "ms", baseline: 39 }));
    s.flush();
    const first = s.store.getState().series.get("api/canary/p99")!;
    const before = ownFields(first);
    s.ingest.event(sampleEvent(2, { rollout: "api", ring: "canary", metric: "p99", value: 45, unit: "s", baseline: 41 }));
    s.ingest.event(sampleEvent(3, { rollout: "api", ring: "canary", metric: "p99", value: null, unit: "ms" }));
    expect(ownFields(first)).toEqual(before);
    s.flush();
    expect(ownFields(first)).toEqual(before);
    const second = s.store.getState().series.get("api/canary/p99")!;
    expect(second).not.toBe(first);
    expect(seen(second)).toEqual({
      key: "api/canary/p99",
      rollout: "api",
      ring: "canary",
      metric: "p99",
      unit: "ms",
      last: null,
      baseline: 41,
      updatedSeq: 3,
      values: [40, 45, NaN],
      baselines: [39, 41, NaN],
    });
  });

  it("many samples between two flushes: one new view holding the newest fields and every sample", () => {
    const s = make(120);
    for (let i = 1; i <= 50; i++) s.ingest.event(sampleEvent(i, { rollout: "api", ring: "canary", metric: "p99", value: i, unit: "ms", baseline: i % 10 === 0 ? i : null }));
    s.flush();
    const v = s.store.getState().series.get("api/canary/p99")!;
    expect(v.last).toBe(50);
    expect(v.baseline).toBe(50);
    expect(v.updatedSeq).toBe(50);
    expect(Array.from(v.values.toArray())).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it("the series map is republished only when a sample was taken since the last flush", () => {
    const s = make();
    s.ingest.event(sampleEvent(1, { rollout: "api", ring: "canary", metric: "p99", value: 1, unit: "ms" }));
    s.flush();
    const map = s.store.getState().series;
    // a sample without a rollout is dropped: the flush publishes the seq, not a new series map
    s.ingest.event(sampleEvent(2, { ring: "canary", metric: "p99", value: 2, unit: "ms" }));
    s.flush();
    expect(s.store.getState().connection.lastSeq).toBe(2);
    expect(s.store.getState().series).toBe(map);
    s.ingest.event(sampleEvent(3, { rollout: "api", ring: "canary", metric: "p99", value: 3, unit: "ms" }));
    s.flush();
    expect(s.store.getState().series).not.toBe(map);
  });

  it("two rollout/ring/metric triples that spell one key share that series, as they did before", () => {
    const s = make();
    s.ingest.event(sampleEvent(1, { rollout: "a/b", ring: "c", metric: "m", value: 1, unit: "ms" }));
    s.ingest.event(sampleEvent(2, { rollout: "a", ring: "b/c", metric: "m", value: 2, unit: "ms" }));
    s.flush();
    const series = s.store.getState().series;
    expect([...series.keys()]).toEqual(["a/b/c/m"]);
    const v = series.get("a/b/c/m")!;
    expect({ rollout: v.rollout, ring: v.ring, values: Array.from(v.values.toArray()) }).toEqual({ rollout: "a", ring: "b/c", values: [1, 2] });
  });

  it("matches the one-view-per-sample reference at every flush, and no published view changes later", () => {
    // Few names, so series are hit again and again across flushes; "a/b"+"c" and "a"+"b/c" spell one key.
    const sample: fc.Arbitrary<Sample> = fc.record(
      {
        rollout: fc.constantFrom("a", "a/b", "", "x\u001b"),
        ring: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("c", "b/c") }, { weight: 1, arbitrary: fc.constantFrom(7, null) }),
        metric: fc.oneof({ weight: 6, arbitrary: fc.constantFrom("m", "é") }, { weight: 1, arbitrary: fc.constantFrom(undefined, 1) }),
        value: fc.oneof(fc.double(), fc.constantFrom(null, "1", undefined)),
        unit: fc.oneof(fc.constantFrom("ms", "%", ""), fc.constantFrom(3, null)),
        baseline: fc.oneof(fc.double(), fc.constantFrom(null, "2")),
      },
      { requiredKeys: ["ring", "metric", "value"] },
    );
    const step = fc.oneof({ weight: 4, arbitrary: sample.map((x) => ({ sample: x })) }, { weight: 1, arbitrary: fc.constant({ flush: true as const }) });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(step, { minLength: 5, maxLength: 80, size: "large" }), (capacity, steps) => {
        const s = make(Math.max(2, capacity));
        const ref = new ReferenceSeries(Math.max(2, capacity));
        const published: { view: SeriesView; fields: ReturnType<typeof ownFields> }[] = [];
        let seq = 0;
        const check = () => {
          const before = s.store.getState().series;
          s.flush();
          const after = s.store.getState().series;
          expect(after !== before).toBe(ref.changed);
          ref.changed = false;
          expect([...after.keys()]).toEqual([...ref.series.keys()]);
          for (const [k, v] of after) expect(seen(v)).toEqual(ref.series.get(k));
          for (const p of published) expect(ownFields(p.view)).toEqual(p.fields);
          for (const v of after.values()) published.push({ view: v, fields: ownFields(v) });
        };
        for (const st of steps) {
          if ("flush" in st) check();
          else {
            const e = sampleEvent(++seq, st.sample);
            s.ingest.event(e);
            ref.ingest(e);
          }
        }
        check();
      }),
      { numRuns: 300 },
    );
  });
});
