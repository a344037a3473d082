// The social graph's benchmark rows (issue 13): ListContacts (a page of 100 with profiles) and
// GetRelationships (100 ids), each beside pgbench running the equivalent SQL at the same
// concurrency. `npx tsx bench/scenarios/graph.ts` builds and runs it alone; npm run bench
// (bench/scenarios/run.ts), which has built already, calls benchGraph().
import {
  GetRelationshipsRequestSchema,
  ListContactsRequestSchema,
} from "../../gen/realchat/profile/v1/social_graph_api_pb.js";
import { adminToken, bearer } from "../harness/auth.js";
import { createDatabase, migrate, seededId, seededIdSql, sql } from "../harness/database.js";
import { grpcMessage, runLoad } from "../harness/load.js";
import { pgbench } from "../harness/pgbench.js";
import { build, type RunningService, startService, waitFor } from "../harness/processes.js";
import { loadRow, type Row } from "./rows.js";

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

/** A row of the graph's table, and the pgbench row of its SQL it is divided by. */
export type GraphBenchRow = Row & { readonly versus?: string };

/** Owners with a full page of contacts; each has CONTACTS_EACH contacts and a few blocks. */
const OWNERS = 200;
const CONTACTS_EACH = 100;
const PROFILES = OWNERS + 2 * CONTACTS_EACH + 1000;
const api = "/realchat.profile.v1.SocialGraphApi";

/**
 * Seeds a database of its own, starts the service on it as production does (`node dist/main.js`,
 * from `npm run build`) without NATS, so the profile cache does not serve, measures the two graph
 * calls with the Node HTTP/2 load generator (closed loop, connections × streams in flight), and
 * pgbench -M prepared on the same data and concurrency. With `natsUrl`, then starts it again with
 * NATS, so that the cache serves ListContacts' profiles, and measures ListContacts once more.
 */
export async function benchGraph(options: GraphBenchOptions): Promise<GraphBenchRow[]> {
  const database = await createDatabase(options.databaseUrl, "graph_bench");
  const port = 18_000 + Math.floor(Math.random() * 1000);
  let service: RunningService | undefined;
  const startOn = async (natsUrl: string) => {
    service = await startService({ port, databaseUrl: database.url, natsUrl, logLevel: "warn" });
    return service.origin;
  };
  try {
    await migrate(database.url);
    await seed(database.url);
    let origin = await startOn("");
    const auth = bearer(await adminToken("graph-bench"));
    const clients = options.connections * options.streamsPerConnection;
    const load = `${clients} streams`;
    const measure = async (
      scenario: string,
      versus: string,
      method: string,
      bodies: Buffer[],
    ): Promise<GraphBenchRow> => {
      const result = await runLoad({
        origin,
        path: `${api}/${method}`,
        headers: auth,
        bodies,
        connections: options.connections,
        streamsPerConnection: options.streamsPerConnection,
        durationMs: options.durationS * 1000,
        warmUpMs: options.warmUpS * 1000,
      });
      return { ...loadRow(scenario, load, result), versus };
    };
    const sqlRow = async (scenario: string, script: string[]): Promise<GraphBenchRow> => {
      const result = await pgbench({
        url: database.url,
        clients,
        durationS: options.durationS,
        script: `${script.join("\n")}\n`,
      });
      return {
        scenario,
        driver: "pgbench -M prepared",
        load: `${clients} clients`,
        ...result,
        errors: result.failed,
      };
    };
    const owners = Array.from({ length: OWNERS }, (_, index) => index + 1);
    const listContactsSql = "ListContacts SQL (page + 100 profiles)";
    const listContactsBodies = owners.map((n) =>
      grpcMessage(ListContactsRequestSchema, { userId: seededId(n), pageSize: 100 }),
    );
    const relationshipsSql = "GetRelationships SQL (100 ids)";
    const owner = seededIdSql(":o");
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
      await sqlRow(listContactsSql, [
        `\\set o random(1, ${OWNERS})`,
        `SELECT contact_user_id, nickname, is_favorite, created_at, updated_at FROM contacts WHERE user_id = ${owner} ORDER BY contact_user_id LIMIT 101;`,
        `SELECT user_id, display_name, avatar_url, bio, version, created_at, updated_at FROM profiles WHERE user_id = any(ARRAY(SELECT contact_user_id FROM contacts WHERE user_id = ${owner} ORDER BY contact_user_id LIMIT 100));`,
      ]),
    );
    rows.push(
      await measure(
        "GetRelationships (100 ids)",
        relationshipsSql,
        "GetRelationships",
        owners.map((n) =>
          grpcMessage(GetRelationshipsRequestSchema, {
            userId: seededId(n),
            otherUserIds: Array.from({ length: 100 }, (_, k) => seededId(n + 50 + k)),
          }),
        ),
      ),
    );
    rows.push(
      await sqlRow(relationshipsSql, [
        `\\set o random(1, ${OWNERS})`,
        `SELECT n, is_contact, is_contact_of_other, blocks_other, blocked_by_other FROM (SELECT o.n::int AS n, EXISTS (SELECT 1 FROM contacts c WHERE c.user_id = ${owner} AND c.contact_user_id = o.id) AS is_contact, EXISTS (SELECT 1 FROM contacts c WHERE c.user_id = o.id AND c.contact_user_id = ${owner}) AS is_contact_of_other, EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = ${owner} AND b.blocked_user_id = o.id) AS blocks_other, EXISTS (SELECT 1 FROM blocks b WHERE b.user_id = o.id AND b.blocked_user_id = ${owner}) AS blocked_by_other FROM unnest(ARRAY(SELECT ${seededIdSql("g")} FROM generate_series(:o + 50, :o + 149) g)) WITH ORDINALITY AS o(id, n)) r WHERE is_contact OR is_contact_of_other OR blocks_other OR blocked_by_other;`,
      ]),
    );
    if (options.natsUrl) {
      await service?.stop();
      origin = await startOn(options.natsUrl);
      // The cache serves once its subscription to the profile events is live; the warm-up then
      // fills it with the 300 profiles the pages show.
      await waitFor(
        async () =>
          /^profile_cache_serving 1$/m.test(await (await fetch(`${origin}/metrics`)).text()),
        "the profile cache serving",
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
    await service?.stop();
    await database.drop();
  }
}

/** Profiles 1..PROFILES; owner n has contacts n+1..n+100 and blocks n+150 and n+151. */
async function seed(url: URL): Promise<void> {
  await sql(
    url,
    `INSERT INTO profiles (user_id, display_name, bio)
     SELECT ${seededIdSql("n")}, 'User ' || n, 'Bio of user ' || n FROM generate_series(1, $1) n`,
    [PROFILES],
  );
  await sql(
    url,
    `INSERT INTO contacts (user_id, contact_user_id)
     SELECT ${seededIdSql("o")}, ${seededIdSql("o + k")}
     FROM generate_series(1, $1) o, generate_series(1, $2) k`,
    [OWNERS, CONTACTS_EACH],
  );
  await sql(
    url,
    `INSERT INTO blocks (user_id, blocked_user_id)
     SELECT ${seededIdSql("o")}, ${seededIdSql("o + 150 + k")}
     FROM generate_series(1, $1) o, generate_series(0, 1) k`,
    [OWNERS],
  );
  // The seed's events are not what is measured.
  await sql(url, "DELETE FROM outbox");
  await sql(url, "VACUUM ANALYZE");
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
  await build();
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
