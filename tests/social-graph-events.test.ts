// Social graph events and account deletion: each event once, in order per user, with its payload
// and Nats-Msg-Id; deletion by auth.user.deleted and by DeleteProfile, with ProfileDeleted, the
// graph cleaned on both sides, and the tombstone.
//
// On a nats-server of its own, as events.test.ts and for the same reason: on a shared broker the
// durable registration consumer hands the UserDeleted published here to any instance on it.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserDeletedSchema } from "../gen/realchat/auth/v1/user_events_pb.js";
import type { ProfileDeleted } from "../gen/realchat/profile/v1/profile_events_pb.js";
import { decodeProfileEvent } from "../src/events/outbox/profile-events.js";
import {
  decodeSocialGraphEvent,
  type SocialGraphEvent,
} from "../src/events/outbox/social-graph-events.js";
import { tokenFor } from "./support/auth.js";
import { errorOf, grpcClient } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { startInstance, type TestInstance } from "./support/instance.js";
import { type PrivateNats, publishToStream, startNatsServer, until } from "./support/nats.js";
import { createUsers, type GraphUser, graphClient } from "./support/social-graph.js";

interface Received {
  readonly subject: string;
  readonly msgId: string;
  readonly event: SocialGraphEvent | ProfileDeleted;
}

let broker: PrivateNats;
let database: TestDatabase;
let instance: TestInstance;
let nc: NatsConnection;
const received: Received[] = [];

beforeAll(async () => {
  broker = await startNatsServer();
  database = await createTestDatabase();
  instance = await startInstance(database, { natsUrl: broker.url });
  await until(() => instance.events.state() === "connected");
  nc = await connect({ servers: broker.url });
  const collect =
    (decode: (type: string, contentType: string, data: Uint8Array) => Received["event"]) =>
    (
      error: Error | null,
      message: { subject: string; data: Uint8Array; headers?: { get(k: string): string } },
    ) => {
      if (error !== null) return;
      const header = (name: string) => message.headers?.get(name) ?? "";
      received.push({
        subject: message.subject,
        msgId: header("Nats-Msg-Id"),
        event: decode(header("Realchat-Event-Type"), header("Content-Type"), message.data),
      });
    };
  nc.subscribe("social.>", { callback: collect(decodeSocialGraphEvent) });
  nc.subscribe("profile.deleted.>", {
    callback: collect(
      (type, contentType, data) => decodeProfileEvent(type, contentType, data) as ProfileDeleted,
    ),
  });
  await nc.flush();
});

afterAll(async () => {
  await nc?.close();
  await instance?.stop();
  await database?.drop();
  await broker?.dispose();
});

const users = (count: number): Promise<GraphUser[]> =>
  createUsers(database.db, instance.server.baseUrl, count);
/** The events whose subject ends with this user's id, in arrival order. */
const eventsOf = (userId: string) => received.filter((r) => r.subject.endsWith(`.${userId}`));
const profileRow = (userId: string) =>
  database.db
    .selectFrom("profiles")
    .select("user_id")
    .where("user_id", "=", userId)
    .executeTakeFirst();
const edgesOf = async (userId: string) =>
  (
    await database.db
      .selectFrom("contacts")
      .select("user_id")
      .where((eb) => eb.or([eb("user_id", "=", userId), eb("contact_user_id", "=", userId)]))
      .execute()
  ).length +
  (
    await database.db
      .selectFrom("blocks")
      .select("user_id")
      .where((eb) => eb.or([eb("user_id", "=", userId), eb("blocked_user_id", "=", userId)]))
      .execute()
  ).length;

describe("social graph events", () => {
  it("publishes each event once, in order per user, with its payload and Nats-Msg-Id; a block removing two contacts publishes the block and both removals", async () => {
    const [a, b] = await users(2);
    if (a === undefined || b === undefined) throw new Error("no users");

    await a.client.addContact({
      userId: a.id,
      otherUserId: b.id,
      nickname: "Bee",
      isFavorite: true,
    });
    await a.client.addContact({ userId: a.id, otherUserId: b.id });
    await b.client.addContact({ userId: b.id, otherUserId: a.id });
    await a.client.blockUser({ userId: a.id, otherUserId: b.id, reason: "private" });
    await a.client.unblockUser({ userId: a.id, otherUserId: b.id });
    await until(() => eventsOf(a.id).length === 4 && eventsOf(b.id).length === 2);

    expect(eventsOf(a.id).map((r) => r.subject)).toEqual([
      `social.contact.added.${a.id}`,
      `social.user.blocked.${a.id}`,
      `social.contact.removed.${a.id}`,
      `social.user.unblocked.${a.id}`,
    ]);
    expect(eventsOf(b.id).map((r) => r.subject)).toEqual([
      `social.contact.added.${b.id}`,
      `social.contact.removed.${b.id}`,
    ]);
    const [added, blocked] = eventsOf(a.id);
    expect(added?.event).toMatchObject({
      userId: a.id,
      contactUserId: b.id,
      nickname: "Bee",
      isFavorite: true,
    });
    expect(blocked?.event).toMatchObject({ userId: a.id, blockedUserId: b.id });
    expect(Object.values(blocked?.event ?? {})).not.toContain("private");
    for (const r of [...eventsOf(a.id), ...eventsOf(b.id)]) {
      expect(r.msgId).toBe((r.event as { eventId: string }).eventId);
    }
  });
});

describe("account deletion", () => {
  const deletionsSettled = async (before: number, count: number) =>
    until(
      async () =>
        (await instance.consumed("deleted")) +
          (await instance.consumed("already_deleted")) +
          (await instance.consumed("terminated")) >=
        before + count,
    );
  const settledCount = async () =>
    (await instance.consumed("deleted")) +
    (await instance.consumed("already_deleted")) +
    (await instance.consumed("terminated"));

  it.each([
    ["JSON", JSON.stringify({ user_id: "USER" }), "application/json"],
    ["binary protobuf", "protobuf", "application/protobuf"],
  ])(
    "by auth.user.deleted (%s): removes the profile and every edge on both sides, publishes ProfileDeleted once, and a late registration does not bring it back",
    async (_, payload, contentType) => {
      const [gone, b, c] = await users(3);
      if (gone === undefined || b === undefined || c === undefined) throw new Error("no users");
      await gone.client.addContact({ userId: gone.id, otherUserId: b.id });
      await c.client.addContact({ userId: c.id, otherUserId: gone.id });
      await b.client.blockUser({ userId: b.id, otherUserId: gone.id });
      const data =
        payload === "protobuf"
          ? toBinary(UserDeletedSchema, create(UserDeletedSchema, { userId: gone.id }))
          : payload.replace("USER", gone.id);
      const before = await settledCount();

      await publishToStream(nc, "auth.user.deleted", data, contentType);
      await publishToStream(nc, "auth.user.deleted", data, contentType);
      await deletionsSettled(before, 2);
      await publishToStream(
        nc,
        "auth.user.registered",
        JSON.stringify({ user_id: gone.id, username: "back" }),
      );
      await until(() => eventsOf(gone.id).some((r) => r.subject.startsWith("profile.deleted.")));

      expect(await profileRow(gone.id)).toBeUndefined();
      expect(await edgesOf(gone.id)).toBe(0);
      const deleted = eventsOf(gone.id).filter((r) => r.subject === `profile.deleted.${gone.id}`);
      expect(deleted).toHaveLength(1);
      expect((deleted[0]?.event as ProfileDeleted | undefined)?.version).toBe(2n);
      const profiles = grpcClient(instance.server.baseUrl);
      expect((await errorOf(profiles.getProfile({ userId: gone.id }))).code).toBe(Code.NotFound);
      const own = await c.client.getRelationships({ userId: c.id, otherUserIds: [gone.id] });
      expect(own.relationships[0]?.isContact).toBe(false);
      await until(async () => (await instance.consumed("already_present")) > 0);
      expect(await profileRow(gone.id)).toBeUndefined();
    },
  );

  it("terminates a UserDeleted that can never succeed, and still deletes the next", async () => {
    const [next] = await users(1);
    if (next === undefined) throw new Error("no users");
    const terminated = await instance.consumed("terminated");

    await publishToStream(nc, "auth.user.deleted", JSON.stringify({ user_id: "not-a-uuid" }));
    await publishToStream(nc, "auth.user.deleted", JSON.stringify({ user_id: next.id }));
    await until(async () => (await profileRow(next.id)) === undefined);

    expect(await instance.consumed("terminated")).toBe(terminated + 1);
  });

  it("by DeleteProfile: admin only, the same cleaning, idempotent", async () => {
    const [gone, b] = await users(2);
    if (gone === undefined || b === undefined) throw new Error("no users");
    await b.client.addContact({ userId: b.id, otherUserId: gone.id });
    const own = grpcClient(instance.server.baseUrl, await tokenFor(gone.id));
    const admin = grpcClient(instance.server.baseUrl);

    const refused = await errorOf(own.deleteProfile({ userId: gone.id }));
    const first = await admin.deleteProfile({ userId: gone.id });
    const again = await admin.deleteProfile({ userId: gone.id });
    const update = await errorOf(own.updateProfile({ userId: gone.id, displayName: "Back" }));

    expect(refused.code).toBe(Code.PermissionDenied);
    expect([first.deleted, first.version, again.deleted, again.version]).toEqual([
      true,
      2n,
      false,
      0n,
    ]);
    expect(update.code).toBe(Code.NotFound);
    expect(await edgesOf(gone.id)).toBe(0);
    const listed = await graphClient(instance.server.baseUrl, await tokenFor(b.id)).listContacts({
      userId: b.id,
    });
    expect(listed.contacts).toEqual([]);
    await until(() => eventsOf(gone.id).length === 1);
    expect(eventsOf(gone.id)[0]?.subject).toBe(`profile.deleted.${gone.id}`);
  });
});
