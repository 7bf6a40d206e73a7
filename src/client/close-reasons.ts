import { CLOSE } from "../protocol/types.js";
import { sanitizeText } from "../protocol/sanitize.js";

// What a closed or failed socket means for the user and for the reconnect loop.
// Every sentence names the server and the next step (ARCHITECTURE.md).

/** Why the client stopped for good: retrying cannot help until someone changes something. */
export type FailureKind = "auth" | "protocol" | "tls" | "unreachable";

export type Verdict =
  | { action: "reconnect"; error?: string }
  | { action: "fail"; failure: FailureKind; error: string };

export function tokenRejected(url: string, hadToken: boolean): string {
  return hadToken ? `token rejected by ${url}: check COCKPIT_TOKEN` : `${url} requires a token: set COCKPIT_TOKEN or pass --token`;
}

export function cannotReach(url: string): string {
  return `cannot reach ${url}: is \`cockpit serve\` running?`;
}

/** The close reason is server-made text: cleaned and kept short before it is shown. */
function cleanReason(reason: string): string {
  return sanitizeText(reason, { maxChars: 120 }).trim();
}

function reasonSuffix(reason: string): string {
  const clean = cleanReason(reason);
  return clean ? ` (${clean})` : "";
}

/** Classify a close frame received after the socket was open. */
export function classifyClose(code: number, reason: string, url: string, hadToken: boolean): Verdict {
  switch (code) {
    case CLOSE.unauthorized:
    case CLOSE.forbidden:
      return { action: "fail", failure: "auth", error: tokenRejected(url, hadToken) };
    case CLOSE.badHandshake:
      return {
        action: "fail",
        failure: "protocol",
        error: `${url} refused the handshake${reasonSuffix(reason)}: protocol mismatch? this cockpit speaks protocol 1; upgrade one side`,
      };
    case CLOSE.handshakeTimeout:
      return { action: "reconnect", error: `${url} timed out our handshake; reconnecting` };
    case CLOSE.tooSlow:
      return { action: "reconnect", error: `${url} dropped this connection as too slow to keep up; resuming` };
    case CLOSE.goingAway:
      return { action: "reconnect", error: `${url} is going away (server going away: restart or shutdown); reconnecting` };
    case CLOSE.tooBig:
      return { action: "reconnect", error: `${url} closed the connection over a frame larger than 1 MiB; reconnecting` };
    case 1000:
      return { action: "reconnect", error: `${url} closed the connection${reasonSuffix(reason)}; reconnecting` };
    default: {
      const clean = cleanReason(reason);
      return { action: "reconnect", error: `connection to ${url} lost (close code ${code}${clean ? `: ${clean}` : ""}); reconnecting` };
    }
  }
}

const TLS_TRUST_CODES = new Set([
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EPIPE"]);

/** Classify an error raised before or while the socket was open (before any close frame). */
export function classifySocketError(err: Error & { code?: string }, url: string, hadToken: boolean): Verdict {
  const code = err.code ?? "";
  if (TLS_TRUST_CODES.has(code))
    return { action: "fail", failure: "tls", error: `${url} presented a certificate this cockpit does not trust (${code}): pass the server's CA with --ca` };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return { action: "reconnect", error: `cannot resolve the host of ${url}: check the URL` };
  if (UNREACHABLE_CODES.has(code)) return { action: "reconnect", error: cannotReach(url) };
  // ws reports an HTTP answer to the upgrade request as "Unexpected server response: 401".
  const http = /Unexpected server response: (\d{3})/.exec(err.message);
  if (http) {
    const status = Number(http[1]);
    if (status === 401 || status === 403) return { action: "fail", failure: "auth", error: tokenRejected(url, hadToken) };
    if (status === 404)
      return { action: "fail", failure: "protocol", error: `${url} has no cockpit stream (HTTP 404): check the URL; the stream lives at /v1/stream` };
    return { action: "reconnect", error: `${url} answered the upgrade with HTTP ${status}; reconnecting` };
  }
  if (/Opening handshake has timed out/i.test(err.message)) return { action: "reconnect", error: `${url} did not answer the connection in time; reconnecting` };
  return { action: "reconnect", error: `connection to ${url} failed: ${sanitizeText(err.message, { maxChars: 160 })}; reconnecting` };
}
