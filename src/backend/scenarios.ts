import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Plan } from "../domain/plan-types.js";
import type { Scenario } from "../domain/scenario-types.js";
import { validatePlan } from "../domain/plan.js";
import { validateScenario } from "../domain/scenario.js";

// Scenario and plan files: read, parse, validate, with errors that name the
// file and say what to do. The bundled scenarios live in fixtures/scenarios/.

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The package root, from dist/bundle/chunks/, dist/src/backend/ or src/backend/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, "package.json"))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

export function scenarioDir(): string {
  return join(packageRoot(), "fixtures", "scenarios");
}

export function listScenarios(): string[] {
  try {
    return readdirSync(scenarioDir())
      .filter((f) => f.endsWith(".json"))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? `${what} ${path} does not exist` : `cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON (${(err as Error).message}); fix the file and try again`);
  }
}

/** A bundled scenario by name, or a scenario file by path. */
export async function loadScenario(nameOrPath: string): Promise<Scenario> {
  const isPath = nameOrPath.endsWith(".json") || nameOrPath.includes("/");
  const path = isPath ? resolve(nameOrPath) : join(scenarioDir(), `${nameOrPath}.json`);
  if (!isPath && !existsSync(path)) {
    throw new ConfigError(`no scenario named "${nameOrPath}"; bundled scenarios: ${listScenarios().join(", ")}`);
  }
  const json = await readJson(path, "scenario file");
  const r = validateScenario(json, path);
  if (!r.ok) throw new ConfigError(`invalid scenario:\n  ${r.errors.join("\n  ")}`);
  return r.scenario;
}

export async function loadPlan(path: string): Promise<Plan> {
  const json = await readJson(resolve(path), "plan file");
  const r = validatePlan(json, path);
  if (!r.ok) throw new ConfigError(`invalid plan:\n  ${r.errors.join("\n  ")}`);
  return r.plan;
}
