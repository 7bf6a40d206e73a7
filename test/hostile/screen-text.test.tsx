import { describe, it } from "vitest";
import { SMALL_PAYLOADS } from "./payloads.js";
import { checkPayload } from "./screen-helpers.js";

// Terminal injection, part 2: the payloads without escape sequences: C0
// controls, \r and backspace overwrites, newlines, bidi overrides and
// isolates, zero-width characters, lone surrogates, combining floods, wide
// characters and emoji, Markdown and HTML, in every text field (see
// screen-helpers.tsx). The escape sequences are in screen-escapes.test.tsx.

const TEXT = SMALL_PAYLOADS.filter((p) => !/[\x1b\u0080-\u009f]/.test(p.text));

describe("control, bidi, invisible and wide-character payloads in every text field render inert and readable", () => {
  it.each(TEXT.map((p) => [p.name, p] as const))("%s", async (_name, p) => checkPayload(p), 30_000);
});
