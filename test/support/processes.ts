import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import WebSocket from "ws";
import type { ServerMsg } from "../../src/protocol/types.js";

export const ROOT = join(import.meta.dirname, "..", "..");
// The bundle, as `npm start` and the `cockpit` bin run it (package.json "bundle").
export const CLI = join(ROOT, "dist", "bundle", "cli.js");

export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does) before these tests`);
}

/**
 * Run the built CLI to its end with stdin closed. With `closeAfterFirstChunk`
 * the reader goes away after the first chunk of stdout, as `| head -1` does
 * (stdout then holds that chunk).
 */
export function runCli(args: string[], o: { closeAfterFirstChunk?: boolean } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  requireBuild();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      if (o.closeAfterFirstChunk && stdout !== "") return;
      stdout += d;
      if (o.closeAfterFirstChunk) child.stdout.destroy();
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stderr: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Start `cockpit serve` and wait for the URL on its first stdout line. */
export async function startServe(args: string[]): Promise<ServeProcess> {
  requireBuild();
  const child = spawn(process.execPath, [CLI, "serve", ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: "1" } });
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const onData = (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf("\n");
      if (nl >= 0) {
        child.stdout.off("data", onData);
        resolve(out.slice(0, nl).trim());
      }
    };
    child.stdout.on("data", onData);
    child.once("exit", (code) => reject(new Error(`cockpit serve exited ${code} before printing its URL:\n${err}`)));
  });
  return {
    child,
    url,
    stderr: () => err,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, "exit")) as [number | null];
      return code;
    },
  };
}

/** A bare protocol client: records every frame, answers nothing on its own. */
export class TestClient {
  readonly frames: ServerMsg[] = [];
  closeCode: number | null = null;
  private waiters: Array<() => void> = [];
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(String(data)) as ServerMsg);
      for (const w of this.waiters.splice(0)) w();
    });
    ws.on("close", (code) => {
      this.closeCode = code;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(url: string, hello: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<TestClient> {
    const ws = new WebSocket(url, { headers });
    const c = new TestClient(ws);
    await once(ws, "open");
    ws.send(JSON.stringify({ type: "hello", protocol: 1, client: "test", resumeFrom: null, ...hello }));
    return c;
  }

  send(msg: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(msg));
  }

  /** Wait until a frame matches (checking frames already received first). */
  async waitFor<T extends ServerMsg>(pred: (m: ServerMsg) => boolean, timeoutMs = 10_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.frames.find(pred);
      if (hit) return hit as T;
      if (this.closeCode !== null) throw new Error(`connection closed (${this.closeCode}) while waiting`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${this.frames.map((f) => f.type).join(",")}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  eventSeqs(): number[] {
    return this.frames.flatMap((f) => (f.type === "event" ? [f.event.seq] : []));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await once(this.ws, "close");
  }
}
