import { afterEach, describe, expect, it } from "vitest";
import { EventLog } from "../../src/backend/eventlog.js";
import type { CockpitEvent } from "../../src/protocol/types.js";
import { drafts, removeTempDirs, tempDir } from "../backend/fixtures/eventlog-helpers.js";

// Found by the slow-client load test: the backend's memory kept growing after
// the resume window (keepInMemory events) was full, because events that left
// the window stayed referenced by the array until it was compacted, i.e. up to
// twice the window. White-box on purpose: what matters is what the log still
// references, which no public method shows.

afterEach(removeTempDirs);

function heldReferences(log: EventLog): number {
  const recent = (log as unknown as { recent: Array<CockpitEvent | undefined> }).recent;
  return recent.filter((e) => e !== undefined).length;
}

describe("EventLog's resume window", () => {
  it("references no more than keepInMemory events, however many pass through it", async () => {
    const { log } = await EventLog.open(await tempDir(), { keepInMemory: 2_000 });
    for (let b = 0; b < 7; b++) {
      await log.append(drafts(b * 500 + 1, 500));
      expect(heldReferences(log)).toBe(Math.min(2_000, (b + 1) * 500));
    }
    for (let b = 7; b < 14; b++) {
      await log.append(drafts(b * 500 + 1, 500));
      expect(heldReferences(log)).toBe(2_000);
    }
    // The window still answers resumes exactly.
    expect(log.since(7_000 - 2_000)!.map((e) => e.seq)).toEqual(Array.from({ length: 2_000 }, (_, i) => 5_001 + i));
    expect(log.since(7_000 - 2_001)).toBeNull();
    expect(log.since(6_990)!.map((e) => e.seq)).toEqual([6_991, 6_992, 6_993, 6_994, 6_995, 6_996, 6_997, 6_998, 6_999, 7_000]);
    await log.close();
  });
});
