import { eventHash } from "../protocol/canonical.js";
import { ChainChecker, type ChainRangeResult, type SampleRun } from "../protocol/logfile.js";
import type { CockpitEvent } from "../protocol/types.js";
import { validateEvent } from "../protocol/validate-event.js";
import { IncidentCollector } from "./collect.js";
import { buildDraft, type Draft, type LogHealth } from "./draft.js";
import type { PeopleDirectory } from "./people.js";
import { chooseScope, LogIndex, type Scope, type ScopeRequest, type WindowRequest } from "./scope.js";

// The two passes over a source, shared by the CLI (files, ws) and the cockpit
// (events it already holds). A source is opened once per pass.
//
// A file source (run.ts) does more than hand over events: it yields records in
// batches (one await per batch, not per line); it gives each line's byte offset,
// so the second pass can start where the span needs it (LogIndex.resumeOffset);
// it hands over samples, most of a log, as headers read without building the
// event (with the hash of their content in the first pass, for the chain; in
// the second, the collector builds the event only if it needs it); and it may
// read a large file's tail in a worker (ChainTail, "samples" records).

export type SourceRecord =
  | {
      kind: "event";
      event: CockpitEvent;
      raw?: string;
      line?: number;
      /** byte offset of the event's line, from a file */
      offset?: number;
      /** sha256 of the event's canonical JSON (what its hash must be), when the source already has it */
      contentHash?: string;
    }
  /**
   * an sli.sample in the first pass, read without building the event (only
   * when asked: samplesAsHeaders); contentHash is there unless the chain is
   * checked elsewhere from its offset (hashBefore)
   */
  | { kind: "sample"; sample: SampleHeader; contentHash?: string; raw: string; line?: number; offset?: number }
  /** consecutive samples summed up (a file's tail read by a worker: see run.ts); first pass only */
  | { kind: "samples"; run: SampleRun; line?: number; offset?: number }
  | { kind: "bad"; line: number; reason: string; offset?: number };

/** What the passes need of a sample: the index's fields, the chain's, and what the collector decides on. */
export interface SampleHeader {
  seq: number;
  time: string;
  /** Date.parse(time) */
  ms: number;
  tenant: string;
  rollout: string | undefined;
  prev: string;
  hash: string;
}

export interface OpenOptions {
  /** the first pass: samples may come as "sample" records */
  samplesAsHeaders?: boolean;
  /** the first pass: from this offset on the chain is checked elsewhere (ChainTail), so records there need no contentHash */
  hashBefore?: number;
  /** the second pass may start at this byte offset (a source that cannot seek starts at the beginning) */
  fromOffset?: number;
  /** the second pass: samples may come as "sample" records, their events built only when needed */
  lazySamples?: boolean;
}

/** Opens a source for one pass: records one by one, or in batches. */
export type OpenSource = (opts?: OpenOptions) => AsyncIterable<SourceRecord | readonly SourceRecord[]> | Iterable<SourceRecord | readonly SourceRecord[]>;

export interface ScanResult {
  index: LogIndex;
  health: LogHealth;
}

/**
 * The chain of a file from `offset` on, checked elsewhere while the first
 * pass reads (a worker reading the file's tail: logfile.ts readTailInWorker,
 * run.ts): the first pass checks the lines before it and joins the two.
 */
export interface ChainTail {
  offset: number;
  result: Promise<ChainRangeResult>;
  /** stop checking: the first pass failed */
  cancel(): void;
}

function isBatch(item: SourceRecord | readonly SourceRecord[]): item is readonly SourceRecord[] {
  return Array.isArray(item);
}

/**
 * First pass: index the log and check it (bad lines, hash chain). The window
 * may depend on the log (a time of day takes the date of the first event), so
 * it is resolved when the first event arrives.
 */
export async function scanSource(
  open: OpenSource,
  window: ((firstEventMs: number) => WindowRequest | null) | null = null,
  opts: { verifyChain?: boolean; whyUnchecked?: string; chainTail?: ChainTail } = {},
): Promise<ScanResult> {
  let index: LogIndex | null = null;
  const verify = opts.verifyChain !== false;
  const tail = verify ? (opts.chainTail ?? null) : null;
  const health: LogHealth = {
    badLines: 0,
    firstBadLine: null,
    chain: { checked: verify, events: 0, issue: null, ...(verify ? {} : { whyUnchecked: opts.whyUnchecked ?? "the source is not a log file" }) },
  };
  const chain = new ChainChecker();
  /** lines before the tail's first line: its line numbers count from there */
  let linesBeforeTail: number | null = null;
  const step = (rec: SourceRecord): void => {
    if (tail !== null && linesBeforeTail === null && rec.offset !== undefined && rec.offset >= tail.offset) linesBeforeTail = (rec.line ?? 1) - 1;
    if (rec.kind === "bad") {
      health.badLines++;
      health.firstBadLine ??= { line: rec.line, reason: rec.reason };
      return;
    }
    if (rec.kind === "samples") {
      // Only a file's tail comes summed up, and its chain is checked with it (ChainTail).
      if (verify && tail === null) throw new Error("scanSource: samples summed up, but no chain tail checks them");
      index ??= new LogIndex(window ? window(rec.run.firstMs) : null);
      index.addSampleRun(rec.run);
      return;
    }
    const link = rec.kind === "event" ? rec.event : rec.sample;
    if (!index) {
      const ms = rec.kind === "sample" ? rec.sample.ms : Date.parse(link.time);
      index = new LogIndex(window ? window(ms) : null);
    }
    // After the first break every later event would fail too; the first is what matters.
    if (verify && !health.chain.issue && (tail === null || rec.offset === undefined || rec.offset < tail.offset)) {
      const contentHash = rec.contentHash ?? (rec.kind === "event" ? eventHash(rec.event) : undefined);
      if (contentHash === undefined) throw new Error(`scanSource: the sample at line ${rec.line ?? "?"} carries no contentHash, and its chain is not checked elsewhere`);
      const issue = chain.checkWith(link, contentHash, rec.raw, rec.line);
      if (issue) health.chain.issue = { seq: issue.seq, ...(issue.line !== undefined ? { line: issue.line } : {}), reason: issue.reason };
    }
    if (rec.kind === "event") index.add(rec.event, rec.offset);
    else index.addSample(rec.sample.seq, rec.sample.ms, rec.sample.time, rec.sample.tenant, rec.offset);
  };
  try {
    for await (const item of open({ samplesAsHeaders: true, ...(tail !== null ? { hashBefore: tail.offset } : {}) })) {
      if (isBatch(item)) for (const rec of item) step(rec);
      else step(item);
    }
  } catch (err) {
    tail?.cancel();
    throw err;
  }
  if (tail !== null && !health.chain.issue) joinTail(chain, health, await tail.result, linesBeforeTail ?? 0);
  health.chain.events = verify ? chain.count : 0;
  return { index: index ?? new LogIndex(), health };
}

/** The tail's chain after the checker's: the seam (the tail's first link), then what the tail found. */
function joinTail(chain: ChainChecker, health: LogHealth, r: ChainRangeResult, linesBefore: number): void {
  if (r.first === null) return;
  const at = (issue: { seq: number; line?: number; reason: string }) => ({ seq: issue.seq, ...(issue.line !== undefined ? { line: issue.line + linesBefore } : {}), reason: issue.reason });
  // The first event's content was checked with the tail; content comes first.
  if (r.events === 0 && r.issue) {
    health.chain.issue = at(r.issue);
    return;
  }
  const seam = chain.checkLink(r.first, r.first.raw, r.first.line);
  if (seam) {
    health.chain.issue = at(seam);
    return;
  }
  chain.advance(r.events - 1, r.head!);
  if (r.issue) health.chain.issue = at(r.issue);
}

/**
 * Second pass: collect the chosen span. `people` comes from the first pass
 * (the whole log); `fromOffset` is where a file source may start
 * (LogIndex.resumeOffset, with the same offset given to peopleFor).
 */
export async function collectSource(open: OpenSource, scope: Scope, people?: PeopleDirectory, fromOffset = 0): Promise<IncidentCollector> {
  const collector = new IncidentCollector(scope, people);
  // false: past everything the draft needs, stop reading.
  const step = (rec: SourceRecord): boolean => {
    if (rec.kind !== "event" && rec.kind !== "sample") return true;
    const h = rec.kind === "event" ? rec.event : rec.sample;
    // A live source may have grown since the first pass: stop where that pass stopped.
    if (h.seq > scope.lastSeq) return false;
    // Past the span, its sample tail and the incident's last event, nothing can change the draft.
    if (h.seq > scope.readUntilSeq && (rec.kind === "sample" ? rec.sample.ms : Date.parse(h.time)) > scope.readUntilMs) return false;
    if (rec.kind === "event") collector.add(rec.event);
    else if (!collector.skipsSample(rec.sample)) collector.add(sampleEvent(rec.raw));
    return true;
  };
  reading: for await (const item of open({ lazySamples: true, ...(fromOffset > 0 ? { fromOffset } : {}) })) {
    if (isBatch(item)) {
      for (const rec of item) if (!step(rec)) break reading;
    } else if (!step(item)) break;
  }
  return collector;
}

/** The event of a sample record: its line was checked as an event already (readEventLineHeader), so it parses. */
function sampleEvent(raw: string): CockpitEvent {
  const check = validateEvent(JSON.parse(raw));
  if (!check.ok) throw new Error(`collectSource: a sample record is not an event: ${check.error}`);
  return check.event;
}

/** Structural check of events that did not come from a file (a ws stream, the cockpit's buffer). */
export function eventsAsRecords(events: Iterable<unknown>): Iterable<SourceRecord> {
  return {
    *[Symbol.iterator]() {
      let n = 0;
      for (const v of events) {
        n++;
        const check = validateEvent(v);
        if (check.ok) yield { kind: "event", event: check.event };
        else yield { kind: "bad", line: n, reason: `event ${n} of the stream is not an event: ${check.error}` };
      }
    },
  };
}

/** The same, for an async stream. */
export async function* asyncEventsAsRecords(events: AsyncIterable<unknown>): AsyncGenerator<SourceRecord> {
  let n = 0;
  for await (const v of events) {
    n++;
    const check = validateEvent(v);
    if (check.ok) yield { kind: "event", event: check.event };
    else yield { kind: "bad", line: n, reason: `event ${n} of the stream is not an event: ${check.error}` };
  }
}

export type DraftResult = { ok: true; draft: Draft; scope: Scope } | { ok: false; message: string };

/** Why a stream read over the protocol cannot have its hash chain checked. */
export const STREAM_CHAIN_UNCHECKED =
  "read over the protocol, where a stream carries only one tenant's events and the client cleans their text; run cockpit verify-log on the data directory to check it";

/**
 * Both passes over events already in memory: pure, no I/O. `names` keeps
 * people's names. Events that came over the protocol (a client's buffer)
 * should pass verifyChain: false (see STREAM_CHAIN_UNCHECKED).
 */
export async function draftFromEvents(events: readonly CockpitEvent[], req: ScopeRequest & { names?: boolean; verifyChain?: boolean } = {}): Promise<DraftResult> {
  const open: OpenSource = () => eventsAsRecords(events);
  const window = req.window ?? null;
  const verifyChain = req.verifyChain !== false;
  const { index, health } = await scanSource(open, window ? () => window : null, verifyChain ? {} : { verifyChain, whyUnchecked: STREAM_CHAIN_UNCHECKED });
  const choice = chooseScope(index, req);
  if (!choice.ok) return choice;
  const collector = await collectSource(open, choice.scope, index.peopleFor(choice.scope));
  return { ok: true, draft: buildDraft(collector, { names: req.names === true, health }), scope: choice.scope };
}
