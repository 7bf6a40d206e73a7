// Node flags the cockpit runs with: on the first line of src/cli.ts (so the
// `cockpit` command gets them), in package.json's start and bench scripts, and
// for every benchmark child (bench/lib/child.ts). test/app/node-flags.test.ts
// holds all of them to this list.
//
// --max-semi-space-size=8: V8 doubles its young generation as objects survive
// collections, up to 16 MB a semi-space (32 MB resident) on 64-bit. A cockpit
// under 2,000 events/s gets there after ~150k events: RSS stepped up ~20 MB
// with a flat heap (bench rss). Capped at 8 MB, RSS stays ~20 MB lower and
// flat; decoding and the 1M-event post-mortem draft ran as fast or faster.
// (A 2 MB cap made the post-mortem 40% slower.)
export const COCKPIT_NODE_FLAGS: readonly string[] = ["--max-semi-space-size=8"];
