import fc from "fast-check";
import { Box, Text, render } from "ink";
import { beforeAll, describe, expect, it } from "vitest";
import { fastGet, installFastOutput, loadInkOutput, originalGet, type InkOutputLike, type InkOutputResult } from "../../src/tui/ink-fast-output.js";
import { FakeStdin, FakeStdout } from "../../bench/lib/terminal.js";

// The frame composer we put over Ink's must produce Ink's frames byte for
// byte: a different byte is a different screen. Compared against Ink's own
// get() on random writes (styles, wide characters, clips, overlaps, pieces
// past the edge) and on frames of a real Ink tree.

type Get = (this: InkOutputLike) => InkOutputResult;
let inkGet: Get;
let OutputCtor: new (o: { width: number; height: number }) => InkOutputLike & {
  write(x: number, y: number, text: string, o: { transformers: ((s: string, i: number) => string)[] }): void;
  clip(c: object): void;
  unclip(): void;
};

beforeAll(async () => {
  const { Output } = await loadInkOutput();
  OutputCtor = Output as unknown as typeof OutputCtor;
  // Whichever ran first (this file or another importing startCockpit), keep hold of Ink's own.
  const before = Output.prototype.get;
  expect(await installFastOutput()).toBe("installed");
  inkGet = originalGet() ?? before;
  expect(inkGet).not.toBe(fastGet);
});

const SGR = ["\x1b[1m", "\x1b[2m", "\x1b[7m", "\x1b[4m", "\x1b[31m", "\x1b[32m", "\x1b[39m", "\x1b[22m", "\x1b[27m", "\x1b[0m", "\x1b[38;2;10;20;30m", "\x1b[44m", "\x1b[49m"];
const CHARS = ["a", "b", " ", "x", "✓", "…", "▁", "█", "‖", "漢", "字", "🙂", "é", "e\u0301", "│", "·"];
const piece = fc.array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...CHARS) }, { weight: 1, arbitrary: fc.constantFrom(...SGR) }), { maxLength: 14 }).map((a) => a.join(""));
const text = fc.array(piece, { minLength: 1, maxLength: 3 }).map((lines) => lines.join("\n"));
const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant("write" as const), x: fc.integer({ min: -3, max: 24 }), y: fc.integer({ min: -2, max: 7 }), text, colour: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("clip" as const), x1: fc.option(fc.integer({ min: 0, max: 10 })), x2: fc.option(fc.integer({ min: 5, max: 22 })), y1: fc.option(fc.integer({ min: 0, max: 3 })), y2: fc.option(fc.integer({ min: 2, max: 6 })) }) },
  { weight: 1, arbitrary: fc.constant({ kind: "unclip" as const }) },
);

function replay(width: number, height: number, ops: ReadonlyArray<{ kind: string } & Record<string, unknown>>) {
  const o = new OutputCtor({ width, height });
  for (const a of ops) {
    if (a.kind === "write") {
      const transformers = a.colour ? [(s: string) => `\x1b[35m${s}\x1b[39m`] : [];
      o.write(a.x as number, a.y as number, a.text as string, { transformers });
    } else if (a.kind === "clip") {
      const c: Record<string, number> = {};
      for (const k of ["x1", "x2", "y1", "y2"]) if (a[k] !== null) c[k] = a[k] as number;
      o.clip(c);
    } else o.unclip();
  }
  return o;
}

describe("the row-cached frame composer", () => {
  it("gives Ink's frame, byte for byte, for random writes and clips", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 6 }), fc.array(op, { maxLength: 12 }), (width, height, ops) => {
        const o = replay(width, height, ops);
        const expected = inkGet.call(o);
        // Twice: the second answer comes from the caches.
        expect(fastGet.call(o)).toEqual(expected);
        expect(fastGet.call(o)).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it("gives Ink's frames for a real tree, before and after a change", async () => {
    const frames: { ours: string; inks: string }[] = [];
    const { Output } = await loadInkOutput();
    const compare = function (this: InkOutputLike) {
      const ours = fastGet.call(this);
      frames.push({ ours: ours.output, inks: inkGet.call(this).output });
      return ours;
    };
    Output.prototype.get = compare;
    try {
      const stdout = new FakeStdout(60, 12);
      const Screen = ({ n }: { n: number }) => (
        <Box flexDirection="row">
          <Box flexDirection="column" width={30} height={6} overflowY="hidden">
            {Array.from({ length: 8 }, (_, i) => (
              <Box key={i} height={1}>
                <Text color="green" bold>{`✓ row ${i}`}</Text>
                <Text inverse={i === n}>{` value ${(i * n) % 7} `}</Text>
                <Text color="red">{"▁▂▃█".repeat(1 + ((i + n) % 3))}</Text>
              </Box>
            ))}
          </Box>
          <Box flexDirection="column" width={30}>
            <Text wrap="truncate-end">{`timeline 漢字 entry ${n} that is rather long and gets cut at the edge`}</Text>
            <Text dimColor>{`… ${n}`}</Text>
          </Box>
        </Box>
      );
      const app = render(<Screen n={0} />, { stdout: stdout as unknown as NodeJS.WriteStream, stdin: new FakeStdin() as unknown as NodeJS.ReadStream, debug: true, patchConsole: false });
      for (let n = 1; n < 6; n++) app.rerender(<Screen n={n} />);
      app.unmount();
    } finally {
      Output.prototype.get = fastGet;
    }
    expect(frames.length).toBeGreaterThanOrEqual(6);
    for (const f of frames) expect(f.ours).toBe(f.inks);
    // and the frames did change, so the comparison covered new rows as well as cached ones
    expect(new Set(frames.map((f) => f.inks)).size).toBeGreaterThan(3);
  });
});
