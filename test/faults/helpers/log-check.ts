import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { CockpitEvent } from "../../../src/protocol/types.js";

// Reading a data directory's event log back in a test, and the "exactly once"
// check: a command id's events must form one run of consecutive seqs (the one
// batch the command caused), never two.

/** Every complete line of <dir>/events.jsonl (a torn last line, if any, is left out). */
export function readLogEvents(dir: string): CockpitEvent[] {
  const text = readFileSync(join(dir, "events.jsonl"), "utf8");
  const lines = text.split("\n");
  lines.pop(); // after the last "\n": "" or a torn line
  return lines.map((l) => JSON.parse(l) as CockpitEvent);
}

/** Events grouped by command id, in log order. */
export function eventsByCommand(events: readonly CockpitEvent[]): Map<string, CockpitEvent[]> {
  const by = new Map<string, CockpitEvent[]>();
  for (const e of events) {
    if (e.command === undefined) continue;
    const list = by.get(e.command);
    if (list) list.push(e);
    else by.set(e.command, [e]);
  }
  return by;
}

/** How many separate batches (runs of consecutive seqs) a command's events form. */
export function batchCount(events: readonly CockpitEvent[] | undefined): number {
  if (!events || events.length === 0) return 0;
  let batches = 1;
  for (let i = 1; i < events.length; i++) if (events[i]!.seq !== events[i - 1]!.seq + 1) batches += 1;
  return batches;
}

/** Seqs that are missing or repeated in a list meant to run first, first+1, ... */
export function gapsAndRepeats(seqs: readonly number[], first: number): { gaps: number[]; repeats: number[] } {
  const gaps: number[] = [];
  const repeats: number[] = [];
  let expect = first;
  for (const s of seqs) {
    if (s < expect) repeats.push(s);
    else {
      for (let g = expect; g < s && gaps.length < 20; g++) gaps.push(g);
      expect = s + 1;
    }
  }
  return { gaps, repeats };
}

/** A deterministic random source for test timing (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
