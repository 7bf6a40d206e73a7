import { afterEach, describe, expect, it } from "vitest";
import { EventLog, LogWriteError } from "../../src/backend/eventlog.js";
import { FaultyIo, noteDraft, removeTempDirs, tempDir } from "../backend/fixtures/eventlog-helpers.js";

// The disk-full fault test falls back to RLIMIT_FSIZE where it may not mount
// a tmpfs; the error a write then gets (EFBIG) must say what to do, like ENOSPC does.

afterEach(removeTempDirs);

describe("EventLog at the file-size limit", () => {
  it("EFBIG: rejects with a sentence naming ulimit -f, and continues once the limit is raised", async () => {
    const io = new FaultyIo();
    const dir = await tempDir();
    const { log } = await EventLog.open(dir, { io });
    await log.append([noteDraft(1)]);
    io.failNext = { op: "write", code: "EFBIG", partialBytes: 10 };
    const err = await log.append([noteDraft(2)]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LogWriteError);
    expect((err as LogWriteError).code).toBe("EFBIG");
    expect((err as LogWriteError).message).toMatch(/seq 2-2 \(1 event\) not recorded, the log still ends at seq 1: .*ulimit -f.*raise the limit or move the data directory, then retry/);
    const [next] = await log.append([noteDraft(2, "after the limit was raised")]);
    expect(next!.seq).toBe(2);
    await log.close();
  });
});
