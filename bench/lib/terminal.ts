import { EventEmitter } from "node:events";

// A terminal for Ink without a TTY: a stdout of a chosen size that counts what
// is written (and lets a benchmark watch each write), and a stdin a benchmark
// types into. Ink reads keys on "readable" with read(), as from a raw-mode TTY.

/** Ink 6 brackets each frame in "synchronized output" begin/end markers, each its own write. */
const SYNC_MARKERS = new Set(["\x1b[?2026h", "\x1b[?2026l"]);

export class FakeStdout extends EventEmitter {
  readonly isTTY = true;
  writes = 0;
  /** writes with content: the frames Ink drew (the synchronized-output markers around them not counted) */
  frames = 0;
  bytes = 0;
  /** called with every chunk Ink writes, as it is written */
  onWrite: ((chunk: string) => void) | null = null;
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write = (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    this.writes++;
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    this.bytes += Buffer.byteLength(text);
    if (!SYNC_MARKERS.has(text)) this.frames++;
    this.onWrite?.(text);
    const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    cb?.();
    return true;
  };
  getColorDepth(): number {
    return 24;
  }
  hasColors(): boolean {
    return true;
  }
}

export class FakeStdin extends EventEmitter {
  readonly isTTY = true;
  private queue: string[] = [];
  /** a key press: queued for read(), announced with "readable" */
  type(data: string): void {
    this.queue.push(data);
    this.emit("readable");
  }
  read = (): string | null => this.queue.shift() ?? null;
  setEncoding(): this {
    return this;
  }
  setRawMode(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  pause(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
}

/** Select Graphic Rendition and cursor/erase sequences out: the text a person reads on the written lines. */
export function visibleText(chunk: string): string {
  return chunk.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
}
