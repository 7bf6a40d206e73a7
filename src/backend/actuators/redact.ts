// What a command printed goes into the event log, which is kept, shipped to
// cockpits and pasted into post-mortems. Secrets must not ride along: values
// after secret-looking keys, bearer tokens, passwords in URLs, well-known key
// shapes, and the values of the backend's own secret-looking environment
// variables (a script that echoes $DEPLOY_TOKEN leaks exactly that string).

export const REDACTED = "[redacted]";

const ESCAPED = "\\[redacted\\]";
const KEY_WORDS = "(?:api[_-]?key|access[_-]?key|secret[_-]?key|secret|token|password|passwd|pwd|credentials?|auth|private[_-]?key|client[_-]?secret)";

const PATTERNS: Array<[RegExp, string]> = [
  // Authorization: Bearer xyz / Basic xyz
  [/\b(authorization\s*[:=]\s*(?:bearer|basic|token)?\s*)[^\s"',;]+/gi, `$1${REDACTED}`],
  [/\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi, `$1${REDACTED}`],
  // key=value, key: value, "key": "value", --key=value, --key value
  // (not again over a value already redacted, nor over the scheme word of an Authorization header)
  [new RegExp(`((?:--?|\\b)[A-Za-z0-9_.-]*${KEY_WORDS}[A-Za-z0-9_.-]*"?\\s*[=:]\\s*"?)(?!${ESCAPED}|(?:bearer|basic|token)\\s)[^\\s"',;&]+`, "gi"), `$1${REDACTED}`],
  [new RegExp(`(--[A-Za-z0-9_.-]*${KEY_WORDS}[A-Za-z0-9_.-]*\\s+)(?!-|${ESCAPED})[^\\s"',;&]+`, "gi"), `$1${REDACTED}`],
  // scheme://user:password@host
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@]+:)[^\s@/]+@/gi, `$1${REDACTED}@`],
  // AWS access key ids, GitHub tokens, Slack tokens, JWTs, PEM private keys
  [/\bAKIA[0-9A-Z]{16}\b/g, REDACTED],
  [/\bgh[pousr]_[A-Za-z0-9]{30,}\b/g, REDACTED],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}\b/g, REDACTED],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\b/g, REDACTED],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
];

const SECRET_ENV_NAME = /(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL)/i;
/** Shorter values would redact ordinary words ("true", "1234"). */
const MIN_SECRET_CHARS = 6;

/** Values of environment variables whose names look secret, longest first. */
export function secretsFromEnv(env: NodeJS.ProcessEnv): string[] {
  const out = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= MIN_SECRET_CHARS && SECRET_ENV_NAME.test(name)) out.add(value);
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** `text` with secrets replaced by [redacted]; `known` are exact secret strings to take out first. */
export function redactSecrets(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const secret of known) {
    if (secret.length >= MIN_SECRET_CHARS && out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/**
 * The end of a command's output, fit for the log: control characters (colour
 * codes, carriage returns) removed, at most `maxLines` lines and `maxChars`
 * characters, secrets redacted.
 */
export function outputTail(raw: string, known: readonly string[] = [], maxLines = 20, maxChars = 2000): string {
  // eslint-disable-next-line no-control-regex
  const clean = raw.replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, "").replace(/\r\n?/g, "\n").replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "");
  // Redact before cutting, so a secret split by the cut cannot leak its second half.
  const lines = redactSecrets(clean, known).replace(/\n+$/, "").split("\n");
  let tail = lines.slice(-maxLines).join("\n");
  if (tail.length > maxChars) tail = "…" + tail.slice(tail.length - maxChars + 1);
  return tail;
}
