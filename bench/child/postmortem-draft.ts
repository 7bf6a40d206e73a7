import { parseArgs } from "node:util";
import { draftFromSource } from "../../src/postmortem/run.js";
import { emitResult } from "../lib/child.js";

// One `cockpit postmortem SOURCE` draft, as the CLI makes it (draftFromSource:
// scan pass with chain check, scope choice, collect pass, Markdown), in a
// fresh process: wall time, and RSS before, sampled during, and the kernel's
// peak (resourceUsage().maxRSS).

const { values } = parseArgs({ options: { source: { type: "string" } } });
if (!values.source) throw new Error("postmortem-draft: give --source DIR");
const mb = (n: number) => n / 2 ** 20;

const before = process.memoryUsage();
let sampledPeak = before.rss;
const sampler = setInterval(() => {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage().rss);
}, 10);
const t0 = performance.now();
const result = await draftFromSource(values.source, { format: "md" });
const ms = performance.now() - t0;
clearInterval(sampler);
const after = process.memoryUsage();
sampledPeak = Math.max(sampledPeak, after.rss);

emitResult({
  ok: result.ok,
  error: result.ok ? undefined : result.message,
  seconds: ms / 1000,
  rssBeforeMB: mb(before.rss),
  rssAfterMB: mb(after.rss),
  sampledPeakRssMB: mb(sampledPeak),
  // maxRSS is in KiB: the process's peak, including anything between samples.
  maxRssMB: process.resourceUsage().maxRSS / 1024,
  heapAfterMB: mb(after.heapUsed),
  draftBytes: result.ok ? Buffer.byteLength(result.text) : 0,
  choice: result.ok ? result.draft.header.choice : undefined,
  chain: result.ok ? result.draft.header.chain : undefined,
  warnings: result.ok ? result.draft.warnings : [],
});
