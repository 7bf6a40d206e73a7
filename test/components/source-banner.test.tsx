import { describe, expect, it } from "vitest";
import { unmountAfterEach } from "./mounted.js";
import { applyEvent, emptyState } from "../../src/domain/fold.js";
import { canaryIncident, clock, ev, makeStore, renderApp, welcome } from "./harness.js";

// When Prometheus or Alertmanager stops answering, the sparklines stop moving
// and alerts may never arrive: the screen must say so, on its own line, until
// the source answers again (before, it was only a timeline entry).

const open = unmountAfterEach();

describe("source health in the state", () => {
  it("a failing source is kept with the time it started failing and its latest message, until it recovers", () => {
    let s = applyEvent(emptyState(), ev(1, "source.degraded", { source: "prometheus", message: "connect ECONNREFUSED 127.0.0.1:9090" }));
    s = applyEvent(s, ev(2, "source.degraded", { source: "prometheus", message: "HTTP 503 from /api/v1/query" }));
    s = applyEvent(s, ev(3, "source.degraded", { source: "alertmanager", message: "timed out after 5s" }));
    expect(s.degradedSources).toEqual([
      { source: "prometheus", message: "HTTP 503 from /api/v1/query", since: ev(1, "note.added", { text: "" }).time },
      { source: "alertmanager", message: "timed out after 5s", since: ev(3, "note.added", { text: "" }).time },
    ]);
    s = applyEvent(s, ev(4, "source.recovered", { source: "prometheus", message: "prometheus answers again after 3s" }));
    expect(s.degradedSources?.map((d) => d.source)).toEqual(["alertmanager"]);
    s = applyEvent(s, ev(5, "source.recovered", { source: "alertmanager", message: "answers again" }));
    expect(s).toEqual(emptyState());
    // a recovery for a source never seen failing changes nothing
    expect(applyEvent(s, ev(6, "source.recovered", { source: "prometheus", message: "x" }))).toBe(s);
  });
});

describe("the source banner", () => {
  it("says which source fails, since when and what it means, and goes away when it answers again", async () => {
    const c = clock();
    const store = makeStore(c);
    welcome(store);
    let seq = canaryIncident(store);
    store.ingest.event(ev(++seq, "source.degraded", { source: "prometheus", message: "connect ECONNREFUSED 127.0.0.1:9090" }));
    store.flush();
    const r = await renderApp(store, { columns: 160, rows: 40 });
    open.push({ store, r });
    const banner = r.lines()[1]!;
    expect(banner).toContain("⚠ SOURCE FAILING: prometheus since");
    expect(banner).toContain("connect ECONNREFUSED 127.0.0.1:9090");
    expect(banner).toContain("gates without data hold");
    // the header stays live: a failing source is not a lost connection
    expect(r.lines()[0]).toContain("live");
    store.ingest.event(ev(++seq, "source.recovered", { source: "prometheus", message: "prometheus answers again after 30s" }));
    store.flush();
    await new Promise((res) => setTimeout(res, 10));
    expect(r.lastFrame()).not.toContain("SOURCE FAILING");
  });

  it("fits an 80-column terminal", async () => {
    const c = clock();
    const store = makeStore(c);
    welcome(store);
    let seq = canaryIncident(store);
    store.ingest.event(ev(++seq, "source.degraded", { source: "prometheus", message: "x".repeat(300) }));
    store.ingest.event(ev(++seq, "source.degraded", { source: "alertmanager", message: "down" }));
    store.flush();
    const r = await renderApp(store, { columns: 80, rows: 24 });
    open.push({ store, r });
    const lines = r.lines();
    expect(lines[1]).toContain("⚠ SOURCE FAILING: prometheus");
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(80);
  });
});
