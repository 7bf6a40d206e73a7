import type { AlertState, CockpitEvent, CockpitState, IncidentState, RingState, RolloutState } from "../protocol/types.js";

// The snapshot contract: state at seq N is exactly the fold of events 1..N.
// The backend builds its snapshots with this and the cockpit's store applies
// the same function, so both sides cannot disagree about what an event means.
// Unchanged parts keep their identity (the store's selectors rely on it).

/** Resolved alerts kept in the state; older ones live only in the log. */
export const RESOLVED_ALERTS_KEPT = 100;

export function emptyState(): CockpitState {
  return { rollouts: [], alerts: [], incidents: [] };
}

function mapRollout(state: CockpitState, id: string | undefined, f: (r: RolloutState) => RolloutState): CockpitState {
  if (!id) return state;
  const i = state.rollouts.findIndex((r) => r.id === id);
  if (i < 0) return state;
  const rollouts = state.rollouts.slice();
  rollouts[i] = f(state.rollouts[i]!);
  return { ...state, rollouts };
}

function mapRing(r: RolloutState, name: string, f: (ring: RingState) => RingState): RolloutState {
  return { ...r, rings: r.rings.map((g) => (g.name === name ? f(g) : g)) };
}

function mapIncident(state: CockpitState, id: string | undefined, f: (i: IncidentState) => IncidentState): CockpitState {
  if (!id) return state;
  const i = state.incidents.findIndex((x) => x.id === id);
  if (i < 0) return state;
  const incidents = state.incidents.slice();
  incidents[i] = f(state.incidents[i]!);
  return { ...state, incidents };
}

function mapAlert(state: CockpitState, id: string | undefined, f: (a: AlertState) => AlertState): CockpitState {
  if (!id) return state;
  const i = state.alerts.findIndex((x) => x.id === id);
  if (i < 0) return state;
  const alerts = state.alerts.slice();
  alerts[i] = f(state.alerts[i]!);
  return { ...state, alerts };
}

function withoutKey<T extends object, K extends keyof T>(o: T, k: K): T {
  if (!(k in o)) return o;
  const copy = { ...o };
  delete copy[k];
  return copy;
}

function trimResolved(alerts: AlertState[]): AlertState[] {
  let resolved = 0;
  for (const a of alerts) if (a.state === "resolved") resolved++;
  if (resolved <= RESOLVED_ALERTS_KEPT) return alerts;
  let drop = resolved - RESOLVED_ALERTS_KEPT;
  return alerts.filter((a) => !(a.state === "resolved" && drop-- > 0));
}

export function applyEvent(state: CockpitState, e: CockpitEvent): CockpitState {
  const d = e.data as Record<string, unknown>;
  switch (e.type) {
    case "rollout.created": {
      const data = (e as CockpitEvent<"rollout.created">).data;
      if (!e.rollout || state.rollouts.some((r) => r.id === e.rollout)) return state;
      const rollout: RolloutState = {
        id: e.rollout,
        service: data.service,
        version: data.version,
        previousVersion: data.previousVersion,
        kind: data.kind,
        state: "pending",
        ring: null,
        rings: data.rings.map((g) => ({ name: g.name, traffic: g.traffic, state: "pending", bakeSeconds: g.bakeSeconds, slos: g.slos })),
        onBreach: data.onBreach,
        since: e.time,
      };
      if (data.killSwitch) rollout.killSwitch = { flag: data.killSwitch.flag, engaged: false };
      return { ...state, rollouts: [...state.rollouts, rollout] };
    }
    case "ring.started":
      return mapRollout(state, e.rollout, (r) =>
        mapRing({ ...r, state: r.state === "pending" ? "progressing" : r.state, ring: String(d.ring) }, String(d.ring), (g) => ({
          ...withoutKey(g, "bakeUntil"),
          state: "progressing",
        })),
      );
    case "ring.baking":
      return mapRollout(state, e.rollout, (r) =>
        mapRing(r, String(d.ring), (g) => ({ ...g, state: "baking", bakeUntil: String(d.until) })),
      );
    case "ring.completed":
      return mapRollout(state, e.rollout, (r) =>
        mapRing(r, String(d.ring), (g) => ({ ...withoutKey(g, "bakeUntil"), state: "completed" })),
      );
    case "rollout.completed":
      return mapRollout(state, e.rollout, (r) => ({ ...withoutKey(r, "pausedReason"), state: "completed", since: e.time }));
    case "slo.breached":
      return mapRollout(state, e.rollout, (r) =>
        mapRing(r, String(d.ring), (g) => ({ ...g, breaches: [...(g.breaches ?? []).filter((b) => b !== d.assertion), String(d.assertion)] })),
      );
    case "slo.recovered":
      return mapRollout(state, e.rollout, (r) =>
        mapRing(r, String(d.ring), (g) => ({ ...g, breaches: (g.breaches ?? []).filter((b) => b !== d.assertion) })),
      );
    case "rollout.paused":
      return mapRollout(state, e.rollout, (r) => ({
        ...r,
        state: "paused",
        pausedReason: String(d.reason),
        pausedAutomatic: Boolean(d.automatic),
        since: e.time,
      }));
    case "rollout.resumed":
      return mapRollout(state, e.rollout, (r) => ({
        ...withoutKey(withoutKey(r, "pausedReason"), "pausedAutomatic"),
        state: "progressing",
        since: e.time,
      }));
    case "rollout.rollback_started":
      return mapRollout(state, e.rollout, (r) => ({ ...r, state: "rolling_back", since: e.time }));
    case "rollout.rolled_back": {
      const scope = new Set((d.scope as string[]) ?? []);
      return mapRollout(state, e.rollout, (r) => ({
        ...r,
        state: "rolled_back",
        since: e.time,
        rings: r.rings.map((g) => (scope.has(g.name) ? { ...withoutKey(g, "bakeUntil"), state: "rolled_back" } : g)),
      }));
    }
    case "killswitch.engaged":
    case "killswitch.released":
      return mapRollout(state, e.rollout, (r) => ({
        ...r,
        killSwitch: { flag: String(d.flag), engaged: e.type === "killswitch.engaged" },
      }));
    case "alert.firing": {
      const data = (e as CockpitEvent<"alert.firing">).data;
      if (!e.alert) return state;
      const existing = state.alerts.find((a) => a.id === e.alert);
      if (existing && existing.state === "firing") return state;
      const alert: AlertState = { id: e.alert, severity: data.severity, title: data.title, state: "firing", since: e.time, source: data.source };
      if (e.rollout) alert.rollout = e.rollout;
      if (e.ring) alert.ring = e.ring;
      const alerts = state.alerts.filter((a) => a.id !== e.alert);
      alerts.push(alert);
      return { ...state, alerts };
    }
    case "alert.acknowledged":
      return mapAlert(state, e.alert, (a) => ({ ...a, ackedBy: e.actor.name }));
    case "alert.resolved": {
      const next = mapAlert(state, e.alert, (a) => ({ ...a, state: "resolved" }));
      return next === state ? state : { ...next, alerts: trimResolved(next.alerts) };
    }
    case "incident.declared":
      if (!e.incident || state.incidents.some((i) => i.id === e.incident)) return state;
      return {
        ...state,
        incidents: [...state.incidents, { id: e.incident, severity: String(d.severity), title: String(d.title), status: "open", roles: {}, milestones: {} }],
      };
    case "incident.resolved":
      return mapIncident(state, e.incident, (i) => ({ ...i, status: "resolved" }));
    case "incident.role_assigned":
      return mapIncident(state, e.incident, (i) => ({ ...i, roles: { ...i.roles, [String(d.role)]: String(d.name) } }));
    case "incident.milestone":
      return mapIncident(state, e.incident, (i) => ({ ...i, milestones: { ...i.milestones, [String(d.milestone)]: String(d.at) } }));
    case "source.degraded": {
      const source = String(d.source);
      const before = state.degradedSources ?? [];
      const earlier = before.find((s) => s.source === source);
      // Failing differently keeps the time it started failing; the message is the latest.
      const entry = { source, message: String(d.message), since: earlier?.since ?? e.time };
      return { ...state, degradedSources: [...before.filter((s) => s.source !== source), entry] };
    }
    case "source.recovered": {
      const source = String(d.source);
      if (!state.degradedSources?.some((s) => s.source === source)) return state;
      const rest = state.degradedSources.filter((s) => s.source !== source);
      const { degradedSources: _gone, ...others } = state;
      return rest.length > 0 ? { ...others, degradedSources: rest } : others;
    }
    default:
      return state;
  }
}

export function foldEvents(events: Iterable<CockpitEvent>, from: CockpitState = emptyState()): CockpitState {
  let s = from;
  for (const e of events) s = applyEvent(s, e);
  return s;
}
