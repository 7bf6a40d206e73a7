import type { CommandStep } from "../../protocol/types.js";

// Filling a command's placeholders. Each argument is filled on its own and
// handed to the program as one argv element: a version string holding spaces
// or ";" stays one argument, and nothing is ever re-parsed by a shell. A plan
// that asks for a shell gets each value single-quoted instead.

export interface CommandVars {
  step: CommandStep;
  tenant: string;
  rollout: string;
  service: string;
  version: string;
  previousVersion: string;
  /** the ring acted on; "" for a kill switch on a rollout with no ring started */
  ring: string;
  /** the ring's share of traffic, percent, as text ("5", "0.1") */
  traffic: string;
  /** the kill switch's flag; "" when the plan names none */
  flag: string;
}

const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

function lookup(vars: CommandVars, name: string): string | undefined {
  return name in vars && name !== "step" ? String((vars as unknown as Record<string, string>)[name]) : undefined;
}

/** One argument with its placeholders filled; unknown ones are left as they are (the plan validator refuses them). */
export function fillArg(arg: string, vars: CommandVars, quote: (v: string) => string = (v) => v): string {
  return arg.replace(PLACEHOLDER, (whole, name: string) => {
    const v = lookup(vars, name);
    return v === undefined ? whole : quote(v);
  });
}

/** POSIX shell single quoting: 'it'\''s' */
export function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

export function fillArgv(argv: readonly string[], vars: CommandVars, shell: boolean): string[] {
  return argv.map((a) => fillArg(a, vars, shell ? shellQuote : undefined));
}

/** The same values as COCKPIT_* environment variables, for scripts that would rather read those. */
export function commandEnv(vars: CommandVars): Record<string, string> {
  return {
    COCKPIT_STEP: vars.step,
    COCKPIT_TENANT: vars.tenant,
    COCKPIT_ROLLOUT: vars.rollout,
    COCKPIT_SERVICE: vars.service,
    COCKPIT_VERSION: vars.version,
    COCKPIT_PREVIOUS_VERSION: vars.previousVersion,
    COCKPIT_RING: vars.ring,
    COCKPIT_TRAFFIC: vars.traffic,
    COCKPIT_FLAG: vars.flag,
  };
}
