import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { runPostmortem } from "../../src/postmortem/run.js";
import { human, LogBuilder } from "../postmortem/helpers.js";
import { BIDI_OR_INVISIBLE, CONTROL_EXCEPT_NEWLINE, LONE_SURROGATE, PAYLOADS, type Payload } from "./payloads.js";

// Injection into the post-mortem: a hash-chained event log whose every text
// field (names from the tokens file, titles, notes, reasons, rollout and ring
// names, SLO texts, labels, incident ids) holds a payload, drafted through the
// CLI path (file -> readLogFile -> collect -> draft -> Markdown / JSON). The
// draft is pasted into wikis and tickets: it must hold no control or bidi
// character, and no payload may change the document's structure (a heading,
// a table row, a cell).

// Two drafts per payload through the CLI path: a loaded machine (CI) may take longer than the default 5 s.
vi.setConfig({ testTimeout: 60_000 });

const dir = mkdtempSync(join(tmpdir(), "cockpit-hostile-pm-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

/** The canary-latency incident, with `t(name)` in every text field. */
function hostileLog(t: (field: string) => string): LogBuilder {
  const log = new LogBuilder(t("tenant"));
  const R = t("rollout");
  const canary = t("ring");
  const slo = `p99_latency_ms < 50 for 30s ${t("slo")}`;
  const alice = human(t("alice"), "operator");
  const bob = human(t("bob"), "commander");
  const viewer = human(t("viewer"), "viewer");
  const incident = t("incident");
  log.push(0, "rollout.created", {
    service: t("service"),
    version: t("version"),
    previousVersion: t("previousVersion"),
    kind: "code",
    rings: [
      { name: canary, traffic: 5, bakeSeconds: 600, slos: [slo, "error_rate < 1%"] },
      { name: t("ring2"), traffic: 100, bakeSeconds: 900, slos: [slo] },
    ],
    killSwitch: { flag: t("flag") },
    onBreach: "pause",
  }, { rollout: R });
  log.push(0, "ring.started", { ring: canary, traffic: 5 }, { rollout: R, ring: canary });
  log.push(0, "ring.baking", { ring: canary, traffic: 5, until: log.timeAt(600) }, { rollout: R, ring: canary });
  const p99 = (s: number) => (s < 60 ? 40 : s < 195 ? 45 + (s - 60) * 0.7 : 41);
  for (let s = 10; s <= 420; s += 10) {
    log.sample(s, R, canary, t("metric"), p99(s), t("unit"), 40);
    if (s === 100) {
      log.push(100, "slo.breached", { ring: canary, assertion: slo, value: p99(100), threshold: 50, consecutive: 4 }, { rollout: R, ring: canary });
      log.push(100, "alert.firing", { severity: "critical", title: t("alertTitle"), source: t("alertSource"), labels: { [t("labelKey")]: t("labelValue"), key: t("labelKeyValue") } }, { rollout: R, ring: canary, alert: t("alert") });
      log.push(100, "rollout.paused", { reason: t("pauseReason"), automatic: true }, { rollout: R, ring: canary });
    }
    if (s === 130) log.push(130, "alert.acknowledged", { severity: "critical", title: t("alertTitle"), source: t("alertSource") }, { alert: t("alert"), rollout: R, ring: canary, actor: alice, command: t("command") });
    if (s === 140) log.push(140, "command.rejected", { action: t("rejectedAction"), code: "forbidden", message: t("rejectedMessage") }, { rollout: R, actor: viewer, command: "c-v" });
    if (s === 150) {
      log.push(150, "incident.declared", { severity: t("severity"), title: t("incidentTitle") }, { incident, rollout: R, actor: bob, command: "c-2" });
      log.push(150, "incident.role_assigned", { role: "commander", name: t("bob") }, { incident, actor: bob, command: "c-2" });
    }
    if (s === 160) log.push(160, "incident.role_assigned", { role: "scribe", name: t("assignee") }, { incident, actor: bob, command: "c-3" });
    if (s === 170) log.push(170, "note.added", { text: t("noteText") }, { incident, actor: alice, command: "c-4" });
    if (s === 175) log.push(175, "incident.milestone", { milestone: "detected", at: log.timeAt(100) }, { incident, actor: bob, command: "c-m" });
    if (s === 180) log.push(180, "rollout.rollback_started", { fromVersion: t("version"), toVersion: t("previousVersion"), scope: [canary], automatic: false }, { rollout: R, actor: alice, command: "c-5" });
    if (s === 190) log.push(195, "rollout.rolled_back", { fromVersion: t("version"), toVersion: t("previousVersion"), scope: [canary], automatic: false }, { rollout: R });
    if (s === 200) log.push(200, "killswitch.engaged", { flag: t("flag") }, { rollout: R, actor: alice, command: "c-k" });
    if (s === 240) {
      log.push(240, "slo.recovered", { ring: canary, assertion: slo, value: 41, threshold: 50, consecutive: 3 }, { rollout: R, ring: canary });
      log.push(240, "alert.resolved", { severity: "critical", title: t("alertTitle"), source: t("alertSource") }, { alert: t("alert"), rollout: R, ring: canary });
    }
    if (s === 250) log.push(250, "incident.status_update", { text: t("statusText") }, { incident, actor: bob, command: "c-6" });
    if (s === 260) log.push(260, `x.${t("futureType")}` as "note.added", { text: t("futureText") } as never, { incident, actor: bob });
    if (s === 400) log.push(400, "incident.resolved", { severity: t("severity"), title: t("incidentTitle") }, { incident, actor: bob, command: "c-7" });
  }
  return log;
}

async function draft(log: LogBuilder, extra: string[]): Promise<{ code: number; out: string; err: string }> {
  const path = join(dir, `events-${++n}.jsonl`);
  writeFileSync(path, log.jsonl());
  let out = "";
  let err = "";
  const code = await runPostmortem([path, ...extra], { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } });
  return { code, out, err };
}

function expectNoControls(text: string, what: string): void {
  const bad = [CONTROL_EXCEPT_NEWLINE, BIDI_OR_INVISIBLE, LONE_SURROGATE].flatMap((re) => {
    const m = new RegExp(re.source, "g").exec(text);
    return m ? [JSON.stringify(text.slice(Math.max(0, m.index - 20), m.index + 20))] : [];
  });
  expect(bad, what).toEqual([]);
}

/** The cells of a GFM table row: split on pipes not escaped by a backslash (a backslash escapes any next character). */
export function tableCells(row: string): number {
  let cells = 0;
  for (let i = 0; i < row.length; i++) {
    if (row[i] === "\\") i++;
    else if (row[i] === "|") cells++;
  }
  return cells - 1;
}

/** The document's headings: a payload must not add one (the section names are fixed text; the title's text varies). */
function headings(md: string): string[] {
  return md.split("\n").flatMap((line) => {
    const h = /^(#{1,6}) /.exec(line);
    return h ? [h[1] === "#" ? "#" : line] : [];
  });
}

/**
 * Every table is whole: a row of pipes, a separator row, then rows with as
 * many cells as the header; no line outside a table begins with a pipe. A
 * payload that ends a cell, adds one or breaks a row fails this.
 */
function expectWholeTables(md: string, what: string): number {
  const lines = md.split("\n");
  let tables = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith("|")) continue;
    const sep = lines[i + 1] ?? "";
    expect(/^\|(?:-{3,}\|)+$/.test(sep), `${what}: line ${i + 1} begins with a pipe but starts no table: ${lines[i]!.slice(0, 120)}`).toBe(true);
    const width = tableCells(lines[i]!);
    expect(tableCells(sep)).toBe(width);
    tables++;
    i += 2;
    for (; i < lines.length && lines[i]!.startsWith("|"); i++) expect(tableCells(lines[i]!), `${what}: row ${i + 1}: ${lines[i]!.slice(0, 160)}`).toBe(width);
  }
  return tables;
}

/** Tags a Markdown viewer would render, outside code spans (where HTML is shown as text). */
function rawHtml(md: string): string[] {
  return md
    .split("\n")
    .map((l) => l.replace(/`[^`]*`/g, "``"))
    .flatMap((l) => l.match(/<\/?(?:script|img|iframe|a|svg|style)\b[^>]*>?/gi) ?? []);
}

function deepStrings(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => deepStrings(x, out));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) deepStrings(x, deepStrings(k, out));
  return out;
}

const benignValue = (f: string) => `${f} plain`;
let benignHeadings: Promise<string[]> | null = null;
function benignMarkdownHeadings(): Promise<string[]> {
  benignHeadings ??= draft(hostileLog(benignValue), ["--names"]).then((r) => headings(r.out));
  return benignHeadings;
}

describe("post-mortem drafts from a log with a payload in every text field", () => {
  it("the benign log drafts an incident with tables, so the structure check below has something to compare", async () => {
    const r = await draft(hostileLog(benignValue), ["--names"]);
    expect(r.code).toBe(0);
    expect(expectWholeTables(r.out, "plain")).toBeGreaterThanOrEqual(8);
    expect(headings(r.out).length).toBeGreaterThan(10);
    expect(r.out).toContain("incidentTitle plain");
    expect(r.out).toContain("verified: hash chain intact");
  });

  it.each(PAYLOADS.map((p) => [p.name, p] as const))("%s", async (_name, p: Payload) => {
    // A megabyte goes into the long text fields only (a log of 100 megabyte lines would only test patience).
    const LONG = new Set(["noteText", "statusText", "incidentTitle", "pauseReason", "alertTitle", "rejectedMessage"]);
    const text = (f: string) => (p.text.length > 100_000 && !LONG.has(f) ? p.text.slice(0, 300) : p.text);
    const t = (f: string) => `${f} ${text(f)}`;
    const log = hostileLog(t);
    const md = await draft(log, ["--names"]);
    expect(md.code, md.err).toBe(0);
    expectNoControls(md.out, `${p.name}: Markdown`);
    expectNoControls(md.err, `${p.name}: messages on stderr`);
    // the document has the headings it has with plain text, and every table is whole
    expect(headings(md.out), `${p.name}: headings`).toEqual(await benignMarkdownHeadings());
    expectWholeTables(md.out, p.name);
    // readable: what the payload was put in is still named, and ESC shows as a picture
    expect(md.out).toContain("incidentTitle");
    expect(md.out).toContain("noteText");
    if (p.text.includes("\x1b")) expect(md.out).toContain("␛");
    // no raw HTML from the log: every "<" that starts a tag is escaped, except in code, where it is shown as text
    expect(rawHtml(md.out), p.name).toEqual([]);

    const json = await draft(log, ["--names", "--format", "json"]);
    expect(json.code).toBe(0);
    expectNoControls(json.out.replace(/\\n/g, " "), `${p.name}: JSON text`);
    const parsed = JSON.parse(json.out) as unknown;
    for (const s of deepStrings(parsed)) expectNoControls(s.replace(/\n/g, " "), `${p.name}: a JSON string`);

    // without --names, people appear by role: the hostile names are not in the draft at all
    const anon = await draft(log, []);
    expect(anon.code).toBe(0);
    expectNoControls(anon.out, `${p.name}: anonymous Markdown`);
    expect(anon.out).not.toContain("alice ");
    expectWholeTables(anon.out, `${p.name} (anonymous)`);
  }, 30_000);
});

describe("Markdown cells built from log text", () => {
  it("count cells the way GFM does (the helper the checks above rely on)", () => {
    expect(tableCells("| a | b |")).toBe(2);
    expect(tableCells("| a \\| b | c |")).toBe(2);
    expect(tableCells("| a \\\\| b |")).toBe(2);
    expect(tableCells("| `x \\| y` | z |")).toBe(2);
  });
});
