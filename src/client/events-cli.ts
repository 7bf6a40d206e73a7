import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { describeEvent } from "../render/describe.js";
import type { CockpitEvent } from "../protocol/types.js";
import { VERSION } from "../version.js";
import type { BackoffOptions } from "./backoff.js";
import { connect, type Connection, type ConnectionSink } from "./connection.js";
import { streamUrl } from "./stream-url.js";

// `cockpit events URL`: the event stream as lines, for jq, grep and scripts.
// It rides the same connection code as the cockpit (backoff, resume, dedup),
// so a reconnect neither loses nor repeats a line. stdout carries events only;
// everything about the connection goes to stderr.

export const EXIT = { ok: 0, usage: 2, auth: 3, unreachable: 4 } as const;

/** Attempts without reaching the server before --no-follow gives up (about 8 s with the default backoff). */
export const NO_FOLLOW_MAX_ATTEMPTS = 5;

export interface EventsIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** default process.env (COCKPIT_TOKEN) */
  env?: Record<string, string | undefined>;
  /** ends the run with exit 0; without it, SIGINT does */
  signal?: AbortSignal;
  /** connection tuning for tests */
  connection?: { backoff?: BackoffOptions; livenessMs?: number; maxAttempts?: number };
}

export const EVENTS_USAGE = `Usage: cockpit events URL [--token T] [--json] [--from SEQ] [--no-follow] [--ca FILE]

Print the backend's events, one per line, and follow the stream.

  URL            ws://host:port or wss://host:port (path /v1/stream is added if missing)
  --token T      bearer token (default: the COCKPIT_TOKEN environment variable)
  --json         one JSON event per line (the sanitized wire object; jq-friendly)
  --from SEQ     print events after SEQ (default 0: every event the server holds)
  --no-follow    exit after the events that existed when connected
  --ca FILE      PEM file of the CA that signed a wss:// server's certificate
  -h, --help     this help

Without --json a line reads: TIME  #SEQ  TYPE  sentence.
Exit codes: 0 done (or Ctrl+C), 2 usage, 3 token refused, 4 cannot connect.
`;

type Parsed =
  | { ok: true; help: true }
  | { ok: true; help: false; url: string; token?: string; json: boolean; from: number; follow: boolean; caFile?: string }
  | { ok: false; error: string };

export function parseEventsArgs(argv: string[], env: Record<string, string | undefined>): Parsed {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        token: { type: "string" },
        json: { type: "boolean" },
        from: { type: "string" },
        "no-follow": { type: "boolean" },
        ca: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  if (values.help) return { ok: true, help: true };
  if (positionals.length === 0) return { ok: false, error: "missing URL: give the backend's address, e.g. ws://127.0.0.1:7070" };
  if (positionals.length > 1) return { ok: false, error: `one URL expected, got ${positionals.length}: ${positionals.join(" ")}` };
  let url: string;
  try {
    url = streamUrl(positionals[0]!);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  let from = 0;
  if (values.from !== undefined) {
    const text = String(values.from);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)))
      return { ok: false, error: `--from ${text}: must be a sequence number (0 or a positive integer)` };
    from = Number(text);
  }
  const token = typeof values.token === "string" ? values.token : env.COCKPIT_TOKEN;
  return {
    ok: true,
    help: false,
    url,
    ...(token ? { token } : {}),
    json: values.json === true,
    from,
    follow: values["no-follow"] !== true,
    ...(typeof values.ca === "string" ? { caFile: values.ca } : {}),
  };
}

function sampleText(e: CockpitEvent): string {
  const d = e.data as Record<string, unknown>;
  const unit = typeof d.unit === "string" && d.unit !== "" ? ` ${d.unit}` : "";
  const baseline = typeof d.baseline === "number" ? ` (baseline ${d.baseline}${unit})` : "";
  return `${String(d.ring ?? "?")} ${String(d.metric ?? "?")} = ${d.value === null ? "no data" : String(d.value ?? "?")} ${String(d.unit ?? "")}`.trimEnd() + baseline;
}

/** The plain one-line form: time, seq, type and a sentence. */
export function plainEventLine(e: CockpitEvent): string {
  const sentence = describeEvent(e) ?? (e.type === "sli.sample" ? sampleText(e) : "");
  return `${e.time}  #${e.seq}  ${e.type}${sentence ? `  ${sentence}` : ""}`;
}

export async function runEvents(argv: string[], io: EventsIo): Promise<number> {
  const env = io.env ?? process.env;
  const parsed = parseEventsArgs(argv, env);
  if (!parsed.ok) {
    io.stderr.write(`cockpit events: ${parsed.error}\nRun \`cockpit events --help\` for usage.\n`);
    return EXIT.usage;
  }
  if (parsed.help) {
    io.stdout.write(EVENTS_USAGE);
    return EXIT.ok;
  }
  let ca: string | undefined;
  if (parsed.caFile !== undefined) {
    try {
      ca = await readFile(parsed.caFile, "utf8");
    } catch (err) {
      io.stderr.write(`cockpit events: --ca ${parsed.caFile}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give the path of a PEM file\n`);
      return EXIT.usage;
    }
  }
  return follow(parsed, ca, io);
}

function follow(opts: Extract<Parsed, { ok: true; help: false }>, ca: string | undefined, io: EventsIo): Promise<number> {
  return new Promise<number>((resolve) => {
    let finished = false;
    /** seq of the last event printed (or skipped over by a snapshot) */
    let printedUpTo = opts.from;
    /** the head when first welcomed: --no-follow prints up to here */
    let target: number | null = null;
    let lastNotice = "";
    let conn: Connection | null = null;

    const notice = (text: string) => {
      if (text === lastNotice) return;
      lastNotice = text;
      io.stderr.write(`cockpit events: ${text}\n`);
    };

    const onStdoutError = (err: NodeJS.ErrnoException) => {
      // The reader went away (`| head`): a normal way for a pipeline to end.
      if (err.code !== "EPIPE") notice(`cannot write to stdout: ${err.message}`);
      finish(EXIT.ok);
    };
    const onSigint = () => finish(EXIT.ok);
    const onAbort = () => finish(EXIT.ok);

    function finish(code: number): void {
      if (finished) return;
      finished = true;
      if (io.signal) io.signal.removeEventListener("abort", onAbort);
      else process.off("SIGINT", onSigint);
      const closed = conn ? conn.close() : Promise.resolve();
      void closed.then(() => {
        // Keep a listener: a late EPIPE after we are done must not become an uncaught error.
        io.stdout.off("error", onStdoutError);
        io.stdout.on("error", () => {});
        resolve(code);
      });
    }

    // Done with --no-follow when the seqs reach the head of the log, or when
    // the server has flushed the backlog (the head may belong to another tenant,
    // whose events never come to us).
    function caughtUp(flushed = false): void {
      if (!opts.follow && target !== null && (flushed || printedUpTo >= target)) finish(EXIT.ok);
    }

    function print(e: CockpitEvent): void {
      io.stdout.write((opts.json ? JSON.stringify(e) : plainEventLine(e)) + "\n");
    }

    const sink: ConnectionSink = {
      ingest: {
        welcome(msg) {
          target ??= msg.headSeq;
          if (msg.headSeq < printedUpTo) notice(`the server's log ends at seq ${msg.headSeq}, before seq ${printedUpTo}: is it the same log?`);
          caughtUp();
        },
        snapshot(msg) {
          if (finished) return;
          if (msg.seq > printedUpTo) notice(`the server no longer holds events ${printedUpTo + 1}..${msg.seq}; continuing after seq ${msg.seq}`);
          printedUpTo = msg.seq;
          caughtUp();
        },
        event(e) {
          if (finished || e.seq <= printedUpTo) return;
          printedUpTo = e.seq;
          print(e);
          caughtUp();
        },
        connection(patch) {
          if (finished) return;
          if (patch.status === "live") lastNotice = "";
          if ((patch.status === "reconnecting" || patch.status === "stale") && patch.error) notice(patch.error);
        },
        ack() {},
        reject() {},
        commandSent() {},
        commandUnknown() {},
      },
    };

    io.stdout.on("error", onStdoutError);
    if (io.signal) {
      if (io.signal.aborted) return resolve(EXIT.ok);
      io.signal.addEventListener("abort", onAbort, { once: true });
    } else process.once("SIGINT", onSigint);

    conn = connect({
      url: opts.url,
      ...(opts.token ? { token: opts.token } : {}),
      clientName: `cockpit-events/${VERSION}`,
      store: sink,
      readonly: true,
      ...(ca !== undefined ? { ca } : {}),
      resumeFrom: opts.from,
      ...(io.connection?.backoff ? { backoff: io.connection.backoff } : {}),
      ...(io.connection?.livenessMs ? { livenessMs: io.connection.livenessMs } : {}),
      onCaughtUp: () => caughtUp(true),
      maxAttempts: io.connection?.maxAttempts ?? (opts.follow ? Infinity : NO_FOLLOW_MAX_ATTEMPTS),
      onFail(kind, error) {
        notice(error);
        finish(kind === "auth" ? EXIT.auth : EXIT.unreachable);
      },
    });
  });
}
