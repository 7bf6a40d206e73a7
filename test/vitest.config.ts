import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Kept under test/ (the top level is fixed by the product card); package.json's
// test script points here.
export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  test: {
    include: ["test/**/*.test.ts", "test/**/*.test.tsx"],
    setupFiles: ["test/setup/ci-env.ts", "test/setup/ink-output.ts"],
  },
});
