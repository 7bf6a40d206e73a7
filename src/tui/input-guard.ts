// What reaches Ink's key parser from the terminal. Ink 6.8 throws on some
// escape sequences that are not keys ("\x1b[8m", "\x1b[6n", "\x1b[0n",
// "\x1bO5n": its parser reports ctrl with no key name, and useInput then calls
// a string method on undefined), and a throw there is an uncaught exception
// that ends the cockpit. Such sequences arrive when someone pastes coloured
// text or a log line holding raw escapes, or when the terminal answers a
// status request another program made. None of them is a key, so they are
// dropped here before Ink sees them.

/**
 * CSI sequences (ESC [ ..., and the Linux console's ESC [[ ...) as ECMA-48
 * shapes them: parameter bytes, intermediate bytes, one final byte. (Ink
 * splits ESC O ... into separate keys, which it reads without trouble.)
 */
const SEQUENCE = /\x1b(\[\[|\[)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]/g;

/**
 * Final bytes of the sequences terminals send for keys, which Ink reads
 * without throwing whatever the parameters: arrows (A-D), home/end (H, F, E),
 * shift+tab (Z), the "~" keys (insert, delete, page up/down, F5+), rxvt's
 * shifted arrows (a-e), the kitty keyboard protocol (u); the Linux console's
 * F1-F5 (ESC [[ A-E). Found by running every final byte through Ink 6.8's
 * parser with the parameters terminals use (test/hostile/input-guard.test.ts
 * checks what passes).
 */
const KEY_FINALS: Readonly<Record<string, ReadonlySet<string>>> = {
  "[": new Set("@ABCDEFHZ[\\]_`abcdeu{|}~".split("")),
  "[[": new Set("@ABCDE[\\]_`{|}".split("")),
};

/** The chunk without escape sequences that are not keys (and would make Ink throw). */
export function dropNonKeySequences(chunk: string): string {
  if (!chunk.includes("\x1b")) return chunk;
  return chunk.replace(SEQUENCE, (seq, intro: string) => (KEY_FINALS[intro]!.has(seq[seq.length - 1]!) ? seq : ""));
}

/**
 * stdin as Ink should read it: the same stream (raw mode, listeners, ref and
 * unref all reach the real one), except that what read() returns has passed
 * dropNonKeySequences.
 */
export function guardedStdin(stdin: NodeJS.ReadStream): NodeJS.ReadStream {
  const read = (size?: number): string | Buffer | null => {
    const chunk = stdin.read(size) as string | Buffer | null;
    if (chunk === null) return null;
    return typeof chunk === "string" ? dropNonKeySequences(chunk) : Buffer.from(dropNonKeySequences(chunk.toString("utf8")), "utf8");
  };
  return new Proxy(stdin, {
    get(target, prop) {
      if (prop === "read") return read;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
