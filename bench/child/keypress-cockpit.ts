import { EventEmitter } from "node:events";
import { parseArgs } from "node:util";
import { connect, type CommandRequest, type Connection, type ConnectionSink } from "../../src/client/connection.js";
import { createCockpitStore } from "../../src/store/cockpit-store.js";
import { startCockpit } from "../../src/tui/start.js";
import { emitResult } from "../lib/child.js";
import { FakeStdin, FakeStdout, visibleText } from "../lib/terminal.js";

// The cockpit side of the keypress benchmark: the real client, store and Ink
// app (startCockpit) on a fake terminal, connected to --url. Types `p`
// --presses times and times each press until a write to the terminal shows
// "✓ acked  pause …" (or resume: the key toggles), split into key -> command
// sent, sent -> ack received, ack -> on screen.

export interface Press {
  action: string;
  keyToSendMs: number;
  sendToAckMs: number;
  ackToScreenMs: number;
  totalMs: number;
}

const { values } = parseArgs({
  options: {
    url: { type: "string" },
    presses: { type: "string", default: "200" },
    columns: { type: "string", default: "120" },
    rows: { type: "string", default: "40" },
    "timeout-ms": { type: "string", default: "3000" },
    /** stop pressing after this long even if --presses is not reached (a loaded machine) */
    "budget-ms": { type: "string", default: "40000" },
  },
});
if (!values.url) throw new Error("keypress-cockpit: give --url");
const url = values.url;
const PRESSES = Number(values.presses);
const PRESS_TIMEOUT_MS = Number(values["timeout-ms"]);
const BUDGET_MS = Number(values["budget-ms"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const store = createCockpitStore({ url });
/** The press under way, filled in by the hooks below. */
let current: { t0: number; action?: string; sentAt?: number; ackAt?: number; id?: string; done?: (p: Press | Error) => void } | null = null;
const sink: ConnectionSink = {
  ingest: {
    ...store.ingest,
    ack(msg) {
      if (current && msg.id === current.id) current.ackAt = performance.now();
      store.ingest.ack(msg);
    },
    reject(msg) {
      store.ingest.reject(msg);
      if (current && msg.id === current.id) current.done?.(new Error(`${current.action} rejected: ${msg.message}`));
    },
  },
};
const connection = connect({ url, clientName: "bench-keypress", store: sink, resumeFrom: 0 });
const watched: Connection = {
  send(cmd: CommandRequest) {
    const id = connection.send(cmd);
    if (current) {
      current.sentAt = performance.now();
      current.action = cmd.action;
      current.id = id;
    }
    return id;
  },
  close: () => connection.close(),
};
const stdout = new FakeStdout(Number(values.columns), Number(values.rows));
const stdin = new FakeStdin();
const ui = startCockpit({
  store,
  connection: watched,
  readonly: false,
  stdout: stdout as unknown as NodeJS.WriteStream,
  stdin: stdin as unknown as NodeJS.ReadStream,
  stderr: new FakeStdout(80, 24) as unknown as NodeJS.WriteStream,
  processLike: new EventEmitter(),
  env: {},
});
stdout.onWrite = (chunk) => {
  const c = current;
  if (!c?.action || !c.done) return;
  if (visibleText(chunk).includes(`✓ acked  ${c.action} `)) {
    const t = performance.now();
    c.done({
      action: c.action,
      keyToSendMs: (c.sentAt ?? t) - c.t0,
      sendToAckMs: (c.ackAt ?? t) - (c.sentAt ?? t),
      ackToScreenMs: t - (c.ackAt ?? t),
      totalMs: t - c.t0,
    });
  }
};

const readyBy = Date.now() + 10_000;
while (store.store.getState().state.rollouts.length === 0 || stdout.frames < 1) {
  if (Date.now() > readyBy) throw new Error(`keypress-cockpit: no rollout on screen from ${url} within 10 s`);
  await sleep(20);
}
await sleep(300);

const presses: Press[] = [];
const failures: string[] = [];
const stopAt = performance.now() + BUDGET_MS;
for (let i = 0; i < PRESSES && performance.now() < stopAt; i++) {
  const result = await new Promise<Press | Error>((resolve) => {
    const timer = setTimeout(() => resolve(new Error(`no acked state on screen within ${PRESS_TIMEOUT_MS} ms`)), PRESS_TIMEOUT_MS);
    current = {
      t0: performance.now(),
      done: (p) => {
        clearTimeout(timer);
        resolve(p);
      },
    };
    stdin.type("p");
  });
  current = null;
  if (result instanceof Error) failures.push(result.message);
  else presses.push(result);
  // Uneven gaps, so presses do not line up with the 10 Hz flush; long enough to
  // stay under the server's 20 commands/s limit.
  await sleep(50 + Math.random() * 40);
}
stdin.type("q");
await Promise.race([ui, sleep(2_000)]);
await connection.close();
store.dispose();
emitResult({ presses, failures, planned: PRESSES, reactBuild: process.env.NODE_ENV === "production" ? "production" : "development" });
process.exit(0);
