// A one-line chart of the newest samples, one cell per sample, oldest on the left.
// The scale always takes in the threshold, so a bar's height says how close the
// value is to breaching, not just how it compares to its neighbours. Cells that
// breach are reported in breachMask so the component can colour them AND mark
// them with a glyph (colour alone is lost under NO_COLOR and to colour-blind users).

export const SPARK_LEVELS = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] as const;
/** A cell with no sample (NaN, null, ±Infinity): visible, and unlike any bar. */
export const SPARK_NO_DATA = "·";

/** The passing condition of the threshold, as an SLO writes it: "p99 < 50" passes below 50. */
export type ThresholdOp = "<" | "<=" | ">" | ">=";

export interface SparklineOptions {
  /** bottom of the scale; default: the lowest value (or the threshold, if lower) */
  min?: number;
  /** top of the scale; default: the highest value (or the threshold, if higher) */
  max?: number;
  threshold?: number;
  /** how a value passes the threshold; default "<=" (a cell breaches when it is over the threshold) */
  thresholdOp?: ThresholdOp;
}

export interface Sparkline {
  /** one glyph per sample shown: at most `width`, fewer when there are fewer samples */
  text: string;
  /** per cell: true when the sample fails the threshold (never for a cell without data) */
  breachMask: boolean[];
  /** index into SPARK_LEVELS where the threshold sits, when there is one (for a legend or marker row) */
  thresholdLevel?: number;
}

function passes(v: number, op: ThresholdOp, t: number): boolean {
  switch (op) {
    case "<":
      return v < t;
    case "<=":
      return v <= t;
    case ">":
      return v > t;
    case ">=":
      return v >= t;
  }
}

export function sparkline(values: ArrayLike<number>, width: number, opts: SparklineOptions = {}): Sparkline {
  const cells = Number.isFinite(width) ? Math.max(0, Math.floor(width)) : 0;
  const count = Math.min(cells, values.length);
  const start = values.length - count; // the newest `count` samples
  const threshold = typeof opts.threshold === "number" && Number.isFinite(opts.threshold) ? opts.threshold : undefined;
  const op = opts.thresholdOp ?? "<=";

  let lo = Infinity;
  let hi = -Infinity;
  for (let i = start; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isFinite(v)) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (threshold !== undefined) {
    lo = Math.min(lo, threshold);
    hi = Math.max(hi, threshold);
  }
  if (typeof opts.min === "number" && Number.isFinite(opts.min)) lo = opts.min;
  if (typeof opts.max === "number" && Number.isFinite(opts.max)) hi = opts.max;
  const span = hi - lo;
  const top = SPARK_LEVELS.length - 1;
  // A flat series (or a scale of zero height) draws at the bottom: nothing to compare against.
  const level = (v: number): number => (span > 0 ? Math.min(top, Math.max(0, Math.round(((v - lo) / span) * top))) : 0);

  let text = "";
  const breachMask: boolean[] = new Array<boolean>(count);
  for (let i = 0; i < count; i++) {
    const v = values[start + i]!;
    if (!Number.isFinite(v)) {
      text += SPARK_NO_DATA;
      breachMask[i] = false;
      continue;
    }
    text += SPARK_LEVELS[level(v)];
    breachMask[i] = threshold !== undefined && !passes(v, op, threshold);
  }
  const out: Sparkline = { text, breachMask };
  if (threshold !== undefined) out.thresholdLevel = level(threshold);
  return out;
}
