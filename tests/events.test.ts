// docs/events.md: provisioning from UserRegistered, and every profile change announced through
// the outbox. Tests that stop the broker are in events-resilience.
//
// On a nats-server of its own: the registration consumer is one durable queue that every instance
// on a broker shares, whatever its database. On the machine's NATS an instance of another test
// file, or of another run of the suite, takes some of the registrations published here (and
// leaves those it had in hand when it stopped, redelivered later to whoever consumes).
import { create, toBinary } from "@bufbuild/protobuf";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserRegisteredSchema } from "../gen/realchat/auth/v1/user_events_pb.js";
import type {
  ProfileCreated,
  ProfileUpdated,
} from "../gen/realchat/profile/v1/profile_events_pb.js";
import { outboxBacklog } from "../src/events/outbox/outbox-repository.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { startInstance, type TestInstance } from "./support/instance.js";
import {
  type EventWatcher,
  type PrivateNats,
  profileOf,
  publishToStream,
  startNatsServer,
  storedEventsOf,
  until,
  watchProfileEvents,
} from "./support/nats.js";

let broker: PrivateNats;
let database: TestDatabase;
let instance: TestInstance;
let watcher: EventWatcher;
let nc: NatsConnection;

beforeAll(async () => {
  broker = await startNatsServer();
  database = await createTestDatabase();
  instance = await startInstance(database, { natsUrl: broker.url });
  await until(() => instance.events.state() === "connected");
  watcher = await watchProfileEvents(broker.url);
  nc = await connect({ servers: broker.url });
});

afterAll(async () => {
  await nc?.close();
  await watcher?.close();
  await instance?.stop();
  await database?.drop();
  await broker?.dispose();
});

const json = (value: unknown) => JSON.stringify(value);
const consumed = async () =>
  (await instance.consumed("provisioned")) +
  (await instance.consumed("already_present")) +
  (await instance.consumed("terminated"));
const storedRow = (userId: string) =>
  database.db.selectFrom("profiles").selectAll().where("user_id", "=", userId).executeTakeFirst();
/** Waits until the relay has published every outbox row. */
const outboxDrained = () => until(async () => (await outboxBacklog(database.db)).pending === 0);

/** Publishes and waits until the consumer has settled this many more messages. */
async function publishAndSettle(
  messages: Array<{ subject: string; data: string | Uint8Array; contentType?: string }>,
) {
  const before = await consumed();
  for (const { subject, data, contentType } of messages) {
    await publishToStream(nc, subject, data, contentType);
  }
  await until(async () => (await consumed()) >= before + messages.length);
}

describe("provisioning from UserRegistered", () => {
  it("provisions a profile from a JSON UserRegistered, named after its display_name", async () => {
    const userId = crypto.randomUUID();

    await publishAndSettle([
      {
        subject: "auth.user.registered",
        data: json({ user_id: userId, display_name: " Ada ", username: "ada", email: "a@x.io" }),
        contentType: "application/json",
      },
    ]);

    expect(await storedRow(userId)).toMatchObject({ display_name: "Ada", bio: "", version: 1 });
    await until(() => watcher.of(userId).length === 1);
    const [created] = watcher.of(userId);
    expect(created?.subject).toBe(`profile.created.${userId}`);
    expect(created?.type).toBe("realchat.profile.v1.ProfileCreated");
    expect(created?.event.version).toBe(1n);
    // The username is a free handle: the registration claims it (docs/handles.md).
    expect((created?.event as ProfileCreated | undefined)?.changedFields).toEqual([
      "display_name",
      "avatar_url",
      "bio",
      "handle",
    ]);
    expect(profileOf(created)?.displayName).toBe("Ada");
    expect(profileOf(created)?.handle).toBe("ada");
  });

  it("provisions a profile from a binary protobuf UserRegistered, named after its username", async () => {
    const userId = crypto.randomUUID();
    const event = create(UserRegisteredSchema, { userId, username: "bob", email: "b@x.io" });

    await publishAndSettle([
      {
        subject: "auth.user.registered",
        data: toBinary(UserRegisteredSchema, event),
        contentType: "application/protobuf",
      },
    ]);

    expect((await storedRow(userId))?.display_name).toBe("bob");
  });

  it('provisions a profile with display_name "" from today\'s auth.user.created JSON', async () => {
    const userId = crypto.randomUUID();

    await publishAndSettle([{ subject: "auth.user.created", data: json({ user_id: userId }) }]);

    expect((await storedRow(userId))?.display_name).toBe("");
  });

  it("falls back to the username when the display_name breaks the rules", async () => {
    const userId = crypto.randomUUID();

    await publishAndSettle([
      {
        subject: "auth.user.registered",
        data: json({ user_id: userId, display_name: "evil\u202Ename", username: "carol" }),
      },
    ]);

    expect((await storedRow(userId))?.display_name).toBe("carol");
  });

  it("provisions once and announces once when the same event arrives three times", async () => {
    const userId = crypto.randomUUID();
    const message = {
      subject: "auth.user.registered",
      data: json({ user_id: userId, username: "d" }),
    };

    await publishAndSettle([message, message, message]);
    await outboxDrained();

    const created = (await storedEventsOf(broker.url, userId)).filter((e) =>
      e.subject.startsWith("profile.created."),
    );
    expect(created).toHaveLength(1);
    expect((await storedRow(userId))?.version).toBe(1);
  });

  it("changes nothing when UserRegistered arrives after an UpdateProfile created the profile", async () => {
    const userId = crypto.randomUUID();
    await instance.client.updateProfile({ userId, displayName: "Chosen" });

    await publishAndSettle([
      {
        subject: "auth.user.registered",
        data: json({ user_id: userId, display_name: "From Auth" }),
      },
    ]);
    await outboxDrained();

    expect(await storedRow(userId)).toMatchObject({ display_name: "Chosen", version: 1 });
    expect((await storedEventsOf(broker.url, userId)).map((e) => e.subject)).toEqual([
      `profile.created.${userId}`,
    ]);
  });

  it("acknowledges other auth.user events without touching profiles", async () => {
    const userId = crypto.randomUUID();
    const ignoredBefore = await instance.consumed("ignored");

    await publishToStream(nc, "auth.user.password_changed", json({ user_id: userId }));
    await until(async () => (await instance.consumed("ignored")) > ignoredBefore);

    expect(await storedRow(userId)).toBeUndefined();
  });
});

describe("poison messages", () => {
  const poisons: Array<[string, string | Uint8Array, string | undefined]> = [
    ["not JSON", "{not json", undefined],
    ["JSON with wrong types", json({ user_id: 5 }), "application/json"],
    ["a user_id that is not a UUID", json({ user_id: "not-a-uuid" }), "application/json"],
    ["an empty payload", "", undefined],
    ["an empty protobuf (no user_id)", new Uint8Array(), "application/protobuf"],
    ["bytes that are no protobuf", new Uint8Array([0xff, 0xff, 0xff]), "application/protobuf"],
    ["an unsupported content type", json({ user_id: crypto.randomUUID() }), "text/plain"],
  ];

  it.each(poisons)(
    "terminates %s, counts it, and still processes the next message",
    async (_, data, contentType) => {
      const userId = crypto.randomUUID();
      const terminatedBefore = await instance.consumed("terminated");

      await publishAndSettle([
        { subject: "auth.user.registered", data, contentType },
        { subject: "auth.user.registered", data: json({ user_id: userId, username: "next" }) },
      ]);

      expect(await instance.consumed("terminated")).toBe(terminatedBefore + 1);
      expect((await storedRow(userId))?.display_name).toBe("next");
    },
  );
});

describe("ProfileUpdated from UpdateProfile", () => {
  it("announces one change with the new snapshot, the changed fields and the next version", async () => {
    const userId = crypto.randomUUID();
    await instance.client.updateProfile({ userId, displayName: "Grace", bio: "old" });
    await until(() => watcher.of(userId).length === 1);

    const profile = await instance.client.updateProfile({
      userId,
      bio: "new",
      displayName: "Grace",
    });
    await until(() => watcher.of(userId).length === 2);

    const updated = watcher.of(userId)[1];
    const event = updated?.event as ProfileUpdated;
    expect(updated?.subject).toBe(`profile.updated.${userId}`);
    expect(updated?.type).toBe("realchat.profile.v1.ProfileUpdated");
    expect(updated?.contentType).toBe("application/protobuf");
    expect(updated?.msgId).toBe(event.eventId);
    expect(event.changedFields).toEqual(["bio"]);
    expect(event.version).toBe(2n);
    expect(event.profile).toEqual(profile);
    expect(event.occurredAt).toEqual(profile.updatedAt);
  });

  it("announces nothing for an update that changes nothing", async () => {
    const userId = crypto.randomUUID();
    await instance.client.updateProfile({ userId, displayName: "Same" });

    await instance.client.updateProfile({ userId, displayName: "Same" });
    await instance.client.updateProfile({ userId, bio: "changed" });
    await until(() => watcher.of(userId).length >= 2);
    await outboxDrained();

    expect((await storedEventsOf(broker.url, userId)).map((e) => e.event.version)).toEqual([
      1n,
      2n,
    ]);
  });

  it("delivers 1,000 concurrent updates of one user in version order", async () => {
    const userId = crypto.randomUUID();
    await instance.client.updateProfile({ userId, displayName: "Counter" });
    const updates = Array.from({ length: 1000 }, (_, n) => n);

    for (let start = 0; start < updates.length; start += 20) {
      await Promise.all(
        updates
          .slice(start, start + 20)
          .map((n) => instance.client.updateProfile({ userId, bio: `update ${n}` })),
      );
    }
    await until(() => watcher.of(userId).length === 1001, 60_000);

    const versions = watcher.of(userId).map((received) => Number(received.event.version));
    expect(versions).toEqual(Array.from({ length: 1001 }, (_, n) => n + 1));
  });
});

describe("a relay that crashed between publishing and marking", () => {
  it("publishes the event again with the same Nats-Msg-Id, and JetStream keeps one copy", async () => {
    const userId = crypto.randomUUID();
    await instance.client.updateProfile({ userId, displayName: "Once" });
    await until(() => watcher.of(userId).length === 1);
    await outboxDrained();
    const duplicatesBefore = await instance.published("duplicate");

    // The state a crash right after the broker's ack leaves behind: published, never marked.
    await database.db
      .updateTable("outbox")
      .set({ published_at: null })
      .where("user_id", "=", userId)
      .execute();
    await until(async () => (await instance.published("duplicate")) === duplicatesBefore + 1);
    // The relay counts the duplicate when JetStream acknowledges it; the copy every subscriber
    // gets travels on the watcher's own connection, and may come after.
    await until(() => watcher.of(userId).length === 2);

    const [first, again] = watcher.of(userId);
    expect(again?.msgId).toBe(first?.msgId);
    const stream = await (await jetstreamManager(nc)).streams.info("PROFILE", {
      subjects_filter: `profile.*.${userId}`,
    });
    expect(stream.state.subjects).toEqual({ [`profile.created.${userId}`]: 1 });
    expect(await storedEventsOf(broker.url, userId)).toHaveLength(1);
  });
});
