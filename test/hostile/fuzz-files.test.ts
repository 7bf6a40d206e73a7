import fc from "fast-check";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { hashToken, parseTokenFile } from "../../src/backend/tokens.js";
import { RAW_EXCERPT_CHARS, readLogFile, type LogRecord } from "../../src/protocol/logfile.js";
import { anyText, event, hostileText } from "./arbitraries.js";
import { BIDI_OR_INVISIBLE, CONTROL_EXCEPT_NEWLINE, LONE_SURROGATE, PAYLOADS } from "./payloads.js";

// Property-based fuzzing of the two files the backend trusts least: the event
// log (read on every start, by verify-log and by the post-mortem) and the
// tokens file. The log reader must never throw, must account for every byte,
// and must hand back every valid event as written; the tokens parser must
// refuse anything else with an Error that names the file and entry.

// Property runs are bounded by count, not time; a loaded machine (CI) may take longer than the default 5 s.
vi.setConfig({ testTimeout: 60_000 });

const dir = mkdtempSync(join(tmpdir(), "cockpit-hostile-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let fileNo = 0;

function writeTemp(content: string | Uint8Array): string {
  const path = join(dir, `log-${++fileNo}.jsonl`);
  writeFileSync(path, content);
  return path;
}

async function readAll(path: string, opts: { maxLineBytes?: number } = {}): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const rec of readLogFile(path, opts)) out.push(rec);
  return out;
}

function expectPrintable(message: string): void {
  expect(message.trim().length).toBeGreaterThan(0);
  expect(message).not.toMatch(CONTROL_EXCEPT_NEWLINE);
  expect(message).not.toContain("\n");
  expect(message).not.toMatch(BIDI_OR_INVISIBLE);
  expect(message).not.toMatch(LONE_SURROGATE);
}

/** Every byte of the file is in exactly one record, in order; line numbers count up from 1; bad lines say why, printably. */
function expectAccountedFor(records: LogRecord[], size: number): void {
  let offset = 0;
  records.forEach((r, i) => {
    expect(r.line).toBe(i + 1);
    expect(r.offset).toBe(offset);
    expect(r.end).toBeGreaterThanOrEqual(r.offset);
    offset = r.end;
    if (i < records.length - 1) expect(r.terminated).toBe(true);
    if (r.kind === "bad") {
      expectPrintable(r.reason);
      expect(r.reason).toContain(`line ${r.line}`);
      expect(r.raw.length).toBeLessThanOrEqual(RAW_EXCERPT_CHARS);
    }
  });
  expect(offset).toBe(size);
}

const junkLine = fc.oneof(
  fc.json({ maxDepth: 3 }),
  anyText,
  hostileText,
  fc.constantFrom("", "   ", "\r", "{", '{"seq":1', "null", "[]", '{"__proto__":{"seq":1}}', ...PAYLOADS.filter((p) => p.text.length < 500).map((p) => p.text.replace(/\n/g, " "))),
);

describe("readLogFile", () => {
  it("never throws on random bytes, and accounts for every byte", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 1500 }), fc.array(fc.nat({ max: 1500 }), { maxLength: 20 }), async (bytes, newlines) => {
        const buf = Buffer.from(bytes);
        for (const at of newlines) if (at < buf.length) buf[at] = 0x0a;
        const path = writeTemp(buf);
        expectAccountedFor(await readAll(path), buf.length);
      }),
      { numRuns: 200 },
    );
  });

  it("reads every valid event back as written, with the right line numbers, among junk, blank lines, CRLF and a BOM", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof({ weight: 2, arbitrary: event(anyText).map((e) => ({ e })) }, { weight: 1, arbitrary: junkLine.map((j) => ({ j })) }), { maxLength: 12 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        async (items, crlf, bom, finalNewline) => {
          const lines = items.map((it) => ("e" in it ? JSON.stringify(it.e) : it.j.replace(/[\r\n]/g, " ")));
          const text = (bom ? "\uFEFF" : "") + lines.join(crlf ? "\r\n" : "\n") + (finalNewline && lines.length > 0 ? "\n" : "");
          const path = writeTemp(text);
          const records = await readAll(path);
          expectAccountedFor(records, statSync(path).size);
          const events = records.filter((r) => r.kind === "event");
          const expected = items.flatMap((it, i) => ("e" in it ? [{ line: i + 1, event: JSON.parse(JSON.stringify(it.e)) as unknown }] : []));
          // A junk line that happens to be a valid event is read as one, rightly; every real event must be there.
          for (const want of expected) {
            const got = events.find((r) => r.line === want.line);
            expect(got, `line ${want.line}`).toBeDefined();
            if (got?.kind === "event") expect(got.event).toEqual(want.event);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it("cuts lines over the limit without holding them, and says so printably", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(hostileText, fc.string({ minLength: 50, maxLength: 400 })), { minLength: 1, maxLength: 6 }), async (lines) => {
        const text = lines.map((l) => l.replace(/\n/g, " ")).join("\n") + "\n";
        const path = writeTemp(text);
        const records = await readAll(path, { maxLineBytes: 64 });
        expectAccountedFor(records, statSync(path).size);
        for (const r of records) if (r.end - r.offset - 1 > 64) expect(r.kind === "bad" && /longer than 64 bytes/.test(r.reason)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("a line of hostile text that is not JSON gets a printable reason, whatever the JSON parser quotes", async () => {
    const lines = PAYLOADS.filter((p) => p.text.length < 100_000).map((p) => `not json ${p.text.replace(/\n/g, " ")}`);
    lines.push('{"seq": 1, "x": "\u001b]0;t\u0007', '{"a":"\u009b2J\u202e"}x', "\u202e{}");
    const path = writeTemp(lines.join("\n") + "\n");
    const records = await readAll(path);
    expectAccountedFor(records, statSync(path).size);
    expect(records.every((r) => r.kind === "bad")).toBe(true);
  });

  it("a 1 MB line of one payload is one bad line, and the file is still accounted for", async () => {
    const huge = "\x1b]52;c;" + "A".repeat(1_000_000) + "\x07";
    const path = writeTemp(`${huge}\n${JSON.stringify({ big: huge })}\n`);
    const records = await readAll(path);
    expect(records).toHaveLength(2);
    expectAccountedFor(records, statSync(path).size);
  });
});

// ---- tokens file -------------------------------------------------------------------------------

const SOURCE = "tokens.json";

function parseOutcome(value: unknown): { ok: true } | { ok: false; message: string } {
  try {
    parseTokenFile(value, SOURCE);
    return { ok: true };
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    return { ok: false, message: (err as Error).message };
  }
}

const role = fc.constantFrom("viewer", "operator", "commander");
const printableName = fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() !== "");
const entry = fc.record({ token: fc.string({ minLength: 1, maxLength: 100 }), name: printableName, role, tenant: printableName });

describe("parseTokenFile", () => {
  it("on arbitrary JSON either builds a table or throws an Error naming the file, printably", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.record({ tokens: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }) })), (v) => {
        const r = parseOutcome(v);
        if (!r.ok) {
          expect(r.message.startsWith(`${SOURCE}: `)).toBe(true);
          expectPrintable(r.message);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("on a valid file, every token opens exactly its own session and nothing else opens one", () => {
    fc.assert(
      fc.property(fc.uniqueArray(entry, { minLength: 1, maxLength: 6, selector: (e) => e.token }), fc.string({ maxLength: 100 }), (entries, stranger) => {
        const file = { tokens: entries.map((e) => ({ sha256: hashToken(e.token), name: e.name, role: e.role, tenant: e.tenant })) };
        const table = parseTokenFile(JSON.parse(JSON.stringify(file)), SOURCE);
        for (const e of entries) expect(table.lookup(e.token)).toEqual({ actor: e.name, role: e.role, tenant: e.tenant });
        if (!entries.some((e) => e.token === stranger)) expect(table.lookup(stranger)).toBeNull();
      }),
      { numRuns: 200 },
    );
  });

  it("refuses names and tenants that would carry control, bidi or invisible characters into the event log", () => {
    for (const p of PAYLOADS.filter((x) => /[\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]|[\uD800-\uDFFF]/.test(x.text) && x.text.length < 100_000)) {
      for (const field of ["name", "tenant"] as const) {
        const good = { sha256: hashToken("t"), name: "alice", role: "operator", tenant: "payments" };
        const r = parseOutcome({ tokens: [{ ...good, [field]: `x${p.text}` }] });
        expect(r.ok, `${p.name} in ${field}`).toBe(false);
        if (!r.ok) {
          expect(r.message).toContain(`tokens[0].${field}`);
          expectPrintable(r.message);
        }
      }
    }
  });

  it("a __proto__ key never supplies a missing field or a role", () => {
    const text = `{"tokens":[{"__proto__":{"role":"commander","tenant":"payments"},"sha256":"${hashToken("t")}","name":"mallory"}]}`;
    const r = parseOutcome(JSON.parse(text));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toMatch(/tokens\[0\]\.role/);
  });
});
