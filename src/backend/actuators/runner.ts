import { isWebhookSpec, type CommandSpec } from "../../domain/plan-types.js";
import { runProcess } from "./exec.js";
import { commandEnv, fillArg, fillArgv, type CommandVars } from "./placeholders.js";
import { outputTail, redactSecrets, secretsFromEnv } from "./redact.js";
import { postWebhook, webhookBody } from "./webhook.js";

// The one place the backend acts on the world. The core asks it to run one
// of the plan's commands and gets back what the event log records: what ran
// (redacted), how it ended, the tail of its output, and on failure a reason a
// person can act on. It never throws: a command that cannot even start is a
// failure like any other.

export interface CommandOutcome {
  ok: boolean;
  /** what ran, placeholders filled, secrets redacted; a webhook is ["POST", url] */
  argv: string[];
  exitCode: number | null;
  outputTail: string;
  durationMs: number;
  /** HTTP status of a webhook */
  status?: number;
  /** on failure: why, e.g. "exit 3: quota exceeded", "timed out after 60s" */
  reason?: string;
}

export interface Actuator {
  run(spec: CommandSpec, vars: CommandVars): Promise<CommandOutcome>;
}

export interface CommandRunnerOptions {
  /** for commands whose plan gives no timeoutSeconds; default 120 */
  defaultTimeoutSeconds?: number;
  /** environment the programs inherit (plus COCKPIT_*); default process.env */
  env?: NodeJS.ProcessEnv;
  /** working directory of the programs; default the backend's */
  cwd?: string;
  /** for webhook bodies; default the wall clock */
  now?: () => number;
}

const DEFAULT_TIMEOUT_S = 120;

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** The last non-empty line, for a reason that fits on one line. */
function lastLine(tail: string): string {
  const lines = tail.split("\n").map((l) => l.trim()).filter(Boolean);
  const line = lines[lines.length - 1] ?? "";
  return line.length > 200 ? line.slice(0, 199) + "…" : line;
}

export class CommandRunner implements Actuator {
  private readonly env: NodeJS.ProcessEnv;
  private readonly secrets: string[];

  constructor(private readonly opts: CommandRunnerOptions = {}) {
    this.env = opts.env ?? process.env;
    this.secrets = secretsFromEnv(this.env);
  }

  private timeoutMs(spec: CommandSpec): number {
    return Math.round((spec.timeoutSeconds ?? this.opts.defaultTimeoutSeconds ?? DEFAULT_TIMEOUT_S) * 1000);
  }

  async run(spec: CommandSpec, vars: CommandVars): Promise<CommandOutcome> {
    return isWebhookSpec(spec) ? this.runWebhook(spec.webhook, spec.secretEnv, this.timeoutMs(spec), vars) : this.runProgram(spec.argv, spec.shell === true, this.timeoutMs(spec), vars);
  }

  private async runProgram(template: string[], shell: boolean, timeoutMs: number, vars: CommandVars): Promise<CommandOutcome> {
    const filled = fillArgv(template, vars, shell);
    const argv = shell ? ["/bin/sh", "-c", filled.join(" ")] : filled;
    const shown = argv.map((a) => redactSecrets(a, this.secrets));
    const r = await runProcess({ argv, timeoutMs, env: { ...this.env, ...commandEnv(vars) }, ...(this.opts.cwd ? { cwd: this.opts.cwd } : {}) });
    const tail = outputTail(r.output, this.secrets);
    const base = { argv: shown, exitCode: r.exitCode, outputTail: tail, durationMs: r.durationMs };
    if (r.spawnError !== null) {
      const hint = r.spawnError === "ENOENT" ? `not found; check the path (relative paths start from ${this.opts.cwd ?? process.cwd()}) or PATH` : r.spawnError === "EACCES" ? "not executable; check its mode" : "check the command";
      return { ...base, ok: false, reason: `could not start ${shown[0] ?? "the command"}: ${r.spawnError} (${hint})` };
    }
    if (r.timedOut) return { ...base, ok: false, reason: `timed out after ${seconds(timeoutMs)} and was stopped${lastLine(tail) ? `; last output: ${lastLine(tail)}` : ""}` };
    if (r.exitCode === 0) return { ...base, ok: true };
    const how = r.exitCode !== null ? `exit ${r.exitCode}` : `killed by ${r.signal ?? "a signal"}`;
    return { ...base, ok: false, reason: lastLine(tail) ? `${how}: ${lastLine(tail)}` : how };
  }

  private async runWebhook(urlTemplate: string, secretEnv: string, timeoutMs: number, vars: CommandVars): Promise<CommandOutcome> {
    const url = fillArg(urlTemplate, vars, encodeURIComponent);
    const shown = ["POST", redactSecrets(url, this.secrets)];
    const secret = this.env[secretEnv];
    if (!secret) {
      return { ok: false, argv: shown, exitCode: null, outputTail: "", durationMs: 0, reason: `environment variable ${secretEnv} is not set; set it to the webhook's HMAC secret and restart the backend` };
    }
    const now = this.opts.now ?? Date.now;
    const r = await postWebhook({ url, secret, body: webhookBody(vars, new Date(now()).toISOString()), timeoutMs });
    const out: CommandOutcome = { ok: r.ok, argv: shown, exitCode: null, outputTail: outputTail(r.output, [secret, ...this.secrets]), durationMs: r.durationMs };
    if (r.status !== null) out.status = r.status;
    if (r.reason !== null) out.reason = redactSecrets(r.reason, [secret, ...this.secrets]);
    return out;
  }
}
