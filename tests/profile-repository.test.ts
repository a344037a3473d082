import { setTimeout as sleep } from "node:timers/promises";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { migrateToLatest } from "../src/db/migrate.js";
import type { ProfileRow } from "../src/db/tables/profiles.js";
import { findProfile, findProfiles } from "../src/profile/sql/reads.js";
import { applyProfileChange } from "../src/profile/sql/repository.js";
import { parseUserId, type UserId } from "../src/profile/user-id.js";
import { storageKinds, useTestDatabase } from "./support/databases.js";

function newUserId(): UserId {
  const userId = parseUserId(crypto.randomUUID());
  if (userId === undefined) throw new Error("randomUUID gave no UUID");
  return userId;
}

/** A row whose id is known to be canonical. */
type CreatedRow = ProfileRow & { user_id: UserId };

/** Long enough for the database clock (microseconds) to move past a JS Date's millisecond. */
const clockTick = () => sleep(5);

describe.each(storageKinds)("profile repository on %s", (kind) => {
  const fixture = useTestDatabase(kind);

  const db = () => fixture.database.db;

  /** The database's own clock, as a Date. */
  const databaseNow = async () => {
    const { rows } = await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(db());
    const now = rows[0]?.now;
    if (!(now instanceof Date)) throw new Error("clock_timestamp() gave no Date");
    return now;
  };

  /** Creates a profile with all three fields and returns its row. */
  const createProfile = async (userId: UserId = newUserId()): Promise<CreatedRow> => {
    const row = await applyProfileChange(db(), {
      userId,
      fields: { displayName: "Ada", avatarUrl: "https://example.com/ada.png", bio: "hello" },
    });
    if (row === undefined) throw new Error("the profile was not created");
    return { ...row, user_id: userId };
  };

  it("applyProfileChange on a missing profile inserts it with the given fields, version 1 and the others empty", async () => {
    const userId = newUserId();

    const row = await applyProfileChange(db(), { userId, fields: { bio: "hello" } });

    expect(row).toMatchObject({
      user_id: userId,
      display_name: "",
      avatar_url: "",
      bio: "hello",
      version: 1,
    });
    expect(await findProfile(db(), userId)).toEqual(row);
  });

  it("a partial update changes the given column and keeps the others", async () => {
    const created = await createProfile();

    const updated = await applyProfileChange(db(), {
      userId: created.user_id,
      fields: { bio: "changed" },
    });

    expect(updated).toMatchObject({
      display_name: "Ada",
      avatar_url: "https://example.com/ada.png",
      bio: "changed",
    });
  });

  it("clearing avatar_url and bio with empty strings keeps display_name", async () => {
    const created = await createProfile();

    const updated = await applyProfileChange(db(), {
      userId: created.user_id,
      fields: { avatarUrl: "", bio: "" },
    });

    expect(updated).toMatchObject({ display_name: "Ada", avatar_url: "", bio: "" });
  });

  it("a change to the values already stored returns undefined and leaves version and updated_at", async () => {
    const created = await createProfile();
    await clockTick();

    const result = await applyProfileChange(db(), {
      userId: created.user_id,
      fields: { displayName: "Ada", bio: "hello" },
    });

    expect(result).toBeUndefined();
    expect(await findProfile(db(), created.user_id)).toEqual(created);
  });

  it("a change with the matching expectedVersion is applied and bumps the version", async () => {
    const created = await createProfile();

    const updated = await applyProfileChange(db(), {
      userId: created.user_id,
      fields: { displayName: "Grace" },
      expectedVersion: created.version,
    });

    expect(updated).toMatchObject({ display_name: "Grace", version: created.version + 1 });
  });

  it("a change with a stale expectedVersion returns undefined and changes nothing", async () => {
    const created = await createProfile();
    const current = await applyProfileChange(db(), {
      userId: created.user_id,
      fields: { bio: "second" },
    });

    const result = await applyProfileChange(db(), {
      userId: created.user_id,
      fields: { displayName: "Grace" },
      expectedVersion: created.version,
    });

    expect(result).toBeUndefined();
    expect(await findProfile(db(), created.user_id)).toEqual(current);
  });

  it("a change with the matching expectedVersion but the stored values returns undefined and changes nothing", async () => {
    const created = await createProfile();

    const result = await applyProfileChange(db(), {
      userId: created.user_id,
      fields: { bio: "hello" },
      expectedVersion: created.version,
    });

    expect(result).toBeUndefined();
    expect(await findProfile(db(), created.user_id)).toEqual(created);
  });

  it("a change with expectedVersion on a missing profile returns undefined and does not create it", async () => {
    const userId = newUserId();

    const result = await applyProfileChange(db(), {
      userId,
      fields: { displayName: "Ada" },
      expectedVersion: 1,
    });

    expect(result).toBeUndefined();
    expect(await findProfile(db(), userId)).toBeUndefined();
  });

  it("the version grows by exactly one per effective change and not on no-op changes", async () => {
    const userId = newUserId();
    const bios = ["one", "one", "two", "two", "three", "four", "four"];

    const versions: number[] = [];
    for (const bio of bios) {
      await applyProfileChange(db(), { userId, fields: { bio } });
      const row = await findProfile(db(), userId);
      versions.push(row?.version ?? 0);
    }

    expect(versions).toEqual([1, 1, 2, 2, 3, 4, 4]);
  });

  it("created_at never changes while updated_at moves on every effective change", async () => {
    const created = await createProfile();

    const rows: ProfileRow[] = [];
    for (const bio of ["a", "b", "c"]) {
      await clockTick();
      const row = await applyProfileChange(db(), { userId: created.user_id, fields: { bio } });
      if (row !== undefined) rows.push(row);
    }

    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.created_at).toEqual(created.created_at);
    const updatedAts = [created, ...rows].map((row) => row.updated_at.getTime());
    for (let i = 1; i < updatedAts.length; i += 1) {
      expect(updatedAts[i]).toBeGreaterThan(updatedAts[i - 1] ?? Number.POSITIVE_INFINITY);
    }
  });

  it("timestamps are Dates from the database clock, equal at creation", async () => {
    const before = await databaseNow();

    const created = await createProfile();
    const after = await databaseNow();

    expect(created.created_at).toBeInstanceOf(Date);
    expect(created.updated_at).toBeInstanceOf(Date);
    expect(created.updated_at).toEqual(created.created_at);
    // JS Dates keep milliseconds: the stored microseconds may round the value just below `before`.
    expect(created.created_at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1);
    expect(created.created_at.getTime()).toBeLessThanOrEqual(after.getTime());
  });

  it("updated_at after an update lies between database clock readings taken around it", async () => {
    const created = await createProfile();
    await clockTick();
    const before = await databaseNow();

    const updated = await applyProfileChange(db(), {
      userId: created.user_id,
      fields: { displayName: "Grace" },
    });
    const after = await databaseNow();

    expect(updated?.updated_at).toBeInstanceOf(Date);
    expect(updated?.updated_at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1);
    expect(updated?.updated_at.getTime()).toBeLessThanOrEqual(after.getTime());
    expect(updated?.created_at).toEqual(created.created_at);
  });

  it("two concurrent changes of different fields both survive", async () => {
    const created = await createProfile();

    await Promise.all([
      applyProfileChange(db(), { userId: created.user_id, fields: { displayName: "Grace" } }),
      applyProfileChange(db(), { userId: created.user_id, fields: { bio: "concurrent" } }),
    ]);

    expect(await findProfile(db(), created.user_id)).toMatchObject({
      display_name: "Grace",
      bio: "concurrent",
      version: created.version + 2,
    });
  });

  it("findProfile of a missing id returns undefined", async () => {
    const userId = newUserId();

    const row = await findProfile(db(), userId);

    expect(row).toBeUndefined();
  });

  it("findProfiles with 1000 ids returns exactly the profiles that exist among them", async () => {
    const existing = await Promise.all(Array.from({ length: 10 }, () => createProfile()));
    const existingIds = existing.map((row) => row.user_id);
    const ids = [...existingIds, ...Array.from({ length: 990 }, newUserId)].sort();

    const rows = await findProfiles(db(), ids);

    expect(ids).toHaveLength(1000);
    expect(rows.map((row) => row.user_id).sort()).toEqual([...existingIds].sort());
    expect(rows.sort((a, b) => a.user_id.localeCompare(b.user_id))).toEqual(
      existing.sort((a, b) => a.user_id.localeCompare(b.user_id)),
    );
  });

  it("running the migrations again applies nothing and keeps the stored profiles", async () => {
    const created = await createProfile();

    const applied = await migrateToLatest(db());

    expect(applied).toEqual([]);
    expect(await findProfile(db(), created.user_id)).toEqual(created);
  });
});
