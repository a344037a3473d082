// Where a search's time goes, by kind of query: bench:people asks some queries of each kind one at
// a time, nothing else in flight, through the RPC and as the bare SQL (a named prepared statement,
// as the service runs it), and names the slowest. Not a target: what to look at when one is missed.
import pg from "pg";
import { connect, unaryCall } from "../harness/load.js";
import { latencySummary } from "../harness/stats.js";
import type { PeopleQuery, QueryKind, SqlValue } from "./people-queries.js";

export interface KindLatency {
  readonly kind: QueryKind;
  readonly queries: number;
  readonly rpc: { readonly p50: number; readonly max: number };
  /** The SQL alone; undefined when no query of the kind runs any. */
  readonly sql?: { readonly p50: number; readonly max: number };
}

export interface KindLatencies {
  readonly kinds: readonly KindLatency[];
  /** The slowest queries through the RPC, in ms. */
  readonly slowest: readonly { readonly query: string; readonly kind: QueryKind; ms: number }[];
}

/** The first `each` queries of every kind, one at a time, through the RPC and the SQL. */
export async function latencyByKind(options: {
  readonly origin: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly url: URL;
  readonly queries: readonly PeopleQuery[];
  readonly bodies: readonly Buffer[];
  readonly statement: string;
  readonly parameterSets: readonly (readonly SqlValue[] | undefined)[];
  readonly each: number;
}): Promise<KindLatencies> {
  const picked = new Map<QueryKind, number[]>();
  options.queries.forEach((q, i) => {
    const list = picked.get(q.kind) ?? [];
    if (list.length < options.each) list.push(i);
    picked.set(q.kind, list);
  });
  const session = await connect(options.origin);
  const client = new pg.Client({ connectionString: String(options.url) });
  await client.connect();
  const timed: { query: string; kind: QueryKind; ms: number }[] = [];
  const kinds: KindLatency[] = [];
  try {
    for (const [kind, indexes] of picked) {
      const rpc: number[] = [];
      const bare: number[] = [];
      for (const i of indexes) {
        const started = performance.now();
        const body = options.bodies[i] ?? Buffer.alloc(0);
        await unaryCall(session, options.path, options.headers, body, { timeoutMs: 30_000 });
        const ms = performance.now() - started;
        rpc.push(ms);
        timed.push({ query: options.queries[i]?.query ?? "", kind, ms: Math.round(ms * 10) / 10 });
        const values = options.parameterSets[i];
        if (values !== undefined) {
          const before = performance.now();
          await client.query({
            name: "people-search",
            text: options.statement,
            values: [...values],
          });
          bare.push(performance.now() - before);
        }
      }
      const of = (samples: number[]) => {
        const { p50, max } = latencySummary(samples);
        return { p50, max };
      };
      kinds.push({
        kind,
        queries: indexes.length,
        rpc: of(rpc),
        ...(bare.length > 0 ? { sql: of(bare) } : {}),
      });
    }
  } finally {
    session.close();
    await client.end();
  }
  return { kinds, slowest: timed.sort((a, b) => b.ms - a.ms).slice(0, 5) };
}

/** The latencies as a table, then the slowest queries. */
export function kindTable(latencies: KindLatencies): string {
  const ms = (value: number | undefined) => (value === undefined ? "—" : String(value));
  return [
    "| kind, one at a time | queries | RPC p50 ms | RPC max ms | SQL p50 ms | SQL max ms |",
    "| --- | --- | --- | --- | --- | --- |",
    ...latencies.kinds.map(
      (k) =>
        `| ${k.kind} | ${k.queries} | ${k.rpc.p50} | ${k.rpc.max} | ${ms(k.sql?.p50)} | ${ms(k.sql?.max)} |`,
    ),
    `slowest through the RPC: ${latencies.slowest.map((s) => `${JSON.stringify(s.query)} (${s.kind}) ${s.ms} ms`).join(", ")}`,
  ].join("\n");
}
