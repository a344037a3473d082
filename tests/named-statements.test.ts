import { sql } from "kysely";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseConfig } from "../src/config.js";
import { type DatabaseHandle, openDatabase } from "../src/db/open-database.js";
import {
  applyProfileChange,
  findProfile,
  findProfiles,
} from "../src/profile/profile-repository.js";
import { parseUserId, type UserId } from "../src/profile/user-id.js";
import { createTestDatabase, silentLogger, type TestDatabase } from "./support/databases.js";

let database: TestDatabase;
let handle: DatabaseHandle | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterEach(async () => {
  await handle?.close();
  handle = undefined;
});

afterAll(() => database?.drop());

/** The test's database through one pooled connection, so every query shares one session. */
async function openOneConnection(preparedStatements: boolean) {
  const config = database.config as Extract<DatabaseConfig, { kind: "postgres" }>;
  handle = await openDatabase(
    { ...config, poolMax: 1, preparedStatements },
    { statementTimeoutMs: 10_000, logger: silentLogger },
  );
  return handle.db;
}

function newUserId(): UserId {
  const id = parseUserId(crypto.randomUUID());
  if (id === undefined) throw new Error("randomUUID gave no user id");
  return id;
}

async function preparedProfileStatements(db: DatabaseHandle["db"]): Promise<string[]> {
  const { rows } = await sql<{ statement: string }>`
    SELECT statement FROM pg_prepared_statements
    WHERE statement LIKE '%"profiles"%' AND statement NOT LIKE '%pg_prepared_statements%'
  `.execute(db);
  return rows.map((row) => row.statement);
}

describe("named prepared statements", () => {
  it("prepare each profile statement once per connection, however often it runs", async () => {
    const db = await openOneConnection(true);
    const userId = newUserId();
    for (let i = 0; i < 5; i++) {
      await applyProfileChange(db, { userId, fields: { bio: `bio ${i}` } });
      await findProfile(db, userId);
      await findProfiles(db, [userId, newUserId()]);
    }

    const statements = await preparedProfileStatements(db);
    expect(statements).toHaveLength(3);
    expect(statements.every((statement) => !statement.includes("*"))).toBe(true);
  });

  it("keep working when a migration adds a column under the running instance", async () => {
    const db = await openOneConnection(true);
    const userId = newUserId();
    await applyProfileChange(db, { userId, fields: { displayName: "Before" } });
    await findProfile(db, userId);
    await findProfiles(db, [userId]);

    const migrator = new pg.Client({
      connectionString: (database.config as { url: string }).url,
    });
    await migrator.connect();
    try {
      await migrator.query("ALTER TABLE profiles ADD COLUMN pronouns text NOT NULL DEFAULT ''");
      expect((await findProfile(db, userId))?.display_name).toBe("Before");
      expect(await findProfiles(db, [userId])).toHaveLength(1);
      const changed = await applyProfileChange(db, { userId, fields: { displayName: "After" } });
      expect(changed?.display_name).toBe("After");
    } finally {
      await migrator.query("ALTER TABLE profiles DROP COLUMN pronouns");
      await migrator.end();
    }
  });

  it("never send a read whose call ended while it waited for a connection", async () => {
    const db = await openOneConnection(true);
    const call = new AbortController();
    let read: Promise<unknown> = Promise.resolve();
    await db.connection().execute(async () => {
      read = findProfile(db, newUserId(), call.signal);
      read.catch(() => {});
      while ((handle?.poolStats()?.waiting ?? 0) === 0) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      call.abort(new Error("the call ended"));
    });

    await expect(read).rejects.toThrow("the call ended");
    // Had it been sent, its statement would be prepared on the pool's one connection.
    expect(await preparedProfileStatements(db)).toEqual([]);
  });

  it("are not used with DB_PREPARED_STATEMENTS=false", async () => {
    const db = await openOneConnection(false);
    const userId = newUserId();
    await applyProfileChange(db, { userId, fields: { bio: "unnamed" } });
    await findProfile(db, userId);

    expect(await preparedProfileStatements(db)).toEqual([]);
  });
});
