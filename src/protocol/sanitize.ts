// The one boundary for untrusted text (ARCHITECTURE.md): every string that came
// from a backend, a log file or a plan passes here before it can reach a
// terminal or a post-mortem. Control characters are made visible, never
// passed through: ESC becomes ␛, so "\x1b]52;c;..." shows as "␛]52;c;..." and
// cannot touch the clipboard, title, cursor or screen. Bidi overrides and
// zero-width characters, which make text read differently from what it is,
// are dropped, and so are combining marks past the 8th on one character.

/** Longest text kept in one field; longer text is cut with an ellipsis. */
export const MAX_TEXT_CHARS = 4096;

const BIDI_AND_INVISIBLE = /[\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF]/g;
// C0 (minus \n), DEL, C1. Tab is turned into a space first.
const CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
/**
 * Combining marks on one character past the first 8 ("Zalgo" text): no script
 * stacks more, and thousands of them make one character that every width
 * measurement and every terminal has to walk, frame after frame.
 */
export const MAX_COMBINING_MARKS = 8;
const MARK_FLOOD = new RegExp(`(\\p{M}{${MAX_COMBINING_MARKS}})\\p{M}+`, "gu");
const MARK_FLOOD_TEST = new RegExp(`\\p{M}{${MAX_COMBINING_MARKS + 1}}`, "u");

function picture(ch: string): string {
  const c = ch.charCodeAt(0);
  if (c < 0x20) return String.fromCharCode(0x2400 + c); // ␀..␟ (␛ for ESC)
  if (c === 0x7f) return "\u2421"; // ␡
  return "\uFFFD"; // C1: no control picture exists
}

export interface SanitizeOptions {
  /** keep "\n" (notes, status updates); otherwise newlines become " " */
  multiline?: boolean;
  maxChars?: number;
}

export function sanitizeText(input: string, opts: SanitizeOptions = {}): string {
  const max = opts.maxChars ?? MAX_TEXT_CHARS;
  // Cut before the regexes so a 1 MB hostile string costs little.
  let s = input.length > max * 2 ? input.slice(0, max * 2) : input;
  s = s.replace(LONE_SURROGATE, "\uFFFD");
  s = s.replace(/\r\n/g, "\n").replace(/\t/g, " ");
  if (!opts.multiline) s = s.replace(/\n/g, " ");
  s = s.replace(BIDI_AND_INVISIBLE, "").replace(CONTROL, picture).replace(MARK_FLOOD, "$1");
  if (s.length > max) s = s.slice(0, max - 1) + "…";
  return s;
}

/**
 * Untrusted text quoted inside an error message: JSON-quoted (so C0 controls
 * read as \u001b and the extent is visible), cut to `maxChars` with "…", and
 * what JSON leaves as it is (C1 controls, bidi and zero-width characters)
 * cleaned. Error messages reach terminals and logs as they are, so any quote
 * of a file's or a peer's text must go through here.
 */
export function quoteText(s: string, maxChars = 40): string {
  const cut = s.length > maxChars ? s.slice(0, Math.max(0, maxChars - 1)) + "…" : s;
  return sanitizeText(JSON.stringify(cut), { maxChars: maxChars * 6 + 8 });
}

/** True when the text holds nothing sanitizeText would change (cheap fast path). */
/** Printable ASCII only: nearly every id, metric and sentence on the wire. */
const PRINTABLE_ASCII = /^[\x20-\x7E]*$/;

export function isCleanText(s: string): boolean {
  // One cheap test for the common case, before the Unicode-aware ones.
  if (s.length <= MAX_TEXT_CHARS && PRINTABLE_ASCII.test(s)) return true;
  return !/[\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u202A-\u202E\u2060-\u2069\uFEFF\uD800-\uDFFF]/.test(s) && s.length <= MAX_TEXT_CHARS && !MARK_FLOOD_TEST.test(s);
}

/** Sanitize every string in a JSON value (keys too), returning a new value. */
export function sanitizeDeep(value: unknown, multilineKeys: ReadonlySet<string> = MULTILINE_KEYS, key = ""): unknown {
  if (typeof value === "string") return isCleanText(value) ? value : sanitizeText(value, { multiline: multilineKeys.has(key) });
  if (Array.isArray(value)) return value.map((v) => sanitizeDeep(v, multilineKeys, key));
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const ck = isCleanText(k) ? k : sanitizeText(k, { maxChars: 256 });
      // defineProperty: a plain assignment to "__proto__" would set the prototype.
      Object.defineProperty(out, ck, { value: sanitizeDeep(v, multilineKeys, ck), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

/** Fields whose text may span lines: human notes and status updates. */
export const MULTILINE_KEYS: ReadonlySet<string> = new Set(["text", "reason", "message"]);
