import { parseArgs, type ParseArgsConfig } from "node:util";

export type CommandIo = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };

/**
 * parseArgs for a `cockpit NAME` subcommand, with the answers every one of
 * them gives the same way: a bad flag prints the error and the help to stderr
 * (exit 2), --help prints the help to stdout (exit 0). Either way the number
 * returned is the exit code; otherwise the parsed arguments.
 */
export function parseCommandArgs<T extends ParseArgsConfig>(
  command: string,
  help: string,
  config: T,
  io: CommandIo,
): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (err) {
    io.stderr.write(`cockpit ${command}: ${(err as Error).message}\n\n${help}\n`);
    return 2;
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    io.stdout.write(help + "\n");
    return 0;
  }
  return parsed;
}
