import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isCleanText } from "../protocol/sanitize.js";
import { ROLES, type Role, type Session } from "../protocol/types.js";

// Bearer tokens: the file holds only sha256 hashes, so a leaked tokens file does
// not hand out access. Each token maps to one actor, one role and one tenant.
//
// File format (JSON):
//   {"tokens": [{"sha256": "<hex of sha256(token)>", "name": "alice", "role": "operator", "tenant": "payments"}]}

export interface TokenEntry {
  /** lowercase hex sha256 of the token's UTF-8 bytes */
  sha256: string;
  name: string;
  role: Role;
  tenant: string;
}

export interface TokenTable {
  /** the session a presented token opens, or null when no entry matches */
  lookup(token: string): Session | null;
  /** tenants named in the table, in file order, without repeats */
  tenants(): string[];
  readonly size: number;
}

/** Longest token looked up; anything longer is refused without hashing. */
export const MAX_TOKEN_CHARS = 512;

const HEX64 = /^[0-9a-fA-F]{64}$/;

export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A fresh token: 32 random bytes, base64url (43 characters, safe in a header). */
export function mintToken(): string {
  return randomBytes(32).toString("base64url");
}

export function createTokenTable(entries: readonly TokenEntry[]): TokenTable {
  const hashes = entries.map((e) => Buffer.from(e.sha256.toLowerCase(), "hex"));
  const sessions: Session[] = entries.map((e) => ({ actor: e.name, role: e.role, tenant: e.tenant }));
  return {
    size: entries.length,
    tenants: () => [...new Set(entries.map((e) => e.tenant))],
    lookup(token: string): Session | null {
      if (typeof token !== "string" || token.length === 0 || token.length > MAX_TOKEN_CHARS) return null;
      const presented = createHash("sha256").update(token, "utf8").digest();
      // Compare against every entry, without stopping at a match, so the time
      // taken does not tell which entry (or whether any) is close.
      let found = -1;
      for (let i = 0; i < hashes.length; i++) {
        if (timingSafeEqual(presented, hashes[i]!) && found < 0) found = i;
      }
      return found < 0 ? null : { ...sessions[found]! };
    },
  };
}

// Names and tenants go into every event the token causes, and from there to
// screens and post-mortems: refuse what a terminal would act on, or what reads
// differently from what it is, here at load (the message does not echo it).
const UNPRINTABLE = "must be at most 256 characters of printable text: no control characters (newline, escape ...), bidi overrides or zero-width characters";

function printable(s: string): boolean {
  // isCleanText refuses every C0 control, newline included.
  return isCleanText(s) && s.length <= 256;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Check a parsed tokens file. `source` names the file in every error, with the
 * entry at fault, e.g. `tokens.json: tokens[2].role: must be one of viewer, operator, commander`.
 */
export function parseTokenFile(value: unknown, source: string): TokenTable {
  if (!isObj(value) || !Array.isArray(value.tokens)) {
    throw new Error(`${source}: expected {"tokens": [{"sha256", "name", "role", "tenant"}, ...]}`);
  }
  if (value.tokens.length === 0) {
    throw new Error(`${source}: tokens: the list is empty, so nobody could connect; add an entry (see mintToken/hashToken)`);
  }
  const entries: TokenEntry[] = [];
  const seen = new Map<string, number>();
  value.tokens.forEach((raw: unknown, i: number) => {
    const at = `${source}: tokens[${i}]`;
    if (!isObj(raw)) throw new Error(`${at}: must be an object {"sha256", "name", "role", "tenant"}`);
    const { sha256, name, role, tenant } = raw;
    if (typeof sha256 !== "string" || !HEX64.test(sha256)) {
      throw new Error(`${at}.sha256: must be 64 hex digits (the sha256 of the token, not the token itself)`);
    }
    if (typeof name !== "string" || name.trim().length === 0) throw new Error(`${at}.name: must be a non-empty string`);
    if (!printable(name)) throw new Error(`${at}.name: ${UNPRINTABLE}`);
    if (typeof role !== "string" || !(ROLES as readonly string[]).includes(role)) {
      throw new Error(`${at}.role: must be one of ${ROLES.join(", ")}`);
    }
    if (typeof tenant !== "string" || tenant.trim().length === 0) throw new Error(`${at}.tenant: must be a non-empty string`);
    if (!printable(tenant)) throw new Error(`${at}.tenant: ${UNPRINTABLE}`);
    const hash = sha256.toLowerCase();
    const earlier = seen.get(hash);
    // One token must open exactly one session; a repeat would make lookup ambiguous.
    if (earlier !== undefined) throw new Error(`${at}.sha256: same hash as tokens[${earlier}]; give each person their own token`);
    seen.set(hash, i);
    entries.push({ sha256: hash, name, role: role as Role, tenant });
  });
  return createTokenTable(entries);
}

export async function loadTokens(path: string): Promise<TokenTable> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new Error(`${path}: cannot read the tokens file (${code}); check the path`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseTokenFile(value, path);
}
