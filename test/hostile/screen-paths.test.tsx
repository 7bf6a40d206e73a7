import { render } from "ink";
import { once } from "node:events";
import { createServer } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer, type WebSocket } from "ws";
import { App } from "../../components/App.js";
import { connect } from "../../src/client/connection.js";
import { guardedStdin } from "../../src/tui/input-guard.js";
import { clock, FakeStdin, FakeStdout, makeStore, renderApp, settle, stripSgr, type Rendered } from "../components/harness.js";
import { foreignControls, HUGE_PAYLOADS, INK_CURSOR, PAYLOADS, SMALL_PAYLOADS, type Payload } from "./payloads.js";
import { feed, marker, sceneFrames, T0, type Field, type FieldValue } from "./scene.js";
import { expectCleanStore, expectInert, ownCommand, OUR_SGR, playScene, valueOf, visibleStart } from "./screen-helpers.js";

// Terminal injection through the other ways text reaches the screen: a 1 MB
// string, a snapshot instead of events, Ink's real (non-debug) output with its
// cursor moves, a real socket through the real connection, and text pasted at
// the keyboard. (Every payload in every field of the event stream is in
// screen-escapes.test.tsx and screen-text.test.tsx.)

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** Several payloads side by side: one rollout, alert and incident each, so one render shows many. */
function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

describe("a 1 MB string", () => {
  it("in one field per frame: cut to 4096 characters at decode, and the screen holds", async () => {
    const p = HUGE_PAYLOADS[0]!;
    expect(p.text.length).toBeGreaterThanOrEqual(1_000_000);
    // Long text fields carry the megabyte (one per frame); names carry a short piece of it.
    const LONG: ReadonlySet<Field> = new Set(["pauseReason", "alertTitle", "incidentTitle", "statusText", "noteText", "rejectedMessage", "sourceMessage", "errorMessage", "rejectMessage", "rollbackReason"]);
    const v: FieldValue = (f) => marker(f) + (LONG.has(f) ? p.text : p.text.slice(0, 300));
    const played = await playScene(p, v);
    cleanup.push(played.close);
    expect(played.seen).toContain(marker("alertTitle") + "AAAA");
    const alert = played.store.store.getState().state.alerts[0]!;
    expect(alert.title.length).toBeLessThanOrEqual(4096);
    expect(alert.title.endsWith("…")).toBe(true);
  }, 30_000);

  it("in every field at once: the frames over the protocol's 1 MiB are refused with a sentence on the status line", async () => {
    const p = HUGE_PAYLOADS[0]!;
    const store = makeStore(clock(T0));
    // A plain welcome first: before it, the connection gives up on an unreadable server instead (connection.ts).
    feed(store, sceneFrames((f) => marker(f) + "ok").opening[0]!);
    const results = sceneFrames(valueOf(p)).opening.slice(1).map((raw) => feed(store, raw));
    const refused = results.filter((d) => !d.ok);
    expect(refused.length).toBeGreaterThan(0);
    for (const d of refused) if (!d.ok) expect(d.error).toMatch(/1 MiB/);
    store.flush();
    const r = await renderApp(store, { columns: 80, rows: 24 });
    cleanup.push(() => {
      r.unmount();
      store.dispose();
    });
    expectInert(r, p, "after refused frames");
    expect(r.lastFrame()).toMatch(/ignored a malformed frame/);
  }, 30_000);
});

describe("the same text arriving in a snapshot (not events)", () => {
  it.each(chunks(SMALL_PAYLOADS, 6).map((c) => [c.map((p) => p.name).join(", "), c] as const))("%s", async (_names, group) => {
    const t = (i: number, f: Field) => `${i}` + marker(f) + group[i]!.text;
    const at = new Date(T0).toISOString();
    const snap = {
      type: "snapshot",
      seq: 40,
      state: {
        rollouts: group.map((_, i) => ({
          id: t(i, "rollout"),
          service: t(i, "service"),
          version: t(i, "version"),
          previousVersion: t(i, "previousVersion"),
          kind: "code",
          state: "paused",
          ring: t(i, "ringB"),
          rings: [
            { name: t(i, "ringA"), traffic: 1, state: "completed", slos: [t(i, "slo")] },
            { name: t(i, "ringB"), traffic: 10, state: "baking", bakeUntil: new Date(T0 + 600_000).toISOString(), slos: [t(i, "slo")], breaches: [t(i, "slo")] },
          ],
          killSwitch: { flag: t(i, "flag"), engaged: true },
          pausedReason: t(i, "pauseReason"),
          pausedAutomatic: false,
          onBreach: "pause",
          since: at,
        })),
        alerts: group.map((_, i) => ({ id: t(i, "alert"), severity: "warning", title: t(i, "alertTitle"), state: "firing", rollout: t(i, "rollout"), ring: t(i, "ringB"), since: at, ackedBy: t(i, "acker"), source: t(i, "alertSource") })),
        incidents: [{ id: t(0, "incident"), severity: t(0, "incidentSeverity"), title: t(0, "incidentTitle"), status: "open", roles: { commander: t(0, "self"), scribe: t(0, "assignee") }, milestones: {} }],
      },
    };
    const store = makeStore(clock(T0 + 40_000));
    feed(store, JSON.stringify({ type: "welcome", protocol: 1, server: t(0, "server"), session: { actor: t(0, "self"), role: "commander", tenant: t(0, "tenant") }, headSeq: 40 }));
    const d = feed(store, JSON.stringify(snap));
    expect(d.ok).toBe(true);
    store.flush();
    const r = await renderApp(store, { columns: 160, rows: 50 });
    cleanup.push(() => {
      r.unmount();
      store.dispose();
    });
    const all: Payload = { name: `snapshot of ${group.length} payloads`, text: "" };
    expectInert(r, all, "snapshot");
    group.forEach((p, i) => expect(r.lastFrame(), p.name).toContain(`${i}${visibleStart("alertTitle", p)}`));
    await r.press("m");
    expectInert(r, all, "snapshot, milestone chooser");
    expectCleanStore(store, all);
  }, 30_000);
});

describe("Ink's real output (not debug mode)", () => {
  it("what Ink writes, cursor moves and all, has only Ink's own sequences and our styling", async () => {
    for (const group of chunks(SMALL_PAYLOADS, 12)) {
      const store = makeStore(clock(T0 + 40_000));
      // The group's payloads side by side in each field: one render shows them all.
      const v: FieldValue = (f) => group.map((p, i) => `${i}${marker(f)}${p.text.slice(0, 40)}`).join(" ");
      const frames = sceneFrames(v);
      for (const raw of frames.opening) feed(store, raw);
      store.ingest.commandSent(ownCommand(store));
      feed(store, frames.reject);
      store.flush();
      const stdout = new FakeStdout(120, 40);
      const stdin = new FakeStdin();
      const instance = render(<App store={store.store} sender={() => "c-1"} />, {
        stdout: stdout as unknown as NodeJS.WriteStream,
        stdin: guardedStdin(stdin as unknown as NodeJS.ReadStream),
        stderr: new FakeStdout(80, 24) as unknown as NodeJS.WriteStream,
        exitOnCtrlC: false,
        patchConsole: false,
      });
      await settle();
      stdin.write("r");
      await settle();
      instance.unmount();
      store.dispose();
      const written = stdout.frames.join("");
      expect(written.length).toBeGreaterThan(0);
      expect(foreignControls(written, [OUR_SGR, INK_CURSOR]), group.map((p) => p.name).join(", ")).toEqual([]);
    }
  }, 30_000);
});

describe("through a real socket and the real connection", () => {
  it("a backend sending every payload in every field: the store holds clean text and the screen is inert", async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    const port = (http.address() as { port: number }).port;
    cleanup.push(() => {
      wss.close();
      http.close();
    });
    // One rollout, alert and incident per payload: each payload's scene, renumbered into one stream.
    let seq = 0;
    const streams = SMALL_PAYLOADS.map((p, i) => sceneFrames((f) => `P${i}` + marker(f) + p.text).opening.slice(2, -1));
    wss.on("connection", (ws: WebSocket) => {
      ws.on("message", (data) => {
        const msg = JSON.parse(String(data)) as { type: string; t?: number };
        if (msg.type === "hello") {
          ws.send(JSON.stringify({ type: "welcome", protocol: 1, server: "\x1b]0;evil\x07", session: { actor: "ops\u202Eevil\x1b[8m", role: "commander", tenant: "payments" }, headSeq: 0 }));
          ws.send(JSON.stringify({ type: "snapshot", seq: 0, state: { rollouts: [], alerts: [], incidents: [] } }));
          for (const frames of streams)
            for (const raw of frames) {
              const f = JSON.parse(raw) as { event: { seq: number } };
              f.event.seq = ++seq;
              ws.send(JSON.stringify(f));
            }
          ws.send(JSON.stringify({ type: "error", code: "\x9b2J", message: "bad\r\n\x1b]52;c;eA==\x07" }));
        } else if (msg.type === "ping") ws.send(JSON.stringify({ type: "pong", t: msg.t }));
      });
    });
    const store = makeStore(clock(T0 + 40_000));
    let caughtUp: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (caughtUp = resolve));
    const conn = connect({ url: `ws://127.0.0.1:${port}/v1/stream`, clientName: "hostile-test", store, onCaughtUp: () => caughtUp(), pingIntervalMs: 60_000 });
    cleanup.push(() => void conn.close());
    await ready;
    store.flush();
    const view = store.store.getState();
    expect(view.connection.status).toBe("live");
    expect(view.connection.lastSeq).toBe(seq);
    expect(view.state.alerts.length).toBe(SMALL_PAYLOADS.length);
    const all: Payload = { name: "all payloads over a socket", text: "" };
    expectCleanStore(store, all);
    const r = await renderApp(store, { columns: 100, rows: 30 });
    cleanup.push(() => r.unmount());
    expectInert(r, all, "100x30");
    expect(r.lines()[0]).toContain("opsevil␛[8m");
    r.stdout.resize(200, 60);
    await settle();
    expectInert(r, all, "200x60");
    await conn.close();
    store.dispose();
  }, 30_000);
});

describe("text pasted or typed at the keyboard", () => {
  async function mountGuarded(): Promise<{ stdin: FakeStdin; stdout: FakeStdout; frame: () => string; r: Rendered }> {
    const store = makeStore(clock(T0 + 40_000));
    for (const raw of sceneFrames((f) => marker(f) + "ok").opening) feed(store, raw);
    store.flush();
    const stdout = new FakeStdout(100, 30);
    const stdin = new FakeStdin();
    const instance = render(<App store={store.store} sender={() => "c-1"} />, {
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: guardedStdin(stdin as unknown as NodeJS.ReadStream),
      stderr: new FakeStdout(80, 24) as unknown as NodeJS.WriteStream,
      debug: true,
      exitOnCtrlC: false,
      patchConsole: false,
    });
    await settle();
    cleanup.push(() => {
      instance.unmount();
      store.dispose();
    });
    const r = {
      stdout,
      stdin,
      sent: [],
      raw: () => stdout.lastFrame(),
      lastFrame: () => stripSgr(stdout.lastFrame()),
      lines: () => stripSgr(stdout.lastFrame()).split("\n"),
      press: async (keys: string) => {
        stdin.write(keys);
        await settle();
      },
      unmount: () => instance.unmount(),
    } as unknown as Rendered;
    return { stdin, stdout, frame: () => stdout.lastFrame(), r };
  }

  it("every payload pasted into the note prompt shows inert, and the cockpit keeps answering keys", async () => {
    const { r } = await mountGuarded();
    for (const group of chunks(PAYLOADS, 8)) {
      const name: Payload = { name: group.map((p) => p.name).join(", "), text: "" };
      await r.press("n");
      expect(r.lastFrame(), name.name).toContain("›");
      // A paste arrives as one chunk; a 1 MB one is cut by the prompt's own limit.
      await r.press(group.map((p) => p.text.slice(0, 3000)).join(" "));
      expectInert(r, name, "pasted into the note prompt");
      await r.press("\x1b");
      await settle();
    }
    await r.press("?");
    expect(r.lastFrame()).toContain("KEYS");
    await r.press("?");
  }, 30_000);

  it("escape sequences Ink cannot parse, pasted on the main screen or in a reason, do not crash the cockpit", async () => {
    const { r } = await mountGuarded();
    const crashers = "\x1b[8m\x1b[6n\x1b[0n\x1b[5n\x1b[38;5;196mred\x1b[0m\x1b[[5n";
    await r.press(crashers);
    await r.press("r");
    expect(r.lastFrame()).toContain("CONFIRM");
    await r.press("\t");
    await r.press(`why ${crashers} because`);
    expectInert(r, { name: "crashers in a reason", text: crashers }, "reason");
    const reasonLine = r.lines().find((l) => l.includes("Reason"));
    expect(reasonLine).toContain("why red because");
    await r.press("\x1b");
    await r.press("?");
    expect(r.lastFrame()).toContain("KEYS");
  }, 30_000);
});
