import { sanitizeText } from "../protocol/sanitize.js";
import type { Draft } from "./draft.js";

// Lays the draft out; decides nothing. The output depends only on the draft
// (no clock, no environment), so the same log gives byte-identical Markdown.
// Sections follow the issue's order, after the SRE, PagerDuty and Atlassian
// templates.

/** What sanitizeText would change: C0 (line breaks included) and C1 controls, bidi and invisible characters, surrogates. */
const NEEDS_CLEANING = /[\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF\uD800-\uDFFF]/;

/**
 * The draft with every string cleaned as sanitizeText does, line breaks kept.
 * Text from the log is cleaned where it is collected (clean.ts); this is the
 * last line of defence for what reaches the document by another way (an id
 * taken from the index, a sentence built around one), since the draft is
 * pasted into wikis and tickets and printed to terminals.
 */
function cleanDraft<T>(v: T): T {
  if (typeof v === "string") return (NEEDS_CLEANING.test(v) ? sanitizeText(v, { multiline: true, maxChars: Number.MAX_SAFE_INTEGER }) : v) as T;
  if (Array.isArray(v)) return v.map((x) => cleanDraft(x)) as T;
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = cleanDraft(x);
    return out as T;
  }
  return v;
}

/** Text from the log in a table cell: pipes and line breaks would end the cell; HTML would be rendered. */
export function mdCell(s: string): string {
  return escapeHtml(s.replace(/\\/g, "\\\\").replace(/\|/g, "\\|"))
    .replace(/\r?\n/g, "<br>")
    .trim();
}

/** Text from the log inside a paragraph or list item: one line, no HTML. */
export function mdInline(s: string): string {
  return escapeHtml(s.replace(/\s*\r?\n\s*/g, " "));
}

// Only what starts a tag or an entity is neutralized, so "p99 < 50" and "a -> b" read as written.
function escapeHtml(s: string): string {
  // "&" first, so the "&lt;" made next is not escaped again.
  return s.replace(/&(?=[A-Za-z#][A-Za-z0-9]*;)/g, "&amp;").replace(/<(?=[A-Za-z/!?])/g, "&lt;");
}

/**
 * An assertion as code: HTML is not rendered there, but a pipe would still end
 * the cell. A backslash cannot be written in code inside a table: GFM splits
 * the row before it reads code, so "\\|" there is an escaped backslash and a
 * cell border. No assertion has one (the grammar has none), so text holding
 * one is shown as plain, escaped text instead.
 */
function mdCode(s: string): string {
  if (s.includes("\\")) return mdCell(s);
  return "`" + s.replace(/`/g, "'").replace(/\|/g, "\\|").replace(/\s*\r?\n\s*/g, " ") + "`";
}

function table(head: string[], rows: string[][]): string[] {
  if (rows.length === 0) return [];
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map((c) => (c === "" ? " " : c)).join(" | ")} |`)];
}

function bullets(items: string[]): string[] {
  return items.map((s) => `- ${mdInline(s)}`);
}

export function renderMarkdown(draft: Draft): string {
  const d = cleanDraft(draft);
  const out: string[] = [];
  const h = d.header;
  out.push(`# Post-mortem: ${mdInline(h.title)}`, "");
  out.push(
    ...table(
      ["Field", "Value"],
      [
        ["Incident", h.incidentId ? mdCell(h.incidentId) : "none declared"],
        ["Status", `**${h.status}**`],
        ["Severity", h.severity === "_fill in_" ? h.severity : mdCell(h.severity)],
        ["Date", h.date],
        ["Owner", h.owner],
        ["Reviewers", h.reviewers],
        ["Tenant", mdCell(h.tenant)],
        ["Span", `${h.spanFrom} to ${h.spanTo}`],
        ["Event log", h.chainOk === false ? `**${mdCell(h.chain)}**` : mdCell(h.chain)],
      ],
    ),
    "",
  );
  out.push(`> ${mdInline(h.choice)}`, "");
  for (const w of d.warnings) out.push(`> **Warning:** ${mdInline(w)}`, "");

  out.push("## Summary", "");
  out.push(d.summary.map(mdInline).join(" "), "");

  out.push("## Impact", "");
  out.push(...bullets(d.impact.sentences), "");
  if (d.impact.exposure.length > 0) {
    out.push("Exposure of the new version:", "");
    out.push(
      ...table(
        ["Rollout", "Ring", "Traffic", "From", "To", "For", "Ended by"],
        d.impact.exposure.map((x) => [mdCell(x.rollout), mdCell(x.ring), `${x.traffic}%`, x.from, x.to ?? "—", mdCell(x.duration), mdCell(x.endedBy)]),
      ),
      "",
    );
  }
  if (d.impact.slis.length > 0) {
    out.push("SLIs outside their SLO:", "");
    out.push(
      ...table(
        ["Rollout", "Ring", "SLI", "SLO", "Peak vs threshold", "Peak at", "Samples outside", "First outside", "Last outside"],
        d.impact.slis.map((s) => [
          mdCell(s.rollout),
          mdCell(s.ring),
          mdCell(s.metric),
          mdCode(s.slo),
          mdCell(s.peak),
          s.peakAt,
          `${s.samplesOutside} of ${s.samples}`,
          s.firstOutside,
          s.lastOutside,
        ]),
      ),
      "",
    );
  }

  out.push("## Key moments and metrics", "");
  out.push(
    ...table(
      ["Milestone", "Time", "Source event", "How it was found"],
      d.milestones.map((m) => [m.label, m.time, m.seq === null ? "—" : `seq ${m.seq}`, mdCell(`${m.inferred ? "inferred" : "explicit"}: ${m.rule}`)]),
    ),
    "",
  );
  out.push(...table(["Metric", "Value", "Measures"], d.metrics.map((m) => [m.name, m.text, `${m.label}, from impact start`])), "");
  const inferred = d.milestones.filter((m) => m.inferred).map((m) => m.label.toLowerCase());
  out.push(
    inferred.length > 0
      ? `Inferred from the log: ${inferred.join(", ")}. Correct any of them with an explicit milestone (set_milestone) or edit this draft.`
      : "Every milestone was set explicitly during the incident.",
    "",
  );

  out.push("## Timeline", "");
  if (d.timeline.note) out.push(`> ${mdInline(d.timeline.note)}`, "");
  if (d.timeline.rows.length === 0) out.push("No events in the span.", "");
  out.push(
    ...table(
      ["Time (UTC)", "Since impact", "What happened", "Who", "Evidence"],
      d.timeline.rows.map((r) => [
        r.time,
        r.offset,
        mdCell(r.text) + (r.marks.length > 0 ? ` **(${r.marks.join(", ")})**` : ""),
        mdCell(r.who),
        mdCell(r.evidence),
      ]),
    ),
    "",
  );

  out.push("## Detection, response and recovery", "");
  out.push("### Detection", "", ...bullets(d.narratives.detection), "");
  out.push("### Response", "", ...bullets(d.narratives.response), "");
  out.push("### Recovery", "", ...bullets(d.narratives.recovery), "");

  out.push("## Contributing factors", "");
  out.push(...bullets(d.contributingFactors), "");

  out.push("## What went well", "", ...bullets(d.wentWell), "");
  out.push("## What went poorly", "", ...bullets(d.wentPoorly), "");
  out.push("## Where we got lucky", "", ...bullets(d.lucky), "");

  out.push("## Action items", "");
  out.push(...table(["Item", "Type", "Owner", "Priority"], d.actionItems.map((a) => [mdCell(a.item), a.type, a.owner, a.priority])), "");

  out.push("## Language to revisit", "");
  if (d.languageToRevisit.length === 0) out.push("No blame-prone phrases found in the notes.", "");
  else {
    out.push("Phrases in the notes that may read as blame. The notes are quoted as written; consider how the review discusses them.", "");
    out.push(...table(["Phrase", "Event", "In context"], d.languageToRevisit.map((l) => [`“${mdCell(l.phrase)}”`, `seq ${l.seq}`, mdCell(l.excerpt)])), "");
  }

  out.push("## Appendix", "");
  out.push("### Rollout plans", "");
  if (d.appendix.plans.length === 0) out.push("No rollout plan in the span.", "");
  for (const p of d.appendix.plans) {
    out.push(
      `**${mdInline(p.rollout)}**: ${mdInline(p.service)} ${mdInline(p.fromVersion)} → ${mdInline(p.toVersion)} (${mdInline(p.kind)}), on breach: ${mdInline(p.onBreach)}` +
        `${p.killSwitch ? `, kill switch: ${mdInline(p.killSwitch)}` : ""}; created ${p.created}.`,
      "",
    );
    out.push(
      ...table(
        ["Ring", "Traffic", "Bake", "SLOs"],
        p.rings.map((g) => [mdCell(g.name), `${g.traffic}%`, g.bake, g.slos.length > 0 ? g.slos.map(mdCode).join(", ") : "none"]),
      ),
      "",
    );
  }
  out.push("### Command audit", "");
  if (d.appendix.commands.length === 0) out.push("No commands in the span.", "");
  out.push(
    ...table(
      ["Time", "Seq", "Who", "Action", "Target", "Result", "Reason or message"],
      d.appendix.commands.map((c) => [c.time, String(c.seq), mdCell(c.who), mdCell(c.action), mdCell(c.target), mdCell(c.result), mdCell(c.detail)]),
    ),
    "",
  );
  return out.join("\n").replace(/\n{3,}/g, "\n\n").trimEnd() + "\n";
}

/** The same content as data; keys in the draft's fixed construction order. */
export function renderJson(d: Draft): string {
  return JSON.stringify(cleanDraft(d), null, 2) + "\n";
}
