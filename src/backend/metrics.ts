import type { HttpRoute } from "./server.js";
import type { ClientStats } from "./server.js";
import type { LogIo } from "./eventlog.js";

// The backend's own metrics, for Prometheus to scrape at GET /metrics (text
// exposition format 0.0.4): connected clients per tenant, events written,
// fsync latency, send-queue depths, cockpit commands by action and result, and
// the plan's commands (apply, rollback, ...) by step and result.

export const METRICS_PATH = "/metrics";

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return "";
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(",")}}`;
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

function header(name: string, help: string, type: string): string {
  return `# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}\n# TYPE ${name} ${type}\n`;
}

/** A counter or gauge with labels; series appear once touched. */
export class Series {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: "counter" | "gauge",
    private readonly labelNames: readonly string[],
  ) {}

  private key(labels: Labels): string {
    return this.labelNames.map((n) => labels[n] ?? "").join("\u0000");
  }

  private entry(labels: Labels): { labels: Labels; value: number } {
    const k = this.key(labels);
    let e = this.values.get(k);
    if (!e) {
      const own: Labels = {};
      for (const n of this.labelNames) own[n] = labels[n] ?? "";
      e = { labels: own, value: 0 };
      this.values.set(k, e);
    }
    return e;
  }

  inc(labels: Labels = {}, by = 1): void {
    this.entry(labels).value += by;
  }

  set(labels: Labels, value: number): void {
    this.entry(labels).value = value;
  }

  get(labels: Labels = {}): number {
    return this.values.get(this.key(labels))?.value ?? 0;
  }

  render(): string {
    let out = header(this.name, this.help, this.type);
    for (const { labels, value } of this.values.values()) out += `${this.name}${labelText(labels)} ${num(value)}\n`;
    return out;
  }
}

/** A histogram with fixed buckets (upper bounds, seconds), one label set per series. */
export class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
    private readonly labelNames: readonly string[] = [],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const k = this.labelNames.map((n) => labels[n] ?? "").join("\u0000");
    let s = this.series.get(k);
    if (!s) {
      const own: Labels = {};
      for (const n of this.labelNames) own[n] = labels[n] ?? "";
      s = { labels: own, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    this.buckets.forEach((le, i) => {
      if (value <= le) s.counts[i]!++;
    });
    s.sum += value;
    s.count++;
  }

  count(labels: Labels = {}): number {
    return this.series.get(this.labelNames.map((n) => labels[n] ?? "").join("\u0000"))?.count ?? 0;
  }

  render(): string {
    let out = header(this.name, this.help, "histogram");
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => {
        out += `${this.name}_bucket${labelText({ ...s.labels, le: num(le) })} ${s.counts[i]}\n`;
      });
      out += `${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}\n`;
      out += `${this.name}_sum${labelText(s.labels)} ${num(s.sum)}\n`;
      out += `${this.name}_count${labelText(s.labels)} ${s.count}\n`;
    }
    return out;
  }
}

/** What only the running server and core know at scrape time. */
export interface LiveFigures {
  tenants: string[];
  clients: ClientStats[];
  headSeq: number;
}

export class BackendMetrics {
  readonly eventsWritten = new Series("cockpit_events_written_total", "Events made durable in the event log.", "counter", ["tenant"]);
  readonly fsyncSeconds = new Histogram("cockpit_eventlog_fsync_seconds", "Time one fdatasync of the event log took.", [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
  readonly commands = new Series("cockpit_commands_total", "Commands from cockpits, by action and result (ack, or the reject code).", "counter", ["action", "result"]);
  readonly planCommands = new Series("cockpit_plan_commands_total", "The plan's commands run on the world, by step (apply, rollback, engage, release, silence) and result (ok, failed).", "counter", [
    "step",
    "result",
  ]);
  readonly planCommandSeconds = new Histogram("cockpit_plan_command_seconds", "How long the plan's commands ran.", [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300], ["step"]);
  readonly sourceUp = new Series("cockpit_source_up", "1 when the outside source (prometheus, alertmanager) answered its last read, else 0.", "gauge", ["source"]);
  readonly sourceFailures = new Series("cockpit_source_failures_total", "Reads of an outside source that failed.", "counter", ["source"]);
  readonly alertsReceived = new Series("cockpit_alertmanager_alerts_received_total", "Alerts read from Alertmanager, by way in (poll, webhook).", "counter", ["via"]);

  /** The event log's file access with each fdatasync timed. */
  timedLogIo(io: LogIo): LogIo {
    return {
      openForAppend: async (path) => {
        const handle = await io.openForAppend(path);
        return {
          ...handle,
          write: (data) => handle.write(data),
          datasync: async () => {
            const started = process.hrtime.bigint();
            try {
              await handle.datasync();
            } finally {
              this.fsyncSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
            }
          },
        };
      },
    };
  }

  render(live: LiveFigures): string {
    const clients = new Series("cockpit_clients", "Cockpits connected and streaming, per tenant.", "gauge", ["tenant"]);
    const queueBytes = new Series("cockpit_send_queue_bytes", "Bytes waiting to be sent to the tenant's clients (server queue and socket buffer).", "gauge", ["tenant"]);
    const queueFrames = new Series("cockpit_send_queue_frames", "Frames waiting in the server's send queues of the tenant's clients.", "gauge", ["tenant"]);
    const queueMax = new Series("cockpit_send_queue_max_bytes", "The deepest single client's send queue, bytes.", "gauge", []);
    const head = new Series("cockpit_eventlog_head_seq", "Sequence number of the last durable event.", "gauge", []);
    for (const t of live.tenants) {
      clients.set({ tenant: t }, 0);
      queueBytes.set({ tenant: t }, 0);
      queueFrames.set({ tenant: t }, 0);
    }
    let max = 0;
    for (const c of live.clients) {
      if (c.tenant === null) continue;
      const bytes = c.queuedBytes + c.bufferedBytes;
      clients.inc({ tenant: c.tenant });
      queueBytes.inc({ tenant: c.tenant }, bytes);
      queueFrames.inc({ tenant: c.tenant }, c.queuedFrames);
      max = Math.max(max, bytes);
    }
    queueMax.set({}, max);
    head.set({}, live.headSeq);
    return [
      clients,
      queueBytes,
      queueFrames,
      queueMax,
      head,
      this.eventsWritten,
      this.fsyncSeconds,
      this.commands,
      this.planCommands,
      this.planCommandSeconds,
      this.sourceUp,
      this.sourceFailures,
      this.alertsReceived,
    ]
      .map((m) => m.render())
      .join("");
  }
}

/** GET /metrics */
export function metricsRoute(render: () => string): HttpRoute {
  return {
    method: "GET",
    path: METRICS_PATH,
    handle(_req, res) {
      const text = render();
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "content-length": Buffer.byteLength(text) });
      res.end(text);
    },
  };
}
