import { describe, expect, it } from "vitest";
import { footerItems, itemText, packFooter } from "../../src/keymap/footer.js";
import { KEYMAP, PANES, commandById, type KeyContext, type Mode } from "../../src/keymap/keymap.js";
import { availableCommands, displayKeys, effectiveAction, effectiveLabel, keyName, permitted, permittedCommands, resolveKey } from "../../src/keymap/resolve.js";
import { displayWidth } from "../../src/render/width.js";
import type { AlertState, IncidentState, RolloutState } from "../../src/protocol/types.js";

const rollout = (extra: Partial<RolloutState> = {}): RolloutState => ({
  id: "api-v408",
  service: "api",
  version: "v408",
  previousVersion: "v407",
  kind: "code",
  state: "progressing",
  ring: "canary",
  rings: [
    { name: "canary", traffic: 1, state: "progressing" },
    { name: "global", traffic: 100, state: "pending" },
  ],
  killSwitch: { flag: "checkout_v2", engaged: false },
  onBreach: "pause",
  ...extra,
});
const alert: AlertState = { id: "al-1", severity: "critical", title: "p99", state: "firing", since: "2026-11-21T14:00:00Z", rollout: "api-v408" };
const incident: IncidentState = { id: "inc-1", severity: "SEV2", title: "latency", status: "open", roles: {}, milestones: {} };

function ctx(p: Partial<KeyContext> = {}): KeyContext {
  return { mode: "main", pane: "rollouts", role: "operator", actor: "alice", readonly: false, rollout: rollout(), alert, has: { exportDraft: false }, ...p };
}

const keysOf = (c: KeyContext) => availableCommands(c).flatMap((k) => k.keys);
const ALL_MODES: Mode[] = ["main", "confirm", "reason", "text", "choose", "help"];

describe("the table", () => {
  it("has unique ids", () => {
    const ids = KEYMAP.map((k) => k.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("never binds one key twice where both could apply (same mode and overlapping panes)", () => {
    for (const mode of ALL_MODES) {
      for (const pane of PANES) {
        const seen = new Map<string, string>();
        for (const c of KEYMAP) {
          if (!c.modes.includes(mode) || (mode === "main" && c.panes && !c.panes.includes(pane))) continue;
          for (const k of c.keys) {
            expect(seen.get(k), `${k} in ${mode}/${pane}: ${seen.get(k)} and ${c.id}`).toBeUndefined();
            seen.set(k, c.id);
          }
        }
      }
    }
  });

  it("has the keys the product card names", () => {
    const k = (id: Parameters<typeof commandById>[0]) => commandById(id).keys;
    expect(k("up")).toEqual(expect.arrayContaining(["up", "k"]));
    expect(k("down")).toEqual(expect.arrayContaining(["down", "j"]));
    expect(k("next_pane")).toContain("tab");
    expect(k("focus")).toContain("enter");
    expect(k("back")).toContain("esc");
    expect(k("pause")).toEqual(["p"]);
    expect(k("rollback")).toEqual(["r"]);
    expect(k("kill_switch")).toEqual(["x"]);
    expect(k("ack_alert")).toEqual(["a"]);
    expect(k("note")).toEqual(["n"]);
    expect(k("incident")).toEqual(["i"]);
    expect(k("milestone")).toEqual(["m"]);
    expect(k("filter")).toEqual(["/"]);
    expect(k("help")).toEqual(["?"]);
    expect(k("quit")).toEqual(["q", "ctrl+c"]);
    expect(k("export_draft")).toEqual(["e"]);
    expect(k("confirm_go")).toEqual(["y"]);
    expect(k("confirm_cancel")).toContain("enter");
  });

  it("rollback and kill switch are dangerous; pause is not (stopping is always safe)", () => {
    expect(commandById("rollback").dangerous).toBe(true);
    expect(commandById("kill_switch").dangerous).toBe(true);
    expect(commandById("pause").dangerous).toBe(false);
  });

  it("Ctrl+C quits from every mode", () => {
    for (const mode of ALL_MODES) {
      const c = resolveKey("ctrl+c", ctx({ mode }));
      expect(c && ["quit", "interrupt"].includes(c.id), mode).toBe(true);
    }
  });

  it("commandById throws on an unknown id", () => {
    expect(() => commandById("nope" as never)).toThrow(/no command nope/);
  });
});

describe("who sees which keys", () => {
  it("operator: p, r, x in the rollout pane; no incident keys (commander only)", () => {
    const keys = keysOf(ctx());
    expect(keys).toEqual(expect.arrayContaining(["p", "r", "x", "n"]));
    expect(keys).not.toContain("i");
    expect(keys).not.toContain("m");
  });

  it("viewer: no key that changes anything", () => {
    const c = ctx({ role: "viewer" });
    const keys = keysOf(c);
    for (const k of ["p", "r", "x", "a", "n", "i", "m"]) expect(keys).not.toContain(k);
    expect(permittedCommands(c).some((k) => k.action !== undefined)).toBe(false);
    expect(keys).toEqual(expect.arrayContaining(["q", "?", "/", "tab"]));
  });

  it("read-only: no mutating key even for a commander", () => {
    const c = ctx({ role: "commander", readonly: true, incident });
    expect(permittedCommands(c).filter((k) => k.action !== undefined)).toEqual([]);
  });

  it("role not known yet (no welcome): mutating keys are held back", () => {
    const c = ctx();
    delete c.role;
    expect(keysOf(c)).not.toContain("p");
  });

  it("commander: incident and milestone keys", () => {
    const keys = keysOf(ctx({ role: "commander", incident }));
    expect(keys).toEqual(expect.arrayContaining(["i", "m"]));
  });

  it("e exists only with an export handler", () => {
    expect(keysOf(ctx())).not.toContain("e");
    expect(keysOf(ctx({ has: { exportDraft: true } }))).toContain("e");
  });
});

describe("valid now", () => {
  it("a acks only in the alerts pane, and only an unacked firing alert", () => {
    expect(resolveKey("a", ctx())).toBeUndefined();
    expect(resolveKey("a", ctx({ pane: "alerts" }))?.id).toBe("ack_alert");
    expect(resolveKey("a", ctx({ pane: "alerts", alert: { ...alert, ackedBy: "bob" } }))).toBeUndefined();
    expect(resolveKey("a", ctx({ pane: "alerts", alert: { ...alert, state: "resolved" } }))).toBeUndefined();
  });

  it("p pauses a progressing rollout and resumes a paused one", () => {
    const running = ctx();
    const paused = ctx({ rollout: rollout({ state: "paused" }) });
    const p = commandById("pause");
    expect(effectiveAction(p, running)).toBe("pause");
    expect(effectiveLabel(p, running)).toBe("pause");
    expect(effectiveAction(p, paused)).toBe("resume");
    expect(effectiveLabel(p, paused)).toBe("resume");
    expect(resolveKey("p", ctx({ rollout: rollout({ state: "completed" }) }))).toBeUndefined();
  });

  it("x engages, or releases an engaged kill switch; absent without a flag", () => {
    const x = commandById("kill_switch");
    const engaged = ctx({ rollout: rollout({ killSwitch: { flag: "f", engaged: true } }) });
    expect(effectiveAction(x, engaged)).toBe("release_kill_switch");
    const noFlag = rollout();
    delete noFlag.killSwitch;
    expect(resolveKey("x", ctx({ rollout: noFlag }))).toBeUndefined();
  });

  it("r needs rings with traffic, and not a rollout already rolling back", () => {
    expect(resolveKey("r", ctx())?.id).toBe("rollback");
    expect(resolveKey("r", ctx({ rollout: rollout({ state: "pending", rings: [{ name: "canary", traffic: 1, state: "pending" }] }) }))).toBeUndefined();
    expect(resolveKey("r", ctx({ rollout: rollout({ state: "rolling_back" }) }))).toBeUndefined();
  });

  it("i takes command of an open incident, and is gone once you command it", () => {
    const c = commandById("incident");
    const open = ctx({ role: "commander", incident });
    expect(effectiveAction(c, open)).toBe("assign_role");
    expect(effectiveAction(c, ctx({ role: "commander" }))).toBe("declare_incident");
    expect(resolveKey("i", ctx({ role: "commander", incident: { ...incident, roles: { commander: "alice" } } }))).toBeUndefined();
  });

  it("p, r, x need a selected rollout in the rollouts or detail pane", () => {
    expect(resolveKey("p", ctx({ pane: "timeline" }))).toBeUndefined();
    expect(resolveKey("p", ctx({ pane: "detail" }))?.id).toBe("pause");
    const none = ctx();
    delete none.rollout;
    expect(resolveKey("r", none)).toBeUndefined();
  });

  it("modes: y only in a confirmation, q does not quit from a text prompt", () => {
    expect(resolveKey("y", ctx())).toBeUndefined();
    expect(resolveKey("y", ctx({ mode: "confirm" }))?.id).toBe("confirm_go");
    expect(resolveKey("enter", ctx({ mode: "confirm" }))?.id).toBe("confirm_cancel");
    expect(resolveKey("q", ctx({ mode: "text" }))).toBeUndefined();
    expect(resolveKey("q", ctx({ mode: "help" }))?.id).toBe("help_close");
  });

  it("permitted ignores mode and pane; an unknown role gets nothing", () => {
    expect(permitted(commandById("ack_alert"), ctx({ pane: "rollouts" }))).toBe(true);
    expect(permitted(commandById("pause"), ctx({ role: "root" as never }))).toBe(false);
  });
});

describe("key names", () => {
  it("names Ink's key events the way the table spells them", () => {
    expect(keyName("", { upArrow: true })).toBe("up");
    expect(keyName("", { downArrow: true })).toBe("down");
    expect(keyName("", { tab: true })).toBe("tab");
    expect(keyName("", { tab: true, shift: true })).toBe("shift+tab");
    expect(keyName("", { return: true })).toBe("enter");
    expect(keyName("", { escape: true, meta: true })).toBe("esc");
    expect(keyName("", { backspace: true })).toBe("backspace");
    expect(keyName("", { delete: true })).toBe("backspace");
    expect(keyName("c", { ctrl: true })).toBe("ctrl+c");
    expect(keyName("p", {})).toBe("p");
    expect(keyName("?", {})).toBe("?");
    expect(keyName("P", { shift: true })).toBe("P");
    expect(keyName("x", { meta: true })).toBe("");
    expect(keyName("ry", {})).toBe("");
  });

  it("shows keys as people read them", () => {
    expect(displayKeys(commandById("up"))).toBe("↑/k");
    expect(displayKeys(commandById("quit"))).toBe("q/^C");
    expect(displayKeys(commandById("confirm_cancel"))).toBe("Enter/Esc/n");
  });
});

describe("footer", () => {
  it("lists acting keys first and keeps help and quit at the end", () => {
    const items = footerItems(ctx());
    const ids = items.map((i) => i.id);
    expect(ids.slice(0, 3)).toEqual(["pause", "rollback", "kill_switch"]);
    expect(ids.slice(-2)).toEqual(["help", "quit"]);
  });

  it("packs into the width, never drops help and quit, and marks dangerous labels with …", () => {
    const items = footerItems(ctx({ role: "commander", incident, has: { exportDraft: true } }));
    for (const width of [40, 60, 80, 120]) {
      for (const lines of [1, 2]) {
        const packed = packFooter(items, width, lines);
        expect(packed).toHaveLength(lines);
        for (const line of packed) {
          const w = line.reduce((a, i, n) => a + displayWidth(itemText(i)) + (n > 0 ? 2 : 0), 0);
          expect(w, `width ${width}`).toBeLessThanOrEqual(width);
        }
        const flat = packed.flat().map((i) => i.id);
        expect(flat).toContain("help");
        expect(flat).toContain("quit");
      }
    }
    expect(itemText(items.find((i) => i.id === "rollback")!)).toBe("r roll back…");
  });

  it("changes with focus: a in the alerts pane, p/r/x in the rollout pane", () => {
    const inAlerts = footerItems(ctx({ pane: "alerts" })).map((i) => i.id);
    expect(inAlerts).toContain("ack_alert");
    expect(inAlerts).not.toContain("pause");
    const inRollouts = footerItems(ctx()).map((i) => i.id);
    expect(inRollouts).not.toContain("ack_alert");
    expect(inRollouts).toContain("pause");
  });
});
