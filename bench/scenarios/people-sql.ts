// The search SQL bench:people hands pgbench: the service's own statement (src/profile/sql/) and the
// parameters the service runs it with for one query, so that pgbench runs the very same SQL.
import type { SqlValue } from "./people-queries.js";

/** The search statement ($1..$n) and how the service fills its parameters for one query. */
export interface SearchSql {
  readonly statement: string;
  /** The parameters for one query, as the service computes them; undefined: it runs no SQL. */
  parameters(query: string, viewer: string, pageSize: number): readonly SqlValue[] | undefined;
}

/** Undefined until SearchProfiles' SQL is on this branch (issue 21, branch `search`). */
export function searchSql(): SearchSql | undefined {
  return undefined;
}
