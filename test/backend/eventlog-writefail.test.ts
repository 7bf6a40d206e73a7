import { stat } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { EventLog, LogWriteError } from "../../src/backend/eventlog.js";
import { verifyLog } from "../../src/backend/verify.js";
import { drafts, FaultyIo, gate, noteDraft, readLines, removeTempDirs, tempDir } from "./fixtures/eventlog-helpers.js";

// A full disk or a read-only remount cannot be staged portably (and root ignores
// chmod), so these go through the EventLogOptions.io seam: real files, with
// the failure injected at the write, the fdatasync or the reopen.

afterEach(removeTempDirs);

async function rejection(p: Promise<unknown>): Promise<LogWriteError> {
  const err = await p.then(
    () => {
      throw new Error("append should have failed");
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LogWriteError);
  return err as LogWriteError;
}

describe("EventLog when writing fails", () => {
  it("disk full mid-write: rejects, cuts the partial bytes, gives the seqs back", async () => {
    const io = new FaultyIo();
    const dir = await tempDir();
    const { log } = await EventLog.open(dir, { io });
    await log.append(drafts(1, 2));
    const durable = (await stat(log.path)).size;

    io.failNext = { op: "write", code: "ENOSPC", partialBytes: 50 };
    const err = await rejection(log.append(drafts(3, 3)));
    expect(err.op).toBe("write");
    expect(err.code).toBe("ENOSPC");
    expect(err.message).toContain(log.path);
    expect(err.message).toContain("seq 3-5 (3 events) not recorded, the log still ends at seq 2");
    expect(err.message).toContain("free disk space, then retry");
    expect((await stat(log.path)).size).toBe(durable);
    expect(log.headSeq).toBe(2);
    expect(log.since(0)!.map((e) => e.seq)).toEqual([1, 2]);

    // The disk has room again.
    const [next] = await log.append([noteDraft(3, "after the disk recovered")]);
    expect(next!.seq).toBe(3);
    await log.close();
    expect(await verifyLog(dir)).toMatchObject({ ok: true, events: 3, headSeq: 3 });
    const lines = await readLines(log.path);
    expect(lines[2]).toContain("after the disk recovered");
  });

  it("fdatasync fails (EIO): rejects, and the next batch rewrites from the last durable byte on a fresh handle", async () => {
    const io = new FaultyIo();
    const dir = await tempDir();
    const { log } = await EventLog.open(dir, { io });
    await log.append([noteDraft(1)]);
    const durable = (await stat(log.path)).size;
    const opensBefore = io.opens;

    io.failNext = { op: "sync", code: "EIO" };
    const err = await rejection(log.append([noteDraft(2, "lost")]));
    expect(err.op).toBe("sync");
    expect(err.message).toContain("seq 2-2 (1 event) not recorded");
    expect(err.message).toContain("check the disk (dmesg), then retry");
    expect((await stat(log.path)).size).toBe(durable); // the unsynced line is not left behind

    const [next] = await log.append([noteDraft(2, "kept")]);
    expect(next!.seq).toBe(2);
    expect(io.opens).toBe(opensBefore + 1);
    await log.close();
    const lines = await readLines(log.path);
    expect(lines).toHaveLength(2);
    expect(lines.join("\n")).not.toContain("lost");
    expect(await verifyLog(dir)).toMatchObject({ ok: true, headSeq: 2 });
  });

  it("an unusable handle (closed under it): rejects, then a later append reopens and continues with no gap", async () => {
    const io = new FaultyIo();
    const dir = await tempDir();
    const { log } = await EventLog.open(dir, { io });
    await log.append([noteDraft(1)]);
    await io.handles[0]!.close();

    const err = await rejection(log.append([noteDraft(2)]));
    expect(err.op).toBe("write");
    expect(err.message).toContain("check the disk and the data directory, then retry");

    const [next] = await log.append([noteDraft(2)]);
    expect(next!.seq).toBe(2);
    expect(next!.prev).toBe(log.since(0)![0]!.hash);
    await log.close();
    expect(await verifyLog(dir)).toMatchObject({ ok: true, headSeq: 2 });
  });

  it("the directory stays unwritable for a while: each append rejects until it comes back", async () => {
    const io = new FaultyIo();
    const dir = await tempDir();
    const { log } = await EventLog.open(dir, { io });
    await log.append([noteDraft(1)]);

    io.failNext = { op: "sync", code: "EROFS" };
    expect((await rejection(log.append([noteDraft(2)]))).message).toContain("make the data directory writable, then retry");
    io.failNext = { op: "open", code: "EROFS" };
    const reopen = await rejection(log.append([noteDraft(2)]));
    expect(reopen.op).toBe("open");
    expect(log.headSeq).toBe(1);

    expect((await log.append([noteDraft(2)]))[0]!.seq).toBe(2);
    await log.close();
    expect(await verifyLog(dir)).toMatchObject({ ok: true, headSeq: 2 });
  });

  it("appends queued behind a failing write take the seqs the failed batch gave back", async () => {
    const io = new FaultyIo();
    const dir = await tempDir();
    const { log } = await EventLog.open(dir, { io });
    await log.append([noteDraft(1)]);

    const held = gate();
    io.holdSync = held;
    const failing = rejection(log.append(drafts(2, 2)));
    await io.syncParked.promise;
    const queued = log.append([noteDraft(10, "queued")]);
    io.failNext = { op: "sync", code: "EIO" };
    held.open();

    expect((await failing).message).toContain("seq 2-3");
    const [event] = await queued;
    expect(event!.seq).toBe(2);
    expect(event!.data).toEqual({ text: "queued" });
    await log.close();
    expect(await verifyLog(dir)).toMatchObject({ ok: true, headSeq: 2 });
  });

  it("listeners hear only about batches that made it to disk", async () => {
    const io = new FaultyIo();
    const { log } = await EventLog.open(await tempDir(), { io });
    const heard: number[] = [];
    log.onAppend((events) => heard.push(...events.map((e) => e.seq)));
    io.failNext = { op: "write", code: "ENOSPC" };
    await rejection(log.append([noteDraft(1)]));
    await log.append([noteDraft(1)]);
    expect(heard).toEqual([1]);
    await log.close();
  });

  it("open() says what failed when the log cannot be opened for writing", async () => {
    const io = new FaultyIo();
    io.failNext = { op: "open", code: "EACCES" };
    const dir = await tempDir();
    const err = await EventLog.open(dir, { io }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LogWriteError);
    expect((err as LogWriteError).message).toMatch(/open failed .*the log cannot be opened for writing: make the data directory writable/);
    const again = await EventLog.open(dir); // the failed open did not keep the path
    await again.log.close();
  });
});
