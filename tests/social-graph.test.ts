// docs/social-graph.md: every SocialGraphApi RPC over gRPC and Connect JSON, each rule
// and refusal, and the seed service's bugs that we must not have.
import { Code } from "@connectrpc/connect";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { QuotaFailureSchema } from "../gen/google/rpc/error_details_pb.js";
import { SOCIAL_READ_SCOPE } from "../src/auth/caller.js";
import { adminToken, tokenFor } from "./support/auth.js";
import { errorOf } from "./support/clients.js";
import {
  contactsBetween,
  createProfiles,
  createUsers,
  type GraphProtocol,
  graphClient,
  graphProtocols,
} from "./support/social-graph.js";
import { useTestServer } from "./support/test-server.js";

const fixture = useTestServer();
const db = () => fixture.database.db;
const baseUrl = () => fixture.server.baseUrl;

/** The graph events of one owner in the outbox, oldest first. */
const outboxOf = (userId: string) =>
  db()
    .selectFrom("outbox")
    .select(["event_type", "payload"])
    .where("user_id", "=", userId)
    .where("event_type", "not in", ["created", "updated"])
    .orderBy("id")
    .execute();

describe.each(graphProtocols)("SocialGraphApi over %s", (protocol: GraphProtocol) => {
  const users = (count: number) => createUsers(db(), baseUrl(), count, protocol);
  const admin = () => graphClient(baseUrl(), adminToken, protocol);

  describe("AddContact", () => {
    it("adds a directed contact, normalizes the nickname, and announces ContactAdded once", async () => {
      const [a, b] = await users(2);
      if (a === undefined || b === undefined) throw new Error("no users");

      const contact = await a.client.addContact({
        userId: a.id,
        otherUserId: b.id.toUpperCase(),
        nickname: "  Be\u0301 ",
        isFavorite: true,
      });

      expect(contact).toMatchObject({
        userId: a.id,
        contactUserId: b.id,
        nickname: "Bé",
        isFavorite: true,
      });
      expect(await contactsBetween(db(), a.id, b.id)).toHaveLength(1);
      expect(await outboxOf(a.id)).toEqual([
        {
          event_type: "contact_added",
          payload: { contact_user_id: b.id, nickname: "Bé", is_favorite: true },
        },
      ]);
      expect(await outboxOf(b.id)).toEqual([]);
    });

    it("is idempotent: adding again returns the stored contact unchanged and announces nothing", async () => {
      const [a, b] = await users(2);
      if (a === undefined || b === undefined) throw new Error("no users");
      const first = await a.client.addContact({ userId: a.id, otherUserId: b.id, nickname: "B" });

      const again = await a.client.addContact({
        userId: a.id,
        otherUserId: b.id,
        nickname: "Other",
        isFavorite: true,
      });

      expect(again).toEqual(first);
      expect(await outboxOf(a.id)).toHaveLength(1);
    });

    it("refuses adding yourself with INVALID_ARGUMENT (reason SELF)", async () => {
      const [a] = await users(1);
      if (a === undefined) throw new Error("no users");

      const error = await errorOf(a.client.addContact({ userId: a.id, otherUserId: a.id }));

      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.message).toContain("other_user_id");
    });

    it("refuses a user without a profile with NOT_FOUND (the seed never checked)", async () => {
      const [a] = await users(1);
      if (a === undefined) throw new Error("no users");
      const nobody = crypto.randomUUID();

      const error = await errorOf(a.client.addContact({ userId: a.id, otherUserId: nobody }));

      expect(error.code).toBe(Code.NotFound);
      expect(await db().selectFrom("contacts").where("user_id", "=", a.id).execute()).toEqual([]);
    });

    it("refuses a malformed id with INVALID_ARGUMENT naming other_user_id", async () => {
      const [a] = await users(1);
      if (a === undefined) throw new Error("no users");

      const error = await errorOf(a.client.addContact({ userId: a.id, otherUserId: "nope" }));

      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.message).toContain("other_user_id");
    });

    it("refuses a nickname that breaks the display-name rules, naming nickname", async () => {
      const [a, b] = await users(2);
      if (a === undefined || b === undefined) throw new Error("no users");

      const error = await errorOf(
        a.client.addContact({ userId: a.id, otherUserId: b.id, nickname: "evil\u202Ename" }),
      );

      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.message).toContain("nickname");
    });

    it("refuses the adder's block and the other user's block alike, without saying who (the seed checked only the adder's)", async () => {
      const [a, b, c] = await users(3);
      if (a === undefined || b === undefined || c === undefined) throw new Error("no users");
      await a.client.blockUser({ userId: a.id, otherUserId: b.id });
      await c.client.blockUser({ userId: c.id, otherUserId: a.id });

      const ownBlock = await errorOf(a.client.addContact({ userId: a.id, otherUserId: b.id }));
      const reverseBlock = await errorOf(a.client.addContact({ userId: a.id, otherUserId: c.id }));
      const blockedSide = await errorOf(b.client.addContact({ userId: b.id, otherUserId: a.id }));

      expect([ownBlock.code, reverseBlock.code, blockedSide.code]).toEqual([
        Code.FailedPrecondition,
        Code.FailedPrecondition,
        Code.FailedPrecondition,
      ]);
      expect(
        new Set([ownBlock.rawMessage, reverseBlock.rawMessage, blockedSide.rawMessage]).size,
      ).toBe(1);
      expect(await contactsBetween(db(), a.id, c.id)).toEqual([]);
    });

    it("refuses the 5,001st contact with RESOURCE_EXHAUSTED and a google.rpc.QuotaFailure", async () => {
      const [a, b] = await users(2);
      if (a === undefined || b === undefined) throw new Error("no users");
      const others = await createProfiles(db(), 5000);
      await sql`INSERT INTO contacts (user_id, contact_user_id)
        SELECT ${a.id}::uuid, id FROM unnest(${others}::uuid[]) AS t(id)`.execute(db());

      const error = await errorOf(a.client.addContact({ userId: a.id, otherUserId: b.id }));

      expect(error.code).toBe(Code.ResourceExhausted);
      expect(error.findDetails(QuotaFailureSchema)[0]?.violations[0]?.subject).toBe(`user:${a.id}`);
      // An existing contact is still answered: the limit refuses only growth.
      const existing = others[0] ?? "";
      expect(
        (await a.client.addContact({ userId: a.id, otherUserId: existing })).contactUserId,
      ).toBe(existing);
    });
  });

  describe("UpdateContact and RemoveContact", () => {
    it("changes only the fields sent, and refuses a contact that is not there with NOT_FOUND", async () => {
      const [a, b, c] = await users(3);
      if (a === undefined || b === undefined || c === undefined) throw new Error("no users");
      await a.client.addContact({ userId: a.id, otherUserId: b.id, nickname: "B" });

      const favorite = await a.client.updateContact({
        userId: a.id,
        otherUserId: b.id,
        isFavorite: true,
      });
      const renamed = await a.client.updateContact({
        userId: a.id,
        otherUserId: b.id,
        nickname: "",
      });
      const missing = await errorOf(
        a.client.updateContact({ userId: a.id, otherUserId: c.id, nickname: "C" }),
      );

      expect(favorite).toMatchObject({ nickname: "B", isFavorite: true });
      expect(renamed).toMatchObject({ nickname: "", isFavorite: true });
      expect(missing.code).toBe(Code.NotFound);
      expect(await outboxOf(a.id)).toHaveLength(1);
    });

    it("removes a contact once, announces ContactRemoved once, and removing again is OK with removed=false", async () => {
      const [a, b] = await users(2);
      if (a === undefined || b === undefined) throw new Error("no users");
      await a.client.addContact({ userId: a.id, otherUserId: b.id });

      const first = await a.client.removeContact({ userId: a.id, otherUserId: b.id });
      const second = await a.client.removeContact({ userId: a.id, otherUserId: b.id });

      expect([first.removed, second.removed]).toEqual([true, false]);
      expect((await outboxOf(a.id)).map((row) => row.event_type)).toEqual([
        "contact_added",
        "contact_removed",
      ]);
    });
  });

  describe("BlockUser and UnblockUser", () => {
    it("removes the contacts in both directions and announces the block and both removals (the seed removed only the blocker's)", async () => {
      const [a, b] = await users(2);
      if (a === undefined || b === undefined) throw new Error("no users");
      await a.client.addContact({ userId: a.id, otherUserId: b.id });
      await b.client.addContact({ userId: b.id, otherUserId: a.id });

      const block = await a.client.blockUser({ userId: a.id, otherUserId: b.id, reason: "spam" });

      expect(block).toMatchObject({ userId: a.id, blockedUserId: b.id, reason: "spam" });
      expect(await contactsBetween(db(), a.id, b.id)).toEqual([]);
      expect((await outboxOf(a.id)).map((row) => row.event_type)).toEqual([
        "contact_added",
        "user_blocked",
        "contact_removed",
      ]);
      expect(await outboxOf(b.id)).toEqual([
        {
          event_type: "contact_added",
          payload: { contact_user_id: a.id, nickname: "", is_favorite: false },
        },
        { event_type: "contact_removed", payload: { contact_user_id: a.id } },
      ]);
    });

    it("is idempotent: blocking again returns the stored block, unblocking twice is OK, each announced once", async () => {
      const [a, b] = await users(2);
      if (a === undefined || b === undefined) throw new Error("no users");
      const first = await a.client.blockUser({ userId: a.id, otherUserId: b.id, reason: "one" });

      const again = await a.client.blockUser({ userId: a.id, otherUserId: b.id, reason: "two" });
      const lifted = await a.client.unblockUser({ userId: a.id, otherUserId: b.id });
      const liftedAgain = await a.client.unblockUser({ userId: a.id, otherUserId: b.id });

      expect(again).toEqual(first);
      expect([lifted.unblocked, liftedAgain.unblocked]).toEqual([true, false]);
      expect((await outboxOf(a.id)).map((row) => row.event_type)).toEqual([
        "user_blocked",
        "user_unblocked",
      ]);
      await a.client.addContact({ userId: a.id, otherUserId: b.id });
    });

    it("refuses blocking yourself, a user without a profile, and the 10,001st block", async () => {
      const [a, b] = await users(2);
      if (a === undefined || b === undefined) throw new Error("no users");
      const others = await createProfiles(db(), 10_000);
      await sql`INSERT INTO blocks (user_id, blocked_user_id)
        SELECT ${a.id}::uuid, id FROM unnest(${others}::uuid[]) AS t(id)`.execute(db());

      const self = await errorOf(a.client.blockUser({ userId: a.id, otherUserId: a.id }));
      const nobody = await errorOf(
        a.client.blockUser({ userId: a.id, otherUserId: crypto.randomUUID() }),
      );
      const tooMany = await errorOf(a.client.blockUser({ userId: a.id, otherUserId: b.id }));

      expect([self.code, nobody.code, tooMany.code]).toEqual([
        Code.InvalidArgument,
        Code.NotFound,
        Code.ResourceExhausted,
      ]);
      expect(tooMany.findDetails(QuotaFailureSchema)).toHaveLength(1);
    });
  });

  describe("ListContacts and ListBlockedUsers", () => {
    it("pages contacts by ascending id, each with its profile, and ends with an empty token", async () => {
      const [a] = await users(1);
      if (a === undefined) throw new Error("no users");
      const others = await createProfiles(db(), 5);
      for (const other of others) await a.client.addContact({ userId: a.id, otherUserId: other });

      const first = await a.client.listContacts({ userId: a.id, pageSize: 3 });
      const second = await a.client.listContacts({
        userId: a.id,
        pageSize: 3,
        pageToken: first.nextPageToken,
      });

      expect([...first.contacts, ...second.contacts].map((c) => c.contactUserId)).toEqual(others);
      expect(first.contacts[0]?.profile?.displayName).toBe("user 1");
      expect(second.nextPageToken).toBe("");
    });

    it("refuses a tampered token, another user's token and another list's token with INVALID_ARGUMENT", async () => {
      const [a, b] = await users(2);
      if (a === undefined || b === undefined) throw new Error("no users");
      const others = await createProfiles(db(), 3);
      for (const other of others) {
        await a.client.addContact({ userId: a.id, otherUserId: other });
        await b.client.addContact({ userId: b.id, otherUserId: other });
      }
      for (const blocked of await createProfiles(db(), 2)) {
        await a.client.blockUser({ userId: a.id, otherUserId: blocked });
      }
      const token = (await a.client.listContacts({ userId: a.id, pageSize: 1 })).nextPageToken;
      const blocksToken = (await a.client.listBlockedUsers({ userId: a.id, pageSize: 1 }))
        .nextPageToken;
      const flipped = `${token.slice(0, 5)}${token[5] === "A" ? "B" : "A"}${token.slice(6)}`;

      const codes = await Promise.all(
        [
          a.client.listContacts({ userId: a.id, pageToken: flipped }),
          a.client.listContacts({ userId: a.id, pageToken: "not a token" }),
          b.client.listContacts({ userId: b.id, pageToken: token }),
          a.client.listContacts({ userId: a.id, pageToken: blocksToken }),
          a.client.listContacts({ userId: a.id, pageSize: -1 }),
        ].map(async (call) => (await errorOf(call)).code),
      );

      expect(codes).toEqual(Array(5).fill(Code.InvalidArgument));
    });

    it("lists blocks with their reasons, paged", async () => {
      const [a] = await users(1);
      if (a === undefined) throw new Error("no users");
      const others = await createProfiles(db(), 3);
      for (const other of others)
        await a.client.blockUser({ userId: a.id, otherUserId: other, reason: "r" });

      const first = await a.client.listBlockedUsers({ userId: a.id, pageSize: 2 });
      const second = await a.client.listBlockedUsers({
        userId: a.id,
        pageToken: first.nextPageToken,
      });

      expect([...first.blocks, ...second.blocks].map((b) => b.blockedUserId)).toEqual(others);
      expect(second.blocks[0]?.reason).toBe("r");
    });
  });

  describe("GetRelationships", () => {
    it("answers each distinct id in request order; the user never sees who blocks them, social:read does", async () => {
      const [a, b, c, d] = await users(4);
      if (a === undefined || b === undefined || c === undefined || d === undefined)
        throw new Error("no users");
      await a.client.addContact({ userId: a.id, otherUserId: b.id });
      await b.client.addContact({ userId: b.id, otherUserId: a.id });
      await c.client.blockUser({ userId: c.id, otherUserId: a.id });
      await a.client.blockUser({ userId: a.id, otherUserId: d.id });
      const nobody = crypto.randomUUID();
      const asked = [d.id, b.id, nobody, c.id, b.id.toUpperCase()];
      const service = graphClient(
        baseUrl(),
        await tokenFor("delivery", { scopes: [SOCIAL_READ_SCOPE] }),
        protocol,
      );

      const own = await a.client.getRelationships({ userId: a.id, otherUserIds: asked });
      const seenByService = await service.getRelationships({ userId: a.id, otherUserIds: asked });

      const flags = (r: {
        isContact: boolean;
        isContactOfOtherUser: boolean;
        blocksOtherUser: boolean;
        blockedByOtherUser: boolean;
      }) => [r.isContact, r.isContactOfOtherUser, r.blocksOtherUser, r.blockedByOtherUser];
      expect(own.relationships.map((r) => r.otherUserId)).toEqual([d.id, b.id, nobody, c.id]);
      expect(own.relationships.map(flags)).toEqual([
        [false, false, true, false],
        [true, true, false, false],
        [false, false, false, false],
        [false, false, false, false],
      ]);
      expect(seenByService.relationships.map(flags)[3]).toEqual([false, false, false, true]);
    });

    it("refuses more than 1000 ids and a malformed one with INVALID_ARGUMENT", async () => {
      const [a] = await users(1);
      if (a === undefined) throw new Error("no users");
      const ids = Array.from({ length: 1001 }, () => crypto.randomUUID());

      const tooMany = await errorOf(a.client.getRelationships({ userId: a.id, otherUserIds: ids }));
      const malformed = await errorOf(
        a.client.getRelationships({ userId: a.id, otherUserIds: ["x"] }),
      );

      expect([tooMany.code, malformed.code]).toEqual([Code.InvalidArgument, Code.InvalidArgument]);
      expect(malformed.message).toContain("other_user_ids[0]");
    });
  });

  describe("who may call", () => {
    it("refuses another user's graph with PERMISSION_DENIED on every RPC, and no token with UNAUTHENTICATED", async () => {
      const [a, b, c] = await users(3);
      if (a === undefined || b === undefined || c === undefined) throw new Error("no users");
      const pair = { userId: b.id, otherUserId: c.id };
      const readOnly = graphClient(
        baseUrl(),
        await tokenFor("delivery", { scopes: [SOCIAL_READ_SCOPE] }),
        protocol,
      );
      const anonymous = graphClient(baseUrl(), null, protocol);

      const codes = await Promise.all(
        [
          a.client.addContact(pair),
          a.client.updateContact({ ...pair, isFavorite: true }),
          a.client.removeContact(pair),
          a.client.listContacts({ userId: b.id }),
          a.client.blockUser(pair),
          a.client.unblockUser(pair),
          a.client.listBlockedUsers({ userId: b.id }),
          a.client.getRelationships({ userId: b.id, otherUserIds: [c.id] }),
          readOnly.addContact(pair),
          readOnly.listContacts({ userId: b.id }),
        ].map(async (call) => (await errorOf(call)).code),
      );
      const unauthenticated = await errorOf(anonymous.getRelationships({ userId: b.id }));

      expect(codes).toEqual(Array(10).fill(Code.PermissionDenied));
      expect(unauthenticated.code).toBe(Code.Unauthenticated);
      expect(await contactsBetween(db(), b.id, c.id)).toEqual([]);
    });

    it("lets profile:admin manage anyone's graph", async () => {
      const [b, c] = await users(2);
      if (b === undefined || c === undefined) throw new Error("no users");

      await admin().addContact({ userId: b.id, otherUserId: c.id });

      expect((await admin().listContacts({ userId: b.id })).contacts).toHaveLength(1);
    });
  });
});

describe("row and event in one transaction (the seed wrote them apart)", () => {
  it("writes no contact when its outbox row cannot be written, and both once it can", async () => {
    const [a, b] = await createUsers(db(), baseUrl(), 2);
    if (a === undefined || b === undefined) throw new Error("no users");
    await sql`ALTER TABLE outbox ADD CONSTRAINT test_refuses_contact_added
      CHECK (event_type <> 'contact_added') NOT VALID`.execute(db());
    try {
      const error = await errorOf(a.client.addContact({ userId: a.id, otherUserId: b.id }));

      expect(error.code).toBe(Code.Internal);
      expect(await contactsBetween(db(), a.id, b.id)).toEqual([]);
    } finally {
      await sql`ALTER TABLE outbox DROP CONSTRAINT test_refuses_contact_added`.execute(db());
    }
    await a.client.addContact({ userId: a.id, otherUserId: b.id });
    expect(await contactsBetween(db(), a.id, b.id)).toHaveLength(1);
    expect(await outboxOf(a.id)).toHaveLength(1);
  });

  it("keeps both contacts when a block's removal announcement cannot be written", async () => {
    const [a, b] = await createUsers(db(), baseUrl(), 2);
    if (a === undefined || b === undefined) throw new Error("no users");
    await a.client.addContact({ userId: a.id, otherUserId: b.id });
    await b.client.addContact({ userId: b.id, otherUserId: a.id });
    await sql`ALTER TABLE outbox ADD CONSTRAINT test_refuses_contact_removed
      CHECK (event_type <> 'contact_removed') NOT VALID`.execute(db());
    try {
      const error = await errorOf(a.client.blockUser({ userId: a.id, otherUserId: b.id }));

      expect(error.code).toBe(Code.Internal);
      expect(await contactsBetween(db(), a.id, b.id)).toHaveLength(2);
      expect(await db().selectFrom("blocks").where("user_id", "=", a.id).execute()).toEqual([]);
    } finally {
      await sql`ALTER TABLE outbox DROP CONSTRAINT test_refuses_contact_removed`.execute(db());
    }
  });
});
