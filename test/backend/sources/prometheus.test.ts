import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { afterEach, describe, expect, it, vi } from "vitest";
import { SourceReadError, type Exposure } from "../../../src/backend/sli-source.js";
import { fillQuery, parseQueryAnswer, PrometheusSource } from "../../../src/backend/sources/prometheus.js";
import { validatePlan } from "../../../src/domain/plan.js";
import type { Plan } from "../../../src/domain/plan-types.js";

// Real processes and sockets: generous per-test time on a loaded machine (no test asserts a duration).
vi.setConfig({ testTimeout: 30_000 });

// The Prometheus source against a stub HTTP server speaking the
// /api/v1/query format: values, "no data", and every way of not answering,
// each turned into a sentence.

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

type Handler = (query: string, res: ServerResponse) => void;

async function stub(handler: Handler): Promise<{ url: string; queries: string[] }> {
  const queries: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      if (req.url !== "/api/v1/query" || req.method !== "POST") {
        res.writeHead(404).end("not here");
        return;
      }
      const q = new URLSearchParams(body).get("query") ?? "";
      queries.push(q);
      handler(q, res);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, queries };
}

function vector(values: string[]): string {
  return JSON.stringify({ status: "success", data: { resultType: "vector", result: values.map((v, i) => ({ metric: { i: String(i) }, value: [1700000000, v] })) } });
}

function plan(slis: Record<string, unknown>): Plan {
  const r = validatePlan(
    {
      tenant: "payments",
      rollouts: [{ id: "api-v2", service: "api", version: 'v2"x', previousVersion: "v1", kind: "code", slis, rings: [{ name: "canary", traffic: 5, slos: [] }] }],
    },
    "plan",
  );
  if (!r.ok) throw new Error(r.errors.join("\n"));
  return r.plan;
}

const CANARY: Exposure = { tenant: "payments", rollout: "api-v2", ring: "canary", traffic: 5, startedAt: 0, mitigatedAt: null };

describe("parseQueryAnswer", () => {
  it("reads one series or a scalar as a number", () => {
    expect(parseQueryAnswer(200, vector(["49.75"]))).toBe(49.75);
    expect(parseQueryAnswer(200, JSON.stringify({ status: "success", data: { resultType: "scalar", result: [1, "3.5"] } }))).toBe(3.5);
  });

  it("reads an empty result, NaN and infinities as no data (null)", () => {
    expect(parseQueryAnswer(200, vector([]))).toBeNull();
    expect(parseQueryAnswer(200, vector(["NaN"]))).toBeNull();
    expect(parseQueryAnswer(200, vector(["+Inf"]))).toBeNull();
    expect(parseQueryAnswer(200, vector(["-Inf"]))).toBeNull();
  });

  it("refuses more than one series, telling how to aggregate", () => {
    const err = parseQueryAnswer(200, vector(["1", "2"]));
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('returned 2 series ({"i":"0"}, {"i":"1"}); aggregate the query to one value, e.g. with sum(...) or max(...)');
  });

  it("refuses a range vector", () => {
    const err = parseQueryAnswer(200, JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } }));
    expect((err as Error).message).toBe("returned a matrix; an SLI query must return one instant value (a vector of one series, or a scalar)");
  });

  it("turns 400, 422 and 503 error bodies into readable reasons", () => {
    const body = (type: string, error: string) => JSON.stringify({ status: "error", errorType: type, error });
    expect((parseQueryAnswer(400, body("bad_data", 'invalid parameter "query": 1:9: parse error: unexpected "}"')) as Error).message).toBe(
      'answered 400 bad_data: invalid parameter "query": 1:9: parse error: unexpected "}" (the query is not valid PromQL; fix it in the plan)',
    );
    expect((parseQueryAnswer(422, body("execution", "many-to-many matching not allowed")) as Error).message).toBe(
      "answered 422 execution: many-to-many matching not allowed (the query could not be executed; check it in the Prometheus UI)",
    );
    expect((parseQueryAnswer(503, body("timeout", "query timed out in expression evaluation")) as Error).message).toBe(
      "answered 503 timeout: query timed out in expression evaluation (Prometheus is overloaded or the query timed out)",
    );
  });

  it("says when the answer is not Prometheus's at all", () => {
    expect((parseQueryAnswer(200, "<html>login</html>") as Error).message).toBe("answered 200 with a body that is not JSON: <html>login</html>; is the URL a Prometheus server?");
    expect((parseQueryAnswer(502, "Bad Gateway") as Error).message).toBe("answered 502 with a body that is not JSON: Bad Gateway; is the URL a Prometheus server?");
    expect((parseQueryAnswer(200, "{}") as Error).message).toBe('answered 200 without status "success" and data; is the URL a Prometheus server?');
  });
});

describe("fillQuery", () => {
  it("fills placeholders as PromQL string content, escaping quotes and backslashes", () => {
    expect(fillQuery('x{ring="{ring}",v="{version}"}', { ring: "canary", version: 'v2"\\' })).toBe('x{ring="canary",v="v2\\"\\\\"}');
  });
  it("leaves label matchers and unknown names alone", () => {
    expect(fillQuery('rate(x{job="a"}[1m]) {other}', { ring: "canary" })).toBe('rate(x{job="a"}[1m]) {other}');
  });
});

describe("PrometheusSource.read", () => {
  it("evaluates each SLI and its baseline per ring, with placeholders filled", async () => {
    const s = await stub((q, res) => res.end(vector([q.includes("!=") ? "40" : "49.75"])));
    const src = new PrometheusSource([plan({ p99_latency_ms: { query: 'p99{ring="{ring}",version="{version}"}', baseline: 'p99{ring!="{ring}"}', unit: "ms" } })], { url: s.url });
    const readings = await src.read([CANARY], 0);
    expect(readings).toEqual([{ rollout: "api-v2", ring: "canary", metric: "p99_latency_ms", value: 49.75, unit: "ms", baseline: 40 }]);
    expect(s.queries.sort()).toEqual(['p99{ring!="canary"}', 'p99{ring="canary",version="v2\\"x"}']);
    expect(src.health()).toEqual({ name: "prometheus", ok: true });
    await src.close();
  });

  it("reads an empty answer as a reading with no data, not as a failure", async () => {
    const s = await stub((_q, res) => res.end(vector([])));
    const src = new PrometheusSource([plan({ error_rate: { query: 'errors{ring="{ring}"}', unit: "%" } })], { url: s.url });
    expect(await src.read([CANARY], 0)).toEqual([{ rollout: "api-v2", ring: "canary", metric: "error_rate", value: null, unit: "%", baseline: null }]);
    await src.close();
  });

  it("fails the read with the SLI and ring named when Prometheus refuses a query, keeping the other readings", async () => {
    const s = await stub((q, res) => {
      if (q.startsWith("bad")) res.writeHead(400).end(JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" }));
      else res.end(vector(["1"]));
    });
    const src = new PrometheusSource([plan({ good: { query: 'good{ring="{ring}"}' }, p99_latency_ms: { query: 'bad{ring="{ring}"', unit: "ms" } })], { url: s.url });
    const err = (await src.read([CANARY], 0).catch((e: unknown) => e)) as SourceReadError;
    expect(err).toBeInstanceOf(SourceReadError);
    expect(err.message).toBe(`Prometheus at ${s.url}/ answered 400 bad_data: parse error (the query is not valid PromQL; fix it in the plan) (SLI p99_latency_ms in canary)`);
    expect(err.kind).toBe("http 400 p99_latency_ms");
    expect(err.readings.map((r) => [r.metric, r.value])).toEqual([["good", 1]]);
    expect(src.health()).toEqual({ name: "prometheus", ok: false, message: err.message });
    await src.close();
  });

  it("fails the read as unreachable when nothing listens", async () => {
    const s = await stub(() => undefined);
    const url = s.url;
    const server = servers.pop()!;
    await new Promise<void>((r) => server.close(() => r()));
    const src = new PrometheusSource([plan({ p99_latency_ms: { query: 'p99{ring="{ring}"}', unit: "ms" } })], { url });
    const err = (await src.read([CANARY], 0).catch((e: unknown) => e)) as SourceReadError;
    expect(err.kind).toBe("refused");
    expect(err.message).toBe(`cannot reach Prometheus at ${url}/api/v1/query (connection refused): is it running, and is the URL right?`);
    expect(err.readings).toEqual([]);
    await src.close();
  });

  it("fails the read with a timeout when Prometheus does not answer in time", async () => {
    const s = await stub(() => undefined); // never answers
    const src = new PrometheusSource([plan({ p99_latency_ms: { query: 'p99{ring="{ring}"}', unit: "ms" } })], { url: s.url, timeoutMs: 300 });
    const err = (await src.read([CANARY], 0).catch((e: unknown) => e)) as SourceReadError;
    expect(err.kind).toBe("timeout");
    expect(err.message).toBe(`Prometheus at ${s.url}/api/v1/query did not answer within 0.3s: it may be overloaded or stuck`);
    await src.close();
  });

  it("reads nothing for rollouts without SLIs, and refuses a URL that is not http(s)", async () => {
    const src = new PrometheusSource([plan({})], { url: "http://127.0.0.1:1" });
    expect(await src.read([CANARY], 0)).toEqual([]);
    await src.close();
    expect(() => new PrometheusSource([], { url: "ftp://x" })).toThrow("--prometheus ftp://x: must be an http:// or https:// URL");
    expect(() => new PrometheusSource([], { url: "not a url" })).toThrow("--prometheus not a url: not a URL; give one like http://127.0.0.1:9090");
  });
});
