import { describe, expect, it } from "vitest";
import { chooseScope, LogIndex, parseTimeArg, type WindowRequest } from "../../src/postmortem/scope.js";
import { canaryLatencyLog, flagMisconfigLog, human, LogBuilder, T0 } from "./helpers.js";

function index(log: LogBuilder, window: WindowRequest | null = null): LogIndex {
  const ix = new LogIndex(window);
  for (const e of log.events) ix.add(e);
  return ix;
}

/** canary-latency (inc-1, resolved at +400s), then a second, unrelated incident on another rollout. */
function twoIncidents(): LogBuilder {
  const log = canaryLatencyLog();
  const R = "web-v12";
  log.push(1000, "rollout.created", { service: "web", version: "12", previousVersion: "11", kind: "code", rings: [{ name: "canary", traffic: 5, bakeSeconds: 300, slos: ["error_rate < 1%"] }], onBreach: "rollback" }, { rollout: R });
  log.push(1000, "ring.started", { ring: "canary", traffic: 5 }, { rollout: R, ring: "canary" });
  log.push(1100, "slo.breached", { ring: "canary", assertion: "error_rate < 1%", value: 3, threshold: 1, consecutive: 3 }, { rollout: R, ring: "canary" });
  log.push(1150, "incident.declared", { severity: "sev3", title: "Web errors" }, { incident: "inc-2", actor: human("erin", "commander") });
  return log;
}

describe("chooseScope", () => {
  it("picks the most recent incident by default and says that earlier ones exist", () => {
    const ix = index(twoIncidents());
    const c = chooseScope(ix, {});
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    expect(c.scope.kind).toBe("incident");
    expect(c.scope.incidentId).toBe("inc-2");
    expect(c.scope.choice).toContain('the most recent incident, inc-2 ("Web errors"), declared at 14:19:10 UTC');
    expect(c.scope.choice).toContain("1 earlier incident");
    expect(c.scope.rollouts).toEqual(["web-v12"]);
  });

  it("picks the incident asked for, with its run-up: samples from before the first breach", () => {
    const ix = index(twoIncidents());
    const c = chooseScope(ix, { incident: "inc-1" });
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    expect(c.scope.incidentId).toBe("inc-1");
    expect(c.scope.choice).toContain("as asked with --incident");
    expect(c.scope.fromMs).toBe(T0 + 100_000); // the breach that opened the episode
    expect(c.scope.toMs).toBe(T0 + 400_000); // the resolution
    expect(c.scope.sampleFromMs).toBeLessThanOrEqual(T0 + 70_000); // the first sample outside the SLO
    expect(c.scope.rollouts).toEqual(["api-v408"]);
  });

  it("names the incidents that exist when the one asked for is not in the log", () => {
    const c = chooseScope(index(twoIncidents()), { incident: "inc-9" });
    expect(c).toEqual({ ok: false, message: 'nothing to draft: no incident "inc-9" in the log (incidents in the log: inc-1, inc-2)' });
  });

  it("without an incident, covers the span around the most recent rollback and says so", () => {
    const log = canaryLatencyLog();
    const noIncident = new LogBuilder();
    for (const e of log.events) if (!e.type.startsWith("incident.")) noIncident.push((Date.parse(e.time) - T0) / 1000, e.type, e.data as never, { ...e } as never);
    const c = chooseScope(index(noIncident), {});
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    expect(c.scope.kind).toBe("episode");
    expect(c.scope.choice).toBe("No incident was declared; this draft covers the span around the rollback of api-v408 at 14:03:00 UTC.");
    expect(c.scope.fromMs).toBe(T0 + 100_000);
  });

  it("names the kill switch when it is the most recent mitigation", () => {
    const c = chooseScope(index(flagMisconfigLog()), {});
    expect(c.ok && c.scope.choice).toBe("No incident was declared; this draft covers the span around the kill switch (flag new_checkout) engaged on flag-checkout-v2 at 14:01:30 UTC.");
  });

  it("falls back to an SLO breach, then to an alert", () => {
    const breachOnly = new LogBuilder();
    breachOnly.push(10, "slo.breached", { ring: "canary", assertion: "error_rate < 1%", value: 2, threshold: 1, consecutive: 3 }, { rollout: "r1", ring: "canary" });
    const b = chooseScope(index(breachOnly), {});
    expect(b.ok && b.scope.choice).toBe('No incident was declared; this draft covers the span around the SLO breach of "error_rate < 1%" in canary of r1 at 14:00:10 UTC.');

    const alertOnly = new LogBuilder();
    alertOnly.push(20, "alert.firing", { severity: "warning", title: "disk filling", source: "node" }, { alert: "a1" });
    const a = chooseScope(index(alertOnly), {});
    expect(a.ok && a.scope.choice).toBe('No incident was declared; this draft covers the span around the alert "disk filling" at 14:00:20 UTC.');
  });

  it("says what the log holds when there is nothing to draft", () => {
    const quiet = new LogBuilder();
    quiet.push(0, "rollout.created", { service: "web", version: "2", previousVersion: "1", kind: "code", rings: [], onBreach: "pause" }, { rollout: "web-2" });
    quiet.push(60, "rollout.completed", { version: "2" }, { rollout: "web-2" });
    const c = chooseScope(index(quiet), {});
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.message).toContain("no incident, rollback, kill switch, SLO breach or alert");
    expect(c.message).toContain("2 events from 2026-11-21T14:00:00.000Z to 2026-11-21T14:01:00.000Z");
    expect(c.message).toContain("rollouts: web-2");
    expect(c.message).toContain("--from and --to");
  });

  it("refuses an empty log", () => {
    expect(chooseScope(new LogIndex(), {})).toEqual({ ok: false, message: "nothing to draft: the log holds no events" });
  });

  it("covers a --from/--to window exactly, for the tenant with trouble in it", () => {
    const log = canaryLatencyLog();
    const w = { fromMs: T0 + 60_000, toMs: T0 + 300_000 };
    const c = chooseScope(index(log, w), { window: w });
    expect(c.ok).toBe(true);
    if (!c.ok) return;
    expect(c.scope).toMatchObject({ kind: "window", tenant: "payments", fromMs: w.fromMs, toMs: w.toMs, sampleFromMs: w.fromMs, rollouts: null });
    expect(c.scope.choice).toContain("as asked with --from and --to");
  });

  it("refuses a window with no events in it", () => {
    const log = canaryLatencyLog();
    const w = { fromMs: T0 + 3_600_000, toMs: T0 + 7_200_000 };
    const c = chooseScope(index(log, w), { window: w });
    expect(c.ok).toBe(false);
    if (c.ok) return;
    expect(c.message).toContain("no events other than SLI samples between 2026-11-21T15:00:00.000Z and 2026-11-21T16:00:00.000Z");
  });

  it("sanitizes and redacts what it quotes from the log", () => {
    const log = new LogBuilder();
    log.push(0, "incident.declared", { severity: "SEV1", title: "\u001b]0;pwned\u0007 checkout down, token=abc123xyz" }, { incident: "inc-\u001b[2J1", actor: human("ann", "commander") });
    const ix = index(log);
    const chosen = chooseScope(ix, {});
    expect(chosen.ok && chosen.scope.choice).toBe('This draft covers the most recent incident, inc-␛[2J1 ("␛]0;pwned␇ checkout down, token=[REDACTED]"), declared at 14:00:00 UTC.');
    const missing = chooseScope(ix, { incident: "nope" });
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.message).not.toContain("\u001b");
  });

  it("keeps an incident to its own tenant", () => {
    const log = canaryLatencyLog();
    const other = new LogBuilder("retail");
    other.push(0, "incident.declared", { severity: "sev1", title: "Retail down" }, { incident: "inc-r" });
    const ix = index(log);
    for (const e of other.events) ix.add({ ...e, seq: log.events.length + e.seq });
    const c = chooseScope(ix, { incident: "inc-1" });
    expect(c.ok && c.scope.tenant).toBe("payments");
  });
});

describe("parseTimeArg", () => {
  const ref = T0 + 5 * 3_600_000; // 19:00 on the same day
  it("reads ISO-8601 times, with or without a zone (UTC)", () => {
    expect(parseTimeArg("2026-11-21T14:05:00Z", null)).toEqual({ ok: true, ms: T0 + 300_000 });
    expect(parseTimeArg("2026-11-21T14:05:00", null)).toEqual({ ok: true, ms: T0 + 300_000 });
    expect(parseTimeArg("2026-11-21T15:05:00+01:00", null)).toEqual({ ok: true, ms: T0 + 300_000 });
  });
  it("reads a UTC time of day on the reference date", () => {
    expect(parseTimeArg("14:05", ref)).toEqual({ ok: true, ms: T0 + 300_000 });
    expect(parseTimeArg("14:05:30", ref)).toEqual({ ok: true, ms: T0 + 330_000 });
  });
  it("refuses what is not a time, saying what would be", () => {
    for (const bad of ["yesterday", "12", "25:00", "2026-13-45T99:00"]) {
      const r = parseTimeArg(bad, ref);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatch(/ISO-8601|time of day/);
    }
  });
  it("needs a log to place a time of day", () => {
    const r = parseTimeArg("14:05", null);
    expect(r.ok).toBe(false);
  });
});
