import { createHmac, randomUUID } from "node:crypto";
import { bodyGist, httpCall, HttpCallError, type HttpPool } from "../sources/http.js";
import type { CommandVars } from "./placeholders.js";

// The webhook form of a plan command, for deploy systems that take HTTP: a
// JSON POST whose body is signed with HMAC-SHA256, so the receiver can tell
// the request came from this backend and was not changed on the way.
//
//   POST <url>
//   content-type: application/json
//   x-cockpit-delivery: <uuid>              (unique per call: reject repeats)
//   x-cockpit-signature: sha256=<hex>       (HMAC-SHA256 of the raw body with the shared secret)
//   {"step":"apply","tenant":"payments","rollout":"api-v408","service":"api","version":"v408",
//    "previousVersion":"v407","ring":"canary","traffic":1,"flag":"","delivery":"<uuid>","time":"..."}
//
// A 2xx answer is success; anything else, or no answer in time, is a failure.

export const SIGNATURE_HEADER = "x-cockpit-signature";
export const DELIVERY_HEADER = "x-cockpit-delivery";

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}

export interface WebhookBody {
  step: string;
  tenant: string;
  rollout: string;
  service: string;
  version: string;
  previousVersion: string;
  ring: string;
  traffic: number | null;
  flag: string;
  delivery: string;
  time: string;
}

export function webhookBody(vars: CommandVars, time: string, delivery: string = randomUUID()): WebhookBody {
  const traffic = vars.traffic === "" ? null : Number(vars.traffic);
  return {
    step: vars.step,
    tenant: vars.tenant,
    rollout: vars.rollout,
    service: vars.service,
    version: vars.version,
    previousVersion: vars.previousVersion,
    ring: vars.ring,
    traffic: Number.isFinite(traffic) ? traffic : null,
    flag: vars.flag,
    delivery,
    time,
  };
}

export interface WebhookResult {
  ok: boolean;
  status: number | null;
  /** the answer's body (or the failure sentence) */
  output: string;
  /** why it failed, in a sentence; null on success */
  reason: string | null;
  durationMs: number;
}

export async function postWebhook(
  o: { url: string; secret: string; body: WebhookBody; timeoutMs: number },
  pool?: HttpPool,
): Promise<WebhookResult> {
  const started = Date.now();
  const text = JSON.stringify(o.body);
  try {
    const answer = await httpCall(
      {
        method: "POST",
        url: o.url,
        headers: {
          "content-type": "application/json",
          "user-agent": "rollout-cockpit",
          [SIGNATURE_HEADER]: signBody(o.secret, text),
          [DELIVERY_HEADER]: o.body.delivery,
        },
        body: text,
        timeoutMs: o.timeoutMs,
        what: "webhook",
        maxBodyBytes: 64 * 1024,
      },
      pool,
    );
    const ok = answer.status >= 200 && answer.status < 300;
    const gist = bodyGist(answer.text);
    return {
      ok,
      status: answer.status,
      output: answer.text,
      reason: ok ? null : `the webhook answered ${answer.status}${gist ? `: ${gist}` : ""}`,
      durationMs: Date.now() - started,
    };
  } catch (err) {
    const message = err instanceof HttpCallError ? err.message : (err as Error).message;
    return { ok: false, status: null, output: message, reason: message, durationMs: Date.now() - started };
  }
}
