import { createWriteStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eventFrame, type EventStream } from "./events.js";

// Frames for a stream-server child: written once to a temporary file the child
// reads, removed by the returned cleanup.

export async function writeFramesFile(stream: EventStream, count: number): Promise<{ path: string; bytes: number; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "cockpit-bench-frames-"));
  const path = join(dir, "frames.jsonl");
  const out = createWriteStream(path);
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const line = eventFrame(stream.event(i)) + "\n";
    bytes += Buffer.byteLength(line);
    if (!out.write(line)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((resolve, reject) => {
    out.once("error", reject);
    out.end(() => resolve());
  });
  return { path, bytes, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
