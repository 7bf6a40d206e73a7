import { describe, expect, it } from "vitest";
import { mdCell, mdInline, renderJson, renderMarkdown } from "../../src/postmortem/markdown.js";
import { draftFromEvents } from "../../src/postmortem/pipeline.js";
import type { Draft } from "../../src/postmortem/draft.js";
import { canaryLatencyLog, flagMisconfigLog } from "./helpers.js";

async function draftOf(make: () => { events: Parameters<typeof draftFromEvents>[0] }): Promise<Draft> {
  const r = await draftFromEvents(make().events);
  if (!r.ok) throw new Error(r.message);
  return r.draft;
}

describe("renderMarkdown", () => {
  it("lays the sections out in the issue's order", async () => {
    const md = renderMarkdown(await draftOf(canaryLatencyLog));
    const headings = md.split("\n").filter((l) => /^#{1,3} /.test(l));
    expect(headings).toEqual([
      "# Post-mortem: Checkout latency in canary",
      "## Summary",
      "## Impact",
      "## Key moments and metrics",
      "## Timeline",
      "## Detection, response and recovery",
      "### Detection",
      "### Response",
      "### Recovery",
      "## Contributing factors",
      "## What went well",
      "## What went poorly",
      "## Where we got lucky",
      "## Action items",
      "## Language to revisit",
      "## Appendix",
      "### Rollout plans",
      "### Command audit",
    ]);
  });

  it("puts the header fields, the choice of span and the chain state before the summary", async () => {
    const md = renderMarkdown(await draftOf(flagMisconfigLog));
    const head = md.slice(0, md.indexOf("## Summary"));
    for (const field of ["| Incident | none declared |", "| Status | **DRAFT** |", "| Severity | _fill in_ |", "| Owner | _fill in_ |", "| Reviewers | _fill in_ |", "| Tenant | payments |"]) {
      expect(head).toContain(field);
    }
    expect(head).toContain("| Event log | verified: hash chain intact over 55 events |");
    expect(head).toContain("> No incident was declared; this draft covers the span around the kill switch");
  });

  it("writes the timeline as a table with time, offset, sentence, role and evidence", async () => {
    const md = renderMarkdown(await draftOf(canaryLatencyLog));
    expect(md).toContain("| Time (UTC) | Since impact | What happened | Who | Evidence |");
    expect(md).toContain("| 14:01:10 | T+0s | canary p99_latency_ms went outside its SLO (api-v408) **(impact started)** | SLI samples | 52 ms vs threshold 50 ms (p99_latency_ms < 50 for 30s) |");
  });

  it("says which milestones were inferred", async () => {
    const md = renderMarkdown(await draftOf(canaryLatencyLog));
    expect(md).toContain("Inferred from the log: impact started, detected, acknowledged, mitigated, resolved.");
    expect(md).toMatch(/\| Impact started \| 14:01:10 UTC \| seq \d+ \| inferred: first sample outside the SLO/);
  });

  it("ends with one newline and never three in a row", async () => {
    const md = renderMarkdown(await draftOf(canaryLatencyLog));
    expect(md.endsWith("\n")).toBe(true);
    expect(md.endsWith("\n\n")).toBe(false);
    expect(md).not.toContain("\n\n\n");
  });
});

describe("escaping", () => {
  it("keeps a cell one cell: pipes escaped, line breaks as <br>, tags neutralized", () => {
    expect(mdCell("a | b\nc <b>x</b> & p99 < 50")).toBe("a \\| b<br>c &lt;b>x&lt;/b> & p99 < 50");
    expect(mdCell("back\\slash")).toBe("back\\\\slash");
    expect(mdCell("&amp; stays readable")).toBe("&amp;amp; stays readable");
  });

  it("keeps inline text on one line", () => {
    expect(mdInline("one\n  two <img src=x>")).toBe("one two &lt;img src=x>");
  });
});

describe("renderJson", () => {
  it("gives the same content as data, in a fixed key order", async () => {
    const d = await draftOf(canaryLatencyLog);
    const json = renderJson(d);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(d)));
    expect(Object.keys(JSON.parse(json))).toEqual([
      "header",
      "warnings",
      "summary",
      "impact",
      "milestones",
      "metrics",
      "timeline",
      "narratives",
      "contributingFactors",
      "wentWell",
      "wentPoorly",
      "lucky",
      "actionItems",
      "languageToRevisit",
      "appendix",
    ]);
    expect(json.endsWith("}\n")).toBe(true);
  });
});
