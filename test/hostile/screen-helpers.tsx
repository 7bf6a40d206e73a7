import { expect } from "vitest";
import { MULTILINE_KEYS, sanitizeText } from "../../src/protocol/sanitize.js";
import type { CommandMsg } from "../../src/protocol/types.js";
import type { CockpitStore } from "../../src/store/cockpit-store.js";
import { clock, makeStore, renderApp, settle, type Rendered } from "../components/harness.js";
import { BIDI_OR_INVISIBLE, CONTROL_EXCEPT_NEWLINE, foreignControls, lineWidths, LONE_SURROGATE, MARK_FLOOD, type Payload } from "./payloads.js";
import { feed, marker, sceneCommand, sceneFrames, T0, type Field, type FieldValue } from "./scene.js";

// Shared by the screen-injection tests: play the hostile incident into the
// real store and components, and check every frame the terminal would get.

/**
 * The styling the cockpit itself writes (chalk: bold, dim, inverse, underline,
 * the 16 colours and their resets). Not 0 (reset all), 5 (blink), 8 (conceal)
 * or 256/true colour: a payload's "\x1b[8m" must not pass as ours.
 */
export const OUR_SGR = /\x1b\[(?:[12347]|2[2-479]|3[0-79]|4[0-79]|9[0-7]|10[0-7])m/g;

/** Fields whose value starts its own cell on screen, so its first characters are visible whatever another field holds. */
export const LEADING_FIELDS: readonly Field[] = ["tenant", "service", "ringA", "pauseReason", "alertTitle", "errorCode", "flag", "incident"];

/** Keys whose text may keep line breaks in the store (notes, reasons, messages); the screen must flatten them. */
const MULTILINE_IN_STORE: ReadonlySet<string> = new Set([...MULTILINE_KEYS, "pausedReason", "error"]);

export function valueOf(p: Payload): FieldValue {
  return (f) => marker(f) + p.text;
}

/** What the field should start with on screen: its marker and the first character the sanitizer keeps of the payload. */
export function visibleStart(f: Field, p: Payload): string {
  const first = Array.from(sanitizeText(p.text))[0] ?? "";
  return marker(f) + (first.trim() === "" ? "" : first);
}

/** No control sequence but our styling; no line wider than the terminal; no more lines than it has. */
export function expectInert(r: Rendered, p: Payload, where: string): void {
  expect(foreignControls(r.raw(), [OUR_SGR]), `${p.name}: ${where}: control sequences reached the terminal`).toEqual([]);
  const lines = r.lines();
  expect(lines.length, `${p.name}: ${where}: taller than the terminal`).toBeLessThanOrEqual(r.stdout.rows);
  lineWidths(r.lastFrame()).forEach((w, i) =>
    expect(w, `${p.name}: ${where}: line ${i} is ${w} columns: ${JSON.stringify(lines[i]!.slice(0, 60))}`).toBeLessThanOrEqual(r.stdout.columns),
  );
}

/** The store's text, which the components show: every string cleaned once, at decode. */
export function expectCleanStore(store: CockpitStore, p: Payload): void {
  const view = store.store.getState();
  const walk = (v: unknown, key: string): void => {
    if (typeof v === "string") {
      const what = `${p.name}: store ${key}`;
      expect(v, what).not.toMatch(CONTROL_EXCEPT_NEWLINE);
      expect(v, what).not.toMatch(BIDI_OR_INVISIBLE);
      expect(v, what).not.toMatch(LONE_SURROGATE);
      expect(v, what).not.toMatch(MARK_FLOOD);
      if (!MULTILINE_IN_STORE.has(key)) expect(v, what).not.toContain("\n");
    } else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  walk(view.state, "state");
  walk(view.timeline, "timeline");
  walk(view.commands, "commands");
  walk(view.connection, "connection");
}

/** The cockpit names a rollout by the id its store holds: the cleaned one. */
export function ownCommand(store: CockpitStore): CommandMsg {
  const rollout = store.store.getState().state.rollouts[0]?.id ?? "none";
  return { ...sceneCommand(() => ""), target: { rollout } };
}

export interface Played {
  /** every frame looked at, SGR removed, one after another */
  seen: string;
  /** the same, by screen state */
  frames: { where: string; frame: string }[];
  store: CockpitStore;
  close(): void;
}

/**
 * The whole story for one payload, looking at each screen state: the incident
 * at 80x24 (the error frame on the status line), a rejected command at 160x50,
 * the roll back confirmation, the milestone chooser, and the rollback with the
 * kill switch on.
 */
export async function playScene(p: Payload, v: FieldValue): Promise<Played> {
  const c = clock(T0 + 40_000);
  const store = makeStore(c);
  const scene = sceneFrames(v);
  for (const raw of scene.opening) feed(store, raw);
  store.flush();
  const r = await renderApp(store, { columns: 80, rows: 24 });
  const frames: { where: string; frame: string }[] = [];
  const look = (where: string) => {
    expectInert(r, p, where);
    frames.push({ where, frame: r.lastFrame() });
  };
  try {
    look("80x24");
    store.ingest.commandSent(ownCommand(store));
    feed(store, scene.reject);
    store.flush();
    r.stdout.resize(160, 50);
    await settle();
    look("160x50 with a rejected command");
    await r.press("r");
    look("roll back confirmation");
    await r.press("\r");
    await r.press("m");
    look("milestone chooser");
    await r.press("\x1b");
    for (const raw of scene.closing) feed(store, raw);
    store.flush();
    await settle();
    look("rolled back, kill switch on");
    expectCleanStore(store, p);
  } catch (err) {
    r.unmount();
    store.dispose();
    throw err;
  }
  return {
    seen: frames.map((f) => f.frame).join("\n"),
    frames,
    store,
    close: () => {
      r.unmount();
      store.dispose();
    },
  };
}

/** The same scene with plain words in every field: the layout every hostile scene must keep. */
const BENIGN: Payload = { name: "plain words", text: "plain words" };
let benign: Promise<Played> | null = null;

/**
 * How each row of a frame begins (its first two columns): a pane title, a
 * row of a list, a border, the status line. A payload that breaks a line in
 * two, or moves the cursor, starts a row with its own text instead. Blank
 * starts are one: in the wide layout the right column's timeline wraps long
 * sentences (each further line marked ↳), so how far down it reaches past the
 * left column depends on the text's length, and that is not a broken row.
 */
function rowStarts(frame: string): string[] {
  return frame.split("\n").map((l) => Array.from(l).slice(0, 2).join("").trimEnd());
}

/** States whose row starts do not depend on text length (the confirmation wraps its question, so it has its own check). */
const FIXED_LAYOUT = ["80x24", "160x50 with a rejected command", "milestone chooser", "rolled back, kill switch on"];

/** The checks of one payload's scene: inert everywhere (playScene), the layout of plain text, and readable. */
export async function checkPayload(p: Payload): Promise<void> {
  benign ??= playScene(BENIGN, valueOf(BENIGN));
  const reference = await benign;
  const played = await playScene(p, valueOf(p));
  try {
    for (const where of FIXED_LAYOUT) {
      const want = reference.frames.find((f) => f.where === where)!.frame;
      const got = played.frames.find((f) => f.where === where)!.frame;
      expect(rowStarts(got), `${p.name}: ${where}: rows begin differently from plain text:\n${got}`).toEqual(rowStarts(want));
      // whatever the names hold, the header still says whether the data is live
      expect(got.split("\n")[0], `${p.name}: ${where}: header`).toContain("● live");
    }
    // no row of any state, the confirmation included, begins with the text after a line break in the payload
    const afterBreaks = sanitizeText(p.text, { multiline: true })
      .split("\n")
      .slice(1)
      .map((x) => x.trim())
      .filter((x) => x.length >= 3);
    for (const { where, frame } of played.frames)
      for (const row of frame.split("\n")) for (const frag of afterBreaks) expect(row.trimStart().startsWith(frag), `${p.name}: ${where}: a row begins with "${frag}"`).toBe(false);
    // readable: the fields that start a cell show their marker and the payload's first visible character
    for (const f of LEADING_FIELDS) expect(played.seen, `${p.name}: ${f}`).toContain(visibleStart(f, p));
    // an escape character is shown as its control picture, not dropped
    if (p.text.includes("\x1b")) expect(played.seen).toContain("␛");
    // the timeline's sentences keep every field's words (some are cut on screen, none in the store)
    const timeline = played.store.store.getState().timeline.map((t) => t.text).join("\n");
    for (const f of ["statusText", "rejectedMessage", "noteText", "incidentTitle", "pauseReason", "unknownType", "rollbackReason"] as const) expect(timeline).toContain(marker(f));
  } finally {
    played.close();
  }
}
