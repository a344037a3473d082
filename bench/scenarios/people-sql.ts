// The search SQL bench:people hands pgbench: the service's own statement (src/profile/sql/) and the
// parameters the service runs it with for one query, so that pgbench runs the very same SQL.
import { planOf } from "../../src/profile/search.js";
import { SEARCH_PROFILES_SQL, searchParameters } from "../../src/profile/sql/search.js";
import type { UserId } from "../../src/profile/user-id.js";
import type { SqlValue } from "./people-queries.js";

/** The search statement ($1..$n) and how the service fills its parameters for one query. */
export interface SearchSql {
  readonly statement: string;
  /** The parameters for one query, as the service computes them; undefined: it runs no SQL. */
  parameters(query: string, viewer: string, pageSize: number): readonly SqlValue[] | undefined;
}

/**
 * SearchProfiles' statement, and its parameters for a first page as the service plans it: a user
 * viewer's query, and one result more than the page holds (whether there is a next page).
 */
export const searchSql: SearchSql = {
  statement: SEARCH_PROFILES_SQL,
  parameters: (query, viewer, pageSize) => {
    const plan = planOf(query, { kind: "user", userId: viewer as UserId }, 0, pageSize + 1);
    return plan === undefined ? undefined : (searchParameters(plan) as SqlValue[]);
  },
};
