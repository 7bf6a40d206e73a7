import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { verifyLog } from "../../src/backend/verify.js";
import { connect } from "../../src/client/connection.js";
import type { CockpitEvent, ServerMsg } from "../../src/protocol/types.js";
import { createCockpitStore } from "../../src/store/cockpit-store.js";
import { RecordingSink, sleep, waitFor } from "../client/helpers/recording-sink.js";
import { TestClient } from "../support/processes.js";
import { batchCount, eventsByCommand, gapsAndRepeats, readLogEvents, seeded } from "./helpers/log-check.js";
import { writeSteadyScenario } from "./helpers/scenario-file.js";
import { freePort, killAllServe, removeTempDirs, spawnServe, tempDir, verifyLogCli, type ServeChild } from "./helpers/serve-child.js";

// Issue 6, "Faults": the backend is killed with SIGKILL at random moments while
// commands are in flight, 100 times. Two clients watch it throughout:
//  - the cockpit's own client (connect() + the store), which reconnects by
//    itself to the same port and re-sends unanswered commands with their ids;
//  - a bare protocol observer that reconnects each round with resumeFrom its
//    last seq, so a repeat the cockpit would silently drop is still seen.
// After every kill the log must verify (a torn last line is allowed only
// because the next start cuts it), every acked command must be in it exactly
// once, and nothing a client saw may be missing from it (durable before broadcast).

const ROUNDS = Number(process.env.COCKPIT_KILL_ROUNDS ?? 100);

afterAll(async () => {
  await killAllServe();
  removeTempDirs();
});

interface RoundStats {
  tornTails: number;
  inFlightAtKill: number;
  durableButUnacked: number;
  observedEvents: number;
  /** time from spawn to the URL, summed over restarts */
  restartMs: number;
}

async function closed(c: TestClient, ms = 10_000): Promise<void> {
  await waitFor(() => c.closeCode !== null, "the observer's socket to close after the kill", ms);
}

function eventFrames(frames: readonly ServerMsg[]): CockpitEvent[] {
  return frames.flatMap((f) => (f.type === "event" ? [f.event] : []));
}

describe(`kill -9 at random moments, ${ROUNDS} times`, () => {
  it(
    "after every kill the log verifies, acked commands are in it exactly once, resume has no gap and no repeat",
    async () => {
      const random = seeded(20261121);
      const dir = tempDir("kill-loop");
      const data = join(dir, "data");
      const scenario = writeSteadyScenario(dir, { rollouts: 1, metrics: 3, speed: 40, sampleEverySeconds: 1 });
      const port = await freePort();
      const args = ["--scenario", scenario, "--port", String(port), "--data-dir", data];

      let serve: ServeChild = await spawnServe(args);
      const store = createCockpitStore({ url: serve.url, flushIntervalMs: 10, tickMs: 0 });
      const sink = new RecordingSink(store);
      const conn = connect({
        url: serve.url,
        clientName: "kill-loop-cockpit",
        store: sink,
        backoff: { initialMs: 20, maxMs: 100 },
        commandCapacity: 256,
        commandRetryMs: 600_000,
        random,
      });

      const sent: string[] = [];
      let noteNo = 0;
      const sendNote = () => sent.push(conn.send({ action: "note", target: {}, args: { text: `note ${++noteNo}` } }));
      const answered = () => new Set([...sink.acks.map((a) => a.id), ...sink.rejects.map((r) => r.id), ...sink.unknown.map((u) => u.id)]);

      const stats: RoundStats = { tornTails: 0, inFlightAtKill: 0, durableButUnacked: 0, observedEvents: 0, restartMs: 0 };
      let observedUpTo: number | null = null;
      let durableHead = 0;
      let tornLastRound = false;
      const started = Date.now();

      for (let round = 0; round < ROUNDS; round++) {
        const spawnAt = Date.now();
        if (round > 0) serve = await spawnServe(args);
        if (round > 0) stats.restartMs += Date.now() - spawnAt;
        if (tornLastRound) await serve.waitForStderr(/cut a torn last line/);
        tornLastRound = false;

        // The observer resumes from the last seq it saw before the kill.
        const obs = await TestClient.open(serve.url, { client: "kill-loop-observer", resumeFrom: observedUpTo });
        const welcome = await obs.waitFor((m) => m.type === "welcome");
        if (welcome.type !== "welcome") throw new Error("unreachable");
        // The restarted backend holds at least everything verified after the last kill.
        expect(welcome.headSeq).toBeGreaterThanOrEqual(durableHead);

        // Commands while it runs, then a burst right before the kill, so some
        // are on the wire, some waiting for fdatasync and some acked-but-unread.
        const lifetime = 60 + Math.floor(random() * 340);
        const until = Date.now() + lifetime;
        while (Date.now() < until) {
          if (sink.view.status === "live") sendNote();
          await sleep(70);
        }
        const before = answered();
        const burst = 1 + Math.floor(random() * 4);
        for (let i = 0; i < burst; i++) sendNote();
        await sleep(Math.floor(random() * 7));
        const exit = await serve.stop("SIGKILL");
        expect(exit.signal).toBe("SIGKILL");
        const unansweredAtKill = sent.filter((id) => !before.has(id) && !answered().has(id));
        stats.inFlightAtKill += unansweredAtKill.length;
        await closed(obs);

        // The file as the crash left it: intact, or intact but for a torn last
        // line, which the next start cuts off (asserted on that start below).
        const v = await verifyLog(data);
        let head: number;
        if (v.ok) head = v.headSeq;
        else {
          const lines = readLogEvents(data).length;
          expect(v.reason, `round ${round}: only a torn last line may be bad`).toMatch(/no line ending|cut short|Unexpected|JSON/);
          expect(v.line).toBe(lines + 1);
          stats.tornTails += 1;
          tornLastRound = true;
          head = lines === 0 ? 0 : readLogEvents(data).at(-1)!.seq;
        }
        expect(head).toBeGreaterThanOrEqual(durableHead);
        durableHead = head;
        const log = readLogEvents(data);
        const bySeq = new Map(log.map((e) => [e.seq, e]));

        // The observer: no snapshot after a crash, no gap, no repeat, and only durable events.
        const seen = eventFrames(obs.frames);
        if (observedUpTo !== null) {
          expect(obs.frames.some((f) => f.type === "snapshot"), `round ${round}: resume fell back to a snapshot`).toBe(false);
          const { gaps, repeats } = gapsAndRepeats(
            seen.map((e) => e.seq),
            observedUpTo + 1,
          );
          expect({ round, gaps, repeats }).toEqual({ round, gaps: [], repeats: [] });
        }
        for (const e of seen) {
          expect(e.seq, `round ${round}: a client saw seq ${e.seq}, which the crash lost`).toBeLessThanOrEqual(head);
          expect(bySeq.get(e.seq)?.hash).toBe(e.hash);
        }
        if (seen.length > 0) observedUpTo = seen.at(-1)!.seq;
        else if (observedUpTo === null) {
          const snap = obs.frames.find((f) => f.type === "snapshot");
          if (snap?.type === "snapshot") observedUpTo = snap.seq;
        }
        stats.observedEvents += seen.length;

        // Commands unanswered at the kill that the log already holds: their
        // answer must come from the retry, as a duplicate of the original.
        const byCommand = eventsByCommand(log);
        stats.durableButUnacked += unansweredAtKill.filter((id) => byCommand.has(id)).length;
        for (const ack of sink.acks) {
          const events = byCommand.get(ack.id);
          expect(batchCount(events), `acked command ${ack.id} must be in the log exactly once`).toBe(1);
          expect(events![0]!.seq).toBe(ack.seq);
        }
      }

      // One more start: every command still waiting is settled by its retry.
      serve = await spawnServe(args);
      if (tornLastRound) await serve.waitForStderr(/cut a torn last line/);
      if (sink.view.status !== "live") await waitFor(() => sink.view.status === "live", "the cockpit to reconnect", 15_000);
      await waitFor(() => sent.every((id) => answered().has(id)), "every command to be answered", 20_000);
      const term = await serve.stop("SIGTERM");
      expect(term.code).toBe(0);
      await conn.close();
      store.flush();
      store.dispose();

      const cli = await verifyLogCli(data);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(/ok, \d+ events, chain intact/);

      const log = readLogEvents(data);
      const byCommand = eventsByCommand(log);
      // Every command was acked (the retries reuse ids, so none was refused or lost) ...
      expect(sink.rejects).toEqual([]);
      expect(sink.unknown).toEqual([]);
      expect(new Set(sink.acks.map((a) => a.id)).size).toBe(sent.length);
      // ... and is in the log exactly once, at the seq its ack (and every duplicate ack) names.
      for (const id of sent) expect(batchCount(byCommand.get(id)), id).toBe(1);
      for (const ack of sink.acks) expect(ack.seq).toBe(byCommand.get(ack.id)![0]!.seq);
      // The cockpit resumed after every crash: one snapshot (the first), then every event once, in order.
      expect(sink.snapshots).toHaveLength(1);
      const { gaps, repeats } = gapsAndRepeats(sink.eventSeqs(), sink.snapshots[0]!.seq + 1);
      expect({ gaps, repeats }).toEqual({ gaps: [], repeats: [] });
      expect(store.store.getState().connection.lastSeq).toBe(sink.eventSeqs().at(-1));

      const seconds = (Date.now() - started) / 1000;
      console.log(
        `kill -9 loop: ${ROUNDS} rounds in ${seconds.toFixed(1)} s (restart to listening: ${(stats.restartMs / Math.max(1, ROUNDS - 1)).toFixed(0)} ms on average); ${sent.length} commands, ` +
          `${stats.inFlightAtKill} unanswered at a kill (${stats.durableButUnacked} of them already durable), ` +
          `${sink.acks.filter((a) => a.duplicate).length} duplicate acks, ${stats.tornTails} torn tails, ` +
          `${stats.observedEvents} events checked by the observer, log head ${log.at(-1)?.seq}`,
      );
      // Crashes must really have landed between a command's write and its ack.
      expect(stats.inFlightAtKill).toBeGreaterThan(0);
    },
    300_000,
  );
});
