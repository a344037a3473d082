import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { root } from "./processes.js";

/** Where the benches write their results: git-ignored, not linted. */
export const resultsDir = path.join(root, "bench", "results");

/** `bench/results/<name>-<time>.<extension>`, the time file-name safe. */
export function resultsFile(name: string, when: string, extension = "json"): string {
  return path.join(resultsDir, `${name}-${when.replace(/[:.]/g, "-")}.${extension}`);
}

/** The machine a run measured: its figures are only comparable on the same one. */
export function machine() {
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown CPU",
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
  };
}

/** A file's path as a run prints it: relative to where the bench was started. */
export const shown = (file: string) => path.relative(process.cwd(), file) || file;

/** Writes `results` as JSON to `file`, creating its directory; returns the path, `shown`. */
export async function writeResults(file: string, results: unknown): Promise<string> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  return shown(file);
}
