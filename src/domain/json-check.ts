import { parseDuration } from "./duration.js";
import { isCleanText, quoteText } from "../protocol/sanitize.js";

// Shared by the plan and scenario validators: read fields out of untrusted
// JSON and collect every problem (not just the first) as one line each:
//   plans/api.json: rollouts[0].rings[1].traffic: must be a number above 0 and at most 100 (got "ten")
// i.e. the file, the JSON path, what is expected, and what was there.

export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
export const ID_EXPECTED = "must be 1 to 64 letters, digits, _, . or -, starting with a letter or digit";
export const METRIC_PATTERN = /^[A-Za-z_][A-Za-z0-9_.]*$/;
export const METRIC_EXPECTED = "must be a metric name (a letter or _ first, then letters, digits, _ or .)";
export const DURATION_EXPECTED = 'must be a duration like "90s", "5m", "1h30m" or a number of seconds';

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** How a value reads inside "(got ...)": short, quoted when text. */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  // Quoted and cleaned: errors are printed as they are, and the value came from the file.
  if (typeof v === "string") return quoteText(v, 60);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return v.length === 0 ? "an empty list" : `a list of ${v.length}`;
  if (isObject(v)) return "an object";
  return typeof v;
}

/** A key that reads safely bare in a path: short, printable, no spaces, quotes or brackets. */
const BARE_KEY = /^[^\s"'\\[\]]{1,64}$/;

export function childPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  // A key from the file is untrusted text: one holding spaces, controls or bidi
  // characters is quoted like a value (rollouts[0]["\u001b]0;x"]), never printed raw.
  if (!BARE_KEY.test(key) || !isCleanText(key)) return `${base}[${quoteText(key, 60)}]`;
  return base ? `${base}.${key}` : key;
}

/** Collects problems for one source file. */
export class Problems {
  readonly list: string[] = [];
  constructor(readonly source: string) {}

  /** `got`, when passed (even as undefined: "got nothing"), is described in parentheses. */
  add(path: string, expected: string, ...got: [unknown?]): void {
    const where = path === "" ? "(top level)" : path;
    const tail = got.length === 0 ? "" : ` (got ${describeValue(got[0])})`;
    this.list.push(`${this.source}: ${where}: ${expected}${tail}`);
  }

  get ok(): boolean {
    return this.list.length === 0;
  }
}

/** Reads fields of one JSON object, reporting into Problems under the object's path. */
export class ObjectReader {
  constructor(
    readonly obj: JsonObject,
    readonly path: string,
    readonly problems: Problems,
  ) {}

  at(key: string): string {
    return childPath(this.path, key);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined;
  }

  /**
   * Report keys this format does not know (usually typos like "bake_seconds").
   * Keys starting with "$" ($comment, $schema) are for people and tools, and pass.
   */
  onlyKeys(allowed: readonly string[]): void {
    for (const key of Object.keys(this.obj)) {
      if (key.startsWith("$") || allowed.includes(key)) continue;
      this.problems.add(this.at(key), `is not a known field; expected one of ${allowed.join(", ")}`);
    }
  }

  string(key: string, opts: { optional?: boolean; pattern?: RegExp; expected?: string; maxLength?: number } = {}): string | undefined {
    const v = this.obj[key];
    if (v === undefined && opts.optional) return undefined;
    const maxLength = opts.maxLength ?? 256;
    const expected = opts.expected ?? `must be a non-empty string of at most ${maxLength} characters`;
    if (typeof v !== "string" || v.trim() === "" || v.length > maxLength || (opts.pattern && !opts.pattern.test(v))) {
      this.problems.add(this.at(key), expected, v);
      return undefined;
    }
    return v;
  }

  number(
    key: string,
    opts: { optional?: boolean; min?: number; minExclusive?: boolean; max?: number; maxExclusive?: boolean; integer?: boolean; expected: string },
  ): number | undefined {
    const v = this.obj[key];
    if (v === undefined && opts.optional) return undefined;
    if (
      typeof v !== "number" ||
      !Number.isFinite(v) ||
      (opts.integer && !Number.isInteger(v)) ||
      (opts.min !== undefined && (opts.minExclusive ? v <= opts.min : v < opts.min)) ||
      (opts.max !== undefined && (opts.maxExclusive ? v >= opts.max : v > opts.max))
    ) {
      this.problems.add(this.at(key), opts.expected, v);
      return undefined;
    }
    return v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.obj[key];
    if (v === undefined) return undefined;
    if (typeof v !== "boolean") {
      this.problems.add(this.at(key), "must be true or false", v);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[], opts: { optional?: boolean } = {}): T | undefined {
    const v = this.obj[key];
    if (v === undefined && opts.optional) return undefined;
    if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
      this.problems.add(this.at(key), `must be one of ${values.join(", ")}`, v);
      return undefined;
    }
    return v as T;
  }

  /** a duration in seconds; `positive` refuses 0 */
  duration(key: string, opts: { optional?: boolean; positive?: boolean } = {}): number | undefined {
    const v = this.obj[key];
    if (v === undefined && opts.optional) return undefined;
    const d = parseDuration(v);
    if (!d.ok) {
      this.problems.add(this.at(key), DURATION_EXPECTED, v);
      return undefined;
    }
    if (opts.positive && d.seconds <= 0) {
      this.problems.add(this.at(key), "must be a duration longer than 0", v);
      return undefined;
    }
    return d.seconds;
  }

  object(key: string, opts: { optional?: boolean; expected?: string } = {}): ObjectReader | undefined {
    const v = this.obj[key];
    if (v === undefined && opts.optional) return undefined;
    if (!isObject(v)) {
      this.problems.add(this.at(key), opts.expected ?? "must be an object", v);
      return undefined;
    }
    return new ObjectReader(v, this.at(key), this.problems);
  }

  list(key: string, opts: { optional?: boolean; nonEmpty?: boolean; expected: string }): unknown[] | undefined {
    const v = this.obj[key];
    if (v === undefined && opts.optional) return undefined;
    if (!Array.isArray(v) || (opts.nonEmpty && v.length === 0)) {
      this.problems.add(this.at(key), opts.expected, v);
      return undefined;
    }
    return v;
  }
}

/** The root of a file: an object, or one problem saying it is not. */
export function readRoot(json: unknown, path: string, problems: Problems, expected: string): ObjectReader | undefined {
  if (!isObject(json)) {
    problems.add(path, expected, json);
    return undefined;
  }
  return new ObjectReader(json, path, problems);
}
