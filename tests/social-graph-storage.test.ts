// The social graph's storage on PostgreSQL and PGlite: the repository under the service, the
// one-query GetRelationships, account deletion with its tombstone, and the CHECK constraints and
// foreign keys refusing bad rows written by raw SQL.
import {
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  sql,
} from "kysely";
import { describe, expect, it } from "vitest";
import { PROFILE_ADMIN_SCOPE } from "../src/auth/caller.js";
import { createPageTokens } from "../src/graph/page-token.js";
import { createSocialGraphService } from "../src/graph/service.js";
import { DEFAULT_SOCIAL_GRAPH_LIMITS } from "../src/graph/social-graph.js";
import { createSocialGraphStore } from "../src/graph/sql/repository.js";
import { createProfileService } from "../src/profile/service.js";
import { createPrivacyStore } from "../src/profile/sql/privacy.js";
import { createProfileStore } from "../src/profile/sql/repository.js";
import { createSearchStore } from "../src/profile/sql/search.js";
import type { UserId } from "../src/profile/user-id.js";
import { storageKinds, useTestDatabase } from "./support/databases.js";
import { createProfiles } from "./support/social-graph.js";

/** Counts the statements Kysely sends through the instance it is plugged into. */
function queryCounter() {
  let count = 0;
  const plugin: KyselyPlugin = {
    transformQuery(args: PluginTransformQueryArgs) {
      count += 1;
      return args.node;
    },
    async transformResult(args: PluginTransformResultArgs) {
      return args.result;
    },
  };
  const reset = () => {
    count = 0;
  };
  return { plugin, count: () => count, reset };
}

const admin = { subject: "test-suite", scopes: new Set([PROFILE_ADMIN_SCOPE]) };

describe.each(storageKinds)("social graph storage on %s", (kind) => {
  const fixture = useTestDatabase(kind);
  const db = () => fixture.database.db;
  const counter = queryCounter();
  const services = () => {
    const profiles = createProfileService(
      createProfileStore(db()),
      { allowHttpAvatarUrls: false },
      createPrivacyStore(db()),
      createSearchStore(db()),
    );
    const graph = createSocialGraphService({
      store: createSocialGraphStore(db().withPlugin(counter.plugin)),
      profiles,
      pageTokens: createPageTokens("test key"),
      limits: DEFAULT_SOCIAL_GRAPH_LIMITS,
    });
    return { profiles, graph };
  };
  const pair = (userId: string, otherUserId: string) => ({ caller: admin, userId, otherUserId });

  it("projects listed profiles for their owner's view from settings and facts read here", async () => {
    for (const complete of [true, false]) {
      const privacy = createPrivacyStore(db(), { completeFacts: complete });
      const profiles = createProfileService(
        createProfileStore(db()),
        { allowHttpAvatarUrls: false },
        privacy,
        createSearchStore(db()),
      );
      const [owner = "", quiet = "", friendly = "", wary = ""] = await createProfiles(db(), 4);
      await sql`UPDATE profiles SET bio = 'visible?', avatar_url = 'https://cdn.example/a.png'
        WHERE user_id = any(${[quiet, friendly, wary]}::uuid[])`.execute(db());
      await privacy.applySettings({ userId: quiet as UserId, bioAudience: "nobody" });
      await privacy.applySettings({ userId: friendly as UserId, avatarAudience: "contacts" });
      await privacy.applySettings({ userId: wary as UserId, avatarAudience: "contacts" });
      const graph = createSocialGraphService({
        store: createSocialGraphStore(db()),
        profiles,
        pageTokens: createPageTokens("test key"),
        limits: DEFAULT_SOCIAL_GRAPH_LIMITS,
      });
      for (const other of [quiet, friendly, wary]) {
        await graph.addContact({ ...pair(owner, other), nickname: "", isFavorite: false });
      }
      await graph.addContact({ ...pair(friendly, owner), nickname: "", isFavorite: false });
      const asOwner = { caller: { subject: owner, scopes: new Set<string>() }, userId: owner };

      const page = await graph.listContacts({
        ...asOwner,
        pageSize: 0,
        pageToken: "",
        viewerUserId: "",
      });

      const hidden = new Map<string, readonly string[]>(
        page.items.map((contact) => [
          contact.contactUserId,
          contact.profile !== undefined && "hiddenFields" in contact.profile
            ? contact.profile.hiddenFields
            : [],
        ]),
      );
      expect({ complete, hidden: [quiet, friendly, wary].map((id) => hidden.get(id)) }).toEqual({
        complete,
        hidden: [["bio"], [], ["avatar_url"]],
      });
    }
  });

  it("answers GetRelationships for 1000 ids with one query, in request order", async () => {
    const { graph } = services();
    const [owner = "", ...others] = await createProfiles(db(), 1001);
    for (const other of others.slice(0, 10)) {
      await graph.addContact({ ...pair(owner, other), nickname: "", isFavorite: false });
    }
    await graph.blockUser({ ...pair(others[999] ?? "", owner), reason: "" });
    const asked = [...others].reverse();
    counter.reset();

    const relationships = await graph.getRelationships({
      caller: admin,
      userId: owner,
      otherUserIds: asked,
    });

    expect(counter.count()).toBe(1);
    expect(relationships.map((r) => r.otherUserId)).toEqual(asked);
    expect(relationships.filter((r) => r.isContact)).toHaveLength(10);
    expect(relationships[0]).toMatchObject({ blockedByOtherUser: true, isContact: false });
  });

  it("blocks in one transaction that removes both directions, and lists contacts with profiles", async () => {
    const { graph } = services();
    const [a = "", b = "", c = ""] = await createProfiles(db(), 3);
    await graph.addContact({ ...pair(a, b), nickname: "B", isFavorite: true });
    await graph.addContact({ ...pair(b, a), nickname: "", isFavorite: false });
    await graph.addContact({ ...pair(a, c), nickname: "", isFavorite: false });

    await graph.blockUser({ ...pair(b, a), reason: "" });
    const page = await graph.listContacts({
      caller: admin,
      userId: a,
      pageSize: 0,
      pageToken: "",
      viewerUserId: "",
    });

    expect(page.items.map((contact) => [contact.contactUserId, contact.profile?.userId])).toEqual([
      [c, c],
    ]);
    expect(await db().selectFrom("contacts").where("contact_user_id", "=", a).execute()).toEqual(
      [],
    );
  });

  it("deletes an account with every edge on both sides, announces only ProfileDeleted, and keeps it deleted", async () => {
    const { graph, profiles } = services();
    const [gone = "", b = "", c = ""] = await createProfiles(db(), 3);
    await graph.addContact({ ...pair(gone, b), nickname: "", isFavorite: false });
    await graph.addContact({ ...pair(c, gone), nickname: "", isFavorite: false });
    await graph.blockUser({ ...pair(b, gone), reason: "" });
    await graph.addContact({ ...pair(b, c), nickname: "", isFavorite: false });
    const outboxBefore = await db().selectFrom("outbox").select("id").execute();

    const version = await profiles.deleteAccount(gone);
    const again = await profiles.deleteAccount(gone);
    const provisioned = await profiles.provisionProfile(gone, ["Back"]);

    expect([version, again, provisioned]).toEqual([2, undefined, false]);
    const edges = await sql<{ n: string }>`
      SELECT (SELECT count(*) FROM contacts WHERE ${gone} IN (user_id, contact_user_id))
        + (SELECT count(*) FROM blocks WHERE ${gone} IN (user_id, blocked_user_id)) AS n
    `.execute(db());
    expect(Number(edges.rows[0]?.n)).toBe(0);
    expect(await db().selectFrom("contacts").where("user_id", "=", b).execute()).toHaveLength(1);
    const announced = await db()
      .selectFrom("outbox")
      .select(["user_id", "event_type", "version"])
      .where(
        "id",
        "not in",
        outboxBefore.map((row) => row.id),
      )
      .execute();
    expect(announced).toEqual([{ user_id: gone, event_type: "deleted", version: 2 }]);
    await expect(profiles.getProfile(gone)).rejects.toThrow(/no profile/);
    await expect(
      profiles.updateProfile({ caller: admin, userId: gone, fields: { displayName: "Again" } }),
    ).rejects.toThrow(/no profile/);
  });

  it("leaves a tombstone for an account deleted before it had a profile", async () => {
    const { profiles } = services();
    const never = crypto.randomUUID();

    expect(await profiles.deleteAccount(never)).toBeUndefined();
    expect(await profiles.provisionProfile(never, ["Late"])).toBe(false);
  });

  describe("CHECK constraints and foreign keys refuse bad rows written by raw SQL", () => {
    const refused = async (statement: ReturnType<typeof sql>) => {
      await expect(statement.execute(db())).rejects.toThrow(/violates/);
    };

    it("refuses self edges, bad nicknames, bad reasons and edges to users without a profile", async () => {
      const [a = "", b = ""] = await createProfiles(db(), 2);
      const nobody = crypto.randomUUID();

      await refused(sql`INSERT INTO contacts (user_id, contact_user_id) VALUES (${a}, ${a})`);
      await refused(sql`INSERT INTO blocks (user_id, blocked_user_id) VALUES (${a}, ${a})`);
      for (const nickname of [" padded", "x".repeat(65), "bidi\u202E", "tab\tbed", "e\u0301"]) {
        await refused(
          sql`INSERT INTO contacts (user_id, contact_user_id, nickname) VALUES (${a}, ${b}, ${nickname})`,
        );
      }
      for (const reason of ["r".repeat(501), "\u202Eevil", "cr\r\n"]) {
        await refused(
          sql`INSERT INTO blocks (user_id, blocked_user_id, reason) VALUES (${a}, ${b}, ${reason})`,
        );
      }
      await refused(sql`INSERT INTO contacts (user_id, contact_user_id) VALUES (${a}, ${nobody})`);
      await refused(sql`INSERT INTO blocks (user_id, blocked_user_id) VALUES (${nobody}, ${a})`);
      await sql`INSERT INTO contacts (user_id, contact_user_id, nickname) VALUES (${a}, ${b}, 'Bé')`.execute(
        db(),
      );
    });
  });
});
