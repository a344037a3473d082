// Handles (docs/handles.md) through the real service on PostgreSQL with a broker, over gRPC and
// Connect: concurrent claims of one handle, the cooldown and the hold on a clock the test moves,
// the events, WatchProfiles, and ResolveHandle's privacy and blocks.
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../gen/google/rpc/error_details_pb.js";
import {
  Audience,
  HandleUnavailableReason,
  ProfileApi,
} from "../gen/realchat/profile/v1/profile_api_pb.js";
import type {
  ProfileCreated,
  ProfileUpdated,
} from "../gen/realchat/profile/v1/profile_events_pb.js";
import type { Clock } from "../src/profile/clock.js";
import { adminToken, tokenFor } from "./support/auth.js";
import { bearer, codeOf, errorOf, type ProfileClient } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import {
  type EventWatcher,
  type PrivateNats,
  profileOf,
  publishToStream,
  startNatsServer,
  until,
  watchProfileEvents,
} from "./support/nats.js";
import { createProfiles, graphClient } from "./support/social-graph.js";
import { defaultTestConfig, startTestServer, type TestServer } from "./support/test-server.js";

const DAY = 86_400_000;

let broker: PrivateNats;
let database: TestDatabase;
let server: TestServer;
let watcher: EventWatcher;
let nc: NatsConnection;
let at = Date.UTC(2027, 0, 1);
const clock: Clock = { now: () => new Date(at) };

beforeAll(async () => {
  broker = await startNatsServer();
  database = await createTestDatabase();
  server = await startTestServer(
    database.handle,
    // Fifty users claiming at once is more than any quota is for.
    { quotas: { ...defaultTestConfig.quotas, user: { perSecond: 1e6, burst: 1e7 } } },
    { events: { natsUrl: broker.url, createStreams: true, outboxPollIntervalMs: 100 }, clock },
  );
  await until(() => server.service.profileFeed.live(), 20_000);
  watcher = await watchProfileEvents(broker.url);
  nc = await connect({ servers: broker.url });
});

afterAll(async () => {
  await nc?.close();
  await watcher?.close();
  await server?.close();
  await database?.drop();
  await broker?.dispose();
});

const protocols = {
  gRPC: (token: string) =>
    createGrpcTransport({ baseUrl: server.baseUrl, interceptors: bearer(token) }),
  Connect: (token: string) =>
    createConnectTransport({
      baseUrl: server.baseUrl,
      httpVersion: "1.1",
      interceptors: bearer(token),
    }),
};
type Protocol = keyof typeof protocols;

/** New users with profiles, each with a client of their own over `protocol`. */
async function users(count: number, protocol: Protocol = "gRPC") {
  const ids = await createProfiles(database.db, count);
  return Promise.all(
    ids.map(async (id) => ({
      id,
      client: createClient(ProfileApi, protocols[protocol](await tokenFor(id))) as ProfileClient,
    })),
  );
}

/** A handle nobody in this run has used. */
const fresh = () => `h${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;

describe("SetHandle on PostgreSQL", () => {
  it("lets exactly one of 50 concurrent claims of one handle win; the others are ALREADY_EXISTS", async () => {
    const claimants = await users(50);
    const handle = fresh();
    const codes = await Promise.all(
      claimants.map(({ id, client }) => codeOf(client.setHandle({ userId: id, handle }))),
    );
    expect(codes.filter((code) => code === "OK")).toHaveLength(1);
    expect(codes.filter((code) => code === "AlreadyExists")).toHaveLength(49);
    const winner = claimants[codes.indexOf("OK")]?.id;
    const holders = await database.db
      .selectFrom("profiles")
      .select("user_id")
      .where("handle", "=", handle)
      .execute();
    expect(holders).toEqual([{ user_id: winner }]);
    const records = await database.db
      .selectFrom("handles")
      .selectAll()
      .where("handle", "=", handle)
      .execute();
    expect(records).toMatchObject([{ user_id: winner, released_at: null }]);
  });

  describe.each(Object.keys(protocols) as Protocol[])("over %s", (protocol) => {
    it("claims, refuses a second claim within the cooldown with RetryInfo, and holds a release", async () => {
      const [ada, bob] = await users(2, protocol);
      if (ada === undefined || bob === undefined) throw new Error("no users");
      const first = fresh();
      const claimed = await ada.client.setHandle({
        userId: ada.id,
        handle: `@${first.toUpperCase()}`,
      });
      expect(claimed).toMatchObject({ handle: first, etag: "v2" });
      // The same handle again: nothing written, the same version.
      expect(await ada.client.setHandle({ userId: ada.id, handle: first })).toMatchObject({
        etag: "v2",
      });

      at += DAY / 2;
      const tooSoon = await errorOf(ada.client.setHandle({ userId: ada.id, handle: fresh() }));
      expect(tooSoon.code).toBe(Code.FailedPrecondition);
      const [retry] = tooSoon.findDetails(RetryInfoSchema);
      expect(retry?.retryDelay === undefined ? undefined : durationMs(retry.retryDelay)).toBe(
        DAY / 2,
      );

      // Releasing is always allowed; the handle is then held for its last holder.
      expect(await ada.client.setHandle({ userId: ada.id, handle: "" })).toMatchObject({
        handle: "",
      });
      expect(await codeOf(bob.client.setHandle({ userId: bob.id, handle: first }))).toBe(
        "AlreadyExists",
      );
      expect(await bob.client.checkHandle({ handle: first })).toMatchObject({
        available: false,
        reason: HandleUnavailableReason.TAKEN,
        handle: first,
      });
      expect(await ada.client.checkHandle({ handle: first })).toMatchObject({ available: true });
      at += DAY / 2;
      expect(await ada.client.setHandle({ userId: ada.id, handle: first })).toMatchObject({
        handle: first,
      });
      at += DAY;
      await ada.client.setHandle({ userId: ada.id, handle: "" });
      at += 14 * DAY;
      expect(await bob.client.checkHandle({ handle: first })).toMatchObject({ available: true });
      expect(await bob.client.setHandle({ userId: bob.id, handle: first })).toMatchObject({
        handle: first,
      });
    });

    it("answers invalid handles with a BadRequest, and CheckHandle with INVALID", async () => {
      const [ada] = await users(1, protocol);
      if (ada === undefined) throw new Error("no user");
      const refused = await errorOf(ada.client.setHandle({ userId: ada.id, handle: "\u0430da_l" }));
      expect(refused.code).toBe(Code.InvalidArgument);
      expect(await ada.client.checkHandle({ handle: "x" })).toMatchObject({
        available: false,
        reason: HandleUnavailableReason.INVALID,
        handle: "",
      });
      expect(await ada.client.checkHandle({ handle: "admin" })).toMatchObject({
        available: false,
        reason: HandleUnavailableReason.TAKEN,
      });
      expect(await codeOf(ada.client.resolveHandle({ handle: "x" }))).toBe("InvalidArgument");
    });

    it("resolves a handle as the viewer sees it, and a block either way as nobody", async () => {
      const [owner, stranger, blocked, blocker] = await users(4, protocol);
      if (
        owner === undefined ||
        stranger === undefined ||
        blocked === undefined ||
        blocker === undefined
      ) {
        throw new Error("no users");
      }
      const handle = fresh();
      await owner.client.setHandle({ userId: owner.id, handle });
      await owner.client.updateProfile({ userId: owner.id, bio: "private bio" });
      await owner.client.updatePrivacySettings({
        userId: owner.id,
        bioAudience: Audience.CONTACTS,
      });
      const seen = await stranger.client.resolveHandle({ handle: `@${handle}` });
      expect(seen).toMatchObject({ userId: owner.id, handle, bio: "", hiddenFields: ["bio"] });
      expect(await owner.client.resolveHandle({ handle })).toMatchObject({ bio: "private bio" });

      const ownerGraph = graphClient(server.baseUrl, await tokenFor(owner.id));
      await ownerGraph.blockUser({ userId: owner.id, otherUserId: blocked.id });
      const blockerGraph = graphClient(server.baseUrl, await tokenFor(blocker.id));
      await blockerGraph.blockUser({ userId: blocker.id, otherUserId: owner.id });
      const nobody = await errorOf(stranger.client.resolveHandle({ handle: fresh() }));
      for (const viewer of [blocked, blocker]) {
        const refused = await errorOf(viewer.client.resolveHandle({ handle }));
        expect(refused.code).toBe(Code.NotFound);
        expect(refused.rawMessage).toBe(`no profile has the handle ${handle}`);
      }
      expect(nobody.code).toBe(Code.NotFound);
    });
  });

  it("answers ResolveHandle from this instance's own write at once, old handle gone", async () => {
    const [ada, bob] = await users(2);
    if (ada === undefined || bob === undefined) throw new Error("no users");
    const first = fresh();
    const second = fresh();
    at += 2 * DAY;
    await ada.client.setHandle({ userId: ada.id, handle: first });
    expect(await bob.client.resolveHandle({ handle: first })).toMatchObject({ userId: ada.id });
    at += 2 * DAY;
    await ada.client.setHandle({ userId: ada.id, handle: second });
    expect(await bob.client.resolveHandle({ handle: second })).toMatchObject({ userId: ada.id });
    expect(await codeOf(bob.client.resolveHandle({ handle: first }))).toBe("NotFound");
  });

  it("publishes ProfileUpdated with changed_fields [handle], and watchers see the change", async () => {
    const [ada, bob] = await users(2);
    if (ada === undefined || bob === undefined) throw new Error("no users");
    const controller = new AbortController();
    const seen: string[] = [];
    const watching = (async () => {
      for await (const update of bob.client.watchProfiles(
        { userIds: [ada.id] },
        { signal: controller.signal },
      )) {
        if (update.state.case === "profile") seen.push(update.state.value.handle);
      }
    })().catch(() => {});
    await until(() => seen.length === 1);
    const handle = fresh();
    at += 2 * DAY;
    await ada.client.setHandle({ userId: ada.id, handle });
    await until(() => seen.includes(handle));
    controller.abort();
    await watching;
    await until(() => watcher.of(ada.id).some((event) => profileOf(event)?.handle === handle));
    const updated = watcher.of(ada.id).find((event) => profileOf(event)?.handle === handle);
    expect(updated?.type).toBe("realchat.profile.v1.ProfileUpdated");
    expect((updated?.event as ProfileUpdated | undefined)?.changedFields).toEqual(["handle"]);
  });

  it("releases a deleted account's handle into the hold", async () => {
    const [ada, bob] = await users(2);
    if (ada === undefined || bob === undefined) throw new Error("no users");
    const handle = fresh();
    at += 2 * DAY;
    await ada.client.setHandle({ userId: ada.id, handle });
    const admin = createClient(ProfileApi, protocols.gRPC(adminToken));
    await admin.deleteProfile({ userId: ada.id });
    expect(await codeOf(bob.client.resolveHandle({ handle }))).toBe("NotFound");
    // The database released it at its own now(): the hold runs from then.
    at = Math.max(at, Date.now()) + 14 * DAY + 60_000;
    expect(await bob.client.setHandle({ userId: bob.id, handle })).toMatchObject({ handle });
  });
});

describe("registration", () => {
  it("claims the username as the handle in the ProfileCreated, or none when taken", async () => {
    const first = crypto.randomUUID();
    const second = crypto.randomUUID();
    const username = fresh().toUpperCase();
    for (const userId of [first, second]) {
      await publishToStream(
        nc,
        "auth.user.registered",
        JSON.stringify({ user_id: userId, username }),
      );
      await until(() => watcher.of(userId).length > 0);
    }
    const [created] = watcher.of(first);
    expect(created?.type).toBe("realchat.profile.v1.ProfileCreated");
    expect((created?.event as ProfileCreated | undefined)?.changedFields).toContain("handle");
    expect(profileOf(created)?.handle).toBe(username.toLowerCase());
    expect(profileOf(watcher.of(second)[0])?.handle).toBe("");
    // A registration's claim starts no cooldown: the new user picks another handle at once.
    const client = createClient(ProfileApi, protocols.gRPC(await tokenFor(first)));
    const picked = fresh();
    expect(await client.setHandle({ userId: first, handle: picked })).toMatchObject({
      handle: picked,
    });
  });
});
