// The terminal stream Ink writes to, with one correction.
//
// Ink 6.8.0's incremental renderer, for a frame shorter than the terminal
// (ours always is: the root is kept one row shorter so Ink does not clear the
// screen every frame), starts each new frame by moving the cursor up one line
// too few: the previous frame ended with a newline, which it does not count.
// Every frame then lands one row lower than the last, and the screen fills
// with copies of the top lines. Our frame always begins at the top-left of
// the alternate screen, so the cursor-up that opens a frame is replaced by
// "cursor home". If a later Ink counts right, home is still the right place.

const FRAME_START_UP = /^\x1b\[\d*A/;
const CURSOR_HOME = "\x1b[H";

export function anchorFrameStart(chunk: string): string {
  return FRAME_START_UP.test(chunk) ? chunk.replace(FRAME_START_UP, CURSOR_HOME) : chunk;
}

/** A view of `stdout` whose writes have frame starts anchored to the top of the screen; everything else passes through. */
export function anchoredStdout(stdout: NodeJS.WriteStream): NodeJS.WriteStream {
  return new Proxy(stdout, {
    get(target, prop) {
      if (prop === "write") {
        return (chunk: unknown, ...rest: unknown[]) =>
          (target.write as (...a: unknown[]) => boolean)(typeof chunk === "string" ? anchorFrameStart(chunk) : chunk, ...rest);
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
