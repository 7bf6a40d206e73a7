import { sanitizeDeep, sanitizeText } from "../protocol/sanitize.js";
import type { CockpitEvent } from "../protocol/types.js";
import { redactDeep, redactSecrets } from "./redact.js";

// Everything the draft (or a message on the terminal) shows from the log goes
// through here: sanitized first (control characters made visible, bidi and
// invisible characters dropped: protocol/sanitize.ts), then redacted.

/** A sanitized, redacted copy of an event: what the draft is allowed to see. */
export function cleanEvent(e: CockpitEvent): CockpitEvent {
  return redactDeep(sanitizeDeep(e) as CockpitEvent);
}

/** One untrusted string, as the draft or a message may show it. */
export function cleanText(s: string, multiline = false): string {
  return redactSecrets(sanitizeText(s, { multiline }));
}
