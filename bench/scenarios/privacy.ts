// npm run bench:privacy: what "who sees what" costs BatchGetProfiles (issue 20, "Benchmarks"), in
// one run on one machine: the production build on PostgreSQL with a NATS of its own, cache warm, the same
// batch of 100 with and without `viewer_user_id` (a viewer who is a contact of some of the 100
// and blocked by some, owners with mixed audiences); then the cache off with the viewer against
// the obvious server (bench/reference/obvious-server.ts), which applies no rule at all. h2load drives each
// row closed-loop; the ratios are printed at the end (targets: >= 0.8 and >= 1.0).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { BatchGetProfilesRequestSchema } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { signHs256Token } from "../../src/auth/token-signer.js";
import { startNatsServer } from "../../tests/support/nats.js";
import { grpcMessage } from "../harness/load.js";
import { median } from "../harness/stats.js";

const run = promisify(execFile);
const env = process.env;
const settings = {
  profiles: Number(env.BENCH_PROFILES ?? 10_000),
  durationS: Number(env.BENCH_DURATION_S ?? 10),
  /** Rounds of the four rows, interleaved: each figure is the median of its rounds. */
  rounds: Number(env.BENCH_ROUNDS ?? 3),
  warmUpS: 2,
  connections: 4,
  streamsPerConnection: 4,
  databaseUrl: env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
};
const secret = randomBytes(32).toString("hex");
const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
/** The viewer: profile 0, outside the seeded range of owners. */
const viewer = idOf(0);
const children: ChildProcess[] = [];
/** The headers of a gRPC request, as h2load and curl take them. */
const grpcHeaders = ["-H", "content-type: application/grpc", "-H", "te: trailers"];

async function psql(database: string, statement: string): Promise<void> {
  const url = new URL(settings.databaseUrl);
  url.pathname = `/${database}`;
  await run("psql", [url.toString(), "-v", "ON_ERROR_STOP=1", "-q", "-c", statement]);
}

function start(command: string, args: string[], extraEnv: Record<string, string>): ChildProcess {
  const child = spawn(command, args, {
    env: { ...env, ...extraEnv },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  return child;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Closed-loop h2load of one unary gRPC call; returns requests per second. */
async function h2load(origin: string, method: string, body: Buffer, token?: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), "bench-privacy-"));
  try {
    await writeFile(path.join(dir, "body"), body);
    const { stdout } = await run(
      "h2load",
      [
        `-c${settings.connections}`,
        `-m${settings.streamsPerConnection}`,
        `-D${settings.durationS * 1000}ms`,
        `--warm-up-time=${settings.warmUpS * 1000}ms`,
        `-d${path.join(dir, "body")}`,
        ...grpcHeaders,
        ...(token === undefined ? [] : ["-H", `authorization: Bearer ${token}`]),
        `${origin}/realchat.profile.v1.ProfileApi/${method}`,
      ],
      { maxBuffer: 1 << 24 },
    );
    const rps = Number(/finished in [\d.]+s, ([\d.]+) req\/s/.exec(stdout)?.[1] ?? Number.NaN);
    const failed = Number(/(\d+) failed/.exec(stdout)?.[1] ?? 0);
    const ok = Number(/status codes: (\d+) 2xx/.exec(stdout)?.[1] ?? 0);
    if (failed > 0 || ok === 0) throw new Error(`h2load: ${failed} failed requests\n${stdout}`);
    return Math.round(rps);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The grpc-status of one call, from curl over h2c, to check a row measures answers, not errors. */
async function grpcStatusOf(origin: string, body: Buffer, token: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "bench-privacy-"));
  try {
    await writeFile(path.join(dir, "body"), body);
    const { stdout } = await run("curl", [
      "-s",
      "--http2-prior-knowledge",
      "-o",
      "/dev/null",
      "-D",
      "-",
      ...grpcHeaders,
      ...["-H", `authorization: Bearer ${token}`],
      "--data-binary",
      `@${path.join(dir, "body")}`,
      `${origin}/realchat.profile.v1.ProfileApi/BatchGetProfiles`,
    ]);
    return /grpc-status: (\d+)/.exec(stdout)?.[1] ?? "none";
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  process.stderr.write("building: npm run build\n");
  await run("npm", ["run", "--silent", "build"]);
  const database = `bench_privacy_${randomBytes(4).toString("hex")}`;
  const admin = new URL(settings.databaseUrl).pathname.slice(1);
  await psql(admin, `CREATE DATABASE ${database}`);
  const databaseUrl = new URL(settings.databaseUrl);
  databaseUrl.pathname = `/${database}`;
  // A broker of the run's own: the instances' durable consumer must take no registration meant
  // for anything else on a shared one.
  const broker = await startNatsServer();
  const port = 19_400 + Math.floor(Math.random() * 400);
  const warmOrigin = `http://127.0.0.1:${port}`;
  const offOrigin = `http://127.0.0.1:${port + 1}`;
  const obviousOrigin = `http://127.0.0.1:${port + 2}`;
  try {
    await run("node", ["dist/migrate.js"], {
      env: { ...env, DATABASE_URL: databaseUrl.toString(), JWT_SECRET: secret, LOG_LEVEL: "warn" },
    });
    // Owners 1..N. Among them every third keeps its bio for contacts, every fifth its avatar for
    // nobody; every third has the viewer as a contact, every tenth blocks the viewer (and so has
    // no contact with them). Written with the triggers off: no events to publish.
    process.stderr.write(`seeding ${settings.profiles} profiles, their settings and edges\n`);
    await psql(
      database,
      `SET session_replication_role = replica;
       INSERT INTO profiles (user_id, display_name, avatar_url, bio)
       SELECT owner.id, 'Owner ' || n, 'https://cdn.example/owners/' || n || '.png',
              'What owner ' || n || ' tells whoever may read it'
       FROM generate_series(0, ${settings.profiles}) AS n,
            LATERAL (SELECT ('00000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid) AS owner(id);
       INSERT INTO privacy_settings (user_id, avatar_audience, bio_audience, version)
       SELECT user_id, CASE WHEN n % 5 = 0 THEN 'nobody' ELSE 'everyone' END,
              CASE WHEN n % 3 = 0 THEN 'contacts' ELSE 'everyone' END, 2
       FROM (SELECT user_id, right(user_id::text, 12)::int AS n FROM profiles) p
       WHERE n > 0 AND (n % 5 = 0 OR n % 3 = 0);
       INSERT INTO blocks (user_id, blocked_user_id)
       SELECT user_id, '${viewer}' FROM profiles WHERE right(user_id::text, 12)::int % 10 = 0
         AND right(user_id::text, 12)::int > 0;
       INSERT INTO contacts (user_id, contact_user_id)
       SELECT user_id, '${viewer}' FROM profiles WHERE right(user_id::text, 12)::int % 3 = 1;
       ANALYZE;`,
    );

    const service = (at: string, cache: boolean) => {
      start("node", ["dist/main.js"], {
        PORT: new URL(at).port,
        HOST: "127.0.0.1",
        DATABASE_URL: databaseUrl.toString(),
        JWT_SECRET: secret,
        NATS_URL: broker.url,
        LOG_LEVEL: "warn",
        PROFILE_CACHE_ENABLED: String(cache),
      });
      return until(async () => (await fetch(`${at}/readyz`)).ok, `the service on ${at}`);
    };
    await Promise.all([service(warmOrigin, true), service(offOrigin, false)]);
    const obvious = start(
      "node",
      [
        "--import",
        "tsx",
        "bench/reference/obvious-server.ts",
        String(port + 2),
        databaseUrl.toString(),
      ],
      {},
    );
    await new Promise<void>((resolve, reject) => {
      obvious.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) resolve();
      });
      obvious.once("exit", () => reject(new Error("the obvious server exited")));
    });

    const token = await signHs256Token({
      secret,
      subject: "bench-renderer",
      scopes: ["profile:admin"],
      issuer: "realchat-auth",
      audience: "realchat-clients",
      expiresIn: "2h",
    });
    // 100 consecutive owners: each rule and relation of the seed occurs among them.
    const userIds = Array.from({ length: 100 }, (_, i) => idOf(1 + i));
    const withViewer = grpcMessage(BatchGetProfilesRequestSchema, {
      userIds,
      viewerUserId: viewer,
    });
    const withoutViewer = grpcMessage(BatchGetProfilesRequestSchema, { userIds });
    for (const [origin, body] of [
      [warmOrigin, withViewer],
      [warmOrigin, withoutViewer],
      [offOrigin, withViewer],
    ] as const) {
      const status = await grpcStatusOf(origin, body, token);
      if (status !== "0")
        throw new Error(`BatchGetProfiles on ${origin} answers grpc-status ${status}`);
    }

    const rows = {
      warmViewer: "BatchGetProfiles(100) with viewer, cache warm",
      warmPlain: "BatchGetProfiles(100) without viewer, cache warm",
      offViewer: "BatchGetProfiles(100) with viewer, cache off",
      obvious: "BatchGetProfiles(100), obvious server (grpc-js + pg, no rules)",
    };
    const measured: Record<keyof typeof rows, number[]> = {
      warmViewer: [],
      warmPlain: [],
      offViewer: [],
      obvious: [],
    };
    const measure = async (row: keyof typeof rows, rps: Promise<number>) => {
      const value = await rps;
      measured[row].push(value);
      process.stderr.write(`  ${rows[row]}: ${value} req/s\n`);
    };
    // Interleaved, so that a machine busy with something else for a while weighs on every row.
    for (let round = 1; round <= settings.rounds; round++) {
      process.stderr.write(`round ${round} of ${settings.rounds}\n`);
      await measure("warmViewer", h2load(warmOrigin, "BatchGetProfiles", withViewer, token));
      await measure("warmPlain", h2load(warmOrigin, "BatchGetProfiles", withoutViewer, token));
      await measure("offViewer", h2load(offOrigin, "BatchGetProfiles", withViewer, token));
      await measure("obvious", h2load(obviousOrigin, "BatchGetProfiles", withoutViewer));
    }
    /** The median over the rounds of a ratio of two rows measured side by side. */
    const ratio = (a: keyof typeof rows, b: keyof typeof rows) =>
      Math.round(
        100 * median(measured[a].map((value, i) => value / (measured[b][i] ?? Number.NaN))),
      ) / 100;
    const targets = [
      ["with viewer / without, cache warm", ratio("warmViewer", "warmPlain"), 0.8],
      ["with viewer, cache off / obvious server", ratio("offViewer", "obvious"), 1.0],
    ] as const;
    const table = (Object.keys(rows) as Array<keyof typeof rows>)
      .map((row) => `| ${rows[row]} | ${median(measured[row])} | ${measured[row].join(", ")} |`)
      .join("\n");
    process.stdout.write(`\n| Row | req/s (median) | rounds |\n| --- | --- | --- |\n${table}\n\n`);
    process.stdout.write(
      `| Ratio (median of the rounds) | Value | Target | Met |\n| --- | --- | --- | --- |\n${targets
        .map(
          ([name, value, target]) =>
            `| ${name} | ${value} | >= ${target} | ${value >= target ? "yes" : "NO"} |`,
        )
        .join("\n")}\n`,
    );
  } finally {
    for (const child of children) {
      if (child.exitCode === null) child.kill("SIGTERM");
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await psql(admin, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => {});
    await broker.dispose();
  }
}

await main();
