import fc from "fast-check";
import { anyText } from "./arbitraries.js";

// Valid plan files, scenario files, SLO assertions and durations, built from
// their grammar (src/domain/*.ts headers), so the validators can be shown to
// accept every one of them and read back what was written.

const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const digits = "0123456789";

/** 1-64 of [A-Za-z0-9_.-], a letter or digit first (json-check.ts ID_PATTERN). */
export const id = fc
  .tuple(fc.constantFrom(...(letters + digits).split("")), fc.string({ unit: fc.constantFrom(...(letters + digits + "_.-").split("")), maxLength: 20 }))
  .map(([a, b]) => a + b);

/** [A-Za-z_][A-Za-z0-9_.]* (assertion.ts METRIC). */
export const metricName = fc
  .tuple(fc.constantFrom(...(letters + "_").split("")), fc.string({ unit: fc.constantFrom(...(letters + digits + "_.").split("")), maxLength: 16 }))
  .map(([a, b]) => a + b)
  // "assert(" opens the wrapped form; a metric called assert is fine, but not when "(" follows (it cannot here).
  .filter((m) => m.length > 0);

const digitRun = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...digits.split("")), minLength: min, maxLength: max });

/** An unsigned decimal as people type it: "50", "0.5", ".5", "1e3". */
export const unsignedNumber = fc.oneof(
  digitRun(1, 6),
  fc.tuple(digitRun(1, 4), digitRun(1, 4)).map(([a, b]) => `${a}.${b}`),
  digitRun(1, 3).map((b) => `.${b}`),
  fc.tuple(digitRun(1, 3), fc.constantFrom("e", "E"), fc.constantFrom("", "+", "-"), digitRun(1, 2)).map((p) => p.join("")),
);

const space = fc.constantFrom("", " ", "  ", "\t");
const someSpace = fc.constantFrom(" ", "  ", "\t");

// ---- durations ---------------------------------------------------------------------------------

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

export interface DurationText {
  text: string;
  seconds: number;
}

/** "90s", "1h30m", "500ms", "2d 3h" (spaces only when `spaced`), or a plain number of seconds, with what it means. */
function durations(spaced: boolean): fc.Arbitrary<DurationText> {
  return fc.oneof(
  fc
    .uniqueArray(fc.constantFrom("ms", "s", "m", "h", "d"), { minLength: 1, maxLength: 5 })
    .chain((units) =>
      fc.tuple(
        fc.constant(units),
        fc.array(fc.oneof(digitRun(1, 4), fc.tuple(digitRun(1, 3), digitRun(1, 2)).map(([a, b]) => `${a}.${b}`)), { minLength: units.length, maxLength: units.length }),
        fc.array(spaced ? fc.constantFrom("", " ") : fc.constant(""), { minLength: units.length, maxLength: units.length }),
      ),
    )
    .map(([units, values, gaps]) => {
      const text = units.map((u, i) => `${values[i]}${u}${i < units.length - 1 ? gaps[i] : ""}`).join("");
      const seconds = units.reduce((sum, u, i) => sum + Number(values[i]) * UNIT_SECONDS[u]!, 0);
      return { text, seconds: Math.round(seconds * 1000) / 1000 };
    }),
  fc.oneof(digitRun(1, 6), fc.tuple(digitRun(1, 4), digitRun(1, 3)).map(([a, b]) => `${a}.${b}`)).map((t) => ({ text: t, seconds: Number(t) })),
  );
}

export const durationText = durations(true);
/** As an assertion's "for" takes it: one word. */
export const compactDurationText = durations(false);

// ---- assertions ----------------------------------------------------------------------------------

export interface AssertionParts {
  text: string;
  metric: string;
  op: "<" | "<=" | ">" | ">=";
  rhs: { kind: "absolute"; value: number } | { kind: "baseline"; factor: number; offset: number };
  forSeconds: number | null;
}

const op = fc.constantFrom("<", "<=", ">", ">=" as const);
const sign = fc.constantFrom("", "+", "-");
const positiveFactor = unsignedNumber.filter((n) => Number(n) > 0 && Number.isFinite(Number(n)));

/** A valid assertion in any spacing, optionally wrapped in assert( ), with what it says. */
export const assertionText: fc.Arbitrary<AssertionParts> = fc
  .record({
    metric: metricName,
    op,
    s1: space,
    s2: space,
    absolute: fc.boolean(),
    valueSign: sign,
    value: unsignedNumber,
    pct: fc.boolean(),
    factor: fc.option(fc.tuple(space, positiveFactor, space)),
    offset: fc.option(fc.tuple(space, fc.constantFrom("+", "-"), space, unsignedNumber, fc.boolean())),
    forPart: fc.option(fc.tuple(someSpace, someSpace, compactDurationText.filter((d) => d.seconds > 0))),
    wrap: fc.option(fc.tuple(space, space, space)),
    lead: space,
    trail: space,
  })
  .map((p) => {
    let rhsText: string;
    let rhs: AssertionParts["rhs"];
    if (p.absolute) {
      rhsText = `${p.valueSign}${p.value}${p.pct ? "%" : ""}`;
      rhs = { kind: "absolute", value: Number(`${p.valueSign}${p.value}`) };
    } else {
      rhsText = "baseline";
      let factor = 1;
      let offset = 0;
      if (p.factor) {
        rhsText += `${p.factor[0] || " "}*${p.factor[2]}${p.factor[1]}`;
        factor = Number(p.factor[1]);
      }
      if (p.offset) {
        const [a, s, b, n, pct] = p.offset;
        rhsText += `${a || " "}${s}${b}${n}${pct ? "%" : ""}`;
        offset = s === "+" ? Number(n) : -Number(n);
      }
      rhs = { kind: "baseline", factor, offset };
    }
    const forText = p.forPart ? `${p.forPart[0]}for${p.forPart[1]}${p.forPart[2].text}` : "";
    const body = `${p.metric}${p.s1}${p.op}${p.s2}${rhsText}${forText}`;
    const text = p.wrap ? `${p.lead}assert${p.wrap[0]}(${p.wrap[1]}${body}${p.wrap[2]})${p.trail}` : `${p.lead}${body}${p.trail}`;
    return { text, metric: p.metric, op: p.op, rhs, forSeconds: p.forPart ? p.forPart[2].seconds : null };
  })
  // Numbers past double range are refused on purpose ("the number is too large").
  .filter((a) => (a.rhs.kind === "absolute" ? Number.isFinite(a.rhs.value) : Number.isFinite(a.rhs.factor) && Number.isFinite(a.rhs.offset)));

// ---- commands ----------------------------------------------------------------------------------

const argWord = fc.string({ unit: fc.constantFrom(...(letters + digits + "-_/=.:").split("")), minLength: 1, maxLength: 12 });
export const commandSpec = fc.oneof(
  fc.array(argWord, { minLength: 1, maxLength: 4 }).map((a) => a.join(" ")),
  // "{" starts a placeholder ({version}, {ring}) that plan.ts checks by name; hostile text without one.
  fc.array(anyText.filter((s) => s !== "" && !s.includes("{")), { minLength: 1, maxLength: 3 }),
  fc.record(
    { argv: fc.oneof(fc.array(argWord, { minLength: 1, maxLength: 3 }), argWord), shell: fc.boolean(), timeoutSeconds: fc.double({ min: 0.001, max: 3600, noNaN: true }) },
    { requiredKeys: ["argv"] },
  ),
);

// ---- plans -------------------------------------------------------------------------------------

/** Non-blank text of at most `max` characters (what ObjectReader.string accepts), hostile characters included. */
const label = (max: number) => anyText.filter((s) => s.trim() !== "" && s.length <= max);

function ring(slos: fc.Arbitrary<AssertionParts[]>) {
  return fc.record(
    {
      name: id,
      bake: fc.oneof(durationText.map((d) => ({ bake: d.text })), fc.double({ min: 0, max: 1e6, noNaN: true }).map((s) => ({ bakeSeconds: s })), fc.constant({})),
      slos,
      apply: fc.option(commandSpec, { nil: undefined }),
      rollback: fc.option(commandSpec, { nil: undefined }),
    },
    { requiredKeys: ["name", "bake", "slos"] },
  );
}

const uniqueSlos = fc.uniqueArray(assertionText, {
  maxLength: 3,
  // The validator refuses two texts that normalize alike; compare what they say.
  selector: (a) => JSON.stringify([a.metric, a.op, a.rhs, a.forSeconds, a.text.includes("%")]),
});

/** A plan file's JSON, valid by construction. */
export const planJson = fc
  .record({
    tenant: id,
    rollouts: fc.uniqueArray(
      fc.record(
        {
          id,
          service: label(256),
          versions: fc.tuple(label(128), label(128)).filter(([a, b]) => a !== b),
          kind: fc.constantFrom("code", "config", "flag"),
          onBreach: fc.constantFrom("pause", "rollback"),
          startAfter: durationText.map((d) => d.text),
          breachAfter: fc.integer({ min: 1, max: 100 }),
          killSwitch: fc.record({ flag: label(128), engage: commandSpec, release: commandSpec }, { requiredKeys: ["flag"] }),
          errorBudget: fc.record({ metric: metricName, objective: fc.double({ min: 0.001, max: 99.999, noNaN: true }) }),
          rings: fc.uniqueArray(ring(uniqueSlos), { minLength: 1, maxLength: 4, selector: (g) => g.name }),
          traffic: fc.array(fc.double({ min: 0.001, max: 100, noNaN: true }), { minLength: 4, maxLength: 4 }),
          comment: fc.string(),
        },
        { requiredKeys: ["id", "service", "versions", "kind", "rings", "traffic"] },
      ),
      { minLength: 1, maxLength: 3, selector: (r) => r.id },
    ),
  })
  .map(({ tenant, rollouts }) => ({
    tenant,
    rollouts: rollouts.map((r) => {
      // rings only widen: sort the traffic so it never decreases
      const traffic = [...r.traffic].sort((a, b) => a - b);
      const out: Record<string, unknown> = {
        id: r.id,
        service: r.service,
        version: r.versions[0],
        previousVersion: r.versions[1],
        kind: r.kind,
        rings: r.rings.map((g, i) => {
          const ringOut: Record<string, unknown> = { name: g.name, traffic: traffic[i], ...g.bake, slos: g.slos.map((s) => s.text) };
          if (g.apply !== undefined) ringOut.apply = g.apply;
          if (g.rollback !== undefined) ringOut.rollback = g.rollback;
          return ringOut;
        }),
      };
      for (const k of ["onBreach", "startAfter", "breachAfter", "killSwitch", "errorBudget"] as const) if (r[k] !== undefined) out[k] = r[k];
      if (r.comment !== undefined) out.$comment = r.comment;
      return out;
    }),
  }));

// ---- scenarios ---------------------------------------------------------------------------------

/** A scenario file's JSON, valid by construction: it models every metric its plan names, and its effects and script point into the plan. */
export const scenarioJson = planJson.chain((plan) => {
  const rollouts = plan.rollouts as { id: string; rings: { name: string; slos: string[] }[]; errorBudget?: { metric: string } }[];
  const used = new Set<string>();
  for (const r of rollouts) {
    if (r.errorBudget) used.add(r.errorBudget.metric);
    for (const g of r.rings) for (const s of g.slos) used.add(/[A-Za-z_][A-Za-z0-9_.]*/.exec(s.replace(/^\s*assert\s*\(/, ""))![0]);
  }
  const metrics = [...used];
  const model = fc.record(
    {
      unit: fc.string({ maxLength: 32 }),
      baseline: fc.double({ min: 0, max: 1000, noNaN: true }),
      noise: fc.double({ min: 0, max: 10, noNaN: true }),
      perTraffic: fc.boolean(),
    },
    { requiredKeys: ["unit", "baseline"] },
  );
  const extra = fc.uniqueArray(metricName, { maxLength: 2 }).map((m) => m.filter((x) => !used.has(x)));
  const pairs = rollouts.flatMap((r) => r.rings.map((g) => [r.id, g.name] as const));
  return fc.record(
    {
      name: label(256),
      description: fc.string({ maxLength: 100 }),
      seed: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
      speed: fc.double({ min: 0.001, max: 100_000, noNaN: true }),
      sampleEverySeconds: durationText.filter((d) => d.seconds > 0).map((d) => d.text),
      burnWindowScale: fc.oneof(fc.double({ min: 0.001, max: 10, noNaN: true }), fc.constant("1/60")),
      recoverySeconds: durationText.map((d) => d.text),
      durationSeconds: fc.integer({ min: 60, max: 100_000 }),
      plan: fc.constant(plan),
      metrics: fc.tuple(extra, fc.array(model, { minLength: metrics.length + 2, maxLength: metrics.length + 2 })).map(([ex, models]) => {
        const all = [...metrics, ...ex];
        if (all.length === 0) all.push("error_rate");
        return Object.fromEntries(all.map((m, i) => [m, models[i % models.length]!]));
      }),
      effects: fc.array(
        fc.record({ pair: fc.constantFrom(...pairs), factor: fc.double({ min: 0, max: 10, noNaN: true }), at: durationText.map((d) => d.text) }),
        { maxLength: 3 },
      ),
      script: fc.array(
        fc.record({
          at: fc.integer({ min: 0, max: 60 }),
          name: label(128),
          role: fc.constantFrom("viewer", "operator", "commander"),
          rollout: fc.constantFrom(...rollouts.map((r) => r.id)),
          action: fc.constantFrom("pause", "resume", "promote", "rollback"),
          reason: fc.string({ minLength: 1, maxLength: 50 }).filter((r) => r.trim() !== ""),
        }),
        { maxLength: 3 },
      ),
    },
    { requiredKeys: ["name", "plan", "metrics", "effects", "script"] },
  );
}).map((s) => {
  const metricNames = Object.keys(s.metrics);
  return {
    ...s,
    effects: s.effects.map((e, i) => ({ rollout: e.pair[0], ring: e.pair[1], metric: metricNames[i % metricNames.length], factor: e.factor, at: e.at })),
    script: s.script.map((c) => ({ at: c.at, actor: { name: c.name, role: c.role }, action: c.action, target: { rollout: c.rollout }, reason: c.reason })),
  };
});
