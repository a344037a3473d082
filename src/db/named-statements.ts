import type { PostgresCursor, PostgresPool, PostgresPoolClient, PostgresQueryResult } from "kysely";
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
 * does. Measured (bench/README.md): GetProfile +7 %; pgbench does twice the lookups per second
 * prepared as unprepared.
 *
 * A prepared statement fails with "cached plan must not change result type" if a migration
 * changes the columns it returns under a running instance, so queries name their columns rather
 * than select `*` (a new column then changes nothing). Named statements need session pooling:
 * behind PgBouncer in transaction mode (before 1.21) set DB_PREPARED_STATEMENTS=false.
 */
export function withNamedStatements(pool: pg.Pool): PostgresPool {
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

  return {
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
}
