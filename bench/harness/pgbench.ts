import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { POSTGRES_SESSION_OPTIONS } from "../../src/db/open.js";
import { latencySummary } from "./stats.js";

const run = promisify(execFile);

/** One pgbench run of one SQL script (pgbench's syntax, `\set` lines included). */
export interface PgbenchSpec {
  /** The database to run it on. */
  readonly url: URL;
  readonly clients: number;
  readonly durationS: number;
  readonly script: string;
}

/**
 * pgbench -M prepared, with the service's session settings, `clients` at once on 2 threads:
 * transactions per second, failed
 * transactions, and latency percentiles from its per-transaction log.
 */
export async function pgbench(spec: PgbenchSpec) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "bench-pgbench-"));
  try {
    await writeFile(path.join(dir, "script.sql"), spec.script);
    const { url } = spec;
    const { stdout } = await run(
      "pgbench",
      [
        ...["-h", url.hostname, "-p", url.port || "5432"],
        ...["-U", decodeURIComponent(url.username || "postgres"), "-n", "-M", "prepared"],
        ...[`-c${spec.clients}`, "-j2", `-T${spec.durationS}`],
        ...["-l", `--log-prefix=${path.join(dir, "log")}`, "-f", path.join(dir, "script.sql")],
        url.pathname.slice(1),
      ],
      {
        cwd: dir,
        maxBuffer: 1 << 24,
        env: { ...process.env, PGOPTIONS: POSTGRES_SESSION_OPTIONS },
      },
    );
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
    const failed = Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0);
    const latencies: number[] = [];
    for (const file of await readdir(dir)) {
      if (!file.startsWith("log")) continue;
      for (const line of (await readFile(path.join(dir, file), "utf8")).trim().split("\n")) {
        latencies.push(Number(line.split(" ")[2]) / 1000);
      }
    }
    const { p50, p99 } = latencySummary(latencies);
    return { rps: Math.round(tps), failed, p50, p99 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
