import { writeFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { resolveLogPath } from "../backend/verify.js";
import { stat } from "node:fs/promises";
import { MAX_LINE_BYTES, nextLineStart, parseLogLine, readEventLineHeader, readLogLines, readTailInWorker, summarizeEventLine, type LogRecord, type TailItem, type TailTask } from "../protocol/logfile.js";
import type { CockpitEvent } from "../protocol/types.js";
import { cleanText } from "./clean.js";
import { buildDraft, type Draft } from "./draft.js";
import { renderJson, renderMarkdown } from "./markdown.js";
import { asyncEventsAsRecords, collectSource, scanSource, STREAM_CHAIN_UNCHECKED, type OpenOptions, type OpenSource, type SourceRecord } from "./pipeline.js";
import { chooseScope, parseTimeArg, type WindowRequest } from "./scope.js";

// `cockpit postmortem`: the one module of postmortem/ that does I/O. It opens
// the source (twice: see scope.ts; a file the second time from where the span
// needs it, a large file the first time in two halves at once, the second
// read by a worker thread), writes the draft, and maps outcomes to exit codes:
// 0 draft written, 1 nothing to draft, 2 usage error or unreadable source.

export interface PostmortemIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  /** reads the log over the protocol from seq 1; supplied by the CLI, absent in tests */
  openWsSource?: (url: string) => AsyncIterable<CockpitEvent>;
}

export const POSTMORTEM_HELP = `Usage: cockpit postmortem SOURCE [--incident ID | --from T --to T]
                          [--format md|json] [--out FILE] [--names]

Draft a blameless post-mortem from an event log. SOURCE is a data directory,
its events.jsonl, or a ws:// or wss:// URL of a running backend.

Without --incident or --from/--to the draft covers the most recent incident,
or else the span around the most recent rollback, kill switch or SLO breach,
and says which it chose.

Options:
  --incident ID   draft this incident (e.g. inc-1)
  --from T        start of a span: ISO-8601 (2026-11-21T14:05:00Z) or a UTC
  --to T          time of day (14:05) on the date of the log's first event
  --format F      md (default) or json: the same content as data
  --out FILE      write the draft to FILE instead of standard output
  --names         name people; by default they appear by role only
  -h, --help      show this help

The draft reads as written in the log: secrets are redacted, names replaced
by roles, and every inferred milestone says how it was found.
Exit codes: 0 draft written, 1 nothing to draft, 2 usage error or unreadable source.`;

const WS_URL = /^wss?:\/\//i;

class UsageError extends Error {}

interface Args {
  source: string;
  incident?: string;
  from?: string;
  to?: string;
  format: "md" | "json";
  out?: string;
  names: boolean;
}

function parse(argv: string[]): Args | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        incident: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        format: { type: "string" },
        out: { type: "string", short: "o" },
        names: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) return "help";
  if (parsed.positionals.length === 0) throw new UsageError("give the event log to read: a data directory, its events.jsonl, or a ws:// URL");
  if (parsed.positionals.length > 1) throw new UsageError(`give one source, not ${parsed.positionals.length}: ${parsed.positionals.join(" ")}`);
  const format = v.format ?? "md";
  if (format !== "md" && format !== "json") throw new UsageError(`--format must be md or json (got "${format}")`);
  if (v.incident !== undefined && (v.from !== undefined || v.to !== undefined)) throw new UsageError("give either --incident or --from/--to, not both");
  if ((v.from === undefined) !== (v.to === undefined)) throw new UsageError("--from and --to go together: give both");
  if (v.incident !== undefined && v.incident.trim() === "") throw new UsageError("--incident needs an id, e.g. --incident inc-1");
  if (v.out !== undefined && v.out.trim() === "") throw new UsageError("--out needs a file name");
  return {
    source: parsed.positionals[0]!,
    ...(v.incident !== undefined ? { incident: v.incident } : {}),
    ...(v.from !== undefined ? { from: v.from } : {}),
    ...(v.to !== undefined ? { to: v.to } : {}),
    format,
    ...(v.out !== undefined ? { out: v.out } : {}),
    names: v.names === true,
  };
}

/** Checks --from/--to now (syntax, order when both have a date) and resolves them against the log later. */
function windowResolver(args: Args): ((firstMs: number) => WindowRequest | null) | null {
  if (args.from === undefined || args.to === undefined) return null;
  const from = args.from;
  const to = args.to;
  for (const [flag, text] of [
    ["--from", from],
    ["--to", to],
  ] as const) {
    const check = parseTimeArg(text, 0);
    if (!check.ok) throw new UsageError(`${flag}: ${check.error}`);
  }
  const a = parseTimeArg(from, 0);
  const b = parseTimeArg(to, 0);
  if (a.ok && b.ok && a.ms > b.ms) throw new UsageError(`--from (${from}) is after --to (${to})`);
  return (firstMs) => {
    const f = parseTimeArg(from, firstMs);
    const t = parseTimeArg(to, firstMs);
    return f.ok && t.ok ? { fromMs: f.ms, toMs: t.ms } : null;
  };
}

function fromLogRecord(rec: LogRecord, contentHash?: string): SourceRecord {
  if (rec.kind === "event") return { kind: "event", event: rec.event, raw: rec.raw, line: rec.line, offset: rec.offset, ...(contentHash !== undefined ? { contentHash } : {}) };
  return { kind: "bad", line: rec.line, offset: rec.offset, reason: rec.reason + (!rec.terminated && !rec.parsed ? " (the last line was cut short: a write interrupted?)" : "") };
}

/**
 * A log file's records, in batches. A line the backend wrote is read the fast
 * way: a sample is passed on as its header, in the first pass with the hash of
 * its content (summarizeEventLine) unless the chain is checked elsewhere from
 * `hashBefore` on, in the second pass for the collector to parse only if it
 * needs it (readEventLineHeader). Everything else is parsed as usual.
 */
async function* fileRecords(path: string, opts: OpenOptions, end = Infinity): AsyncGenerator<SourceRecord[]> {
  const first = opts.samplesAsHeaders === true;
  const lazy = opts.lazySamples === true;
  const hashBefore = opts.hashBefore ?? Infinity;
  for await (const lines of readLogLines(path, { ...(opts.fromOffset ? { start: opts.fromOffset } : {}), end })) {
    const batch: SourceRecord[] = [];
    for (const l of lines) {
      if ((!first && !lazy) || l.overlong) {
        batch.push(fromLogRecord(parseLogLine(l, MAX_LINE_BYTES)));
        continue;
      }
      if (first && l.offset < hashBefore) {
        const s = summarizeEventLine(l.text);
        if (s !== null && s.type === "sli.sample") batch.push({ kind: "sample", sample: s, contentHash: s.contentHash, raw: l.text, line: l.line, offset: l.offset });
        else batch.push(fromLogRecord(parseLogLine(l, MAX_LINE_BYTES), s?.contentHash));
      } else {
        const h = readEventLineHeader(l.text);
        if (h !== null && h.type === "sli.sample") batch.push({ kind: "sample", sample: h, raw: l.text, line: l.line, offset: l.offset });
        else batch.push(fromLogRecord(parseLogLine(l, MAX_LINE_BYTES)));
      }
    }
    yield batch;
  }
}

/** An events.jsonl as a source for the two passes (see pipeline.ts): batches, offsets, samples as headers in the first pass. */
export function logFileSource(path: string): OpenSource {
  return (opts = {}) => fileRecords(path, opts);
}

/** Below this size a worker costs more to start than it saves. */
const SPLIT_MIN_BYTES = 16 * 1024 * 1024;
/** Where a large file is split for the first pass: a line costs about the same in either part. */
const HEAD_SHARE = 0.5;

/** A large file's first pass in two parts at once: the head read here, the tail by a worker (see logfile.ts readTail). */
export interface SplitRead {
  /** where the tail starts (a line start) */
  boundary: number;
  task: TailTask;
}

/** The worker reading a large file's tail; null for a small file, or where no worker can run. */
async function startSplitRead(path: string): Promise<SplitRead | null> {
  const size = (await stat(path)).size;
  if (size < SPLIT_MIN_BYTES) return null;
  const boundary = await nextLineStart(path, Math.floor(size * HEAD_SHARE));
  if (boundary >= size) return null;
  const task = readTailInWorker(path, boundary);
  return task === null ? null : { boundary, task };
}

/** A tail item as a record: line numbers made the file's. */
function fromTailItem(item: TailItem, linesBefore: number): SourceRecord {
  if (item.kind === "samples") {
    const run = { ...item.run, line: item.run.line + linesBefore };
    return { kind: "samples", run, line: run.line, offset: run.offset };
  }
  return fromLogRecord(parseLogLine({ ...item.line, line: item.line.line + linesBefore }, MAX_LINE_BYTES));
}

/** The file as a source whose first pass reads the head here and takes the tail from the worker; the second pass reads as usual. */
export function splitFileSource(path: string, split: SplitRead): OpenSource {
  return (opts = {}) => (opts.samplesAsHeaders === true ? splitRecords(path, split, opts) : fileRecords(path, opts));
}

async function* splitRecords(path: string, split: SplitRead, opts: OpenOptions): AsyncGenerator<SourceRecord[]> {
  let lines = 0;
  for await (const batch of fileRecords(path, opts, split.boundary)) {
    const last = batch[batch.length - 1];
    if (last?.line !== undefined) lines = last.line;
    yield batch;
  }
  for await (const items of split.task.items) yield items.map((it) => fromTailItem(it, lines));
}

async function openSource(source: string, openWsSource: PostmortemIo["openWsSource"]): Promise<{ open: OpenSource; label: string; stream: boolean; path?: string }> {
  if (WS_URL.test(source)) {
    const openWs = openWsSource;
    if (!openWs) throw new SourceError(`cannot read ${source}: this build cannot read a log over the protocol here; give a data directory or its events.jsonl`);
    return { open: () => asyncEventsAsRecords(openWs(source)), label: source, stream: true };
  }
  let path: string;
  try {
    path = await resolveLogPath(source);
  } catch (err) {
    throw new SourceError((err as Error).message);
  }
  return { open: logFileSource(path), label: path, stream: false, path };
}

class SourceError extends Error {}

export interface DraftSourceOptions {
  incident?: string;
  /** a --from/--to window, resolved against the log's first event (see parseTimeArg) */
  window?: (firstEventMs: number) => WindowRequest | null;
  names?: boolean;
  format?: "md" | "json";
  openWsSource?: (url: string) => AsyncIterable<CockpitEvent>;
}

export type DraftSourceResult =
  | { ok: true; text: string; draft: Draft }
  /** code: 1 nothing to draft, 2 unreadable source or a bad window */
  | { ok: false; code: 1 | 2; message: string };

/**
 * Both passes over a data directory, an events.jsonl or a ws URL, and the
 * rendered draft. For the cockpit's `e` key as much as for the CLI.
 */
export async function draftFromSource(source: string, opts: DraftSourceOptions = {}): Promise<DraftSourceResult> {
  try {
    const opened = await openSource(source, opts.openWsSource);
    const { label, stream } = opened;
    const window = opts.window ?? null;
    // A large file's first pass is read in two parts at once (see startSplitRead).
    const split = opened.path !== undefined ? await startSplitRead(opened.path) : null;
    const open = split !== null ? splitFileSource(opened.path!, split) : opened.open;
    const chainTail = split !== null ? { offset: split.boundary, result: split.task.chain, cancel: split.task.cancel } : null;
    const { index, health } = await scanSource(open, window, stream ? { verifyChain: false, whyUnchecked: STREAM_CHAIN_UNCHECKED } : chainTail ? { chainTail } : {});
    const w = window && index.firstMs !== null ? window(index.firstMs) : null;
    if (w && w.fromMs > w.toMs) return { ok: false, code: 2, message: `the window's start (${new Date(w.fromMs).toISOString()}) is after its end (${new Date(w.toMs).toISOString()})` };
    const choice = chooseScope(index, { ...(opts.incident !== undefined ? { incident: opts.incident } : {}), ...(w ? { window: w } : {}) });
    if (!choice.ok) {
      const detail =
        index.eventCount === 0 && health.firstBadLine
          ? ` (${cleanText(label)} has ${health.badLines} unreadable line${health.badLines === 1 ? "" : "s"}; the first: ${cleanText(health.firstBadLine.reason)})`
          : "";
      return { ok: false, code: 1, message: choice.message + detail };
    }
    const resumeAt = index.resumeOffset(choice.scope);
    const collector = await collectSource(open, choice.scope, index.peopleFor(choice.scope, resumeAt), resumeAt);
    const draft = buildDraft(collector, { names: opts.names === true, health });
    return { ok: true, text: opts.format === "json" ? renderJson(draft) : renderMarkdown(draft), draft };
  } catch (err) {
    if (err instanceof SourceError) return { ok: false, code: 2, message: err.message };
    const e = err as NodeJS.ErrnoException;
    // A file error (ENOENT, EACCES, EISDIR ...) or any failure of a ws stream: the source could not be read.
    if (typeof e?.code === "string" || WS_URL.test(source)) return { ok: false, code: 2, message: `cannot read ${cleanText(source)}: ${cleanText(e?.message ?? String(err))}` };
    throw err;
  }
}

export async function runPostmortem(argv: string[], io: PostmortemIo): Promise<number> {
  let args: Args;
  let window: ReturnType<typeof windowResolver>;
  try {
    const parsed = parse(argv);
    if (parsed === "help") {
      io.stdout.write(POSTMORTEM_HELP + "\n");
      return 0;
    }
    args = parsed;
    window = windowResolver(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`cockpit postmortem: ${err.message}\n(cockpit postmortem --help for usage)\n`);
    return 2;
  }

  const result = await draftFromSource(args.source, {
    ...(args.incident !== undefined ? { incident: args.incident } : {}),
    ...(window ? { window } : {}),
    names: args.names,
    format: args.format,
    ...(io.openWsSource ? { openWsSource: io.openWsSource } : {}),
  });
  if (!result.ok) {
    const hint = result.code === 2 && result.message.startsWith("the window") ? `--from (${args.from}) is after --to (${args.to})\n(cockpit postmortem --help for usage)` : result.message;
    io.stderr.write(`cockpit postmortem: ${hint}\n`);
    return result.code;
  }
  if (args.out !== undefined) {
    try {
      await writeFile(args.out, result.text, "utf8");
    } catch (err) {
      io.stderr.write(`cockpit postmortem: cannot write ${args.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; check the directory exists and is writable\n`);
      return 2;
    }
    io.stdout.write(`${args.out}\n`);
  } else {
    io.stdout.write(result.text);
  }
  const d = result.draft;
  io.stderr.write(`cockpit postmortem: ${d.header.choice}\n`);
  for (const w of d.warnings) io.stderr.write(`cockpit postmortem: warning: ${w}\n`);
  if (d.header.chainOk === false) io.stderr.write(`cockpit postmortem: warning: ${d.header.chain}\n`);
  return 0;
}
