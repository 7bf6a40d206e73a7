import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventLog } from "../../src/backend/eventlog.js";
import { verifyLog } from "../../src/backend/verify.js";
import { readLogFile } from "../../src/protocol/logfile.js";
import { removeTempDirs, tempDir } from "./fixtures/eventlog-helpers.js";

// kill -9 a real writer process at random moments and check the promise the
// log makes: every append that resolved is in the file after a restart, the
// chain verifies, and a torn last line is cut off and reported.
//
// The child runs plain Node, so it needs JavaScript: the test transpiles
// src/backend/eventlog.ts and its relative imports into a temp dir itself,
// rather than trusting a dist/ that may be missing or older than the source.

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const writerScript = join(here, "fixtures", "eventlog-writer.mjs");
const ROUNDS = 6;

async function transpileClosure(entry: string, outDir: string): Promise<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = await readFile(file, "utf8");
    for (const m of source.matchAll(/from\s+"(\.{1,2}\/[^"]+)\.js"/g)) todo.push(resolve(dirname(file), m[1]! + ".ts"));
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      fileName: file,
    }).outputText;
    const out = join(outDir, relative(root, file)).replace(/\.ts$/, ".js");
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, js);
  }
  await writeFile(join(outDir, "package.json"), '{"type":"module"}\n');
  return pathToFileURL(join(outDir, relative(root, entry)).replace(/\.ts$/, ".js")).href;
}

interface Round {
  acked: Map<number, string>;
  opened: { headSeq: number; truncatedBytes: number } | null;
  stderr: string;
}

/** Start the writer, wait for `killAfter` acks (+ a random pause), SIGKILL it. */
function runAndKill(moduleUrl: string, dataDir: string, round: number, killAfter: number, smallWrites: boolean): Promise<Round> {
  return new Promise((resolvePromise, reject) => {
    const args = [writerScript, moduleUrl, dataDir, String(round), ...(smallWrites ? ["small-writes"] : [])];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    const result: Round = { acked: new Map(), opened: null, stderr: "" };
    let buffered = "";
    let killing = false;
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (s: string) => (result.stderr += s));
    child.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const [word, a, b] = line.split(" ");
        if (word === "open") result.opened = { headSeq: Number(a), truncatedBytes: Number(b) };
        if (word === "ack") result.acked.set(Number(a), b!);
      }
      if (!killing && result.acked.size >= killAfter) {
        killing = true;
        setTimeout(() => child.kill("SIGKILL"), Math.floor(Math.random() * 30));
      }
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolvePromise(result);
      else reject(new Error(`writer exited by itself (code ${code}, signal ${signal}): ${result.stderr}`));
    });
  });
}

describe("EventLog survives kill -9 of its writer", () => {
  let moduleUrl = "";
  beforeAll(async () => {
    moduleUrl = await transpileClosure(join(root, "src/backend/eventlog.ts"), await tempDir());
  });
  afterAll(removeTempDirs);

  it(`every acknowledged event is in the log after ${ROUNDS} random kills, and the chain verifies`, { timeout: 120_000 }, async () => {
    const dataDir = await tempDir();
    const acked = new Map<number, string>();
    let headSeq = 0;
    let tornRounds = 0;

    for (let round = 1; round <= ROUNDS; round++) {
      const killAfter = 5 + Math.floor(Math.random() * 80);
      // Even rounds write in slow 16 KiB pieces so kills land mid-line too (whole writes are rarely cut by a kill).
      const r = await runAndKill(moduleUrl, dataDir, round, killAfter, round % 2 === 0);
      // The child saw the log the previous round left, already recovered by us.
      expect(r.opened).toEqual({ headSeq, truncatedBytes: 0 });
      for (const [seq, hash] of r.acked) acked.set(seq, hash);

      const file = join(dataDir, "events.jsonl");
      const bytes = await readFile(file);
      const endsCleanly = bytes.length === 0 || bytes[bytes.length - 1] === 0x0a;

      const { log, recovery } = await EventLog.open(dataDir);
      headSeq = log.headSeq;
      if (endsCleanly) {
        expect(recovery.truncatedBytes).toBe(0);
      } else {
        tornRounds += 1;
        expect(recovery.truncatedBytes).toBeGreaterThan(0);
        expect(recovery.tornLine).toBeDefined();
        expect(bytes.length - recovery.truncatedBytes).toBe(bytes.lastIndexOf(0x0a) + 1);
      }
      expect(Math.max(...r.acked.keys())).toBeLessThanOrEqual(headSeq);
      await log.close();
      expect(await verifyLog(dataDir)).toMatchObject({ ok: true, headSeq });
    }

    const inLog = new Map<number, string>();
    for await (const rec of readLogFile(join(dataDir, "events.jsonl"))) {
      if (rec.kind === "event") inLog.set(rec.event.seq, rec.event.hash);
    }
    expect(acked.size).toBeGreaterThan(ROUNDS * 5 - 1);
    const missing = [...acked].filter(([seq, hash]) => inLog.get(seq) !== hash);
    expect(missing).toEqual([]);
    // Informational: how often the kill landed mid-line (the hand-made torn tests cover the cut itself).
    console.info(`kill -9 rounds: ${ROUNDS}, acked events: ${acked.size}, rounds that left a torn line: ${tornRounds}`);
  });
});
