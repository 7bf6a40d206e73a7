import { readFile } from "node:fs/promises";
import { runPostmortem } from "../postmortem/run.js";
import { readLogOverWs } from "./ws-source.js";

// `cockpit postmortem`: the runner from postmortem/, given the one thing it
// cannot do itself: read a log over the protocol (token from COCKPIT_TOKEN,
// a private CA from COCKPIT_CA).

export async function runPostmortemCli(argv: string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  const token = process.env.COCKPIT_TOKEN;
  const caPath = process.env.COCKPIT_CA;
  const ca = caPath ? await readFile(caPath, "utf8").catch(() => undefined) : undefined;
  return runPostmortem(argv, {
    stdout: io.stdout,
    stderr: io.stderr,
    openWsSource: (url) => readLogOverWs(url, { ...(token ? { token } : {}), ...(ca ? { ca } : {}) }),
  });
}
