import { describe, expect, it } from "vitest";
import type { Draft } from "../../src/postmortem/draft.js";
import { renderJson, renderMarkdown } from "../../src/postmortem/markdown.js";
import { MAX_TIMELINE_ROWS } from "../../src/postmortem/timeline.js";
import { draftFromEvents } from "../../src/postmortem/pipeline.js";
import { canaryLatencyLog, flagMisconfigLog, human, LogBuilder, slowBurnLog, T0 } from "./helpers.js";

async function draftOf(log: LogBuilder, req: Parameters<typeof draftFromEvents>[1] = {}): Promise<Draft> {
  const r = await draftFromEvents(log.events, req);
  if (!r.ok) throw new Error(r.message);
  return r.draft;
}

function at(sec: number): string {
  return new Date(T0 + sec * 1000).toISOString();
}

/** A rollout with one canary ring, gated on the given SLOs, and its first ring started. */
function rolloutLog(slos: string[], opts: { onBreach?: "pause" | "rollback"; bake?: number } = {}): LogBuilder {
  const log = new LogBuilder();
  log.push(0, "rollout.created", { service: "web", version: "2", previousVersion: "1", kind: "code", rings: [{ name: "canary", traffic: 5, bakeSeconds: opts.bake ?? 600, slos }, { name: "global", traffic: 100, bakeSeconds: 600, slos }], onBreach: opts.onBreach ?? "rollback" }, { rollout: "web-2" });
  log.push(0, "ring.started", { ring: "canary", traffic: 5 }, { rollout: "web-2", ring: "canary" });
  return log;
}

describe("canary-latency draft", () => {
  it("summarizes what changed, where it was caught, how it was mitigated and how long it lasted", async () => {
    const d = await draftOf(canaryLatencyLog());
    expect(d.header).toMatchObject({ title: "Checkout latency in canary", incidentId: "inc-1", status: "DRAFT", severity: "sev2", date: "2026-11-21", owner: "_fill in_", reviewers: "_fill in_", tenant: "payments" });
    expect(d.summary).toEqual([
      "A code rollout of checkout 1.4.0 (from 1.3.9, rollout api-v408) reached canary (5% of traffic).",
      "An automated SLO gate caught it in canary at 14:01:40 UTC, 30s after impact started: p99_latency_ms < 50 for 30s breached in canary (73 > 50).",
      "The on-call operator rolled api-v408 back (started 14:03:00 UTC); it was mitigated at 14:03:30 UTC (2m20s after impact started), and resolved at 14:06:40 UTC (5m30s after impact started).",
    ]);
  });

  it("gives impact: exposure, the breached SLI's peak against its SLO, rollouts", async () => {
    const d = await draftOf(canaryLatencyLog());
    expect(d.impact.exposure).toEqual([{ rollout: "api-v408", ring: "canary", traffic: 5, from: "14:00:00 UTC", to: "14:03:15 UTC", duration: "3m15s", endedBy: "rolled back" }]);
    expect(d.impact.slis).toHaveLength(1);
    expect(d.impact.slis[0]).toMatchObject({ ring: "canary", metric: "p99_latency_ms", slo: "p99_latency_ms < 50 for 30s", peak: "90 ms vs 50 ms", samplesOutside: 14 });
    expect(d.impact.sentences[0]).toBe("Impact lasted 2m20s, from 14:01:10 UTC to 14:03:30 UTC (mitigation), with up to 5% of traffic on the new version.");
    expect(d.impact.rollouts).toEqual([{ id: "api-v408", service: "checkout", fromVersion: "1.3.9", toVersion: "1.4.0", kind: "code" }]);
  });

  it("writes a timeline a reader can follow: times, offsets from impact start, roles, evidence", async () => {
    const d = await draftOf(canaryLatencyLog());
    const rows = d.timeline.rows;
    const impact = rows.find((r) => r.marks.includes("impact started"))!;
    expect(impact).toMatchObject({ time: "14:01:10", offset: "T+0s", who: "SLI samples", text: "canary p99_latency_ms went outside its SLO (api-v408)" });
    expect(impact.evidence).toBe("52 ms vs threshold 50 ms (p99_latency_ms < 50 for 30s)");
    const breach = rows.find((r) => r.marks.includes("detected"))!;
    expect(breach.offset).toBe("T+30s");
    // The alert raised with the breach joins its line instead of a line of its own.
    expect(breach.text).toContain("; alert raised");
    expect(rows.filter((r) => r.text.startsWith("alert firing"))).toHaveLength(0);
    expect(rows.find((r) => r.text.includes("rolled back to 1.3.9"))!.text).toContain("requested by the on-call operator");
    expect(rows.map((r) => r.text)).toContain("The incident commander assigned the operator role of incident inc-1 to the on-call operator");
    expect(rows.map((r) => r.text)).toContain("The incident commander assigned the commander role of incident inc-1 to themselves");
    expect(rows.find((r) => r.marks.includes("mitigated"))!.text).toBe("canary p99_latency_ms back inside its SLO (api-v408)");
    // Before impact start: only context.
    expect(rows.filter((r) => r.offset.startsWith("T-")).map((r) => r.text)).toEqual([
      expect.stringContaining("created rollout api-v408"),
      "canary started taking 5% of traffic for api-v408; canary baking until 14:10:00",
    ]);
    // In log order.
    const seqs = rows.map((r) => r.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
  });

  it("names nobody: roles everywhere, notes included", async () => {
    const d = await draftOf(canaryLatencyLog());
    const md = renderMarkdown(d);
    const json = renderJson(d);
    for (const out of [md, json]) {
      expect(out).not.toMatch(/\balice\b/i);
      expect(out).not.toMatch(/\bbob\b/i);
    }
    const note = d.timeline.rows.find((r) => r.text.startsWith("Note by"))!;
    expect(note.who).toBe("the on-call operator");
    expect(note.text).toContain("The on-call operator saw DB_PASSWORD=[REDACTED]");
    expect(d.appendix.commands.map((c) => c.who)).toEqual(expect.arrayContaining(["the on-call operator", "the incident commander"]));
  });

  it("keeps names with names: true", async () => {
    const d = await draftOf(canaryLatencyLog(), { names: true });
    const md = renderMarkdown(d);
    expect(md).toMatch(/\balice\b/);
    expect(d.timeline.rows.find((r) => r.text.startsWith("Note by"))!.who).toBe("alice");
  });

  it("redacts secrets typed into notes, everywhere", async () => {
    const d = await draftOf(canaryLatencyLog());
    for (const out of [renderMarkdown(d), renderJson(d)]) {
      expect(out).not.toContain("hunter2");
      expect(out).not.toContain("s3cr3t");
    }
    expect(renderMarkdown(d)).toContain("postgres://svc:[REDACTED]@db.internal:5432/orders");
  });

  it("quotes notes verbatim, line breaks kept, and lists blame-prone phrases without rewriting them", async () => {
    const d = await draftOf(canaryLatencyLog());
    const note = d.timeline.rows.find((r) => r.text.startsWith("Note by"))!;
    expect(note.text).toContain("orders.\nThe on-call operator should have checked the canary dashboard: human error.");
    expect(d.languageToRevisit.map((l) => l.phrase)).toEqual(["should have", "human error"]);
    expect(d.languageToRevisit[0]!.excerpt).not.toMatch(/alice/i);
  });

  it("keeps the response narratives to facts", async () => {
    const d = await draftOf(canaryLatencyLog());
    expect(d.narratives.detection[0]).toBe("Detection was automated: an SLO gate on the ring caught the problem before anyone reported it.");
    expect(d.narratives.response).toContain("The engine paused api-v408 on its own at 14:01:40 UTC: p99_latency_ms < 50 for 30s breached in canary (73 > 50).");
    expect(d.contributingFactors[0]).toContain("pauses on a breach rather than rolling back");
  });
});

describe("flag-misconfig draft", () => {
  it("says which span it chose, and prompts about the missing canary ring", async () => {
    const d = await draftOf(flagMisconfigLog());
    expect(d.header.incidentId).toBeNull();
    expect(d.header.choice).toContain("No incident was declared");
    expect(d.contributingFactors[0]).toBe(
      "flag-checkout-v2 reached 100% of traffic in its first ring (global): the change had no canary ring to limit its reach. What let the plan go out without a smaller first ring?",
    );
    expect(d.actionItems.map((a) => [a.item, a.type])).toContainEqual(["Add a small canary ring (1–5% of traffic) before global in the plan for checkout", "prevent"]);
    expect(d.impact.flags).toEqual(["new_checkout"]);
    expect(d.impact.exposure[0]).toMatchObject({ traffic: 100, endedBy: "kill switch" });
    expect(d.summary[2]).toContain("The on-call operator engaged the kill switch new_checkout at 14:01:30 UTC");
    expect(d.wentPoorly).toContain("The change reached all traffic.");
  });

  it("has TTD, TTM and TTR that match the event times", async () => {
    const d = await draftOf(flagMisconfigLog());
    // impact +40s (first error_rate sample over 1%), detected +60s, mitigated +110s, resolved +410s
    expect(d.metrics.map((m) => m.ms)).toEqual([20_000, 50_000, 70_000, 370_000]);
  });
});

describe("slow-burn draft", () => {
  it("prompts about a burn-rate alert catching what the gates let through", async () => {
    const d = await draftOf(slowBurnLog());
    expect(d.narratives.detection[0]).toBe("Detection came from an error-budget burn-rate alert, not from a ring's gate.");
    expect(d.contributingFactors.some((p) => p.startsWith("Detection came from a burn-rate alert while every gate stayed green"))).toBe(true);
    expect(d.actionItems.some((a) => a.type === "detect" && a.item.includes("slow burn"))).toBe(true);
    expect(d.summary[1]).toContain("A burn-rate alert caught it at 14:05:00 UTC, 4m40s after impact started");
  });
});

describe("burn-rate detection ahead of a slower gate", () => {
  it("does not claim the gates stayed green when one breached later", async () => {
    const log = slowBurnLog();
    // Insert a gate breach 40s after the burn-rate alert (rebuild the chain in order).
    const rebuilt = new LogBuilder();
    let inserted = false;
    for (const e of log.events) {
      const sec = (Date.parse(e.time) - T0) / 1000;
      if (sec > 340 && !inserted) {
        inserted = true;
        rebuilt.push(340, "slo.breached", { ring: "canary", assertion: "error_rate < 2%", value: 2.2, threshold: 2, consecutive: 3 }, { rollout: "api-v500", ring: "canary" });
      }
      rebuilt.push(sec, e.type, e.data as never, { ...e } as never);
    }
    const d = await draftOf(rebuilt);
    expect(d.contributingFactors.some((p) => p.includes("every gate stayed green"))).toBe(false);
    expect(d.wentPoorly.some((p) => p.includes("gates stayed green"))).toBe(false);
    expect(d.wentWell).toContain("The burn-rate alert caught the problem 40s before the first gate breached.");
  });
});

describe("contributing factors from the plan and the log", () => {
  it("a bake shorter than the time to detect", async () => {
    const d = await draftOf(canaryLatencyLog({ bakeSeconds: 20 }));
    expect(d.contributingFactors).toContain(
      "api-v408's canary ring bakes for 20s, shorter than the 30s it took to detect the problem: a clean bake could not have shown this change to be safe. Is the bake long enough for this kind of failure to show?",
    );
  });

  it("an SLI that moved far from its baseline where the ring had no gate on it", async () => {
    const log = rolloutLog(["p99_latency_ms < 50"]);
    for (let t = 10; t <= 200; t += 10) {
      log.sample(t, "web-2", "canary", "p99_latency_ms", t >= 60 && t < 150 ? 80 : 40, "ms", 40);
      log.sample(t, "web-2", "canary", "error_rate", t >= 50 ? 0.6 : 0.2, "%", 0.2);
      if (t === 90) log.push(90, "slo.breached", { ring: "canary", assertion: "p99_latency_ms < 50", value: 80, threshold: 50, consecutive: 3 }, { rollout: "web-2", ring: "canary" });
    }
    const d = await draftOf(log);
    expect(d.contributingFactors.some((p) => p.startsWith("canary error_rate of web-2 rose to 3x its baseline (0.6% vs 0.2%)") && p.includes("canary had no gate on error_rate"))).toBe(true);
    expect(d.actionItems.map((a) => a.item)).toContain("Add an SLO gate on error_rate to the canary ring in web-2's plan");
  });

  it("an automatic rollback that was rate-limited, and a rollback command that was refused", async () => {
    const log = rolloutLog(["error_rate < 1%"], { onBreach: "rollback" });
    log.push(30, "slo.breached", { ring: "canary", assertion: "error_rate < 1%", value: 3, threshold: 1, consecutive: 3 }, { rollout: "web-2", ring: "canary" });
    log.push(30, "rollout.paused", { reason: "error_rate < 1% breached in canary (3 > 1); automatic rollback rate-limited (1 per 60m), paused instead", automatic: true }, { rollout: "web-2", ring: "canary" });
    log.push(50, "command.rejected", { action: "rollback", code: "forbidden", message: "viewer may not roll back" }, { rollout: "web-2", actor: human("vic", "viewer"), command: "x-1" });
    const d = await draftOf(log);
    expect(d.contributingFactors.some((p) => p.startsWith("The automatic rollback of web-2 was rate-limited at 14:00:30 UTC"))).toBe(true);
    expect(d.contributingFactors).toContain("A rollback by a viewer was refused at 14:00:50 UTC (forbidden: viewer may not roll back). What kept the mitigation from going through?");
    expect(d.wentPoorly).toContain("1 command was refused during the response (see the command audit).");
    expect(d.appendix.commands).toContainEqual({ time: "14:00:50 UTC", seq: 5, who: "a viewer", action: "rollback", target: "rollout web-2", result: "refused (forbidden)", detail: "viewer may not roll back" });
  });
});

describe("timeline noise", () => {
  it("folds a repeated alert into one line with a count", async () => {
    const log = rolloutLog(["error_rate < 1%"]);
    for (const t of [100, 160, 220]) {
      log.push(t, "alert.firing", { severity: "warning", title: "queue depth high", source: "prometheus", labels: { key: "queue" } }, { alert: `q-${t}`, actor: { kind: "integration", name: "prometheus" } });
      log.push(t + 30, "alert.resolved", { severity: "warning", title: "queue depth high", source: "prometheus", labels: { key: "queue" } }, { alert: `q-${t}`, actor: { kind: "integration", name: "prometheus" } });
    }
    // Each firing is its own trouble episode; a window covers all three.
    const d = await draftOf(log, { window: { fromMs: T0, toMs: T0 + 300_000 } });
    const firing = d.timeline.rows.filter((r) => r.text.startsWith("alert firing"));
    expect(firing).toHaveLength(1);
    expect(firing[0]!.text).toContain("(3 times, the last at 14:03:40 UTC)");
    expect(firing[0]!.who).toBe("the prometheus integration");
    expect(d.timeline.rows.filter((r) => r.text.startsWith("alert resolved"))).toHaveLength(1);
  });
});

describe("a busy span", () => {
  it("thins the timeline to routine-free lines beyond MAX_TIMELINE_ROWS and says so", async () => {
    const log = rolloutLog(["error_rate < 1%"]);
    for (let i = 0; i < 450; i++) {
      log.push(10 + i, "alert.firing", { severity: "info", title: `shard ${i} rebalanced`, source: "engine", labels: { key: `shard-${i}` } }, { alert: `s-${i}` });
    }
    log.push(500, "note.added", { text: "the shard churn is expected" }, { actor: human("ann", "operator"), command: "n-1" });
    const d = await draftOf(log, { window: { fromMs: T0, toMs: T0 + 600_000 } });
    expect(d.timeline.rows.length).toBeLessThanOrEqual(MAX_TIMELINE_ROWS);
    expect(d.timeline.rows.some((r) => r.text.startsWith("Note by"))).toBe(true);
    expect(d.timeline.note).toContain("routine engine lines are left out");
  });
});

describe("hostile text from the log", () => {
  it("neutralizes terminal escapes and Markdown structure in notes", async () => {
    const log = canaryLatencyLog({ note: "\u001b]52;c;ZXZpbA==\u0007 a | b <script>alert(1)</script>\n# not a heading" });
    const md = renderMarkdown(await draftOf(log));
    expect(md).not.toContain("\u001b");
    expect(md).not.toContain("\u0007");
    expect(md).toContain("␛]52;c;ZXZpbA==␇");
    expect(md).not.toContain("<script>");
    expect(md).toContain("&lt;script>");
    expect(md).toContain("a \\| b");
    expect(md).not.toMatch(/^# not a heading/m);
  });
});

describe("determinism", () => {
  it("gives byte-identical Markdown and JSON for the same log", async () => {
    for (const make of [canaryLatencyLog, flagMisconfigLog, slowBurnLog]) {
      const a = await draftOf(make());
      const b = await draftOf(make());
      expect(renderMarkdown(a)).toBe(renderMarkdown(b));
      expect(renderJson(a)).toBe(renderJson(b));
    }
  });

  it("takes every time from the log", async () => {
    const md = renderMarkdown(await draftOf(canaryLatencyLog()));
    const years = new Set(md.match(/\b20\d\d-\d\d-\d\d/g));
    expect([...years]).toEqual(["2026-11-21"]);
    expect(md).toContain(at(70).slice(0, 10));
  });
});
