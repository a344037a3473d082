import { describe, expect, it } from "vitest";
import { type Caller, PROFILE_ADMIN_SCOPE } from "../../src/auth/caller.js";
import { FieldRulesBroken } from "../../src/field-violations.js";
import { EtagMismatch, NotProfileOwner, ProfileNotFound } from "../../src/profile/errors.js";
import type { Profile } from "../../src/profile/profile.js";
import type { ProfileFields } from "../../src/profile/rules.js";
import { createProfileService } from "../../src/profile/service.js";
import { parseUserId, type UserId } from "../../src/profile/user-id.js";
import { createInMemoryPrivacyStore } from "./support/in-memory-privacy-store.js";
import {
  createInMemoryProfileStore,
  type InMemoryProfileStore,
} from "./support/in-memory-profile-store.js";
import { createInMemorySearchStore } from "./support/in-memory-search-store.js";

const rules = { allowHttpAvatarUrls: false };

function newUserId(): UserId {
  const userId = parseUserId(crypto.randomUUID());
  if (userId === undefined) throw new Error("randomUUID gave no UUID");
  return userId;
}

const userCaller = (userId: string): Caller => ({ subject: userId, scopes: new Set() });
const adminCaller: Caller = { subject: "admin-tool", scopes: new Set([PROFILE_ADMIN_SCOPE]) };

/** A service on an empty in-memory store whose clock ticks one second per reading. */
function setUp() {
  let seconds = 0;
  const store = createInMemoryProfileStore(() => new Date(Date.UTC(2026, 0, 1, 0, 0, seconds++)));
  const service = createProfileService(
    store,
    rules,
    createInMemoryPrivacyStore(),
    createInMemorySearchStore(),
  );
  /** The owner's own update of `userId`. */
  const update = (userId: string, fields: ProfileFields, etag?: string, caller?: Caller) =>
    service.updateProfile({ caller: caller ?? userCaller(userId), userId, fields, etag });
  return { store, service, update };
}

/** The error a call rejects with; fails the test if it resolves. */
async function failure(call: Promise<unknown>): Promise<unknown> {
  try {
    await call;
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

const violationsOf = (error: unknown) =>
  error instanceof FieldRulesBroken
    ? error.violations.map((v) => `${v.field}: ${v.reason}`)
    : [`not a FieldRulesBroken: ${String(error)}`];

/** The store calls that write. */
const writeCalls = (store: InMemoryProfileStore) =>
  store.calls.filter((call) => call.method === "apply" || call.method === "createIfMissing");

describe("getProfile", () => {
  it("returns the stored profile when asked with the upper-case id", async () => {
    const { service, update } = setUp();
    const userId = newUserId();
    const created = await update(userId, { displayName: "Grace" });

    const profile = await service.getProfile(userId.toUpperCase());

    expect(profile).toEqual(created);
  });

  it("rejects an unknown id with ProfileNotFound", async () => {
    const { service } = setUp();

    expect(await failure(service.getProfile(newUserId()))).toBeInstanceOf(ProfileNotFound);
  });

  it("rejects a malformed id with InvalidUserId naming user_id, without asking the store", async () => {
    const { service, store } = setUp();

    const error = await failure(service.getProfile("not-a-uuid"));

    expect(violationsOf(error)).toEqual(["user_id: INVALID_USER_ID"]);
    expect(store.calls).toEqual([]);
  });
});

describe("batchGetProfiles", () => {
  it("returns profiles in the order of each id's first occurrence, whatever order the store answers in", async () => {
    const { service, update } = setUp();
    const [a, b, c] = [newUserId(), newUserId(), newUserId()];
    for (const userId of [a, b, c]) await update(userId, { displayName: "Ada" });

    const result = await service.batchGetProfiles([c, a, b]);

    expect(result.profiles.map((profile) => profile.userId)).toEqual([c, a, b]);
    expect(result.missingUserIds).toEqual([]);
  });

  it("collapses duplicate ids, also when they differ only in letter case, and asks the store once per id", async () => {
    const { service, store, update } = setUp();
    const [a, b] = [newUserId(), newUserId()];
    await update(a, { displayName: "Ada" });
    await update(b, { displayName: "Bob" });
    const asked: (readonly UserId[])[] = [];
    const findMany = store.findMany;
    store.findMany = (userIds, signal) => {
      asked.push(userIds);
      return findMany(userIds, signal);
    };

    const result = await service.batchGetProfiles([a, b.toUpperCase(), a.toUpperCase(), b, a]);

    expect(result.profiles.map((profile) => profile.userId)).toEqual([a, b]);
    expect(asked).toEqual([[a, b]]);
  });

  it("lists ids without a profile in missingUserIds, canonical, once each, in request order", async () => {
    const { service, update } = setUp();
    const [found, missing1, missing2] = [newUserId(), newUserId(), newUserId()];
    await update(found, { bio: "here" });

    const result = await service.batchGetProfiles([
      missing2.toUpperCase(),
      found,
      missing1,
      missing2,
    ]);

    expect(result.profiles.map((profile) => profile.userId)).toEqual([found]);
    expect(result.missingUserIds).toEqual([missing2, missing1]);
  });

  it("answers an empty batch without asking the store", async () => {
    const { service, store } = setUp();

    expect(await service.batchGetProfiles([])).toEqual({ profiles: [], missingUserIds: [] });
    expect(store.calls).toEqual([]);
  });

  it("refuses 1001 ids with TOO_MANY on user_ids and accepts 1000", async () => {
    const { service } = setUp();
    const ids = Array.from({ length: 1001 }, newUserId);

    expect(violationsOf(await failure(service.batchGetProfiles(ids)))).toEqual([
      "user_ids: TOO_MANY",
    ]);
    expect((await service.batchGetProfiles(ids.slice(1))).missingUserIds).toHaveLength(1000);
  });

  it("refuses the whole batch naming the index of each malformed id", async () => {
    const { service, store } = setUp();

    const error = await failure(service.batchGetProfiles([newUserId(), "x", newUserId(), ""]));

    expect(violationsOf(error)).toEqual([
      "user_ids[1]: INVALID_USER_ID",
      "user_ids[3]: INVALID_USER_ID",
    ]);
    expect(store.calls).toEqual([]);
  });
});

describe("updateProfile", () => {
  it("creates a missing profile with the given fields, the others empty, at version 1", async () => {
    const { update } = setUp();
    const userId = newUserId();

    const profile = await update(userId, { bio: "hello" });

    expect(profile).toMatchObject({
      userId,
      displayName: "",
      avatarUrl: "",
      bio: "hello",
      version: 1,
      etag: "v1",
    });
  });

  it("leaves absent fields as they are and stores present ones normalized", async () => {
    const { update } = setUp();
    const userId = newUserId();
    await update(userId, {
      displayName: "Ada",
      avatarUrl: "https://example.com/a.png",
      bio: "hello",
    });

    const profile = await update(userId, { displayName: "  Zoe\u0308  " });

    expect(profile).toMatchObject({
      displayName: "Zo\u00EB",
      avatarUrl: "https://example.com/a.png",
      bio: "hello",
      version: 2,
    });
  });

  it("writes nothing and returns the current profile when every value is already stored", async () => {
    const { store, update } = setUp();
    const userId = newUserId();
    const created = await update(userId, { displayName: "Ada", bio: "hello" });

    const again = await update(userId, { displayName: " Ada ", bio: "hello" }, created.etag);

    expect(again).toEqual(created);
    expect(store.writes).toEqual([created]);
  });

  it("does not ask the store to write when no field is present, and returns the current profile", async () => {
    const { store, update } = setUp();
    const userId = newUserId();
    const created = await update(userId, { bio: "hello" });
    const writesBefore = writeCalls(store).length;

    const again = await update(userId, {});

    expect(again).toEqual(created);
    expect(writeCalls(store)).toHaveLength(writesBefore);
  });

  it("rejects an update with no field of a missing profile with ProfileNotFound and creates nothing", async () => {
    const { service, store, update } = setUp();
    const userId = newUserId();

    expect(await failure(update(userId, {}))).toBeInstanceOf(ProfileNotFound);
    expect(await failure(service.getProfile(userId))).toBeInstanceOf(ProfileNotFound);
    expect(store.writes).toEqual([]);
  });

  it("applies a change that carries the current etag and gives it the next one", async () => {
    const { update } = setUp();
    const userId = newUserId();
    const created = await update(userId, { bio: "one" });

    const updated = await update(userId, { bio: "two" }, created.etag);

    expect(updated).toMatchObject({ bio: "two", version: 2, etag: "v2" });
    expect(updated.createdAt).toEqual(created.createdAt);
    expect(updated.updatedAt.getTime()).toBeGreaterThan(created.updatedAt.getTime());
  });

  it.each([
    ["a stale etag", "v1"],
    ["a stale etag even when the values are already stored", "v1", "two"],
    ["an etag of another form", 'W/"2"'],
    ["an etag beyond any version", "v99999999999"],
  ])("rejects %s with EtagMismatch and changes nothing", async (_, etag, bio = "three") => {
    const { service, update } = setUp();
    const userId = newUserId();
    await update(userId, { bio: "one" });
    const current = await update(userId, { bio: "two" });

    const error = await failure(update(userId, { bio }, etag));

    expect(error).toBeInstanceOf(EtagMismatch);
    expect(await service.getProfile(userId)).toEqual(current);
  });

  it("rejects an etag for a missing profile with EtagMismatch and creates nothing", async () => {
    const { service, update } = setUp();
    const userId = newUserId();

    expect(await failure(update(userId, { bio: "hello" }, "v1"))).toBeInstanceOf(EtagMismatch);
    expect(await failure(service.getProfile(userId))).toBeInstanceOf(ProfileNotFound);
  });

  it("refuses another user with NotProfileOwner before the field rules, and the store is never asked", async () => {
    const { store, update } = setUp();
    const userId = newUserId();

    const error = await failure(
      update(userId, { displayName: "\u202E".repeat(10_000) }, undefined, userCaller(newUserId())),
    );

    expect(error).toBeInstanceOf(NotProfileOwner);
    expect(store.calls).toEqual([]);
  });

  it("lets a caller with the admin scope change any profile", async () => {
    const { update } = setUp();
    const userId = newUserId();

    const profile = await update(userId, { bio: "set by support" }, undefined, adminCaller);

    expect(profile).toMatchObject({ userId, bio: "set by support" });
  });

  it("refuses the owner's invalid fields with every violation and writes nothing", async () => {
    const { store, update } = setUp();

    const error = await failure(
      update(newUserId(), { displayName: "", avatarUrl: "ftp://x", bio: "a\u0001" }),
    );

    expect(violationsOf(error)).toEqual([
      "display_name: REQUIRED",
      "avatar_url: INVALID_URL",
      "bio: FORBIDDEN_CHARACTER",
    ]);
    expect(store.calls).toEqual([]);
  });

  it("reports a malformed user id together with every field violation", async () => {
    const { update } = setUp();

    const error = await failure(update("not-a-uuid", { displayName: "\u3164" }));

    expect(violationsOf(error)).toEqual([
      "user_id: INVALID_USER_ID",
      "display_name: FORBIDDEN_CHARACTER",
    ]);
  });

  it("passes the call's signal to every store call it makes", async () => {
    const { service, store, update } = setUp();
    const userId = newUserId();
    await update(userId, { bio: "one" });
    store.calls.length = 0;
    const signal = new AbortController().signal;

    await service.getProfile(userId, signal);
    await service.batchGetProfiles([userId], signal);
    await service.updateProfile({
      caller: userCaller(userId),
      userId,
      fields: { bio: "one" },
      signal,
    });

    expect(store.calls).toEqual([
      { method: "find", signal },
      { method: "findMany", signal },
      { method: "apply", signal },
      { method: "findLatest", signal },
    ]);
  });

  it("rejects with the signal's reason once the call's signal has aborted, and writes nothing", async () => {
    const { service, store } = setUp();
    const userId = newUserId();
    const controller = new AbortController();
    const reason = new Error("the client left");
    controller.abort(reason);

    const error = await failure(
      service.updateProfile({
        caller: userCaller(userId),
        userId,
        fields: { bio: "late" },
        signal: controller.signal,
      }),
    );

    expect(error).toBe(reason);
    expect(store.writes).toEqual([]);
  });
});

describe("provisionProfile", () => {
  it("creates the profile with the first candidate the rules accept, normalized", async () => {
    const { service } = setUp();
    const userId = newUserId();

    const created = await service.provisionProfile(userId, ["\u3164\u3164", " Ada ", "ada"]);

    expect(created).toBe(true);
    expect((await service.getProfile(userId)).displayName).toBe("Ada");
  });

  it('creates the profile with display name "" when no candidate is valid', async () => {
    const { service } = setUp();
    const userId = newUserId();

    await service.provisionProfile(userId, ["", "\u2800", "a".repeat(65)]);

    expect((await service.getProfile(userId)).displayName).toBe("");
  });

  it("leaves an existing profile as it is and says so", async () => {
    const { service, update } = setUp();
    const userId = newUserId();
    const existing: Profile = await update(userId, { displayName: "Chosen" });

    const created = await service.provisionProfile(userId, ["ada"]);

    expect(created).toBe(false);
    expect(await service.getProfile(userId)).toEqual(existing);
  });
});
