// Issue 10, item 11: one instance per embedded data directory, shown with real processes.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { lockFileName } from "../src/db/lock.js";
import { testAuth } from "./support/auth.js";
import { grpcClient } from "./support/clients.js";
import { freePort, until, waitForPort } from "./support/nats.js";

/**
 * Generous bounds: a refused start-up takes a TypeScript runner's start, not a timeout, but on a
 * busy machine the runner and PGlite's WebAssembly have taken over a minute to start.
 */
const REFUSED_WITHIN_MS = 120_000;
const LISTENING_WITHIN_MS = 180_000;

interface Proc {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  output(): string;
}

const processes: Proc[] = [];
const directories: string[] = [];

afterEach(async () => {
  for (const { child, exited } of processes.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
  }
  for (const dir of directories.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "profile-lock-"));
  directories.push(dir);
  return dir;
}

/** Runs `script` (under src/) as a real process on PGlite in `dir`, without PostgreSQL or NATS. */
function run(script: string, dir: string, env: Record<string, string> = {}): Proc {
  const { DATABASE_URL: _database, NATS_URL: _nats, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    env: {
      ...inherited,
      DATA_DIR: dir,
      HOST: "127.0.0.1",
      JWT_SECRET: testAuth.secret ?? "",
      LOG_LEVEL: "info",
      ...env,
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const proc = { child, pid: child.pid ?? 0, exited, output: () => output };
  processes.push(proc);
  return proc;
}

/** Starts the service (as `npm start` does) and waits until it listens. */
async function startService(dir: string): Promise<{ proc: Proc; baseUrl: string }> {
  const port = await freePort();
  const proc = run("src/bin/main.ts", dir, { PORT: String(port) });
  await Promise.race([
    waitForPort(port, LISTENING_WITHIN_MS),
    proc.exited.then((code) => {
      throw new Error(`the service exited (${code}) instead of listening:\n${proc.output()}`);
    }),
  ]);
  return { proc, baseUrl: `http://127.0.0.1:${port}` };
}

/** Waits for a process that must stop by itself; fails, naming it, if it is still running. */
async function exitCodeOf(proc: Proc): Promise<number | null> {
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(
      () => reject(new Error(`still running after ${REFUSED_WITHIN_MS} ms:\n${proc.output()}`)),
      REFUSED_WITHIN_MS,
    ),
  );
  return Promise.race([proc.exited, timeout]);
}

async function lockHolder(dir: string): Promise<number> {
  return (JSON.parse(await readFile(path.join(dir, lockFileName), "utf8")) as { pid: number }).pid;
}

describe("one instance per embedded data directory", { timeout: 600_000 }, () => {
  it("refuses a second start and a migrate at once, naming the directory and the holder's pid, while the first keeps serving", async () => {
    const dir = await dataDir();
    const first = await startService(dir);
    const userId = crypto.randomUUID();
    const written = await grpcClient(first.baseUrl).updateProfile({ userId, displayName: "First" });

    const second = run("src/bin/main.ts", dir, { PORT: String(await freePort()) });
    const migrate = run("src/bin/migrate.ts", dir);

    for (const refused of [second, migrate]) {
      expect(await exitCodeOf(refused)).toBe(1);
      expect(refused.output()).toContain(`DATA_DIR ${dir} is in use by another instance`);
      expect(refused.output()).toContain(`pid ${first.proc.pid}`);
    }
    expect(await grpcClient(first.baseUrl).getProfile({ userId })).toEqual(written);

    first.proc.child.kill("SIGTERM");
    expect(await exitCodeOf(first.proc)).toBe(0);
    const afterStop = run("src/bin/migrate.ts", dir);
    expect(await exitCodeOf(afterStop)).toBe(0);
  });

  it("after the holder is killed (SIGKILL) a new start takes the stale lock over, with every acknowledged write intact", async () => {
    const dir = await dataDir();
    const first = await startService(dir);
    const client = grpcClient(first.baseUrl);
    const written = [];
    for (let n = 0; n < 30; n++) {
      written.push(
        await client.updateProfile({ userId: crypto.randomUUID(), displayName: `User ${n}` }),
      );
    }
    first.proc.child.kill("SIGKILL");
    await first.proc.exited;

    const next = await startService(dir);
    const read = await grpcClient(next.baseUrl).batchGetProfiles({
      userIds: written.map((p) => p.userId),
    });
    const third = run("src/bin/main.ts", dir, { PORT: String(await freePort()) });

    expect(read.profiles).toEqual(written);
    expect(await lockHolder(dir)).toBe(next.proc.pid);
    expect(await exitCodeOf(third)).toBe(1);
    expect(third.output()).toContain(`pid ${next.proc.pid}`);
  });

  it("of two services started together on a stale lock, exactly one serves and the other names it", async () => {
    const dir = await dataDir();
    await writeFile(path.join(dir, lockFileName), JSON.stringify(await deadHolder()));
    const ports = [await freePort(), await freePort()];

    const starters = ports.map((port) => run("src/bin/main.ts", dir, { PORT: String(port) }));
    const winner = await Promise.any(
      starters.map((s, n) => waitForPort(ports[n] as number, LISTENING_WITHIN_MS).then(() => s)),
    );
    const loser = starters.find((s) => s !== winner) as Proc;

    expect(await exitCodeOf(loser)).toBe(1);
    expect(loser.output()).toContain(`pid ${winner.pid}`);
    expect(await lockHolder(dir)).toBe(winner.pid);
  });

  it("of six processes racing to take over one stale lock, exactly one gets it and the others name it", async () => {
    const dir = await dataDir();
    await writeFile(path.join(dir, lockFileName), JSON.stringify(await deadHolder()));
    const contenders = Array.from({ length: 6 }, () => run("tests/support/lock-contender.ts", dir));
    await until(() => contenders.every((c) => c.output().includes("ready")), LISTENING_WITHIN_MS);

    for (const c of contenders) c.child.stdin?.write("go\n");
    await until(
      () => contenders.every((c) => /(won|lost) \d+/.test(c.output())),
      REFUSED_WITHIN_MS,
    );

    const winners = contenders.filter((c) => c.output().includes(`won ${c.pid}`));
    expect(winners).toHaveLength(1);
    const winner = winners[0] as Proc;
    for (const c of contenders.filter((c) => c !== winner)) {
      expect(c.output()).toContain(`lost ${winner.pid}`);
    }
    expect(await lockHolder(dir)).toBe(winner.pid);
    for (const c of contenders) c.child.stdin?.end();
    await Promise.all(contenders.map((c) => c.exited));
  });
});

/** The lock of a process that has ended, on this host and boot. */
async function deadHolder(): Promise<Record<string, unknown>> {
  const ended = spawn(process.execPath, ["-e", ""]);
  await once(ended, "exit");
  return { pid: ended.pid, host: hostname(), since: new Date().toISOString(), nonce: "dead" };
}
