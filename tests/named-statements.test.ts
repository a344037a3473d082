import { sql } from "kysely";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseConfig } from "../src/config/config.js";
import { type DatabaseHandle, openDatabase } from "../src/db/open.js";
import { findProfile, findProfiles } from "../src/profile/sql/reads.js";
import { applyProfileChange, createProfileStore } from "../src/profile/sql/repository.js";
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

describe("the profile store's lookups", () => {
  /**
   * Runs `lookups` while the pool's one connection is held, and `thenWhileQueued` once they wait
   * for it; returns their result and how many statements waited.
   */
  async function whileConnectionHeld<T>(
    db: DatabaseHandle["db"],
    lookups: () => Promise<T>,
    thenWhileQueued: () => void = () => {},
  ): Promise<{ result: Promise<T>; queued: number }> {
    let result: Promise<T> | undefined;
    let queued = 0;
    await db.connection().execute(async () => {
      result = lookups();
      result.catch(() => {});
      // The lookups of one turn are sent at setImmediate; two turns later they wait in the pool.
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      queued = handle?.poolStats()?.waiting ?? 0;
      thenWhileQueued();
    });
    if (result === undefined) throw new Error("the lookups did not run");
    return { result, queued };
  }

  it("asked in one turn are answered by one statement, each with its own profiles", async () => {
    const db = await openOneConnection(true);
    const [ada, bob] = [newUserId(), newUserId()];
    await applyProfileChange(db, { userId: ada, fields: { displayName: "Ada" } });
    await applyProfileChange(db, { userId: bob, fields: { displayName: "Bob" } });
    const store = createProfileStore(db);
    const missing = newUserId();

    const { result, queued } = await whileConnectionHeld(db, () =>
      Promise.all([
        Promise.all([ada, bob, missing, ada].map((userId) => store.find(userId))),
        store.findMany([bob, missing, bob]),
        store.findMany([missing, ada]),
      ]),
    );

    expect(queued).toBe(1);
    const [found, bobOnly, adaOnly] = await result;
    expect(found.map((profile) => profile?.displayName)).toEqual(["Ada", "Bob", undefined, "Ada"]);
    expect(bobOnly.map((profile) => profile.displayName)).toEqual(["Bob"]);
    expect(adaOnly.map((profile) => profile.displayName)).toEqual(["Ada"]);
  });

  it("are not sent when every call asking them ended while they waited for a connection", async () => {
    const db = await openOneConnection(true);
    const store = createProfileStore(db);
    const calls = [new AbortController(), new AbortController()];

    const { result, queued } = await whileConnectionHeld(
      db,
      () => Promise.all(calls.map((call) => store.find(newUserId(), call.signal))),
      () => {
        for (const call of calls) call.abort(new Error("the call ended"));
      },
    );

    expect(queued).toBe(1);
    await expect(result).rejects.toThrow("the call ended");
    expect(await preparedProfileStatements(db)).toEqual([]);
  });
});
