import type { Plan, RolloutPlan, SliQuery } from "../../domain/plan-types.js";
import type { SampleReading } from "../engine.js";
import { SourceReadError, type Exposure, type SliSource, type SourceHealth } from "../sli-source.js";
import { bodyGist, httpAgent, httpCall, HttpCallError, safeUrl, type HttpPool } from "./http.js";

// SLIs from Prometheus: each sample interval, every SLI the plan names is
// evaluated for every exposed ring through the HTTP API (POST /api/v1/query),
// with its baseline query when it has one.
//
// Two kinds of "nothing" are kept apart, because they mean different things:
// - Prometheus answered and the result is empty or NaN: the SLI has no data.
//   That is a reading with value null; the gate counts it as failing, so a
//   ring whose metrics vanished pauses with "no data".
// - Prometheus did not answer (down, timeout, 4xx/5xx): there is no reading
//   at all. The rollout holds (no promotion without evidence) and the source
//   is reported degraded with the reason, until it answers again.

export interface PrometheusOptions {
  /** base URL, e.g. http://127.0.0.1:9090 (a path prefix such as /prometheus is kept) */
  url: string;
  /** per query; default 5000 */
  timeoutMs?: number;
  /** queries in flight at once; default 8 */
  concurrency?: number;
}

/** The value of one query: a number, or null for an empty result / NaN / ±Inf. */
export type QueryValue = number | null;

const DEFAULT_TIMEOUT_MS = 5_000;

/** Fill a query's placeholders; values go inside "..." PromQL strings, so quotes and backslashes are escaped. */
export function fillQuery(query: string, vars: Record<string, string>): string {
  return query.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
    const v = vars[name];
    return v === undefined ? whole : v.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
  });
}

function parseSampleValue(v: unknown): QueryValue {
  if (!Array.isArray(v) || typeof v[1] !== "string") throw new Error("a sample is not [time, \"value\"]");
  const n = Number(v[1]);
  // NaN (0/0 rates with no traffic) and ±Inf (a quantile past the last bucket) cannot be judged or logged: no data.
  return Number.isFinite(n) ? n : null;
}

/**
 * Read an /api/v1/query answer: one value, null for "no data", or an Error
 * whose message says what was wrong (for the source's reason).
 */
export function parseQueryAnswer(status: number, text: string): QueryValue | Error {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new Error(`answered ${status} with a body that is not JSON${bodyGist(text) ? `: ${bodyGist(text)}` : ""}; is the URL a Prometheus server?`);
  }
  const b = body as { status?: string; errorType?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  if (b?.status === "error" || status >= 400) {
    const what = b?.errorType ? `${b.errorType}: ${b.error ?? "?"}` : bodyGist(text);
    const hint =
      status === 400
        ? " (the query is not valid PromQL; fix it in the plan)"
        : status === 422
          ? " (the query could not be executed; check it in the Prometheus UI)"
          : status === 503
            ? " (Prometheus is overloaded or the query timed out)"
            : "";
    return new Error(`answered ${status} ${what}${hint}`);
  }
  const data = b?.data;
  if (b?.status !== "success" || !data) return new Error(`answered ${status} without status "success" and data; is the URL a Prometheus server?`);
  try {
    switch (data.resultType) {
      case "vector": {
        const result = data.result as Array<{ metric?: Record<string, string>; value?: unknown }>;
        if (!Array.isArray(result)) return new Error("answered a vector that is not a list");
        if (result.length === 0) return null;
        if (result.length > 1) {
          const sets = result.slice(0, 3).map((r) => JSON.stringify(r.metric ?? {})).join(", ");
          return new Error(`returned ${result.length} series (${sets}${result.length > 3 ? ", …" : ""}); aggregate the query to one value, e.g. with sum(...) or max(...)`);
        }
        return parseSampleValue(result[0]!.value);
      }
      case "scalar":
        return parseSampleValue(data.result);
      default:
        return new Error(`returned a ${String(data.resultType)}; an SLI query must return one instant value (a vector of one series, or a scalar)`);
    }
  } catch (err) {
    return new Error(`answered a malformed result: ${(err as Error).message}`);
  }
}

interface Job {
  exposure: Exposure;
  metric: string;
  sli: SliQuery;
}

/** Run `tasks` with at most `limit` in flight. */
async function pooled<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}

export class PrometheusSource implements SliSource {
  readonly name = "prometheus";
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly concurrency: number;
  private readonly agent: HttpPool;
  /** `${tenant}\u0000${rollout}` -> the rollout's plan */
  private readonly rollouts = new Map<string, RolloutPlan>();
  private status: SourceHealth = { name: this.name, ok: true };

  constructor(plans: readonly Plan[], opts: PrometheusOptions) {
    let url: URL;
    try {
      url = new URL(opts.url);
    } catch {
      throw new Error(`--prometheus ${opts.url}: not a URL; give one like http://127.0.0.1:9090`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`--prometheus ${opts.url}: must be an http:// or https:// URL`);
    this.base = url.toString().replace(/\/+$/, "");
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.concurrency = Math.max(1, opts.concurrency ?? 8);
    this.agent = httpAgent(this.timeoutMs);
    for (const plan of plans) for (const r of plan.rollouts) this.rollouts.set(`${plan.tenant}\u0000${r.id}`, r);
  }

  /** Evaluate one query now. Resolves with a value or null (no data); rejects with a readable Error. */
  async query(promql: string): Promise<QueryValue> {
    const form = new URLSearchParams({ query: promql, timeout: `${Math.max(1, Math.floor(this.timeoutMs / 1000))}s` });
    const answer = await httpCall(
      {
        method: "POST",
        url: `${this.base}/api/v1/query`,
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: form.toString(),
        timeoutMs: this.timeoutMs,
        what: "Prometheus",
      },
      this.agent,
    );
    const v = parseQueryAnswer(answer.status, answer.text);
    if (v instanceof Error) throw new QueryError(`Prometheus at ${safeUrl(this.base)} ${v.message}`, `http ${answer.status}`);
    return v;
  }

  async read(exposures: readonly Exposure[], _t: number): Promise<SampleReading[]> {
    const jobs: Job[] = [];
    for (const exposure of exposures) {
      const plan = this.rollouts.get(`${exposure.tenant}\u0000${exposure.rollout}`);
      for (const [metric, sli] of Object.entries(plan?.slis ?? {})) jobs.push({ exposure, metric, sli });
    }
    if (jobs.length === 0) return [];
    const results = await pooled(
      jobs.map((job) => () => this.readOne(job)),
      this.concurrency,
    );
    const readings: SampleReading[] = [];
    const failures: Array<{ job: Job; err: Error }> = [];
    results.forEach((r, i) => {
      if (r instanceof Error) failures.push({ job: jobs[i]!, err: r });
      else readings.push(r);
    });
    if (failures.length === 0) {
      this.status = { name: this.name, ok: true };
      return readings;
    }
    const first = failures[0]!;
    // Unreachable, timeout: one cause for every query; name it once. A query error names its query.
    const shared = first.err instanceof HttpCallError;
    const message = shared
      ? first.err.message
      : `${first.err.message} (SLI ${first.job.metric} in ${first.job.exposure.ring})${failures.length > 1 ? `; ${failures.length - 1} more queries failed` : ""}`;
    const kind = first.err instanceof HttpCallError ? first.err.kind : first.err instanceof QueryError ? `${first.err.kind} ${first.job.metric}` : "error";
    this.status = { name: this.name, ok: false, message };
    throw new SourceReadError(message, kind, readings);
  }

  private async readOne(job: Job): Promise<SampleReading | Error> {
    const { exposure, metric, sli } = job;
    const plan = this.rollouts.get(`${exposure.tenant}\u0000${exposure.rollout}`)!;
    const vars: Record<string, string> = {
      ring: exposure.ring,
      rollout: exposure.rollout,
      service: plan.service,
      version: plan.version,
      previousVersion: plan.previousVersion,
      tenant: exposure.tenant,
    };
    try {
      const [value, baseline] = await Promise.all([this.query(fillQuery(sli.query, vars)), sli.baseline !== undefined ? this.query(fillQuery(sli.baseline, vars)) : Promise.resolve(null)]);
      return { rollout: exposure.rollout, ring: exposure.ring, metric, value, unit: sli.unit, baseline };
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  }

  health(): SourceHealth {
    return { ...this.status };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** Prometheus answered, but not with a value (bad query, overloaded, wrong shape). */
export class QueryError extends Error {
  override name = "QueryError";
  constructor(
    message: string,
    readonly kind: string,
  ) {
    super(message);
  }
}
