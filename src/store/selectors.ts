import type { AlertState, DegradedSource, IncidentState, Role, RolloutState, Severity } from "../protocol/types.js";
import type { CockpitView, CommandView, ConnectionView, SeriesView } from "./cockpit-store.js";

// Narrow reads of the view for components. zustand's useStore re-renders when
// the selected value changes identity, so a selector that derives a new array
// must be memoized on its inputs, or every flush re-renders (and React warns
// about an unstable snapshot).

/** Recompute only when the input changes identity. */
export function memoOn<I, O>(input: (v: CockpitView) => I, derive: (i: I) => O): (v: CockpitView) => O {
  let lastIn: I | typeof UNSET = UNSET;
  let lastOut: O | undefined;
  return (v) => {
    const i = input(v);
    if (i !== lastIn) {
      // Remember the input only once derive succeeded: a throw must not leave the old output cached as the new one.
      lastOut = derive(i);
      lastIn = i;
    }
    return lastOut as O;
  };
}
const UNSET = Symbol("unset");

// ---- rollouts ----------------------------------------------------------------------

export function isBreaching(r: RolloutState): boolean {
  return r.rings.some((g) => (g.breaches?.length ?? 0) > 0);
}

/**
 * Lower ranks need a person sooner: stopped or reversing rollouts first, then
 * an engaged kill switch, then breaching SLOs, then work in progress, then
 * rollouts that are waiting or done.
 */
export function attentionRank(r: RolloutState): number {
  if (r.state === "paused") return 0;
  if (r.state === "rolling_back") return 1;
  if (r.killSwitch?.engaged) return 2;
  if (isBreaching(r) && r.state !== "rolled_back" && r.state !== "completed") return 3;
  if (r.state === "progressing") return 4;
  return 5;
}

/** Attention first; within a rank the backend's order (creation order) is kept. */
export function sortRolloutsByAttention(rollouts: readonly RolloutState[]): RolloutState[] {
  return rollouts
    .map((r, i) => ({ r, i, rank: attentionRank(r) }))
    .sort((a, b) => a.rank - b.rank || a.i - b.i)
    .map((x) => x.r);
}

export const selectRolloutsSorted = memoOn((v: CockpitView) => v.state.rollouts, sortRolloutsByAttention);

// ---- alerts ------------------------------------------------------------------------

const SEVERITY_RANK: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };

export function severityRank(s: Severity | string): number {
  return SEVERITY_RANK[s as Severity] ?? 3;
}

/** Firing before resolved, critical first, unacknowledged before acknowledged, newest first. */
export function sortAlerts(alerts: readonly AlertState[]): AlertState[] {
  return alerts.slice().sort((a, b) => {
    const firing = (a.state === "firing" ? 0 : 1) - (b.state === "firing" ? 0 : 1);
    if (firing !== 0) return firing;
    const sev = severityRank(a.severity) - severityRank(b.severity);
    if (sev !== 0) return sev;
    const acked = (a.ackedBy ? 1 : 0) - (b.ackedBy ? 1 : 0);
    if (acked !== 0) return acked;
    return a.since < b.since ? 1 : a.since > b.since ? -1 : 0;
  });
}

export const selectAlertsSorted = memoOn((v: CockpitView) => v.state.alerts, sortAlerts);

export function countFiring(alerts: readonly AlertState[]): { critical: number; warning: number; info: number } {
  const n = { critical: 0, warning: 0, info: 0 };
  for (const a of alerts) if (a.state === "firing" && a.severity in n) n[a.severity]++;
  return n;
}

// ---- incidents, session, connection -------------------------------------------------

/** The newest open incident, the one `i`, `m` and notes act on. */
export function openIncident(incidents: readonly IncidentState[]): IncidentState | undefined {
  for (let i = incidents.length - 1; i >= 0; i--) if (incidents[i]!.status === "open") return incidents[i];
  return undefined;
}

export const selectOpenIncident = (v: CockpitView): IncidentState | undefined => openIncident(v.state.incidents);
export const selectConnection = (v: CockpitView): ConnectionView => v.connection;
export const selectRole = (v: CockpitView): Role | undefined => v.connection.session?.role;
export const selectActor = (v: CockpitView): string | undefined => v.connection.session?.actor;
export const selectReadonly = (v: CockpitView): boolean => v.readonly;
export const selectNow = (v: CockpitView): number => v.now;
export const selectCommands = (v: CockpitView): CommandView[] => v.commands;
export const selectTimeline = (v: CockpitView) => v.timeline;

/** True when what is on screen may no longer be what is true: show it as such. */
export function isStale(c: ConnectionView): boolean {
  if (c.status === "live") return false;
  // A first "connecting" has nothing on screen yet; a later one (staleSince set) does.
  return c.status !== "connecting" || c.staleSince !== undefined;
}
export const selectStale = (v: CockpitView): boolean => isStale(v.connection);
/**
 * No welcome from the backend yet: empty lists mean nothing is known, not that
 * nothing is wrong ("✓ no alerts" would be a false all-clear).
 */
export const selectHeardNothing = (v: CockpitView): boolean => v.connection.session === undefined;
/** What an empty pane says while nothing has been heard from the backend. */
export const HEARD_NOTHING_TEXT = "  nothing from the backend yet";

const NO_SOURCES: readonly DegradedSource[] = [];
/** Outside sources failing now (Prometheus, Alertmanager): the SLIs and alerts on screen may be missing data. */
export const selectDegradedSources = (v: CockpitView): readonly DegradedSource[] => v.state.degradedSources ?? NO_SOURCES;

// ---- series ------------------------------------------------------------------------

/** Golden signals in the order people read them: latency, errors, traffic, saturation, then the rest. */
export function metricRank(metric: string): number {
  const m = metric.toLowerCase();
  if (/latency|p\d\d|duration/.test(m)) return 0;
  if (/error|5xx|fail/.test(m)) return 1;
  if (/throughput|rps|qps|requests|traffic/.test(m)) return 2;
  if (/satur|cpu|mem|util/.test(m)) return 3;
  return 4;
}

/**
 * Series of one rollout: the ring it is at first (that is where a breach
 * matters now), then the other rings in plan order; within a ring, golden
 * signals order, then name.
 */
export function seriesOf(series: ReadonlyMap<string, SeriesView>, rollout: RolloutState | undefined): SeriesView[] {
  if (!rollout) return [];
  const ringOrder = new Map(rollout.rings.map((g, i) => [g.name, g.name === rollout.ring ? -1 : i]));
  const out: SeriesView[] = [];
  for (const s of series.values()) if (s.rollout === rollout.id) out.push(s);
  return out.sort(
    (a, b) =>
      (ringOrder.get(a.ring) ?? 999) - (ringOrder.get(b.ring) ?? 999) ||
      metricRank(a.metric) - metricRank(b.metric) ||
      (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0),
  );
}

/** A selector for one rollout's series; make one per component instance (useMemo). */
export function makeSelectSeriesOf(rollout: RolloutState | undefined): (v: CockpitView) => SeriesView[] {
  return memoOn((v: CockpitView) => v.series, (m) => seriesOf(m, rollout));
}

// ---- timeline ----------------------------------------------------------------------

/** Case-insensitive match on what a person sees and the refs they may type. */
export function filterTimeline<T extends { text: string; type: string; rollout?: string; ring?: string }>(entries: readonly T[], filter: string): readonly T[] {
  const f = filter.trim().toLowerCase();
  if (f === "") return entries;
  return entries.filter(
    (e) =>
      e.text.toLowerCase().includes(f) ||
      e.type.toLowerCase().includes(f) ||
      (e.rollout?.toLowerCase().includes(f) ?? false) ||
      (e.ring?.toLowerCase().includes(f) ?? false),
  );
}
