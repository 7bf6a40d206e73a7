import { STREAM_PATH } from "../src/protocol/types.js";
import { formatClock } from "../src/render/time.js";
import { displayWidth, truncate } from "../src/render/width.js";
import type { Banner } from "../src/tui/banner.js";
import { leftRight, span, spansWidth, type Span } from "../src/tui/spans.js";
import { connectionWord, wordText } from "../src/tui/words.js";
import { useCockpit, useCockpitContext } from "./context.js";
import { Line } from "./Line.js";

// Top line: where we are connected, how (live / connecting / reconnecting in
// Ns / STALE since), latency, last seq, tenant, who you are, READ-ONLY, UTC
// clock. Under it, when the data may be old, a banner no one can miss.

/**
 * An address cut to `width` columns in its middle, so both ends survive: the
 * host's start (prod-api…) and the port, which on one machine is what tells
 * two backends apart ("127.0.…:43317", not "127.0.0.1:433…").
 */
/** Below this many columns an address is too cut to tell backends apart; the rtt gives way first. */
const MIN_ADDRESS_COLUMNS = 16;

export function shortenAddress(address: string, width: number): string {
  if (displayWidth(address) <= width) return address;
  const port = /:\d+$/.exec(address)?.[0] ?? "";
  const head = address.slice(0, address.length - port.length);
  // Too narrow for a useful head: cut at the end like any other text.
  if (port === "" || width - port.length < 5) return truncate(address, Math.max(0, width));
  return truncate(head, width - port.length) + port;
}

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

  const address = compact ? displayUrl(conn.url).replace(/^ws:\/\//, "") : displayUrl(conn.url);
  const right: Span[] = [];
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
  const state = wordText(w);
  const roomBeside = (spans: readonly Span[]) => width - spansWidth(spans) - 1 - displayWidth(state) - 2;
  // The round trip is the first thing to go on a crowded line: which backend this is matters more.
  if (conn.rttMs !== undefined) {
    const rtt = [span(`rtt ${Math.round(conn.rttMs)}ms`), span(gap)];
    if (roomBeside([...rtt, ...right]) >= Math.min(displayWidth(address), MIN_ADDRESS_COLUMNS)) right.unshift(...rtt);
  }
  const room = roomBeside(right);
  const left: Span[] = [span(state, { tone: w.tone, bold: true, inverse: w.tone === "bad" }), span("  "), span(shortenAddress(address, room))];
  return <Line spans={leftRight(left, right, width)} width={width} />;
}

/** The loud lines under the header, as src/tui/banner.ts words and wraps them (the App counts them into the layout). */
export function StaleBanner({ rows, tone, width }: { rows: readonly string[]; tone: Banner["tone"]; width: number }) {
  return (
    <>
      {rows.map((row, i) => (
        <Line key={i} spans={[span(row, { tone, bold: true, inverse: true })]} width={width} pad />
      ))}
    </>
  );
}
