// npm run bench:people: finding people (issue 21, "Speed") on the people seed (bench/seed/people.ts,
// 1,000,000 profiles by default), against the production build with a NATS of its own (cache
// warm), in one run: SearchProfiles over a realistic mix of queries at 16 streams beside pgbench
// running the service's own search SQL with the same parameters at 16 clients, and ResolveHandle
// beside GetProfile on the same users; the rows alternate in rounds and each ratio is the median
// of its rounds. A missed target is printed, not failed; a call that fails is an error.
// `npm run bench` (bench/scenarios/run.ts), which has built already, calls benchPeople().
import { fromBinary } from "@bufbuild/protobuf";
import {
  CheckHandleRequestSchema,
  GetProfileRequestSchema,
  ResolveHandleRequestSchema,
  SearchProfilesRequestSchema,
  SearchProfilesResponseSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { DEFAULT_RESERVED_HANDLES } from "../../src/profile/handle.js";
import { startNatsServer } from "../../tests/support/nats.js";
import { adminToken, bearer } from "../harness/auth.js";
import { sql } from "../harness/database.js";
import { connect, grpcMessage, runLoad, summarize, unaryCall } from "../harness/load.js";
import { pgbench } from "../harness/pgbench.js";
import { build, type RunningService, startService, waitFor } from "../harness/processes.js";
import { machine, resultsFile, writeResults } from "../harness/results.js";
import { ensurePeopleSeed, peopleDatabaseUrl, viewerIds } from "../seed/people.js";
import { type KindLatencies, latencyByKind } from "./people-kinds.js";
import {
  handleUsers,
  type PeopleQuery,
  peopleQueries,
  pgbenchScript,
  type QueryKind,
  type SqlValue,
} from "./people-queries.js";
import {
  type PeopleRow,
  type PeopleTarget,
  peopleBenchTable,
  peopleRows,
  peopleTargets,
} from "./people-report.js";
import { searchSql } from "./people-sql.js";

export interface PeopleBenchOptions {
  /** A PostgreSQL server where the user may create databases. */
  readonly databaseUrl: string;
  readonly profiles: number;
  readonly durationS: number;
  readonly warmUpS: number;
  readonly rounds: number;
  readonly connections: number;
  readonly streamsPerConnection: number;
  /** The service's LOG_LEVEL (info, as in production). */
  readonly logLevel: string;
  /** How many queries the mix holds, and how many users ResolveHandle and GetProfile read. */
  readonly queries: number;
  readonly users: number;
  /** How many queries of each kind are also timed one at a time (people-kinds.ts). */
  readonly eachKind: number;
}

export interface PeopleBenchResult {
  readonly rows: readonly PeopleRow[];
  readonly targets: readonly PeopleTarget[];
  /** What was not measured, and why (an RPC that answers UNIMPLEMENTED). */
  readonly notMeasured: readonly string[];
  /** Calls that failed before or during the rows: wrong, not slow. */
  readonly errors: readonly string[];
  /** Results per query kind on the first page, from the check before the rows. */
  readonly mix: Readonly<Record<string, { queries: number; meanResults: number }>>;
  /** Latency by kind of query, one at a time; undefined when SearchProfiles was not measured. */
  readonly kinds?: KindLatencies;
}

const api = "/realchat.profile.v1.ProfileApi";
const PAGE_SIZE = 20;
const UNIMPLEMENTED = "12";

export async function benchPeople(options: PeopleBenchOptions): Promise<PeopleBenchResult> {
  const url = peopleDatabaseUrl(options.databaseUrl, options.profiles);
  process.stderr.write(`people seed: ${url.pathname.slice(1)}, ${options.profiles} profiles\n`);
  const seeded = await ensurePeopleSeed(url, options.profiles);
  process.stderr.write(`people seed: ${seeded ? "seeded" : "reused"}\n`);
  // A broker of the run's own: the instance's durable consumer takes nothing meant for others.
  const broker = await startNatsServer();
  let service: RunningService | undefined;
  try {
    service = await startService({
      port: 18_900 + Math.floor(Math.random() * 400),
      databaseUrl: url,
      natsUrl: broker.url,
      logLevel: options.logLevel,
      env: { PROFILE_CACHE_ENABLED: "true" },
    });
    const origin = service.origin;
    await waitFor(
      async () =>
        /^profile_cache_serving 1$/m.test(await (await fetch(`${origin}/metrics`)).text()),
      "the profile cache serving",
    );
    const headers = bearer(await adminToken("people-bench"));
    const queries = await peopleQueries(url, options.profiles, viewerIds, options.queries);
    const users = await handleUsers(url, options.profiles, options.users);
    const bodies = {
      search: queries.map((q) =>
        grpcMessage(SearchProfilesRequestSchema, {
          query: q.query,
          pageSize: PAGE_SIZE,
          viewerUserId: q.viewer,
        }),
      ),
      resolve: users.map((u, i) =>
        grpcMessage(ResolveHandleRequestSchema, {
          handle: u.handle,
          viewerUserId: viewerIds[i % viewerIds.length],
        }),
      ),
      // CheckHandle of handles that are held, and of reserved ones: the same answer, and it must
      // cost the same, so that its timing tells nothing.
      checkHeld: users.map((u) => grpcMessage(CheckHandleRequestSchema, { handle: u.handle })),
      checkReserved: users.map((_, i) =>
        grpcMessage(CheckHandleRequestSchema, {
          handle: DEFAULT_RESERVED_HANDLES[i % DEFAULT_RESERVED_HANDLES.length] ?? "admin",
        }),
      ),
      get: users.map((u, i) =>
        grpcMessage(GetProfileRequestSchema, {
          userId: u.userId,
          viewerUserId: viewerIds[i % viewerIds.length],
        }),
      ),
    };
    const notMeasured: string[] = [];
    const errors: string[] = [];
    // Every call once before any row: it must answer (this is also the warm-up of the cache and
    // of PostgreSQL's pages). An RPC that is not built yet answers UNIMPLEMENTED: its rows are
    // left out and said so.
    const check = async (method: string, list: readonly Buffer[]) => {
      const answers = await callEach(origin, `${api}/${method}`, headers, list);
      if (answers.every((a) => a.status === UNIMPLEMENTED)) {
        notMeasured.push(`${method}: the service answers UNIMPLEMENTED (not built on this branch)`);
        return undefined;
      }
      const failed = answers.filter((a) => a.status !== "0");
      if (failed.length > 0)
        errors.push(
          `${method}: ${failed.length} of ${answers.length} calls failed before the rows`,
        );
      return answers;
    };
    const searchAnswers = await check("SearchProfiles", bodies.search);
    const resolveAnswers = await check("ResolveHandle", bodies.resolve);
    await check("GetProfile", bodies.get);
    const checkAnswers = await check("CheckHandle", bodies.checkHeld);
    const mix = searchAnswers === undefined ? {} : mixSummary(queries, searchAnswers);

    const rows: PeopleRow[] = [];
    const clients = options.connections * options.streamsPerConnection;
    const load = async (scenario: string, method: string, list: Buffer[], round: number) => {
      const result = await runLoad({
        origin,
        path: `${api}/${method}`,
        headers,
        bodies: list,
        connections: options.connections,
        streamsPerConnection: options.streamsPerConnection,
        durationMs: options.durationS * 1000,
        warmUpMs: options.warmUpS * 1000,
      });
      record(rows, { scenario, driver: "node http2", round, ...summarize(result) });
    };
    const parameterSets = queries.map((q) => searchSql.parameters(q.query, q.viewer, PAGE_SIZE));
    if (searchAnswers !== undefined) {
      errors.push(...(await sameAnswers(url, searchSql.statement, parameterSets, searchAnswers)));
    }
    const kinds =
      searchAnswers === undefined
        ? undefined
        : await latencyByKind({
            origin,
            path: `${api}/SearchProfiles`,
            headers,
            url,
            queries,
            bodies: bodies.search,
            statement: searchSql.statement,
            parameterSets,
            each: options.eachKind,
          });
    const sqlRow = async (round: number) => {
      const result = await pgbench({
        url,
        clients,
        durationS: options.durationS,
        script: pgbenchScript(
          searchSql.statement,
          parameterSets.flatMap((set) => (set === undefined ? [] : [set])),
        ),
      });
      record(rows, {
        scenario: peopleRows.searchSql,
        driver: "pgbench -M prepared",
        round,
        ...result,
        errors: result.failed,
      });
    };
    for (let round = 1; round <= options.rounds; round++) {
      process.stderr.write(`people: round ${round} of ${options.rounds}\n`);
      // Each pair in the other order every other round, so that drift weighs on both sides.
      const flip = round % 2 === 0;
      if (searchAnswers !== undefined) {
        const ours = () => load(peopleRows.search, "SearchProfiles", bodies.search, round);
        for (const step of flip ? [() => sqlRow(round), ours] : [ours, () => sqlRow(round)])
          await step();
      }
      const get = () => load(peopleRows.get, "GetProfile", bodies.get, round);
      if (resolveAnswers === undefined) await get();
      else {
        const resolve = () => load(peopleRows.resolve, "ResolveHandle", bodies.resolve, round);
        for (const step of flip ? [get, resolve] : [resolve, get]) await step();
      }
      if (checkAnswers !== undefined) {
        const held = () => load(peopleRows.checkHeld, "CheckHandle", bodies.checkHeld, round);
        const reserved = () =>
          load(peopleRows.checkReserved, "CheckHandle", bodies.checkReserved, round);
        for (const step of flip ? [reserved, held] : [held, reserved]) await step();
      }
    }
    for (const row of rows) {
      if (row.errors > 0) errors.push(`${row.scenario}, round ${row.round}: ${row.errors} failed`);
    }
    return { rows, targets: peopleTargets(rows), notMeasured, errors, mix, kinds };
  } finally {
    await service?.stop();
    await broker.dispose();
  }
}

function record(rows: PeopleRow[], row: PeopleRow): void {
  rows.push(row);
  process.stderr.write(
    `  ${row.scenario} [${row.driver}]: ${row.rps} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms\n`,
  );
}

/** Each body once, 16 in flight on one connection, keeping the answers. */
async function callEach(
  origin: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  bodies: readonly Buffer[],
) {
  const session = await connect(origin);
  const answers: Awaited<ReturnType<typeof unaryCall>>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let i = next++; i < bodies.length; i = next++) {
        const body = bodies[i] ?? Buffer.alloc(0);
        answers[i] = await unaryCall(session, path, headers, body, {
          timeoutMs: 30_000,
          keepAnswer: true,
        });
      }
    }),
  );
  session.close();
  return answers;
}

/**
 * pgbench measures the service's SQL only if it runs with the service's parameters: the first 50
 * queries' SQL answers (up to a page) must name the profiles the RPC answered, in its order.
 */
async function sameAnswers(
  url: URL,
  statement: string,
  parameterSets: readonly (readonly SqlValue[] | undefined)[],
  answers: readonly Awaited<ReturnType<typeof unaryCall>>[],
): Promise<string[]> {
  const wrong: string[] = [];
  for (const [i, parameters] of parameterSets.slice(0, 50).entries()) {
    const answer = answers[i];
    if (parameters === undefined || answer?.status !== "0") continue;
    const { rows } = await sql(url, statement, [...parameters]);
    const bySql = rows.slice(0, PAGE_SIZE).map((row) => String(row.user_id));
    const byRpc = fromBinary(SearchProfilesResponseSchema, answer.message).profiles.map(
      (profile) => profile.userId,
    );
    if (bySql.join() !== byRpc.join()) wrong.push(`query ${i + 1}: SQL ${bySql} but RPC ${byRpc}`);
  }
  return wrong.length === 0
    ? []
    : [`the search SQL with the bench's parameters answers otherwise than the RPC: ${wrong[0]}`];
}

/** How many profiles the first page held, per kind of query. */
function mixSummary(
  queries: readonly PeopleQuery[],
  answers: readonly Awaited<ReturnType<typeof unaryCall>>[],
) {
  const totals: Partial<Record<QueryKind, { queries: number; results: number }>> = {};
  queries.forEach((q, i) => {
    const answer = answers[i];
    if (answer?.status !== "0") return;
    const total = totals[q.kind] ?? { queries: 0, results: 0 };
    totals[q.kind] = total;
    total.queries += 1;
    total.results += fromBinary(SearchProfilesResponseSchema, answer.message).profiles.length;
  });
  return Object.fromEntries(
    Object.entries(totals).map(([kind, t]) => [
      kind,
      { queries: t.queries, meanResults: Math.round((10 * t.results) / t.queries) / 10 },
    ]),
  );
}

/**
 * The options from the environment: BENCH_PEOPLE_PROFILES (1,000,000; smoke 20,000),
 * BENCH_DURATION_S (10; smoke 1), BENCH_PEOPLE_ROUNDS (3; smoke 1), BENCH_LOG_LEVEL (info).
 */
export function peopleOptions(env: NodeJS.ProcessEnv, smoke: boolean): PeopleBenchOptions {
  return {
    databaseUrl: env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
    profiles: Number(env.BENCH_PEOPLE_PROFILES ?? (smoke ? 20_000 : 1_000_000)),
    durationS: Number(env.BENCH_DURATION_S ?? (smoke ? 1 : 10)),
    warmUpS: smoke ? 0.5 : 2,
    rounds: Number(env.BENCH_PEOPLE_ROUNDS ?? (smoke ? 1 : 3)),
    connections: 4,
    streamsPerConnection: 4,
    logLevel: env.BENCH_LOG_LEVEL ?? "info",
    queries: smoke ? 200 : 1000,
    users: smoke ? 200 : 1000,
    eachKind: smoke ? 3 : 15,
  };
}

if (import.meta.main) {
  await build();
  const options = peopleOptions(process.env, process.env.BENCH_SMOKE === "1");
  const result = await benchPeople(options);
  process.stdout.write(`\nFind people (bench/scenarios/people.ts)\n${peopleBenchTable(result)}\n`);
  const when = new Date().toISOString();
  const file = await writeResults(resultsFile("people", when), {
    when,
    machine: machine(),
    options,
    ...result,
  });
  process.stdout.write(`results: ${file}\n`);
  if (result.errors.length > 0) {
    process.stderr.write(`errors:\n${result.errors.join("\n")}\n`);
    process.exitCode = 1;
  }
}
