import { STREAM_PATH } from "../src/protocol/types.js";
import { formatAge, formatClock } from "../src/render/time.js";
import { truncate } from "../src/render/width.js";
import { serverNow } from "../src/store/cockpit-store.js";
import { isStale, selectDegradedSources } from "../src/store/selectors.js";
import { leftRight, span, type Span } from "../src/tui/spans.js";
import { connectionWord, wordText } from "../src/tui/words.js";
import { useCockpit, useCockpitContext } from "./context.js";
import { Line } from "./Line.js";

// Top line: where we are connected, how (live / connecting / reconnecting in
// Ns / STALE since), latency, last seq, tenant, who you are, READ-ONLY, UTC
// clock. Under it, when the data may be old, a banner no one can miss.

/** The backend's address as people know it: the protocol's fixed stream path says nothing. */
export function displayUrl(url: string): string {
  return url.endsWith(STREAM_PATH) ? url.slice(0, -STREAM_PATH.length) : url;
}

function formatSpeed(speed: number): string {
  return Number.isInteger(speed) ? String(speed) : speed.toFixed(1);
}

export function Header({ width }: { width: number }) {
  const conn = useCockpit((v) => v.connection);
  const forced = useCockpitContext().readonly;
  const readonly = useCockpit((v) => v.readonly) || forced;
  const now = useCockpit((v) => v.now);
  // The clock shows the backend's time, which event times are on; a simulation
  // running faster than real time says so, so nobody reads it as the wall clock.
  const clockNow = useCockpit((v) => v.serverNow);
  const speed = conn.clock?.speed ?? 1;
  const w = connectionWord(conn, now);
  const session = conn.session;
  // Narrow terminals get the compact spellings, so everything fits in 80 columns.
  const compact = width < 100;
  const gap = compact ? " " : "  ";

  const left: Span[] = [span(wordText(w), { tone: w.tone, bold: true, inverse: w.tone === "bad" }), span("  "), span(compact ? displayUrl(conn.url).replace(/^ws:\/\//, "") : displayUrl(conn.url))];
  const right: Span[] = [];
  if (conn.rttMs !== undefined) right.push(span(`rtt ${Math.round(conn.rttMs)}ms`), span(gap));
  right.push(span(`seq ${conn.lastSeq}`), span(gap));
  if (session) {
    // Names come from the backend: a long one must not push the connection word off the line.
    const cap = compact ? 16 : 32;
    const tenant = truncate(session.tenant, cap);
    const actor = truncate(session.actor, cap);
    right.push(span(tenant, { bold: true }), span(compact ? " " : " · "));
    right.push(span(compact ? `${actor}/${session.role}` : `${actor} (${session.role})`), span(gap));
  }
  if (readonly) right.push(span("READ-ONLY", { tone: "warn", bold: true, inverse: true }), span(gap));
  if (speed !== 1) right.push(span(`sim ×${formatSpeed(speed)}`, { tone: "warn", bold: true }), span(compact ? " " : " "));
  right.push(span(compact ? `${formatClock(clockNow)}Z` : `${formatClock(clockNow)} UTC`));
  return <Line spans={leftRight(left, right, width)} width={width} />;
}

/**
 * The loud line under the header: while what is on screen may be old (not live), or else while a
 * source feeding the backend fails (its SLIs or alerts may be missing, and gates hold).
 */
export function StaleBanner({ width }: { width: number }) {
  const conn = useCockpit((v) => v.connection);
  const now = useCockpit((v) => v.now);
  const failing = useCockpit(selectDegradedSources);
  if (!isStale(conn)) {
    if (failing.length === 0) return null;
    const first = failing[0]!;
    const more = failing.length > 1 ? ` (+${failing.length - 1} more: ${failing.slice(1).map((s) => s.source).join(", ")})` : "";
    const text = `⚠ SOURCE FAILING: ${first.source} since ${formatClock(first.since)} UTC: ${first.message}${more}. Its SLIs and alerts may be missing; gates without data hold.`;
    return <Line spans={[span(text, { tone: "warn", bold: true, inverse: true })]} width={width} pad />;
  }
  // The time the data stopped, on the backend's clock like the header's time: in a
  // simulation running ×10, "as of" and "ago" must agree with the clock beside them.
  const since = conn.staleSince !== undefined ? serverNow(conn, conn.staleSince) : undefined;
  const asOf = since !== undefined ? `data as of ${formatClock(since)} UTC (${formatAge(since, serverNow(conn, now))})` : "data may be out of date";
  const w = connectionWord(conn, now);
  const next = conn.status === "reconnecting" || conn.status === "connecting" ? ` · ${w.text}` : "";
  const err = conn.error ? ` · ${conn.error}` : "";
  const text = conn.session === undefined ? `⚠ NOT CONNECTED: nothing from the backend yet${next}${err} ⚠` : `⚠ STALE — NOT LIVE: ${asOf}${next}${err} ⚠`;
  return <Line spans={[span(text, { tone: "bad", bold: true, inverse: true })]} width={width} pad />;
}
