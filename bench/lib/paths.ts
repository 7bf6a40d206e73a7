import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// Benchmarks run compiled, from dist/bench/; child scripts live next to them
// in dist/bench/child/, results go to the source tree's bench/results/.

/** dist/bench (the directory of the compiled run.js). */
export function benchDistDir(): string {
  return dirname(dirname(fileURLToPath(import.meta.url)));
}

/** The package root: the nearest directory above with a package.json. */
export function packageRoot(): string {
  let dir = benchDistDir();
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export function resultsDir(): string {
  return join(packageRoot(), "bench", "results");
}

/** The compiled child script `name` (e.g. "stream-server" -> dist/bench/child/stream-server.js). */
export function childScript(name: string): string {
  return join(benchDistDir(), "child", `${name}.js`);
}
