import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { latencySummary } from "./stats.js";

const run = promisify(execFile);

/** One h2load run: closed loop, connections × streams calls of one gRPC body in flight. */
export interface H2loadSpec {
  /** The method's URL, e.g. http://127.0.0.1:8080/grpc.health.v1.Health/Check */
  readonly url: string;
  /** The gRPC-framed request, sent on every call. */
  readonly body: Buffer;
  readonly headers: Readonly<Record<string, string>>;
  readonly connections: number;
  readonly streamsPerConnection: number;
  readonly durationS: number;
  readonly warmUpS: number;
  /**
   * Latencies from h2load's per-request log (p50, p99). Off, they are NaN and h2load writes no
   * log: the client then takes less of the CPU it shares with the server.
   */
  readonly latencies?: boolean;
}

export interface H2loadResult {
  readonly rps: number;
  /** h2load's failed requests. It counts gRPC errors, which travel in HTTP 200, as successes. */
  readonly failed: number;
  readonly p50: number;
  readonly p99: number;
  /** What h2load says of its failed requests (reset streams, broken connections). */
  readonly failures?: string;
}

export async function h2load(spec: H2loadSpec): Promise<H2loadResult> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "bench-h2load-"));
  const log = path.join(dir, "log");
  try {
    await writeFile(path.join(dir, "body"), spec.body);
    const args = [
      `-c${spec.connections}`,
      `-m${spec.streamsPerConnection}`,
      `-D${spec.durationS * 1000}ms`,
      `--warm-up-time=${spec.warmUpS * 1000}ms`,
      `-d${path.join(dir, "body")}`,
      ...(spec.latencies === false ? [] : [`--log-file=${log}`]),
      "-H",
      "content-type: application/grpc",
      "-H",
      "te: trailers",
      ...Object.entries(spec.headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
      spec.url,
    ];
    const { stdout } = await run("h2load", args, { maxBuffer: 1 << 24 });
    const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(stdout)?.[1] ?? Number.NaN);
    const failed = Number(/(\d+) failed, (\d+) errored/.exec(stdout)?.[1] ?? 0);
    const latencies =
      spec.latencies === false
        ? []
        : (await readFile(log, "utf8"))
            .trim()
            .split("\n")
            .map((line) => Number(line.split("\t")[2]) / 1000);
    const { p50, p99 } = latencySummary(latencies);
    const failures =
      failed > 0
        ? `h2load ${/requests: (.*)/.exec(stdout)?.[1]}; ${/status codes: (.*)/.exec(stdout)?.[1]}`
        : undefined;
    return { rps: Math.round(rps), failed, p50, p99, failures };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
