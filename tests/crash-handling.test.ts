// A crash that escapes every handler ends the process with one fatal log line that carries the
// cause, and a non-zero exit code: src/ops/crash-handling.ts, which src/main.ts installs first thing.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, expect, it } from "vitest";

/** Runs tests/support/crash-script.ts; its exit code and stdout's JSON lines. */
async function crash(
  how: "rejection" | "exception",
): Promise<{ code: number | null; lines: Array<Record<string, unknown>> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "tests/support/crash-script.ts", how], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  const lines = stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code, lines };
}

describe("a crash that escapes", { timeout: 90_000 }, () => {
  it.each([
    ["an unhandled rejection", "rejection", "unhandled rejection"],
    ["an uncaught exception", "exception", "uncaught exception"],
  ] as const)(
    "%s is logged once as fatal with its cause, and the process exits 1",
    async (_, how, kind) => {
      const { code, lines } = await crash(how);

      expect(code).toBe(1);
      expect(lines).toHaveLength(1);
      const [line] = lines;
      expect(line).toMatchObject({ level: 60, kind, msg: "crashed: the process exits" });
      const err = line?.err as { message: string; stack: string };
      expect(err.message).toContain("escaped on purpose");
      expect(err.stack).toContain("caused by: Error: the root cause");
    },
  );
});
