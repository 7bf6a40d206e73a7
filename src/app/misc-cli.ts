import { parseCommandArgs, type CommandIo } from "../cli-args.js";
import { listScenarios, loadScenario } from "../backend/scenarios.js";
import { hashToken, mintToken } from "../backend/tokens.js";
import { formatVerifyResult, verifyLog } from "../backend/verify.js";
import { ROLES, type Role } from "../protocol/types.js";

// Small subcommands: verify-log, scenarios, token. Each parses its own
// arguments, prints, and returns an exit code.

export const VERIFY_HELP = `Usage: cockpit verify-log DIR|FILE

Recompute the event log's hash chain. Exit 0 when it is intact; 1 naming the
first bad seq and line when it is not; 2 when there is no log to read.`;

export async function runVerifyLog(argv: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs("verify-log", VERIFY_HELP, { args: argv, allowPositionals: true, options: { help: { type: "boolean", short: "h" } } }, io);
  if (typeof parsed === "number") return parsed;
  const target = parsed.positionals[0];
  if (!target || parsed.positionals.length > 1) {
    io.stderr.write(`cockpit verify-log: give one data directory or log file\n\n${VERIFY_HELP}\n`);
    return 2;
  }
  try {
    const r = await verifyLog(target);
    (r.ok ? io.stdout : io.stderr).write(formatVerifyResult(r, target) + "\n");
    return r.ok ? 0 : 1;
  } catch (err) {
    io.stderr.write(`cockpit verify-log: ${(err as Error).message}\n`);
    return 2;
  }
}

export const SCENARIOS_HELP = `Usage: cockpit scenarios

List the bundled simulated incidents (fixtures/scenarios/) with what each shows.`;

export async function runScenarios(argv: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs("scenarios", SCENARIOS_HELP, { args: argv, options: { help: { type: "boolean", short: "h" } } }, io);
  if (typeof parsed === "number") return parsed;
  for (const name of listScenarios()) {
    try {
      const s = await loadScenario(name);
      io.stdout.write(`${name}\n  ${s.description}\n`);
    } catch (err) {
      io.stdout.write(`${name}\n  (invalid: ${(err as Error).message})\n`);
    }
  }
  return 0;
}

export const TOKEN_HELP = `Usage: cockpit token --name NAME --role viewer|operator|commander --tenant TENANT

Mint a new random token. Prints the token (give it to the person, once) and
its entry for the "tokens" list of the backend's --tokens file, which stores
only its sha256:

  {"tokens": [ENTRY, ENTRY, ...]}

The backend reads the file at start: restart it to take a new entry.`;

export async function runToken(argv: string[], io: CommandIo): Promise<number> {
  const parsed = parseCommandArgs(
    "token",
    TOKEN_HELP,
    { args: argv, options: { name: { type: "string" }, role: { type: "string" }, tenant: { type: "string" }, help: { type: "boolean", short: "h" } } },
    io,
  );
  if (typeof parsed === "number") return parsed;
  const { values } = parsed;
  if (!values.name || !values.tenant || !values.role || !ROLES.includes(values.role as Role)) {
    io.stderr.write(`cockpit token: --name, --tenant and --role (viewer, operator or commander) are required\n\n${TOKEN_HELP}\n`);
    return 2;
  }
  const token = mintToken();
  io.stdout.write(`token: ${token}\n`);
  io.stdout.write(`tokens file entry: ${JSON.stringify({ sha256: hashToken(token), name: values.name, role: values.role, tenant: values.tenant })}\n`);
  return 0;
}
