import { parseArgs } from "node:util";
import { loadSetup, startBackend } from "../../src/backend/serve-cli.js";

// The reference backend as `cockpit serve` runs it (engine, fsync'd event log,
// ws server), in its own process: prints "URL <ws url>", stops on SIGTERM.

const { values } = parseArgs({ options: { scenario: { type: "string", default: "healthy" }, speed: { type: "string", default: "1" }, "data-dir": { type: "string" } } });
if (!values["data-dir"]) throw new Error("backend: give --data-dir DIR");
const backend = await startBackend({
  setup: await loadSetup({ scenario: values.scenario }),
  dataDir: values["data-dir"],
  host: "127.0.0.1",
  port: 0,
  speed: Number(values.speed),
  log: () => undefined,
});
process.stdout.write(`URL ${backend.server.url}\n`);
process.on("SIGTERM", () => {
  void backend.close().finally(() => process.exit(0));
});
