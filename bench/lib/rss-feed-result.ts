// What the rss-feed child (bench/child/rss-feed.ts) reports to bench/rss.ts.

/** Memory after a full GC, once --events reached a mark. */
export interface RssSample {
  events: number;
  rssMB: number;
  heapUsedMB: number;
  externalMB: number;
  seconds: number;
  rollouts: number;
  alerts: number;
  incidents: number;
  series: number;
  timeline: number;
}

export interface RssFeedResult {
  /** whether the child could force GCs (--expose-gc) */
  gc: boolean;
  startRssMB: number;
  startHeapMB: number;
  curve: RssSample[];
  /** frames the decoder refused */
  bad: number;
  distinct: boolean;
}
