import type {
  Kysely,
  PostgresCursor,
  PostgresPool,
  PostgresPoolClient,
  PostgresQueryResult,
} from "kysely";
import type pg from "pg";

/** Statements worth preparing; DDL and transaction control run unnamed. */
const preparable = /^\s*(?:select|insert|update|delete|with)\b/i;
/**
 * Safety net: our queries have a few dozen shapes, but SQL text built from variable-length lists
 * would otherwise prepare a new statement on every connection for every length.
 */
const MAX_NAMED_STATEMENTS = 200;

/**
 * The pool as Kysely sees it, with every data statement run as a named prepared statement: each
 * connection parses and plans it once, then only binds and executes it, as `pgbench -M prepared`
 * does, which saves PostgreSQL a parse and a plan per call (bench/README.md has the figures).
 *
 * A prepared statement fails with "cached plan must not change result type" if a migration
 * changes the columns it returns under a running instance, so queries name their columns rather
 * than select `*` (a new column then changes nothing). Named statements need session pooling:
 * behind PgBouncer in transaction mode (before 1.21) set DB_PREPARED_STATEMENTS=false.
 */
export function withNamedStatements(pool: pg.Pool): NamedStatementPool {
  const names = new Map<string, string>();
  const nameOf = (text: string): string | undefined => {
    const known = names.get(text);
    if (known !== undefined || names.size >= MAX_NAMED_STATEMENTS || !preparable.test(text)) {
      return known;
    }
    const name = `profile_service_${names.size + 1}`;
    names.set(text, name);
    return name;
  };

  const kysely: PostgresPool = {
    options: pool.options,
    async connect() {
      const client = await pool.connect();
      function query<R>(
        text: string,
        values: ReadonlyArray<unknown>,
      ): Promise<PostgresQueryResult<R>>;
      function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
      function query(
        textOrCursor: unknown,
        values?: ReadonlyArray<unknown>,
      ): Promise<unknown> | PostgresCursor<unknown> {
        // Kysely passes cursors only when its dialect is given a cursor class, which ours is not.
        if (typeof textOrCursor !== "string") throw new Error("cursors are not supported");
        const text = textOrCursor;
        return client.query({ name: nameOf(text), text, values: [...(values ?? [])] });
      }
      const named: PostgresPoolClient = { query, release: (destroy) => client.release(destroy) };
      return named;
    },
    end: () => pool.end(),
  };
  return {
    kysely,
    async run<R>(text: string, values: unknown[], signal?: AbortSignal): Promise<R[]> {
      signal?.throwIfAborted();
      const client = await pool.connect();
      try {
        // The call may have ended while it waited for a connection: then nothing is sent.
        signal?.throwIfAborted();
        return (await client.query({ name: nameOf(text), text, values })).rows as R[];
      } finally {
        client.release();
      }
    },
  };
}

/** The pool with named statements: as Kysely's pool, and as a runner of compiled statements. */
export interface NamedStatementPool {
  readonly kysely: PostgresPool;
  readonly run: StatementRunner;
}

/**
 * Runs one compiled statement straight on the pool and returns its rows; a statement whose call
 * has ended (`signal` aborted) before it got a connection is never sent.
 *
 * Why: Kysely's executor costs more than the statement's own client work on the hottest reads
 * (a promise race, listeners and a deferred per call for the signal; bench/README.md, "Lean path").
 */
export type StatementRunner = <R>(
  text: string,
  values: unknown[],
  signal?: AbortSignal,
) => Promise<R[]>;

const runners = new WeakMap<object, StatementRunner>();

/** Makes `run` the way hot statements on `db` (not its transactions) are run; see below. */
export function attachStatementRunner<DB>(db: Kysely<DB>, run: StatementRunner): void {
  runners.set(db, run);
}

/** The runner attached to `db`, if it is a PostgreSQL database opened with named statements. */
export function statementRunnerOf<DB>(db: Kysely<DB>): StatementRunner | undefined {
  return runners.get(db);
}
