import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

// docs/operations.md "## Guarantees" names, for each promise, the test that
// proves it as `path` — "test name". Those references must stay true: the
// file exists and holds a test with exactly that name.

const ROOT = join(import.meta.dirname, "..", "..");
const DOC = readFileSync(join(ROOT, "docs", "operations.md"), "utf8");

function guaranteesSection(): string {
  const start = DOC.indexOf("\n## Guarantees\n");
  expect(start, "docs/operations.md has a ## Guarantees section").toBeGreaterThanOrEqual(0);
  const rest = DOC.slice(start + 1);
  const next = rest.indexOf("\n## ", 3);
  return next < 0 ? rest : rest.slice(0, next);
}

describe("docs/operations.md ## Guarantees", () => {
  const section = guaranteesSection();
  const refs = [...section.matchAll(/`(test\/[^`]+\.test\.tsx?)` — "([^"]+)"/g)].map((m) => ({ file: m[1]!, name: m[2]! }));

  it("names the tests behind every fault it describes", () => {
    for (const fault of ["durable when", "kill -9", "SIGTERM", "Disk full", "stall", "command caught", "slow client", "Memory"]) {
      expect(section.toLowerCase()).toContain(fault.toLowerCase());
    }
    expect(refs.length).toBeGreaterThanOrEqual(15);
  });

  it("every test it names exists under that name", () => {
    const missing: string[] = [];
    for (const { file, name } of refs) {
      const path = join(ROOT, file);
      if (!existsSync(path)) {
        missing.push(`${file}: no such file`);
        continue;
      }
      const source = readFileSync(path, "utf8");
      if (!source.includes(`"${name}"`) && !source.includes(`\`${name}\``)) missing.push(`${file}: no test named "${name}"`);
    }
    expect(missing).toEqual([]);
  });
});
