import { afterEach, describe, expect, it } from "vitest";
import type { CommandRequest } from "../../src/client/connection.js";
import { checkCommand } from "../../src/domain/transitions.js";
import { KEYMAP } from "../../src/keymap/keymap.js";
import type { KeyLike } from "../../src/keymap/resolve.js";
import type { CockpitStore } from "../../src/store/cockpit-store.js";
import { createController, type Controller } from "../../src/tui/controller.js";
import { canaryIncident, clock, ev, makeStore, welcome } from "../components/harness.js";

// The key handling without React: what each key press sends, in order.

let stores: CockpitStore[] = [];
afterEach(() => {
  for (const s of stores) s.dispose();
  stores = [];
});

function setup(opts: { role?: "viewer" | "operator" | "commander"; readonly?: boolean; killSwitch?: boolean; exportDraft?: () => Promise<string> } = {}) {
  const c = clock();
  const store = makeStore(c);
  stores.push(store);
  welcome(store, opts.role ?? "operator");
  const last = canaryIncident(store, { killSwitch: opts.killSwitch ?? true });
  store.flush();
  const sent: CommandRequest[] = [];
  let quits = 0;
  const ctl = createController({
    cockpit: store.store,
    sender: (cmd) => {
      sent.push(cmd);
      return `c${sent.length}`;
    },
    onQuit: () => quits++,
    ...(opts.readonly ? { readonly: true } : {}),
    ...(opts.exportDraft ? { onExportDraft: opts.exportDraft } : {}),
  });
  const press = (input: string, key: KeyLike = {}) => ctl.handleInput(input, key);
  /** Every command sent must pass the backend's own check against the state the person saw. */
  const validAgainstBackend = (cmd: CommandRequest) => checkCommand(store.store.getState().state, cmd, opts.role ?? "operator");
  return { store, ctl, sent, press, quits: () => quits, validAgainstBackend, last, clock: c };
}

const ENTER: KeyLike = { return: true };
const ESC: KeyLike = { escape: true, meta: true };
const TAB: KeyLike = { tab: true };
const BACKSPACE: KeyLike = { backspace: true };

describe("pause, rollback, kill switch", () => {
  it("p resumes the paused rollout at once, no question", () => {
    const t = setup();
    t.press("p");
    expect(t.sent).toEqual([{ action: "resume", target: { rollout: "api-v408" } }]);
    expect(t.validAgainstBackend(t.sent[0]!)).toBeNull();
    expect(t.ctl.ui.getState().mode).toBe("main");
  });

  it("r asks first, naming versions and rings; Enter cancels and nothing is sent", () => {
    const t = setup();
    t.press("r");
    const s = t.ctl.ui.getState();
    expect(s.mode).toBe("confirm");
    expect(s.confirm?.question).toBe("Roll back api v408 → v407 in canary, region-1?");
    t.press("", ENTER);
    expect(t.sent).toEqual([]);
    expect(t.ctl.ui.getState().mode).toBe("main");
    expect(t.ctl.ui.getState().flash?.text).toMatch(/cancelled/);
  });

  it("r then y sends the rollback; Esc and n also cancel", () => {
    const t = setup();
    t.press("r");
    t.press("", ESC);
    t.press("r");
    t.press("n");
    expect(t.sent).toEqual([]);
    t.press("r");
    t.press("y");
    expect(t.sent).toEqual([{ action: "rollback", target: { rollout: "api-v408" } }]);
    expect(t.validAgainstBackend(t.sent[0]!)).toBeNull();
  });

  it('"ry" arriving as one chunk (a paste) opens the confirmation and does not answer it', () => {
    const t = setup();
    t.press("ry");
    expect(t.sent).toEqual([]);
    expect(t.ctl.ui.getState().mode).toBe("confirm");
    t.press("y");
    expect(t.sent.map((c) => c.action)).toEqual(["rollback"]);
  });

  it("a note typed with its Enter in one read is sent", () => {
    const t = setup();
    t.press("n");
    t.press("canary looks hot\r");
    expect(t.sent).toEqual([expect.objectContaining({ action: "note", args: { text: "canary looks hot" } })]);
  });

  it("Tab writes a reason; q and y typed there are text; Enter returns to the question; y sends with the reason", () => {
    const t = setup();
    t.press("x");
    expect(t.ctl.ui.getState().confirm?.question).toBe("Engage kill switch checkout_v2 for api v408?");
    t.press("", TAB);
    expect(t.ctl.ui.getState().mode).toBe("reason");
    t.press("quietly, yes");
    t.press("s");
    t.press("", BACKSPACE);
    t.press("", ENTER);
    expect(t.ctl.ui.getState().mode).toBe("confirm");
    expect(t.sent).toEqual([]);
    expect(t.quits()).toBe(0);
    t.press("y");
    expect(t.sent).toEqual([{ action: "kill_switch", target: { rollout: "api-v408" }, reason: "quietly, yes" }]);
    expect(t.validAgainstBackend(t.sent[0]!)).toBeNull();
  });

  it("Esc while writing the reason cancels the whole command", () => {
    const t = setup();
    t.press("r");
    t.press("", TAB);
    t.press("because");
    t.press("", ESC);
    expect(t.ctl.ui.getState().mode).toBe("main");
    t.press("y");
    expect(t.sent).toEqual([]);
  });

  it("escape sequences pasted into the reason never reach the screen state", () => {
    const t = setup();
    t.press("r");
    t.press("", TAB);
    t.press("ok\x1b]52;c;aGk=\x07\u202Edone");
    expect(t.ctl.ui.getState().confirm?.reason).toBe("ok]52;c;aGk=done");
  });
});

describe("roles and read-only", () => {
  it("a viewer's p, r, x, n send nothing, and the status line says whose keys they are", () => {
    const t = setup({ role: "viewer" });
    t.press("prxn");
    expect(t.sent).toEqual([]);
    expect(t.ctl.ui.getState().mode).toBe("main");
    expect(t.ctl.ui.getState().flash?.text).toBe("n (note) is for operator or commander: you are viewer");
    t.press("p");
    expect(t.ctl.ui.getState().flash?.text).toBe("p (resume) is for operator or commander: you are viewer");
    // a key that moves around is not refused, and clears the message
    t.press("j");
    expect(t.ctl.ui.getState().flash).toBeUndefined();
  });

  it("an operator's i is refused in words: declaring an incident is the commander's", () => {
    const t = setup({ role: "operator" });
    t.press("i");
    expect(t.sent).toEqual([]);
    expect(t.ctl.ui.getState().flash?.text).toBe("i (incident) is for commander: you are operator");
  });

  it("read-only: nothing is sent whatever is pressed, and the status line says why", () => {
    const t = setup({ readonly: true });
    t.press("p");
    expect(t.ctl.ui.getState().flash?.text).toBe("read-only session: p (resume) sends nothing");
    t.press("r");
    t.press("y");
    t.press("n");
    expect(t.sent).toEqual([]);
  });
});

describe("alerts, notes, incidents, milestones", () => {
  it("a acks the selected alert from the alerts pane", () => {
    const t = setup();
    t.press("a");
    expect(t.sent).toEqual([]);
    t.press("", TAB);
    t.press("", TAB);
    expect(t.ctl.ui.getState().pane).toBe("alerts");
    t.press("a");
    expect(t.sent).toEqual([{ action: "ack_alert", target: { alert: "al-1" } }]);
    expect(t.validAgainstBackend(t.sent[0]!)).toBeNull();
  });

  it("n opens a prompt; letters that are keys elsewhere are typed; Enter sends the note on the rollout", () => {
    const t = setup();
    t.press("n");
    t.press("q");
    t.press("prx?");
    t.press("", ENTER);
    expect(t.quits()).toBe(0);
    expect(t.sent).toEqual([{ action: "note", target: { rollout: "api-v408" }, args: { text: "qprx?" } }]);
    expect(t.validAgainstBackend(t.sent[0]!)).toBeNull();
  });

  it("an empty note is not sent", () => {
    const t = setup();
    t.press("n");
    t.press("   ");
    t.press("", ENTER);
    expect(t.sent).toEqual([]);
    expect(t.ctl.ui.getState().flash?.text).toMatch(/empty note/);
  });

  it("i declares an incident with a title and a severity the backend accepts", () => {
    const t = setup({ role: "commander" });
    t.press("i");
    t.press("api latency");
    t.press("", ENTER);
    expect(t.sent).toEqual([{ action: "declare_incident", target: { rollout: "api-v408" }, args: { severity: "critical", title: "api latency" } }]);
    expect(t.validAgainstBackend(t.sent[0]!)).toBeNull();
  });

  it("with an open incident, i makes you commander and m records the next milestone", () => {
    const t = setup({ role: "commander" });
    t.store.ingest.event(ev(t.last + 1, "incident.declared", { severity: "SEV2", title: "latency" }, { incident: "inc-1" }));
    t.store.ingest.event(ev(t.last + 2, "incident.milestone", { milestone: "impact_started", at: "2026-11-21T14:00:00Z" }, { incident: "inc-1" }));
    t.store.flush();
    t.press("i");
    expect(t.sent[0]).toEqual({ action: "assign_role", target: { incident: "inc-1" }, args: { role: "commander", name: "alice" } });
    t.press("m");
    const ch = t.ctl.ui.getState().choose!;
    expect(ch.items[ch.index]!.value).toBe("detected");
    // the one milestone that does more than record a time says so in the list
    expect(ch.items.map((i) => i.label)).toEqual(["impact started", "detected", "acknowledged", "mitigated", "resolved (closes the incident)"]);
    t.press("j");
    t.press("", ENTER);
    expect(t.sent[1]).toEqual({ action: "set_milestone", target: { incident: "inc-1" }, args: { milestone: "acknowledged" } });
    for (const c of t.sent) expect(t.validAgainstBackend(c)).toBeNull();
  });

  it("e runs the export and says where the draft went", async () => {
    const t = setup({ exportDraft: async () => "/tmp/pm.md" });
    t.press("e");
    await new Promise((r) => setTimeout(r, 0));
    expect(t.ctl.ui.getState().flash).toEqual({ text: "post-mortem draft written:", tone: "info", path: "/tmp/pm.md" });
  });

  it("a failing export is reported, not thrown", async () => {
    const t = setup({ exportDraft: async () => Promise.reject(new Error("log not found")) });
    t.press("e");
    await new Promise((r) => setTimeout(r, 0));
    expect(t.ctl.ui.getState().flash).toEqual({ text: "post-mortem draft failed: log not found", tone: "error" });
  });

  it("a sender that throws becomes a message, not a crash", () => {
    const c = clock();
    const store = makeStore(c);
    stores.push(store);
    welcome(store);
    canaryIncident(store);
    store.flush();
    const ctl = createController({
      cockpit: store.store,
      sender: () => {
        throw new Error("socket gone");
      },
      onQuit: () => undefined,
    });
    ctl.handleInput("p", {});
    expect(ctl.ui.getState().flash).toEqual({ text: "could not send resume: socket gone", tone: "error" });
  });
});

describe("moving around", () => {
  it("Tab cycles the panes, Shift+Tab goes back, Esc returns to the rollouts", () => {
    const t = setup();
    const pane = () => t.ctl.ui.getState().pane;
    t.press("", TAB);
    expect(pane()).toBe("detail");
    t.press("", { tab: true, shift: true });
    expect(pane()).toBe("rollouts");
    t.press("", { tab: true, shift: true });
    expect(pane()).toBe("timeline");
    t.press("", ESC);
    expect(pane()).toBe("rollouts");
  });

  it("/ filters the timeline as you type; Esc clears it; Enter keeps it", () => {
    const t = setup();
    t.press("/");
    t.press("paused");
    expect(t.ctl.ui.getState().filter).toBe("paused");
    t.press("", ESC);
    expect(t.ctl.ui.getState().filter).toBe("");
    t.press("/");
    t.press("alert");
    t.press("", ENTER);
    expect(t.ctl.ui.getState()).toMatchObject({ mode: "main", filter: "alert", pane: "timeline" });
    t.press("", ESC);
    expect(t.ctl.ui.getState().filter).toBe("");
  });

  it("j/k select among rollouts by id, so a re-sort does not move the selection", () => {
    const t = setup();
    t.store.ingest.event(
      ev(t.last + 1, "rollout.created", { service: "web", version: "v2", previousVersion: "v1", kind: "flag", rings: [{ name: "canary", traffic: 5, bakeSeconds: 60, slos: [] }], onBreach: "rollback" }, { rollout: "web-v2" }),
    );
    t.store.flush();
    t.press("j");
    expect(t.ctl.ui.getState().rolloutId).toBe("web-v2");
    t.press("j");
    expect(t.ctl.ui.getState().rolloutId).toBe("web-v2");
    t.press("k");
    expect(t.ctl.ui.getState().rolloutId).toBe("api-v408");
  });

  it("? opens help from anywhere in main and closes with ? or Esc; q in help does not quit", () => {
    const t = setup();
    t.press("?");
    expect(t.ctl.ui.getState().mode).toBe("help");
    t.press("q");
    expect(t.ctl.ui.getState().mode).toBe("main");
    expect(t.quits()).toBe(0);
    t.press("q");
    expect(t.quits()).toBe(1);
  });

  it("Ctrl+C quits even from a dialog", () => {
    const t = setup();
    t.press("r");
    t.press("c", { ctrl: true });
    expect(t.quits()).toBe(1);
    expect(t.sent).toEqual([]);
  });

  it("every command id in the table has a handler that runs without throwing", () => {
    const t = setup({ role: "commander" });
    for (const c of KEYMAP) expect(() => (t.ctl as Controller).run(c.id), c.id).not.toThrow();
  });
});
