// Secrets typed into notes, reasons or alert labels must never reach a draft
// that will be pasted into a wiki. Each rule replaces only the secret part and
// keeps the words around it, so the sentence still reads ("rotated
// DB_PASSWORD=[REDACTED] after the leak"). Near misses stay: "token bucket",
// "the password policy", "KEY_ID", a URL without a password, a git SHA.

export const REDACTED = "[REDACTED]";

type Rule = { name: string; pattern: RegExp; replace: (match: string, ...groups: string[]) => string };

// A token must look machine-made: a digit or symbol and 8+ chars, or 24+ chars.
// "Bearer authentication" and "bearer of bad news" stay.
function looksLikeToken(s: string): boolean {
  return (s.length >= 8 && /[0-9\-._~+/=]/.test(s)) || s.length >= 24;
}

// Assignment names that hold secrets: *_SECRET, *_TOKEN, *_KEY (a prefix is
// required for KEY: "key: value" is prose too often), PASSWORD/PASSWD/PWD
// alone or with a prefix, bare SECRET or TOKEN. "KEY_ID" does not end in KEY.
const SECRET_NAME =
  String.raw`(?:[A-Za-z0-9]+[_.-])*(?:SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|PWD)|(?:[A-Za-z0-9]+[_.-])+KEY|API_?KEY|ACCESS_?KEY|SECRET_?KEY|PRIVATE_?KEY`;

// Database and queue vocabulary that ends in _key but holds no secret.
const NOT_SECRET_KEYS = /^(?:primary|foreign|sort|partition|cache|routing|shard|hash|idempotency|dedup|group|row|index|lookup|map|object|s3|bucket)[_.-]key$/i;

const RULES: Rule[] = [
  {
    // Kept first: the block spans lines and holds base64 other rules would nibble.
    // A block cut off before its END line (a truncated note) is redacted to the end.
    name: "private key block",
    pattern: /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)/g,
    replace: (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY----- ${REDACTED} -----END ${kind}PRIVATE KEY-----`,
  },
  {
    name: "JWT",
    pattern: /\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
    replace: () => REDACTED,
  },
  {
    name: "password in URL",
    // user:password@ in the authority; the password may itself hold '@', so the
    // greedy run stops at the last '@' before the path.
    pattern: /\b([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^\s:/?#@]+):([^\s/?#]+)@/g,
    replace: (_m, scheme: string, user: string) => `${scheme}${user}:${REDACTED}@`,
  },
  {
    name: "authorization header",
    pattern: /\b(Authorization\s*[:=]\s*)(?:(Bearer|Basic|Token|Digest)\s+)?("[^"]*"|'[^']*'|[^\s,;]+)/gi,
    replace: (m, head: string, scheme: string | undefined, cred: string) =>
      looksLikeToken(cred.replace(/^["']|["']$/g, "")) || scheme ? `${head}${scheme ? scheme + " " : ""}${REDACTED}` : m,
  },
  {
    name: "bearer token",
    pattern: /\b(Bearer)\s+([A-Za-z0-9\-._~+/]+=*)/gi,
    replace: (m, word: string, token: string) => (looksLikeToken(token) ? `${word} ${REDACTED}` : m),
  },
  {
    name: "AWS access key id",
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b/g,
    replace: () => REDACTED,
  },
  {
    name: "secret assignment",
    // NAME=value, NAME: value, "name": "value", with the quote kept.
    pattern: new RegExp(String.raw`(?<![A-Za-z0-9_])(["']?)(${SECRET_NAME})\1([ \t]*[:=][ \t]*)("[^"\n]*"|'[^'\n]*'|[^\s,;&"'<>)\]}]+)`, "gi"),
    replace: (m, q: string, name: string, sep: string, value: string) => {
      if (value.startsWith("[REDACTED") || NOT_SECRET_KEYS.test(name)) return m;
      const quote = /^["']/.test(value) ? value[0]! : "";
      return `${q}${name}${q}${sep}${quote}${REDACTED}${quote}`;
    },
  },
  {
    name: "well-known token prefix",
    // GitHub, Slack, Stripe/OpenAI-style, Google API keys.
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,}|sk-[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{35})/g,
    replace: () => REDACTED,
  },
  {
    name: "AWS secret access key",
    // 40 chars of base64 with both cases and a digit or symbol: a git SHA
    // (lowercase hex) or a word never matches.
    pattern: /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    replace: (m) => (/[a-z]/.test(m) && /[A-Z]/.test(m) && /[0-9/+]/.test(m) ? REDACTED : m),
  },
];

/** Replace every secret in the text with [REDACTED], keeping the words around it. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const rule of RULES) {
    rule.pattern.lastIndex = 0;
    out = out.replace(rule.pattern, rule.replace as (substring: string, ...args: unknown[]) => string);
  }
  return out;
}

/** Names of the rules, for documentation and tests. */
export const REDACTION_RULES: readonly string[] = RULES.map((r) => r.name);

/** Fields that hold hashes: redacting them would only break nothing-secret hex. */
const UNREDACTED_KEYS: ReadonlySet<string> = new Set(["hash", "prev"]);

/** Redact every string in a JSON value (keys are names, kept), returning a new value. */
export function redactDeep<T>(value: T, key = ""): T {
  if (typeof value === "string") return (UNREDACTED_KEYS.has(key) ? value : redactSecrets(value)) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, key)) as T;
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = redactDeep(v, k);
    return out as T;
  }
  return value;
}
