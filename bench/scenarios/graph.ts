// The social graph's benchmark rows (issue 13): ListContacts (a page of 100 with profiles) and
// GetRelationships (100 ids), each beside pgbench running the equivalent SQL at the same
// concurrency. `npx tsx bench/graph.ts` builds and runs it alone; bench/run.ts, which has built
// already, calls benchGraph().
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { create, toBinary } from "@bufbuild/protobuf";
import pg from "pg";
import {
  GetRelationshipsRequestSchema,
  ListContactsRequestSchema,
} from "../../gen/realchat/profile/v1/social_graph_api_pb.js";
import { PROFILE_ADMIN_SCOPE } from "../../src/auth/caller.js";
import { signHs256Token } from "../../src/auth/token-signer.js";
import { grpcFrame, runLoad } from "../harness/load.js";
import { latencySummary } from "../harness/stats.js";

const run = promisify(execFile);

export interface GraphBenchOptions {
  /** A PostgreSQL server where a user may create databases. */
  readonly databaseUrl: string;
  readonly durationS: number;
  readonly warmUpS: number;
  readonly connections: number;
  readonly streamsPerConnection: number;
  /** NATS with JetStream for the "cache warm" ListContacts row; none ("") leaves that row out. */
  readonly natsUrl?: string;
}

export interface GraphBenchRow {
  readonly scenario: string;
  readonly driver: string;
  readonly load: string;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** The scenario of the pgbench row this one is divided by. */
  readonly versus?: string;
}

/** Owners with a full page of contacts; each has CONTACTS_EACH contacts and a few blocks. */
const OWNERS = 200;
const CONTACTS_EACH = 100;
const PROFILES = OWNERS + 2 * CONTACTS_EACH + 1000;
const idOf = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const idSql = (n: string) => `('00000000-0000-4000-8000-' || lpad((${n})::text, 12, '0'))::uuid`;

/**
 * Seeds a database of its own, starts the service on it as production does (`node dist/main.js`,
 * from `npm run build`) without NATS, so the profile cache does not serve, measures the two graph
 * calls with the Node HTTP/2 load generator (closed loop, connections × streams in flight), and
 * pgbench -M prepared on the same data and concurrency. With `natsUrl`, then starts it again with
 * NATS, so that the cache serves ListContacts' profiles, and measures ListContacts once more.
 */
export async function benchGraph(options: GraphBenchOptions): Promise<GraphBenchRow[]> {
  const database = `graph_bench_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: options.databaseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const url = new URL(options.databaseUrl);
  url.pathname = `/${database}`;
  const secret = randomBytes(32).toString("hex");
  const port = 18_000 + Math.floor(Math.random() * 1000);
  const origin = `http://127.0.0.1:${port}`;
  let service: ChildProcess | undefined;
  const startService = async (natsUrl: string) => {
    service = spawn(process.execPath, ["dist/main.js"], {
      env: {
        ...process.env,
        DATABASE_URL: url.toString(),
        JWT_SECRET: secret,
        PORT: String(port),
        HOST: "127.0.0.1",
        LOG_LEVEL: "warn",
        NATS_URL: natsUrl,
      },
      stdio: ["ignore", "ignore", "inherit"],
    });
    await until(async () => (await fetch(`${origin}/readyz`)).ok);
  };
  try {
    await startService("");
    await seed(url.toString());

    const token = await signHs256Token({
      secret,
      subject: "graph-bench",
      scopes: [PROFILE_ADMIN_SCOPE],
      issuer: "realchat-auth",
      audience: "realchat-clients",
      expiresIn: "1h",
    });
    const owners = Array.from({ length: OWNERS }, (_, index) => index + 1);
    const load = `${options.connections * options.streamsPerConnection} streams`;
    const clients = options.connections * options.streamsPerConnection;
    const measure = async (
      scenario: string,
      versus: string,
      method: string,
      bodies: Buffer[],
    ): Promise<GraphBenchRow> => {
      const result = await runLoad({
        origin,
        path: `/realchat.profile.v1.SocialGraphApi/${method}`,
        headers: { authorization: `Bearer ${token}` },
        bodies,
        connections: options.connections,
        streamsPerConnection: options.streamsPerConnection,
        durationMs: options.durationS * 1000,
        warmUpMs: options.warmUpS * 1000,
      });
      const { p50, p99 } = latencySummary(result.latenciesMs);
      return {
        scenario,
        driver: "node http2",
        load,
        rps: Math.round(result.requests / result.seconds),
        p50,
        p99,
        errors: result.errors,
        versus,
      };
    };
    const listContactsSql = "ListContacts SQL (page + 100 profiles)";
    const listContactsBodies = owners.map((n) =>
      grpcFrame(
        toBinary(
          ListContactsRequestSchema,
          create(ListContactsRequestSchema, { userId: idOf(n), pageSize: 100 }),
        ),
      ),
    );
    const relationshipsSql = "GetRelationships SQL (100 ids)";
    const rows: GraphBenchRow[] = [];
    rows.push(
      await measure(
        "ListContacts (page of 100, with profiles, cache off)",
        listContactsSql,
        "ListContacts",
        listContactsBodies,
      ),
    );
    rows.push(
      await pgbench(url, options, clients, listContactsSql, [
        `\\set o random(1, ${OWNERS})`,
        `SELECT contact_user_id, nickname, is_favorite, created_at, updated_at FROM contacts WHERE user_id = ${idSql(":o")} ORDER BY contact_user_id LIMIT 101;`,
        `SELECT user_id, display_name, avatar_url, bio, version, created_at, updated_at FROM profiles WHERE user_id = any(ARRAY(SELECT contact_user_id FROM contacts WHERE user_id = ${idSql(":o")} ORDER BY contact_user_id LIMIT 100));`,
      ]),
    );
    rows.push(
      await measure(
        "GetRelationships (100 ids)",
        relationshipsSql,
        "GetRelationships",
        owners.map((n) =>
          grpcFrame(
            toBinary(
              GetRelationshipsRequestSchema,
              create(GetRelationshipsRequestSchema, {
                userId: idOf(n),
                otherUserIds: Array.from({ length: 100 }, (_, k) => idOf(n + 50 + k)),
              }),
            ),
          ),
        ),
      ),
    );
    rows.push(
      await pgbench(url, options, clients, relationshipsSql, [
        `\\set o random(1, ${OWNERS})`,
        `SELECT n, is_contact, is_contact_of_other, blocks_other, blocked_by_other FROM (SELECT o.n::int AS n, EXISTS (SELECT 1 FROM contacts c WHERE c.user_id = ${idSql(":o")} AND c.contact_user_id = o.id) AS is_contact, EXISTS (SELECT 1 FROM contacts c WHERE c.user_id = o.id AND c.contact_user_id = ${idSql(":o")}) AS is_contact_of_other, EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = ${idSql(":o")} AND b.blocked_user_id = o.id) AS blocks_other, EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = o.id AND b.blocked_user_id = ${idSql(":o")}) AS blocked_by_other FROM unnest(ARRAY(SELECT ${idSql("g")} FROM generate_series(:o + 50, :o + 149) g)) WITH ORDINALITY AS o(id, n)) r WHERE is_contact OR is_contact_of_other OR blocks_other OR blocked_by_other;`,
      ]),
    );
    if (options.natsUrl) {
      await stop(service);
      await startService(options.natsUrl);
      // The cache serves once its subscription to the profile events is live; the warm-up then
      // fills it with the 300 profiles the pages show.
      await until(async () =>
        /^profile_cache_serving 1$/m.test(await (await fetch(`${origin}/metrics`)).text()),
      );
      rows.push(
        await measure(
          "ListContacts (page of 100, with profiles, cache warm)",
          listContactsSql,
          "ListContacts",
          listContactsBodies,
        ),
      );
    }
    return rows;
  } finally {
    await stop(service);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

/** Profiles 1..PROFILES; owner n has contacts n+1..n+100 and blocks n+150 and n+151. */
async function seed(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(
      `INSERT INTO profiles (user_id, display_name, bio)
       SELECT ${idSql("n")}, 'User ' || n, 'Bio of user ' || n FROM generate_series(1, $1) n`,
      [PROFILES],
    );
    await client.query(
      `INSERT INTO contacts (user_id, contact_user_id)
       SELECT ${idSql("o")}, ${idSql("o + k")}
       FROM generate_series(1, $1) o, generate_series(1, $2) k`,
      [OWNERS, CONTACTS_EACH],
    );
    await client.query(
      `INSERT INTO blocks (user_id, blocked_user_id)
       SELECT ${idSql("o")}, ${idSql("o + 150 + k")} FROM generate_series(1, $1) o, generate_series(0, 1) k`,
      [OWNERS],
    );
    // The seed's events are not what is measured.
    await client.query("DELETE FROM outbox");
    await client.query("VACUUM ANALYZE");
  } finally {
    await client.end();
  }
}

/** pgbench -M prepared, `clients` at once, one script; transactions per second. */
async function pgbench(
  url: URL,
  options: GraphBenchOptions,
  clients: number,
  scenario: string,
  script: string[],
): Promise<GraphBenchRow> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "graph-pgbench-"));
  try {
    await writeFile(path.join(dir, "script.sql"), `${script.join("\n")}\n`);
    const { stdout } = await run(
      "pgbench",
      [
        ...["-h", url.hostname, "-p", url.port || "5432"],
        ...["-U", decodeURIComponent(url.username || "postgres"), "-n", "-M", "prepared"],
        ...[`-c${clients}`, "-j2", `-T${options.durationS}`, "-f", path.join(dir, "script.sql")],
        url.pathname.slice(1),
      ],
      { cwd: dir, maxBuffer: 1 << 24 },
    );
    const latency = Number(/latency average = ([\d.]+) ms/.exec(stdout)?.[1] ?? Number.NaN);
    return {
      scenario,
      driver: "pgbench -M prepared",
      load: `${clients} clients`,
      rps: Math.round(Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN)),
      p50: latency,
      p99: Number.NaN,
      errors: Number(/number of failed transactions: (\d+)/.exec(stdout)?.[1] ?? 0),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function until(check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`the service was not ready in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The rows as a Markdown table, then each service row's ratio to the pgbench row of its SQL. */
export function graphBenchTable(rows: readonly GraphBenchRow[]): string {
  const lines = [
    "| scenario | driver | load | req/s | p50 ms | p99 ms | errors |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...rows.map(
      (row) =>
        `| ${row.scenario} | ${row.driver} | ${row.load} | ${row.rps} | ${row.p50.toFixed(2)} | ${Number.isNaN(row.p99) ? "—" : row.p99.toFixed(2)} | ${row.errors} |`,
    ),
  ];
  for (const ours of rows) {
    const sqlRow = rows.find((row) => row.scenario === ours.versus);
    if (sqlRow !== undefined) {
      lines.push(
        `${ours.scenario} ÷ its SQL: ${(ours.rps / sqlRow.rps).toFixed(2)} (target ≥ 0.5)`,
      );
    }
  }
  return lines.join("\n");
}

if (import.meta.main) {
  const smoke = process.env.BENCH_SMOKE === "1";
  await run("npm", ["run", "--silent", "build"]);
  const rows = await benchGraph({
    databaseUrl: process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    durationS: Number(process.env.BENCH_DURATION_S ?? (smoke ? 1 : 10)),
    warmUpS: smoke ? 0.5 : 2,
    connections: 4,
    streamsPerConnection: 4,
    natsUrl: process.env.BENCH_NATS_URL ?? process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222",
  });
  process.stdout.write(`${graphBenchTable(rows)}\n`);
}
