import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { benchAuth } from "./auth.js";
import { root } from "./processes.js";

const run = promisify(execFile);

/** The n-th seeded profile's id, 1-based: `00000000-0000-4000-8000-<n, 12 digits>`. */
export const seededId = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
export const isSeeded = (userId: string) => userId.startsWith("00000000-0000-4000-8000-");
/** `seededId` in SQL, of an integer expression such as `n` or `:o + 1`. */
export const seededIdSql = (n: string) =>
  `('00000000-0000-4000-8000-' || lpad((${n})::text, 12, '0'))::uuid`;

/** Runs SQL (one or more statements without parameters, or one with) on a connection of its own. */
export async function sql(url: string | URL, text: string, values?: unknown[]) {
  const client = new pg.Client({ connectionString: String(url) });
  client.on("error", () => {});
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A database of the bench's own on a PostgreSQL server, and how to drop it. */
export interface ScratchDatabase {
  readonly name: string;
  readonly url: URL;
  drop(): Promise<void>;
}

/**
 * Creates `<prefix>_<random>` on the server at `serverUrl`, whose user must be allowed to create
 * databases.
 */
export async function createDatabase(serverUrl: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString("hex")}`;
  await sql(serverUrl, `CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url,
    drop: async () => {
      await sql(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

/** Migrates a database with the production build's `dist/migrate.js` of `buildDir`. */
export async function migrate(url: URL, buildDir = root): Promise<void> {
  await run("node", [path.join(buildDir, "dist", "migrate.js")], {
    cwd: buildDir,
    env: {
      ...process.env,
      DATABASE_URL: `${url}`,
      JWT_SECRET: benchAuth.secret,
      LOG_LEVEL: "warn",
    },
  });
}

/**
 * Inserts profiles 1..count (`seededId`), with the outbox triggers off: seeded profiles are at
 * version 1 and have no event.
 */
export async function seedProfiles(url: URL, count: number): Promise<void> {
  await sql(
    url,
    `SET session_replication_role = replica;
     INSERT INTO profiles (user_id, display_name, avatar_url, bio)
     SELECT ${seededIdSql("n")}, 'User ' || n,
            'https://cdn.example/avatars/' || n || '.png', 'The bio of user number ' || n
     FROM generate_series(1, ${count}) AS n;
     SET session_replication_role = origin;
     ANALYZE profiles;`,
  );
}
