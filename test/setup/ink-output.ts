// Components are tested with the frame composer the cockpit runs with
// (src/tui/ink-fast-output.ts, installed by startCockpit), not Ink's own.
// test/tui/ink-fast-output.test.tsx checks the two agree byte for byte.
import { installFastOutput } from "../../src/tui/ink-fast-output.js";

await installFastOutput();
