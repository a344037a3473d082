// Issue 10, item 12: every command and the test runner refuse an unsupported Node.js with one line.
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { minimumNodeVersion, unsupportedNodeMessage } from "../src/ops/supported-node.js";

describe("unsupportedNodeMessage", () => {
  it.each(["v22.12.0", "v22.13.1", "v23.0.0", "v24.11.0", "v25.0.0-pre", "v100.0.0"])(
    "accepts %s",
    (version) => {
      expect(unsupportedNodeMessage(version)).toBeUndefined();
    },
  );

  it.each(["v22.11.0", "v22.0.0", "v21.7.3", "v20.20.2", "v18.20.8", "v8.0.0", "v22", "nonsense"])(
    "refuses %s with one line saying what to install",
    (version) => {
      const message = unsupportedNodeMessage(version) ?? "";

      expect(message).toContain(`this is Node.js ${version}`);
      expect(message).toContain(`needs Node.js ${minimumNodeVersion} or later`);
      expect(message).toContain("install Node.js 24");
      expect(message).not.toContain("\n");
    },
  );

  it("uses the minimum that package.json's engines field declares", async () => {
    const manifest = JSON.parse(await readFile("package.json", "utf8")) as {
      engines: { node: string };
    };

    expect(manifest.engines.node).toBe(`>=${minimumNodeVersion}`);
  });
});

const oldVersion = "v20.20.2";
/** Makes a current Node.js report an old version, to check the wiring on any machine. */
const pretendOld = `data:text/javascript,Object.defineProperty(process,"version",{value:"${oldVersion}"})`;
const scratch = await mkdtemp(path.join(tmpdir(), "profile-node-version-"));
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** Runs a command; returns its exit code and output, failing if it is still running after 60 s. */
async function runToEnd(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { DATABASE_URL: _database, NATS_URL: _nats, ...inherited } = process.env;
  const child = spawn(command, args, {
    env: { ...inherited, PORT: "0", HOST: "127.0.0.1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

const commands: Array<[string, string[]]> = [
  ["npm start (src/bin/main.ts)", ["src/bin/main.ts"]],
  ["npm run migrate (src/bin/migrate.ts)", ["src/bin/migrate.ts"]],
  ["npm run token (src/bin/token.ts)", ["src/bin/token.ts", crypto.randomUUID()]],
];

describe("on a Node.js older than the minimum", { timeout: 120_000 }, () => {
  it.each(commands)(
    "%s exits 1 with the one line, before loading the command",
    async (_name, args) => {
      // The commands would create DATA_DIR (PGlite, the development secret) once loaded.
      const dataDir = path.join(scratch, crypto.randomUUID());

      const result = await runToEnd(
        process.execPath,
        ["--import", pretendOld, "--import", "tsx", ...args],
        { DATA_DIR: dataDir },
      );

      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`${unsupportedNodeMessage(oldVersion)}\n`);
      expect(result.stdout).toBe("");
      expect(existsSync(dataDir)).toBe(false);
    },
  );

  it("the test runner (vitest) exits 1 with the same line and runs no test", async () => {
    const result = await runToEnd(process.execPath, [
      "--import",
      pretendOld,
      "node_modules/vitest/vitest.mjs",
      "run",
      "tests/timestamptz.test.ts",
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(unsupportedNodeMessage(oldVersion));
    expect(result.stdout).not.toContain("timestamptz");
  });

  const realOldNode = findOldNode();
  it.skipIf(realOldNode === undefined)(
    `a real old Node.js (${realOldNode?.version ?? "none found on PATH: set TEST_OLD_NODE"}) gets the line from npm start`,
    async () => {
      const { file, version } = realOldNode as { file: string; version: string };
      const dataDir = path.join(scratch, crypto.randomUUID());

      const result = await runToEnd(file, ["--import", "tsx", "src/bin/main.ts"], {
        DATA_DIR: dataDir,
      });

      expect(result.code).toBe(1);
      expect(result.stderr).toBe(`${unsupportedNodeMessage(version)}\n`);
      expect(existsSync(dataDir)).toBe(false);
    },
  );
});

/** A Node.js below the minimum: TEST_OLD_NODE, or the first such `node` on PATH. */
function findOldNode(): { file: string; version: string } | undefined {
  const candidates = [
    process.env.TEST_OLD_NODE,
    ...(process.env.PATH ?? "").split(path.delimiter).map((dir) => path.join(dir, "node")),
  ];
  for (const file of candidates) {
    if (file === undefined || file === "" || !existsSync(file)) continue;
    try {
      const version = execFileSync(file, ["--version"], { encoding: "utf8" }).trim();
      if (unsupportedNodeMessage(version) !== undefined) return { file, version };
    } catch {
      // Not a working Node.js.
    }
  }
  return undefined;
}
