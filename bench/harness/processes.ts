import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import type { Writable } from "node:stream";
import { promisify } from "node:util";
import { benchAuth } from "./auth.js";

const run = promisify(execFile);

/** The checkout the benches run in: `dist/` after `npm run build`, `bench/results/`. */
export const root = path.join(import.meta.dirname, "..", "..");

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Throws, saying how to install it, unless `tool` is on the PATH. */
export async function requireTool(tool: string, install: string): Promise<void> {
  try {
    await run("sh", ["-c", `command -v ${tool}`]);
  } catch {
    throw new Error(`${tool} is missing: ${install}`);
  }
}

/** `npm run build` in `dir`: the production build the benches start, `dist/`. */
export async function build(dir = root): Promise<void> {
  process.stderr.write(`building: npm run build${dir === root ? "" : ` in ${dir}`}\n`);
  await run("npm", ["run", "--silent", "build"], { cwd: dir });
}

/** Polls `check` every 200 ms (a throw counts as false) until it holds or `timeoutMs` passed. */
export async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(200);
  }
}

/**
 * SIGTERM, then SIGKILL if the process has not exited `graceMs` later; whether it exited by
 * itself (true also when it was not running).
 */
export async function stopProcess(
  child: ChildProcess | undefined,
  graceMs = 20_000,
): Promise<boolean> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return true;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const stopped = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!stopped) {
    child.kill("SIGKILL");
    await exited;
  }
  return stopped;
}

/** How to run one instance of the production build (`node dist/main.js`). */
export interface ServiceOptions {
  readonly port: number;
  readonly databaseUrl: string | URL;
  /** The broker; "" runs without events (and, on PostgreSQL, without a serving cache). */
  readonly natsUrl: string;
  /** LOG_LEVEL; default info, as in production. */
  readonly logLevel?: string;
  /** NODE_OPTIONS, e.g. heap flags; the bench's own when undefined. */
  readonly nodeOptions?: string;
  /** More of the service's environment, e.g. PROFILE_CACHE_ENABLED. */
  readonly env?: Readonly<Record<string, string>>;
  /** The directory holding `dist/`; default this checkout. */
  readonly buildDir?: string;
  /** Where its stdout and stderr go; default: stdout dropped, stderr the bench's. */
  readonly log?: Writable;
  /** How long it may take to answer /readyz. */
  readonly readyTimeoutMs?: number;
}

export interface RunningService {
  readonly child: ChildProcess;
  readonly origin: string;
  readonly pid: number;
  /** `stopProcess`: whether it exited within 20 s of SIGTERM. */
  stop(): Promise<boolean>;
}

/**
 * Starts the production build with `benchAuth`'s token settings and waits until /readyz answers
 * 200; fails if the process exits first.
 */
export async function startService(options: ServiceOptions): Promise<RunningService> {
  const child = spawn("node", ["dist/main.js"], {
    cwd: options.buildDir ?? root,
    env: {
      ...process.env,
      PORT: String(options.port),
      HOST: "127.0.0.1",
      DATABASE_URL: `${options.databaseUrl}`,
      JWT_SECRET: benchAuth.secret,
      JWT_ISSUER: benchAuth.issuer,
      JWT_AUDIENCE: benchAuth.audience,
      NATS_URL: options.natsUrl,
      LOG_LEVEL: options.logLevel ?? "info",
      ...(options.nodeOptions === undefined ? {} : { NODE_OPTIONS: options.nodeOptions }),
      ...options.env,
    },
    stdio: options.log === undefined ? ["ignore", "ignore", "inherit"] : ["ignore", "pipe", "pipe"],
  });
  if (options.log !== undefined) {
    child.stdout?.pipe(options.log);
    child.stderr?.pipe(options.log);
  }
  const origin = `http://127.0.0.1:${options.port}`;
  const service = { child, origin, pid: child.pid ?? 0, stop: () => stopProcess(child) };
  try {
    const exited = () => child.exitCode !== null || child.signalCode !== null;
    await waitFor(
      async () => exited() || (await fetch(`${origin}/readyz`)).ok,
      `the service on port ${options.port} getting ready`,
      options.readyTimeoutMs,
    );
    if (exited()) throw new Error(`the service on port ${options.port} exited during start-up`);
  } catch (error) {
    await service.stop();
    throw error;
  }
  return service;
}

/**
 * Runs a TypeScript file of this checkout (`node --import tsx <file> <args>`), e.g. a reference
 * server, and resolves once it prints "ready".
 */
export async function startScript(file: string, args: readonly string[]): Promise<ChildProcess> {
  const child = spawn("node", ["--import", "tsx", file, ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.once("exit", () => reject(new Error(`${file} exited before it was ready`)));
  });
  return child;
}
