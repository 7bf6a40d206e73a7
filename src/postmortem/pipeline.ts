import { ChainChecker } from "../protocol/logfile.js";
import type { CockpitEvent } from "../protocol/types.js";
import { validateEvent } from "../protocol/validate-event.js";
import { IncidentCollector } from "./collect.js";
import { buildDraft, type Draft, type LogHealth } from "./draft.js";
import type { PeopleDirectory } from "./people.js";
import { chooseScope, LogIndex, type Scope, type ScopeRequest, type WindowRequest } from "./scope.js";

// The two passes over a source, shared by the CLI (files, ws) and the cockpit
// (events it already holds). A source is opened once per pass.

export type SourceRecord =
  | { kind: "event"; event: CockpitEvent; raw?: string; line?: number }
  | { kind: "bad"; line: number; reason: string };

export type OpenSource = () => AsyncIterable<SourceRecord> | Iterable<SourceRecord>;

export interface ScanResult {
  index: LogIndex;
  health: LogHealth;
}

/**
 * First pass: index the log and check it (bad lines, hash chain). The window
 * may depend on the log (a time of day takes the date of the first event), so
 * it is resolved when the first event arrives.
 */
export async function scanSource(
  open: OpenSource,
  window: ((firstEventMs: number) => WindowRequest | null) | null = null,
  opts: { verifyChain?: boolean; whyUnchecked?: string } = {},
): Promise<ScanResult> {
  let index: LogIndex | null = null;
  const verify = opts.verifyChain !== false;
  const health: LogHealth = {
    badLines: 0,
    firstBadLine: null,
    chain: { checked: verify, events: 0, issue: null, ...(verify ? {} : { whyUnchecked: opts.whyUnchecked ?? "the source is not a log file" }) },
  };
  const chain = new ChainChecker();
  for await (const rec of open()) {
    if (rec.kind === "bad") {
      health.badLines++;
      health.firstBadLine ??= { line: rec.line, reason: rec.reason };
      continue;
    }
    if (!index) {
      const ms = Date.parse(rec.event.time);
      index = new LogIndex(window ? window(ms) : null);
    }
    // After the first break every later event would fail too; the first is what matters.
    if (verify && !health.chain.issue) {
      const issue = chain.check(rec.event, rec.raw, rec.line);
      if (issue) health.chain.issue = { seq: issue.seq, ...(issue.line !== undefined ? { line: issue.line } : {}), reason: issue.reason };
    }
    index.add(rec.event);
  }
  health.chain.events = verify ? chain.count : 0;
  return { index: index ?? new LogIndex(), health };
}

/** Second pass: collect the chosen span. `people` comes from the first pass (the whole log). */
export async function collectSource(open: OpenSource, scope: Scope, people?: PeopleDirectory): Promise<IncidentCollector> {
  const collector = new IncidentCollector(scope, people);
  for await (const rec of open()) {
    if (rec.kind !== "event") continue;
    // A live source may have grown since the first pass: stop where that pass stopped.
    if (rec.event.seq > scope.lastSeq) break;
    // Past the span, its sample tail and the incident's last event, nothing can change the draft.
    if (rec.event.seq > scope.readUntilSeq && Date.parse(rec.event.time) > scope.readUntilMs) break;
    collector.add(rec.event);
  }
  return collector;
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
