// The database limit of npm run bench: the service's SQL for each call with pgbench -M prepared
// at the same concurrency, the same ids, on the same database.
import { seededId, seededIdSql } from "../harness/database.js";
import { pgbench } from "../harness/pgbench.js";
import type { RequestBodies } from "./bodies.js";
import { record, scenarios } from "./rows.js";
import { settings, streams } from "./settings.js";

const columns = "user_id, display_name, avatar_url, bio, version, created_at, updated_at";

export async function measureDatabaseLimit(database: URL, bodies: RequestBodies): Promise<void> {
  const ids = bodies.batchIds.map((id) => `"${id}"`).join(",");
  for (const [scenario, script] of [
    [scenarios.getSql, `SELECT ${columns} FROM profiles WHERE user_id = '${seededId(1)}';\n`],
    [
      scenarios.batchSql,
      `SELECT ${columns} FROM profiles WHERE user_id = ANY('{${ids}}'::uuid[]);\n`,
    ],
    [
      scenarios.updateSql,
      [
        "\\set n random(1, 1000)",
        "\\set r random(1, 1000000000)",
        `INSERT INTO profiles (user_id, bio) VALUES (${seededIdSql(":n")}, 'pgbench ' || :r)`,
        "  ON CONFLICT (user_id) DO UPDATE SET bio = 'pgbench ' || :r, version = profiles.version + 1, updated_at = now()",
        `  WHERE profiles.bio IS DISTINCT FROM 'pgbench ' || :r RETURNING ${columns};`,
        "",
      ].join("\n"),
    ],
  ] as const) {
    const result = await pgbench({
      url: database,
      clients: streams,
      durationS: settings.durationS,
      script,
    });
    record({
      scenario,
      driver: "pgbench -M prepared",
      load: `${streams} clients`,
      ...result,
      errors: result.failed,
    });
  }
}
