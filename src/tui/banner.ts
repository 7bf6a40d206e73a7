import { formatAge, formatClock } from "../render/time.js";
import { serverNow, type CockpitView } from "../store/cockpit-store.js";
import { isStale, selectDegradedSources } from "../store/selectors.js";
import { wrapText } from "./spans.js";
import { connectionWord } from "./words.js";

// The loud line under the header: while what is on screen may be old (not
// live), or else while a source feeding the backend fails. Pure, so the layout
// can count its lines before anything is drawn.

export interface Banner {
  text: string;
  tone: "bad" | "warn";
  /**
   * The connection's banner wraps onto a second line rather than lose its end,
   * which is where the next step is ("check COCKPIT_TOKEN"). A failing
   * source's banner carries the backend's words and keeps to one line, so a
   * backend's text cannot move the screen.
   */
  maxLines: 1 | 2;
}

const perView = new WeakMap<CockpitView, Banner | null>();
/** bannerOf, worked out once per published view however many selectors ask. */
export function selectBanner(v: CockpitView): Banner | null {
  let b = perView.get(v);
  if (b === undefined) perView.set(v, (b = bannerOf(v)));
  return b;
}

export function bannerOf(v: CockpitView): Banner | null {
  const conn = v.connection;
  if (!isStale(conn)) {
    const failing = selectDegradedSources(v);
    if (failing.length === 0) return null;
    const first = failing[0]!;
    const more = failing.length > 1 ? ` (+${failing.length - 1} more: ${failing.slice(1).map((s) => s.source).join(", ")})` : "";
    return { text: `⚠ SOURCE FAILING: ${first.source} since ${formatClock(first.since)} UTC: ${first.message}${more}. Its SLIs and alerts may be missing; gates without data hold.`, tone: "warn", maxLines: 1 };
  }
  const w = connectionWord(conn, v.now);
  const next = conn.status === "reconnecting" || conn.status === "connecting" ? ` · ${w.text}` : "";
  // Never heard from: what went wrong comes first, since it says what to do.
  if (conn.session === undefined) return { text: `⚠ NOT CONNECTED: ${conn.error ?? "nothing from the backend yet"}${next} ⚠`, tone: "bad", maxLines: 2 };
  // The time the data stopped, on the backend's clock like the header's time: in a
  // simulation running ×10, "as of" and "ago" must agree with the clock beside them.
  const since = conn.staleSince !== undefined ? serverNow(conn, conn.staleSince) : undefined;
  const asOf = since !== undefined ? `data as of ${formatClock(since)} UTC (${formatAge(since, serverNow(conn, v.now))})` : "data may be out of date";
  const err = conn.error ? ` · ${conn.error}` : "";
  return { text: `⚠ STALE — NOT LIVE: ${asOf}${next}${err} ⚠`, tone: "bad", maxLines: 2 };
}

/** The banner's lines at this width: at most its maxLines, the last cut (by the Line it is drawn in) if need be. */
export function bannerLines(b: Banner | null, width: number): string[] {
  if (!b) return [];
  if (b.maxLines === 1) return [b.text];
  const lines = wrapText(b.text, width);
  if (lines.length <= b.maxLines) return lines;
  const kept = lines.slice(0, b.maxLines);
  kept[b.maxLines - 1] = lines.slice(b.maxLines - 1).join(" ");
  return kept;
}
