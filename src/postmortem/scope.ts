import { formatClock } from "../render/time.js";
import type { SampleRun } from "../protocol/logfile.js";
import type { CockpitEvent } from "../protocol/types.js";
import { cleanText } from "./clean.js";
import { PeopleDirectory } from "./people.js";

// Which span of the log a draft covers. The log is read twice: this index is
// the first, light pass (no samples kept, a few records per incident), and it
// decides the span; the IncidentCollector then reads the log again with that
// span fixed. Two passes keep both bounded: the collector keeps detail only for
// the span it was given, instead of keeping per-candidate detail for every
// incident and breach in a million-event log. A second read costs one more
// stream over a file (or one more replay from the server for a ws source), and
// it stops as soon as it is past everything the draft needs (readUntil*).
// People are learnt here, from the whole log, so the second pass stopping early
// can never let a name through.
//
// A file source also lets the second pass start late: the index keeps byte
// offsets (a checkpoint every so many events, where each involved rollout
// first appears) and resumeOffset finds the first line the collector could
// need. What the collector would have learnt from the lines it skips is people
// (actor roles, role assignments); those are kept here with their offsets and
// replayed by peopleFor, so a resumed pass drafts exactly what a full one does.
//
// "Trouble episodes" give an incident its run-up: an episode opens at the first
// trouble signal (SLO breach, firing alert, incident, automatic pause, rollback,
// kill switch) after a quiet time and closes when every breach has recovered,
// every alert resolved, every incident resolved and no rollback is under way.
// Samples are evaluated from the end of the previous episode, so the first
// sample outside an SLO can be found even when it came minutes before the
// first breach.

/** How long after a span's last trouble the samples are still read, when no bake window says (5 min). */
export const DEFAULT_TAIL_MS = 5 * 60_000;

interface Episode {
  tenant: string;
  startMs: number;
  startSeq: number;
  /** end of the previous episode, or the tenant's first event */
  quietBeforeMs: number;
  endMs: number | null;
  /** start of the tenant's next episode: the tail of samples stops there */
  nextStartMs: number | null;
  rollouts: Set<string>;
}

interface TenantTrouble {
  breaches: Set<string>;
  alerts: Set<string>;
  incidents: Set<string>;
  rollingBack: Set<string>;
  open: Episode | null;
  lastClosed: Episode | null;
  lastQuietMs: number;
}

export interface IncidentInfo {
  id: string;
  tenant: string;
  title: string;
  severity: string;
  declaredTime: string;
  declaredMs: number;
  declaredSeq: number;
  resolvedMs: number | null;
  /** seq of the last event about this incident (a milestone may be set after it is resolved) */
  lastSeq: number;
  episode: Episode;
}

/**
 * People as the log names them, in order of first appearance, for the draft's
 * role labels. `offset` is where the fact's line starts (when the source has
 * offsets). "actorRole" is the first event where an actor carried a role: the
 * collector takes an actor's role from the first such event, which is not
 * always their first appearance; peopleFor replays it only for skipped lines.
 * An assignment keeps the role as the collector reads it too (a string or "").
 */
type PersonFact =
  | { kind: "actor"; name: string; role: string | undefined; offset?: number }
  | { kind: "actorRole"; name: string; role: string; offset?: number }
  | { kind: "assigned"; name: string; role: string; collectorRole: string; incident: string | undefined; offset?: number };

/** Per tenant: the facts, and what is needed to replay them (see PersonFact). */
interface TenantPeople {
  facts: PersonFact[];
  actors: Set<string>;
  /** actors whose first role is already a fact */
  roled: Set<string>;
  assignments: number;
  /** offset of the first assignment past MAX_ASSIGNMENTS: a second pass must not skip it, as it cannot be replayed */
  unrecordedAt: number | null;
}

/** Checkpoints kept at most; past it every other one goes and they are taken half as often. */
const MAX_CHECKPOINTS = 4096;

/**
 * Where a second pass over a file may start: checkpoints every `stride`
 * events, each with the latest event time before it (times need not be in
 * order), and where each rollout (and each tenant's first rollout) first appears.
 */
class SeekIndex {
  /** false once an event came without an offset (events in memory, a stream): no seeking then */
  usable = true;
  private events = 0;
  private maxMs = -Infinity;
  private stride = 1;
  private readonly checkpointOffsets: number[] = [];
  private readonly checkpointMaxBefore: number[] = [];
  readonly firstRolloutAt = new Map<string, number>();
  readonly firstRolloutOfTenantAt = new Map<string, number>();
  firstAnyRolloutAt: number | null = null;

  noteEvent(ms: number, offset: number | undefined): void {
    if (offset === undefined) {
      this.usable = false;
      return;
    }
    if (this.events % this.stride === 0) {
      this.checkpointOffsets.push(offset);
      this.checkpointMaxBefore.push(this.maxMs);
      if (this.checkpointOffsets.length > MAX_CHECKPOINTS) this.thin();
    }
    this.events++;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** `count` events from `offset` on, the latest at `maxMs`: one checkpoint at their start if one falls due among them. */
  noteRun(count: number, maxMs: number, offset: number): void {
    const due = this.events % this.stride === 0 || Math.floor((this.events + count - 1) / this.stride) > Math.floor(this.events / this.stride);
    if (due) {
      this.checkpointOffsets.push(offset);
      this.checkpointMaxBefore.push(this.maxMs);
      if (this.checkpointOffsets.length > MAX_CHECKPOINTS) this.thin();
    }
    this.events += count;
    if (maxMs > this.maxMs) this.maxMs = maxMs;
  }

  noteRollout(rollout: string, tenant: string, offset: number | undefined): void {
    if (offset === undefined) return;
    if (!this.firstRolloutAt.has(rollout)) this.firstRolloutAt.set(rollout, offset);
    if (!this.firstRolloutOfTenantAt.has(tenant)) this.firstRolloutOfTenantAt.set(tenant, offset);
    this.firstAnyRolloutAt ??= offset;
  }

  /** The latest checkpoint before which every event is earlier than `ms`; 0 if none. */
  before(ms: number): number {
    let lo = 0;
    let hi = this.checkpointMaxBefore.length - 1;
    let found = -1;
    // checkpointMaxBefore never decreases: binary search for the last one below ms.
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.checkpointMaxBefore[mid]! < ms) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found < 0 ? 0 : this.checkpointOffsets[found]!;
  }

  private thin(): void {
    let j = 0;
    for (let i = 0; i < this.checkpointOffsets.length; i += 2, j++) {
      this.checkpointOffsets[j] = this.checkpointOffsets[i]!;
      this.checkpointMaxBefore[j] = this.checkpointMaxBefore[i]!;
    }
    this.checkpointOffsets.length = j;
    this.checkpointMaxBefore.length = j;
    this.stride *= 2;
  }
}

/** Upper bound on role assignments remembered (a long log assigns roles in every incident). */
const MAX_ASSIGNMENTS = 10_000;

/** The most recent event of a kind that can stand for a span (rollback, kill switch, breach, alert). */
export interface SignalInfo {
  type: string;
  seq: number;
  time: string;
  ms: number;
  tenant: string;
  rollout: string | null;
  /** the flag, assertion or alert title, for the sentence that names the span */
  detail: string;
  ring: string | null;
  episode: Episode;
}

export interface WindowRequest {
  fromMs: number;
  toMs: number;
}

const SIGNAL_TYPES: ReadonlySet<string> = new Set([
  "slo.breached",
  "alert.firing",
  "incident.declared",
  "rollout.rollback_started",
  "killswitch.engaged",
]);

/** Upper bound on incidents remembered (each a few hundred bytes). */
const MAX_INCIDENTS = 10_000;

export class LogIndex {
  eventCount = 0;
  firstMs: number | null = null;
  lastMs: number | null = null;
  firstTime: string | null = null;
  lastTime: string | null = null;
  lastSeq = 0;
  readonly tenants = new Map<string, number>();
  readonly rollouts = new Set<string>();
  /** incidents by id, in declaration order */
  readonly incidents = new Map<string, IncidentInfo>();
  incidentsDropped = 0;
  /** the most recent rollback or kill switch */
  lastMitigation: SignalInfo | null = null;
  lastBreach: SignalInfo | null = null;
  lastAlert: SignalInfo | null = null;
  /** longest bake per rollout, from rollout.created */
  readonly bakeMsByRollout = new Map<string, number>();
  /** events per tenant inside the requested window, and the first trouble tenant there */
  readonly windowTenants = new Map<string, number>();
  windowTroubleTenant: string | null = null;

  private readonly trouble = new Map<string, TenantTrouble>();
  /** per tenant: who acted or was given a role, learnt from the whole log so no name escapes */
  private readonly people = new Map<string, TenantPeople>();
  private readonly seek = new SeekIndex();

  constructor(private readonly window: WindowRequest | null = null) {}

  /** `offset`: where the event's line starts in the file, when the source is one (see resumeOffset). */
  add(e: CockpitEvent, offset?: number): void {
    const ms = Date.parse(e.time);
    if (Number.isNaN(ms)) return;
    this.count(e.seq, ms, e.time, e.tenant, offset);
    if (e.type === "sli.sample") return; // the hot path: nothing else to learn from a sample here
    if (e.rollout) {
      this.rollouts.add(e.rollout);
      this.seek.noteRollout(e.rollout, e.tenant, offset);
    }
    this.learnPeople(e, offset);
    if (e.incident) {
      const inc = this.incidents.get(e.incident);
      if (inc) inc.lastSeq = e.seq;
    }

    if (this.window && ms >= this.window.fromMs && ms <= this.window.toMs) {
      this.windowTenants.set(e.tenant, (this.windowTenants.get(e.tenant) ?? 0) + 1);
      if (this.windowTroubleTenant === null && SIGNAL_TYPES.has(e.type)) this.windowTroubleTenant = e.tenant;
    }

    const d = e.data as Record<string, unknown>;
    if (e.type === "rollout.created" && e.rollout && Array.isArray(d.rings)) {
      let bake = 0;
      for (const g of d.rings as { bakeSeconds?: unknown }[]) if (typeof g?.bakeSeconds === "number") bake = Math.max(bake, g.bakeSeconds * 1000);
      this.bakeMsByRollout.set(e.rollout, bake);
    }
    this.track(e, ms, d);
  }

  /**
   * A sample read without building the event (the first pass over a file):
   * the index learns nothing from a sample but its time, seq and tenant.
   * `ms` is Date.parse(time), which the reader has already worked out.
   */
  addSample(seq: number, ms: number, time: string, tenant: string, offset?: number): void {
    if (Number.isNaN(ms)) return;
    this.count(seq, ms, time, tenant, offset);
  }

  /** Consecutive samples summed up (a file's tail read beside the first pass): as add() for each, in order. */
  addSampleRun(run: SampleRun): void {
    if (run.count === 0) return;
    this.eventCount += run.count;
    if (this.firstMs === null) {
      this.firstMs = run.firstMs;
      this.firstTime = run.firstTime;
    }
    // The last event at the latest time is the one add() would have left.
    if (this.lastMs === null || run.maxMs >= this.lastMs) {
      this.lastMs = run.maxMs;
      this.lastTime = run.maxTime;
    }
    if (run.maxSeq > this.lastSeq) this.lastSeq = run.maxSeq;
    for (const [tenant, n] of run.tenants) this.tenants.set(tenant, (this.tenants.get(tenant) ?? 0) + n);
    this.seek.noteRun(run.count, run.maxMs, run.offset);
  }

  private count(seq: number, ms: number, time: string, tenant: string, offset: number | undefined): void {
    this.eventCount++;
    if (this.firstMs === null) {
      this.firstMs = ms;
      this.firstTime = time;
    }
    if (this.lastMs === null || ms >= this.lastMs) {
      this.lastMs = ms;
      this.lastTime = time;
    }
    if (seq > this.lastSeq) this.lastSeq = seq;
    this.tenants.set(tenant, (this.tenants.get(tenant) ?? 0) + 1);
    this.seek.noteEvent(ms, offset);
  }

  private learnPeople(e: CockpitEvent, offset: number | undefined): void {
    let p = this.people.get(e.tenant);
    if (!p) {
      p = { facts: [], actors: new Set(), roled: new Set(), assignments: 0, unrecordedAt: null };
      this.people.set(e.tenant, p);
    }
    const at = offset === undefined ? {} : { offset };
    if (e.actor.kind === "human" && e.actor.name) {
      const name = e.actor.name;
      if (!p.actors.has(name)) {
        p.actors.add(name);
        p.facts.push({ kind: "actor", name, role: e.actor.role === undefined ? undefined : String(e.actor.role), ...at });
      }
      if (e.actor.role && !p.roled.has(name)) {
        p.roled.add(name);
        p.facts.push({ kind: "actorRole", name, role: String(e.actor.role), ...at });
      }
    }
    if (e.type === "incident.role_assigned") {
      const d = e.data as Record<string, unknown>;
      if (typeof d.name === "string" && d.name) {
        if (p.assignments < MAX_ASSIGNMENTS) {
          p.assignments++;
          p.facts.push({ kind: "assigned", name: d.name, role: String(d.role ?? ""), collectorRole: typeof d.role === "string" ? d.role : "", incident: e.incident, ...at });
        } else if (offset !== undefined) {
          p.unrecordedAt ??= offset;
        }
      }
    }
  }

  /**
   * Everyone the log names for the tenant, labelled for the span: roles held
   * in the chosen incident win; assignments in other incidents only teach the name.
   * `resumedAt`: the offset the second pass starts from (resumeOffset); what
   * the collector would have learnt from the lines before it is replayed here.
   */
  peopleFor(scope: Scope, resumedAt = 0): PeopleDirectory {
    const dir = new PeopleDirectory();
    for (const f of this.people.get(scope.tenant ?? "")?.facts ?? (scope.tenant === null ? [...this.people.values()].flatMap((p) => p.facts) : [])) {
      if (f.kind === "actor") dir.noteActor({ kind: "human", name: f.name, ...(f.role !== undefined ? { role: f.role } : {}) });
      else if (f.kind === "actorRole") continue;
      else if (scope.incidentId === null || f.incident === scope.incidentId) dir.noteRoleAssigned(f.name, f.role);
      else dir.noteName(f.name);
    }
    if (resumedAt > 0) {
      // As IncidentCollector.learnPeople would, line by line: everyone is known
      // by now, so only an actor's first role and the latest assignment matter.
      // The collector reads every tenant's lines when the scope has no tenant.
      const read = scope.tenant === null ? [...this.people.values()] : [this.people.get(scope.tenant)].filter((p) => p !== undefined);
      const skipped = read
        .flatMap((p) => p.facts)
        .filter((f) => f.offset !== undefined && f.offset < resumedAt)
        .sort((a, b) => a.offset! - b.offset!);
      for (const f of skipped) {
        if (f.kind === "actorRole") dir.noteActor({ kind: "human", name: f.name, role: f.role });
        else if (f.kind === "assigned") {
          if (scope.incidentId === null || f.incident === scope.incidentId) dir.noteRoleAssigned(f.name, f.collectorRole);
          else dir.noteName(f.name);
        }
      }
    }
    return dir;
  }

  /**
   * The byte offset the second pass over a file may start at and still draft
   * exactly what a pass from the start would (pass it to peopleFor too): every
   * line before it is earlier than the span and its run-up, and belongs to no
   * rollout the span involves. 0 when the source gave no offsets.
   */
  resumeOffset(scope: Scope): number {
    if (!this.seek.usable || this.eventCount === 0) return 0;
    const earliest = Math.min(scope.sampleFromMs, scope.fromMs);
    // The second pass stops at the first event past readUntil*; none may be skipped.
    if (!(earliest <= scope.readUntilMs)) return 0;
    let offset = this.seek.before(earliest);
    const earlier = (at: number | null | undefined) => {
      if (at !== null && at !== undefined && at < offset) offset = at;
    };
    // Plans and ring exposures come from the rollout's first events, however long ago.
    if (scope.rollouts) for (const r of scope.rollouts) earlier(this.seek.firstRolloutAt.get(r));
    else earlier(scope.tenant === null ? this.seek.firstAnyRolloutAt : this.seek.firstRolloutOfTenantAt.get(scope.tenant));
    for (const [tenant, p] of this.people) if (scope.tenant === null || tenant === scope.tenant) earlier(p.unrecordedAt);
    return offset;
  }

  private tenantTrouble(tenant: string, ms: number): TenantTrouble {
    let t = this.trouble.get(tenant);
    if (!t) {
      t = { breaches: new Set(), alerts: new Set(), incidents: new Set(), rollingBack: new Set(), open: null, lastClosed: null, lastQuietMs: ms };
      this.trouble.set(tenant, t);
    }
    return t;
  }

  private track(e: CockpitEvent, ms: number, d: Record<string, unknown>): void {
    const t = this.tenantTrouble(e.tenant, ms);
    const isSignal = SIGNAL_TYPES.has(e.type) || (e.type === "rollout.paused" && d.automatic === true);
    if (isSignal && !t.open) {
      t.open = { tenant: e.tenant, startMs: ms, startSeq: e.seq, quietBeforeMs: t.lastQuietMs, endMs: null, nextStartMs: null, rollouts: new Set() };
      if (t.lastClosed) t.lastClosed.nextStartMs = ms;
    }
    const ep = t.open;
    const breachKey = `${e.rollout ?? ""}|${String(d.ring ?? e.ring ?? "")}|${String(d.assertion ?? "")}`;
    switch (e.type) {
      case "slo.breached":
        t.breaches.add(breachKey);
        break;
      case "slo.recovered":
        t.breaches.delete(breachKey);
        break;
      case "alert.firing":
        t.alerts.add(e.alert ?? String(d.title ?? ""));
        break;
      case "alert.resolved":
        t.alerts.delete(e.alert ?? String(d.title ?? ""));
        break;
      case "incident.declared":
        if (e.incident) t.incidents.add(e.incident);
        break;
      case "incident.resolved":
        if (e.incident) t.incidents.delete(e.incident);
        break;
      case "rollout.rollback_started":
        if (e.rollout) t.rollingBack.add(e.rollout);
        break;
      case "rollout.rolled_back":
      case "rollout.completed":
        // A rolled-back or finished rollout's gates are no longer evaluated,
        // so its open breaches will never see a slo.recovered.
        if (e.rollout) {
          t.rollingBack.delete(e.rollout);
          const prefix = `${e.rollout}|`;
          for (const k of [...t.breaches]) if (k.startsWith(prefix)) t.breaches.delete(k);
        }
        break;
      default:
        break;
    }
    if (ep && e.rollout && (isSignal || e.type === "slo.recovered" || e.type === "rollout.rolled_back" || e.type === "alert.resolved")) ep.rollouts.add(e.rollout);

    if (ep) this.recordSignal(e, ms, d, ep);

    if (ep && t.breaches.size === 0 && t.alerts.size === 0 && t.incidents.size === 0 && t.rollingBack.size === 0) {
      ep.endMs = ms;
      t.lastClosed = ep;
      t.open = null;
      t.lastQuietMs = ms;
    }
  }

  private recordSignal(e: CockpitEvent, ms: number, d: Record<string, unknown>, ep: Episode): void {
    const base = { type: e.type, seq: e.seq, time: e.time, ms, tenant: e.tenant, rollout: e.rollout ?? null, ring: (e.ring ?? (typeof d.ring === "string" ? d.ring : null)) as string | null, episode: ep };
    switch (e.type) {
      case "incident.declared": {
        if (!e.incident || this.incidents.has(e.incident)) return;
        if (this.incidents.size >= MAX_INCIDENTS) {
          // Keep the newest: "the most recent incident" is the usual question.
          const oldest = this.incidents.keys().next().value as string;
          this.incidents.delete(oldest);
          this.incidentsDropped++;
        }
        this.incidents.set(e.incident, {
          id: e.incident,
          tenant: e.tenant,
          title: String(d.title ?? ""),
          severity: String(d.severity ?? ""),
          declaredTime: e.time,
          declaredMs: ms,
          declaredSeq: e.seq,
          resolvedMs: null,
          lastSeq: e.seq,
          episode: ep,
        });
        return;
      }
      case "incident.resolved": {
        const inc = e.incident ? this.incidents.get(e.incident) : undefined;
        if (inc && inc.resolvedMs === null) inc.resolvedMs = ms;
        return;
      }
      case "rollout.rollback_started":
        this.lastMitigation = { ...base, detail: "" };
        return;
      case "killswitch.engaged":
        this.lastMitigation = { ...base, detail: String(d.flag ?? "") };
        return;
      case "slo.breached":
        this.lastBreach = { ...base, detail: String(d.assertion ?? "") };
        return;
      case "alert.firing":
        this.lastAlert = { ...base, detail: String(d.title ?? "") };
        return;
      default:
        return;
    }
  }
}

// ---- choosing the span ------------------------------------------------------------

export type ScopeKind = "incident" | "episode" | "window";

export interface Scope {
  kind: ScopeKind;
  tenant: string | null;
  incidentId: string | null;
  /** the span the draft is about */
  fromMs: number;
  toMs: number;
  /** samples are evaluated over this wider span (the run-up before the first signal) */
  sampleFromMs: number;
  sampleToMs: number;
  /** rollouts involved; null: every rollout of the tenant */
  rollouts: string[] | null;
  /** events after this seq are not read (a live source keeps growing between passes) */
  lastSeq: number;
  /**
   * The second pass may stop once it is past both: nothing after them can
   * change the draft (samples past the tail, events past the span and past
   * the incident's last event).
   */
  readUntilMs: number;
  readUntilSeq: number;
  /** a sentence saying which span was chosen and why */
  choice: string;
}

export interface ScopeRequest {
  incident?: string;
  window?: WindowRequest;
}

export type ScopeChoice = { ok: true; scope: Scope } | { ok: false; message: string };

function clock(ms: number): string {
  return formatClock(ms);
}

// Sentences here quote the log (titles, ids, assertions) and end up in the
// draft and on the terminal: every quoted string goes through cleanText.

function describeSignal(s: SignalInfo): string {
  const rollout = s.rollout ? cleanText(s.rollout) : "a rollout";
  const detail = cleanText(s.detail);
  const ring = s.ring ? cleanText(s.ring) : null;
  switch (s.type) {
    case "rollout.rollback_started":
      return `the rollback of ${rollout} at ${clock(s.ms)} UTC`;
    case "killswitch.engaged":
      return `the kill switch${detail ? ` (flag ${detail})` : ""} engaged on ${rollout} at ${clock(s.ms)} UTC`;
    case "slo.breached":
      return `the SLO breach of ${detail ? `"${detail}"` : "a gate"}${ring ? ` in ${ring}` : ""} of ${rollout} at ${clock(s.ms)} UTC`;
    default:
      return `the alert "${detail}" at ${clock(s.ms)} UTC`;
  }
}

/** What the log holds, for "nothing to draft" messages. */
export function describeLogContents(index: LogIndex): string {
  if (index.eventCount === 0) return "the log holds no events";
  const parts = [`${index.eventCount} event${index.eventCount === 1 ? "" : "s"} from ${cleanText(index.firstTime ?? "")} to ${cleanText(index.lastTime ?? "")}`];
  parts.push(index.rollouts.size > 0 ? `rollouts: ${[...index.rollouts].slice(0, 10).map((r) => cleanText(r)).join(", ")}${index.rollouts.size > 10 ? ", …" : ""}` : "no rollouts");
  const incs = [...index.incidents.values()];
  parts.push(
    incs.length > 0
      ? `incidents: ${incs
          .slice(-10)
          .map((i) => `${cleanText(i.id)} ("${cleanText(i.title)}", declared ${cleanText(i.declaredTime)})`)
          .join(", ")}`
      : "no incidents",
  );
  return parts.join("; ");
}

function tailMs(index: LogIndex, rollouts: Iterable<string>): number {
  let bake = 0;
  let known = false;
  for (const r of rollouts) {
    const b = index.bakeMsByRollout.get(r);
    if (b !== undefined) {
      known = true;
      bake = Math.max(bake, b);
    }
  }
  return known ? bake : DEFAULT_TAIL_MS;
}

function incidentScope(index: LogIndex, inc: IncidentInfo, choice: string): Scope {
  const ep = inc.episode;
  const last = index.lastMs ?? inc.declaredMs;
  const rollouts = [...ep.rollouts].sort();
  // Resolved: the resolution is the end (and the resolved milestone), so no
  // sample tail is needed. Unresolved: read to the end of the log.
  const toMs = inc.resolvedMs ?? last;
  return {
    kind: "incident",
    tenant: inc.tenant,
    incidentId: inc.id,
    fromMs: Math.min(ep.startMs, inc.declaredMs),
    toMs,
    sampleFromMs: Math.min(ep.quietBeforeMs, inc.declaredMs),
    sampleToMs: toMs,
    rollouts: rollouts.length > 0 ? rollouts : null,
    lastSeq: index.lastSeq,
    readUntilMs: toMs,
    readUntilSeq: inc.lastSeq,
    choice,
  };
}

function episodeScope(index: LogIndex, s: SignalInfo, choice: string): Scope {
  const ep = s.episode;
  const last = index.lastMs ?? s.ms;
  const rollouts = [...ep.rollouts].sort();
  const end = ep.endMs ?? last;
  // After the episode closes, keep reading samples for one bake window (so
  // "healthy for the bake window" can be seen), but not into the next episode.
  const tailEnd = Math.min(last, end + tailMs(index, rollouts), ep.nextStartMs ?? Infinity);
  const toMs = Math.max(end, tailEnd);
  return {
    kind: "episode",
    tenant: s.tenant,
    incidentId: null,
    fromMs: ep.startMs,
    toMs,
    sampleFromMs: ep.quietBeforeMs,
    sampleToMs: toMs,
    rollouts: rollouts.length > 0 ? rollouts : null,
    lastSeq: index.lastSeq,
    readUntilMs: toMs,
    readUntilSeq: 0,
    choice,
  };
}

/**
 * The most recent rollback, kill switch or SLO breach. Within one episode the
 * mitigation names the span even when a slower gate breached after it (a kill
 * switch engaged on a burn-rate alert, then the "for 30s" gate): it is what
 * the span is about. Alerts only when nothing else happened.
 */
function spanSignal(index: LogIndex): SignalInfo | null {
  const m = index.lastMitigation;
  const b = index.lastBreach;
  if (m && b) return b.seq > m.seq && b.episode !== m.episode ? b : m;
  return m ?? b ?? index.lastAlert;
}

/** Decide the span from the first pass and what was asked. */
export function chooseScope(index: LogIndex, req: ScopeRequest): ScopeChoice {
  if (index.eventCount === 0) return { ok: false, message: "nothing to draft: the log holds no events" };

  if (req.incident !== undefined) {
    const inc = index.incidents.get(req.incident);
    if (!inc) {
      const known = [...index.incidents.keys()];
      const list = known.length > 0 ? `incidents in the log: ${known.slice(-20).map((k) => cleanText(k)).join(", ")}` : "the log has no incidents";
      return { ok: false, message: `nothing to draft: no incident "${cleanText(req.incident)}" in the log (${list})` };
    }
    return {
      ok: true,
      scope: incidentScope(index, inc, `This draft covers incident ${cleanText(inc.id)} ("${cleanText(inc.title)}"), declared at ${clock(inc.declaredMs)} UTC, as asked with --incident.`),
    };
  }

  if (req.window) {
    const { fromMs, toMs } = req.window;
    const inWindow = [...index.windowTenants.values()].reduce((a, b) => a + b, 0);
    if (inWindow === 0) {
      return {
        ok: false,
        message: `nothing to draft: no events other than SLI samples between ${new Date(fromMs).toISOString()} and ${new Date(toMs).toISOString()} (${describeLogContents(index)})`,
      };
    }
    let tenant = index.windowTroubleTenant;
    if (tenant === null) {
      // The busiest tenant of the window, ties broken by name so the choice is stable.
      tenant = [...index.windowTenants.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]![0];
    }
    return {
      ok: true,
      scope: {
        kind: "window",
        tenant,
        incidentId: null,
        fromMs,
        toMs,
        sampleFromMs: fromMs,
        sampleToMs: toMs,
        rollouts: null,
        lastSeq: index.lastSeq,
        readUntilMs: toMs,
        readUntilSeq: 0,
        choice: `This draft covers the span from ${new Date(fromMs).toISOString()} to ${new Date(toMs).toISOString()}, as asked with --from and --to.`,
      },
    };
  }

  const incidents = [...index.incidents.values()];
  const latest = incidents[incidents.length - 1];
  if (latest) {
    const others = incidents.length - 1 + index.incidentsDropped;
    const more = others > 0 ? ` The log holds ${others} earlier incident${others === 1 ? "" : "s"}; pick one with --incident ID.` : "";
    return {
      ok: true,
      scope: incidentScope(index, latest, `This draft covers the most recent incident, ${cleanText(latest.id)} ("${cleanText(latest.title)}"), declared at ${clock(latest.declaredMs)} UTC.${more}`),
    };
  }
  const signal = spanSignal(index);
  if (signal) {
    return { ok: true, scope: episodeScope(index, signal, `No incident was declared; this draft covers the span around ${describeSignal(signal)}.`) };
  }
  return {
    ok: false,
    message: `nothing to draft: no incident, rollback, kill switch, SLO breach or alert in the log (${describeLogContents(index)}); give --from and --to to draft a span anyway`,
  };
}

/**
 * A --from/--to value: an ISO-8601 time, or a UTC time of day ("14:05",
 * "14:05:30") on the date of `referenceMs` (the log's last event).
 */
export function parseTimeArg(text: string, referenceMs: number | null): { ok: true; ms: number } | { ok: false; error: string } {
  const s = text.trim();
  const tod = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (tod) {
    const [h, m, sec] = [Number(tod[1]), Number(tod[2]), Number(tod[3] ?? 0)];
    if (h > 23 || m > 59 || sec > 59) return { ok: false, error: `"${text}" is not a time of day (HH:MM or HH:MM:SS, UTC)` };
    if (referenceMs === null) return { ok: false, error: `"${text}" is a time of day, but the log has no events to give it a date: use a full time like 2026-11-21T14:05:00Z` };
    const day = new Date(referenceMs);
    return { ok: true, ms: Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), h, m, sec) };
  }
  // Only full dates with a time; "12" or "yesterday" must not parse as something surprising.
  if (/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(s)) {
    // A time without a zone is read as UTC, like every time in the log.
    const withZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(s) || !s.includes(":") ? s : s + "Z";
    const ms = Date.parse(withZone.replace(" ", "T"));
    if (!Number.isNaN(ms)) return { ok: true, ms };
  }
  return { ok: false, error: `"${text}" is not a time: use ISO-8601 (2026-11-21T14:05:00Z) or a UTC time of day (14:05)` };
}
