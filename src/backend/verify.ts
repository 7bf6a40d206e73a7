import { stat } from "node:fs/promises";
import { join } from "node:path";
import { ChainChecker, MAX_LINE_BYTES, parseLogLine, readLogLines, seqOfRawLine, summarizeEventLine, type ChainIssue } from "../protocol/logfile.js";
import { EVENTS_FILE } from "./eventlog.js";

// `cockpit verify-log`: walk the whole chain and say where it first breaks.
// Read-only; it never repairs (the backend cuts a torn last line on start).

export type VerifyResult =
  | { ok: true; events: number; headSeq: number; headHash: string }
  | {
      ok: false;
      /** good events before the first bad line */
      events: number;
      /** the seq the bad line carries or was meant to carry; null if it does not say */
      firstBadSeq: number | null;
      line: number;
      reason: string;
    };

/** The events.jsonl a path means: a data directory's file, or the path itself. */
export async function resolveLogPath(pathOrDir: string): Promise<string> {
  const info = await stat(pathOrDir).catch(() => null);
  if (info?.isDirectory()) {
    const file = join(pathOrDir, EVENTS_FILE);
    const inner = await stat(file).catch(() => null);
    if (!inner?.isFile()) throw new Error(`no event log at ${file}: is this a cockpit data directory?`);
    return file;
  }
  if (info?.isFile()) return pathOrDir;
  if (info) throw new Error(`${pathOrDir} is neither a file nor a directory: give a cockpit data directory or its ${EVENTS_FILE}`);
  throw new Error(`no event log at ${pathOrDir}: give a cockpit data directory or the path of its ${EVENTS_FILE}`);
}

/**
 * Check every line of a log: JSON, event shape, seq continuity, prev links and
 * hashes. A line the backend wrote is checked from its text (summarizeEventLine)
 * without building the event; anything else is parsed and checked as usual,
 * with the same outcome either way.
 */
export async function verifyLog(pathOrDir: string): Promise<VerifyResult> {
  const file = await resolveLogPath(pathOrDir);
  const checker = new ChainChecker();
  for await (const lines of readLogLines(file)) {
    for (const l of lines) {
      const summary = l.overlong ? null : summarizeEventLine(l.text);
      let issue: ChainIssue | null;
      let seq: number;
      if (summary) {
        issue = checker.checkWith(summary, summary.contentHash, l.text, l.line);
        seq = summary.seq;
      } else {
        const rec = parseLogLine(l, MAX_LINE_BYTES);
        if (rec.kind === "bad") {
          const torn = !rec.terminated && !rec.parsed ? " (a write cut short? the backend cuts a torn last line off when it starts)" : "";
          return { ok: false, events: checker.count, firstBadSeq: seqOfRawLine(rec.raw), line: rec.line, reason: rec.reason + torn };
        }
        issue = checker.check(rec.event, rec.raw, rec.line);
        seq = rec.event.seq;
      }
      if (issue) return { ok: false, events: checker.count, firstBadSeq: issue.seq, line: l.line, reason: issue.reason };
      if (!l.terminated) {
        return {
          ok: false,
          events: checker.count - 1,
          firstBadSeq: seq,
          line: l.line,
          reason: `line ${l.line} has no line ending: a write cut short (the backend cuts it off when it starts)`,
        };
      }
    }
  }
  return { ok: true, events: checker.count, headSeq: checker.headSeq, headHash: checker.headHash };
}

/** One line when the log is intact; two when it is not (what broke, then what to do). */
export function formatVerifyResult(r: VerifyResult, path: string): string {
  if (r.ok) {
    return r.events === 0
      ? `${path}: ok, empty log (no events yet)`
      : `${path}: ok, ${r.events} event${r.events === 1 ? "" : "s"}, chain intact up to seq ${r.headSeq} (head hash ${r.headHash.slice(0, 16)}…)`;
  }
  const seq = r.firstBadSeq === null ? "" : ` (seq ${r.firstBadSeq})`;
  const keep = r.line > 1 ? `, or keep lines 1-${r.line - 1} and move the rest aside` : "";
  return (
    `${path}: BROKEN at line ${r.line}${seq}: ${r.reason}\n` +
    `  ${r.events} good event${r.events === 1 ? "" : "s"} before it; restore the file from a backup${keep}`
  );
}
