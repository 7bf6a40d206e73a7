import { writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { draftFromSource } from "../postmortem/run.js";
import { readLogOverWs } from "./ws-source.js";

// The cockpit's `e` key: draft the post-mortem for the current incident (or the
// latest rollback / kill switch / breach) and write it next to the log (demo)
// or in the working directory (connect). Returns the path it wrote.

export type DraftSource = { kind: "dir"; dataDir: string } | { kind: "url"; url: string; token?: string; ca?: string };

export async function draftToFile(src: DraftSource, now: () => Date = () => new Date()): Promise<string> {
  const source = src.kind === "dir" ? src.dataDir : src.url;
  const result = await draftFromSource(source, {
    format: "md",
    ...(src.kind === "url" ? { openWsSource: (url: string) => readLogOverWs(url, { ...(src.token ? { token: src.token } : {}), ...(src.ca ? { ca: src.ca } : {}) }) } : {}),
  });
  if (!result.ok) throw new Error(result.message);
  const id = result.draft.header.incidentId ?? "rollout";
  const stamp = now().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  const dir = src.kind === "dir" ? src.dataDir : process.cwd();
  const path = resolve(join(dir, `postmortem-${id.replace(/[^A-Za-z0-9_.-]/g, "_")}-${stamp}.md`));
  await writeFile(path, result.text, "utf8");
  return path;
}
