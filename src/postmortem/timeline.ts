import { describeEvent } from "../render/describe.js";
import { formatClock } from "../render/time.js";
import type { CockpitEvent } from "../protocol/types.js";
import { isPriorityEvent, type KeptEvent } from "./collect.js";
import type { TimelineRow } from "./draft-types.js";
import { data, sentenceCase, str, type Facts } from "./facts.js";
import { clockUtc, iso, isPercentAssertion, offsetText, pct, valueWithUnit } from "./format.js";
import { MILESTONE_LABELS } from "./milestones.js";

// The timeline a reader can follow without the log: one plain sentence per
// event, who did it (by role), and the evidence. Noise is folded: samples
// appear only as the lines the milestones came from (went outside the SLO,
// back inside, healthy), a repeated alert is one line with a count, an alert
// raised with a breach joins the breach's line, a bake deadline joins the
// ring's start.

/** Timeline lines beyond this are thinned: routine engine lines first, then the tail. */
export const MAX_TIMELINE_ROWS = 400;

interface RowDraft extends TimelineRow {
  /** source event type ("sample" for sample lines), for folding and thinning */
  type: string;
  rollout: string | null;
  priority: boolean;
  foldKey: string | null;
  count: number;
  lastMs: number;
}

function evidenceOf(e: CockpitEvent): string {
  const d = data(e);
  switch (e.type) {
    case "slo.breached":
    case "slo.recovered": {
      const percent = isPercentAssertion(str(d.assertion, ""));
      const v = typeof d.value === "number" ? valueWithUnit(d.value, "", percent) : "no data";
      const t = typeof d.threshold === "number" ? valueWithUnit(d.threshold, "", percent) : "?";
      return `${v} vs threshold ${t} (${str(d.assertion)})`;
    }
    case "rollout.rollback_started":
    case "rollout.rolled_back":
      return `${str(d.fromVersion)} → ${str(d.toVersion)}; rings: ${Array.isArray(d.scope) && d.scope.length > 0 ? d.scope.join(", ") : "all"}${d.automatic === true ? "; automatic" : ""}`;
    case "command.rejected":
      return `refused: ${str(d.code)}`;
    case "alert.firing":
    case "alert.resolved":
    case "alert.acknowledged":
      return `${str(d.severity)} alert from ${str(d.source)}`;
    case "killswitch.engaged":
    case "killswitch.released":
      return `flag ${str(d.flag)}`;
    case "ring.started":
    case "ring.completed":
      return typeof d.traffic === "number" ? `${pct(d.traffic)} of traffic` : "";
    default:
      return "";
  }
}

/** Who started the rollback a rolled_back event finishes (the engine writes the finish). */
function rollbackStarter(f: Facts, e: CockpitEvent): string | null {
  let starter: CockpitEvent | null = null;
  for (const k of f.events) {
    if (k.event.seq >= e.seq) break;
    if (k.event.type === "rollout.rollback_started" && k.event.rollout === e.rollout) starter = k.event;
  }
  return starter ? f.anon.who(starter.actor) : null;
}

function textOf(e: CockpitEvent, f: Facts): string | null {
  const shown = f.anon.event(e);
  const d = data(shown);
  const who = f.anon.who(e.actor);
  switch (e.type) {
    // Notes and status updates are quoted verbatim (already redacted), line breaks kept.
    case "note.added":
      return `Note by ${who}: “${str(d.text, "")}”`;
    case "incident.status_update":
      return `Status update on incident ${e.incident ?? "?"} by ${who}: “${str(d.text, "")}”`;
    case "incident.role_assigned": {
      if (f.anon.names) break;
      const self = str(data(e).name, "") === e.actor.name;
      return sentenceCase(`${who} assigned the ${str(d.role)} role of incident ${e.incident ?? "?"}${self ? " to themselves" : ` to ${f.anon.person(str(data(e).name, ""))}`}`);
    }
    case "rollout.rolled_back": {
      const starter = d.automatic === true ? null : rollbackStarter(f, e);
      const scope = Array.isArray(d.scope) && d.scope.length > 0 ? d.scope.join(", ") : "all rings";
      return `${e.rollout ?? "?"} rolled back to ${str(d.toVersion)} in ${scope} (${d.automatic === true ? "automatic" : `requested by ${starter ?? "a person"}`})`;
    }
    default:
      break;
  }
  // The shown event's actor already carries the label; name it from the original actor.
  const s = describeEvent(shown, { actorLabel: () => who });
  return s === null ? null : sentenceCase(s);
}

function rowFor(k: KeptEvent, f: Facts): RowDraft | null {
  const e = k.event;
  const text = textOf(e, f);
  if (text === null) return null;
  const d = data(e);
  const labels = d.labels as Record<string, unknown> | undefined;
  const alertKey = typeof labels?.key === "string" ? labels.key : str(d.title, "");
  const foldKey = e.type === "alert.firing" || e.type === "alert.resolved" ? `${e.type}|${e.rollout ?? ""}|${e.ring ?? ""}|${alertKey}` : null;
  return {
    seq: e.seq,
    at: e.time,
    time: "",
    offset: "",
    text,
    who: f.anon.who(e.actor),
    evidence: evidenceOf(f.anon.event(e)),
    marks: [],
    type: e.type,
    rollout: e.rollout ?? null,
    priority: isPriorityEvent(e),
    foldKey,
    count: 1,
    lastMs: k.ms,
  };
}

/** Lines for the milestones that came from a sample (impact start, back inside, healthy). */
function sampleRows(f: Facts): RowDraft[] {
  const rows: RowDraft[] = [];
  for (const m of f.milestones) {
    if (!m.sample || m.seq === null || m.ms === null || rows.some((r) => r.seq === m.seq)) continue;
    rows.push({
      seq: m.seq,
      at: m.at!,
      time: "",
      offset: "",
      text: m.sample.text,
      who: "SLI samples",
      evidence: m.sample.evidence,
      marks: [],
      type: "sample",
      rollout: null,
      priority: true,
      foldKey: null,
      count: 1,
      lastMs: m.ms,
    });
  }
  return rows;
}

function fold(raw: RowDraft[]): RowDraft[] {
  const rows: RowDraft[] = [];
  const byFold = new Map<string, RowDraft>();
  for (const r of raw) {
    const prev = rows[rows.length - 1];
    if (r.type === "ring.baking" && prev && prev.type === "ring.started" && prev.at === r.at && prev.rollout === r.rollout) {
      // "canary started taking 5% ... for api-v408; canary baking until 14:10:00" (the rollout said once).
      const suffix = ` for ${r.rollout ?? ""}`;
      const baking = r.text.endsWith(suffix) ? r.text.slice(0, -suffix.length) : r.text;
      prev.text += `; ${baking.charAt(0).toLowerCase()}${baking.slice(1)}`;
      continue;
    }
    if ((r.type === "alert.firing" || r.type === "alert.resolved") && prev && prev.at === r.at && (prev.type === "slo.breached" || prev.type === "slo.recovered")) {
      prev.text += r.type === "alert.firing" ? "; alert raised" : "; alert resolved";
      if (r.foldKey) byFold.set(r.foldKey, prev);
      continue;
    }
    if (r.foldKey) {
      const seen = byFold.get(r.foldKey);
      if (seen) {
        seen.count++;
        seen.lastMs = Date.parse(r.at);
        continue;
      }
      byFold.set(r.foldKey, r);
    }
    rows.push(r);
  }
  for (const r of rows) if (r.count > 1) r.text += ` (${r.count} times, the last at ${clockUtc(r.lastMs)})`;
  return rows;
}

export function buildTimeline(f: Facts): { rows: TimelineRow[]; note: string | null } {
  const scope = f.c.scope;
  const startMs = Math.min(scope.fromMs, f.impactMs ?? scope.fromMs);
  const raw: RowDraft[] = [];
  for (const k of f.events) {
    // Before the span, only context (rollout created, rings started) and the run-up from impact start.
    const context = k.event.type === "rollout.created" || k.event.type === "ring.started" || k.event.type === "ring.baking";
    if (k.ms < startMs && !context) continue;
    const row = rowFor(k, f);
    if (row) raw.push(row);
  }
  raw.push(...sampleRows(f));
  raw.sort((a, b) => a.seq - b.seq);
  const rows = fold(raw);

  for (const m of f.milestones) {
    if (m.seq === null) continue;
    const row = rows.find((r) => r.seq === m.seq);
    if (row) row.marks.push(MILESTONE_LABELS[m.milestone].toLowerCase());
  }

  let kept = rows;
  let note: string | null = null;
  if (rows.length > MAX_TIMELINE_ROWS) {
    kept = rows.filter((r) => r.priority || r.marks.length > 0);
    const routine = rows.length - kept.length;
    let cut = 0;
    if (kept.length > MAX_TIMELINE_ROWS) {
      cut = kept.length - MAX_TIMELINE_ROWS;
      kept = kept.slice(0, MAX_TIMELINE_ROWS);
    }
    note =
      `The span has ${rows.length} timeline lines; this shows ${kept.length}: ${routine} routine engine lines are left out` +
      (cut > 0 ? `, and the last ${cut} lines after ${clockUtc(Date.parse(kept[kept.length - 1]!.at))}` : "") +
      ". The full record is in the event log.";
  }
  const multiDay = iso(startMs).slice(0, 10) !== iso(scope.toMs).slice(0, 10);
  return {
    rows: kept.map((r) => {
      const ms = Date.parse(r.at);
      return {
        seq: r.seq,
        at: r.at,
        time: multiDay ? `${iso(ms).slice(5, 10)} ${formatClock(ms)}` : formatClock(ms),
        offset: offsetText(ms, f.zeroMs),
        text: r.text,
        who: r.who,
        evidence: r.evidence,
        marks: r.marks,
      };
    }),
    note,
  };
}
