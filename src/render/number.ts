// Numbers for people: three significant digits are enough to read a metric
// at a glance (63.2 ms, 0.12 %), and large numbers are not worth decimals.

/** Compact form: 63.2, 0.12, 1250, -3; "—" when there is no number. */
export function formatNumber(v: number | null | undefined): string {
  if (typeof v !== "number" || !Number.isFinite(v)) return "—";
  if (Number.isInteger(v)) return String(v);
  if (Math.abs(v) >= 1000) return String(Math.round(v));
  // Number(...) drops the trailing zeros toPrecision keeps ("0.120" -> 0.12).
  const s = String(Number(v.toPrecision(3)));
  return s === "-0" ? "0" : s;
}

/** A value already in percent units (error_rate 0.12 means 0.12 %). */
export function formatPercent(v: number | null | undefined): string {
  const s = formatNumber(v);
  return s === "—" ? s : s + "%";
}
