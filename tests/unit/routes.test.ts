// The main paths through the real wiring (src/compose.ts: routes, auth gate, interceptors, the
// domain, SQL on PGlite in memory), served by Connect's in-memory transport: no socket, no server.
import { durationMs } from "@bufbuild/protobuf/wkt";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BadRequestSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { HealthCheckResponse_ServingStatus } from "../../gen/health/v1/health_pb.js";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { adminToken } from "../support/auth.js";
import { errorOf } from "../support/clients.js";
import {
  type InMemoryService,
  type ServiceClients,
  startInMemoryService,
  type TestUser,
} from "./support/in-memory-service.js";

let service: InMemoryService;
let admin: ServiceClients;

beforeAll(async () => {
  service = await startInMemoryService();
  admin = service.clients(adminToken);
});
afterAll(() => service?.stop());

/** A new user whose profile exists, named `displayName`. */
async function userWithProfile(displayName: string): Promise<TestUser> {
  const user = await service.newUser();
  await user.profiles.updateProfile({ userId: user.id, displayName });
  return user;
}

describe("profiles through the real routes", () => {
  it("a user creates their profile with UpdateProfile, and any signed-in user reads it", async () => {
    const ada = await service.newUser();
    const reader = await service.newUser();

    const created = await ada.profiles.updateProfile({
      userId: ada.id,
      displayName: "Ada",
      bio: "engines",
    });
    const read = await reader.profiles.getProfile({ userId: ada.id.toUpperCase() });

    expect(created).toMatchObject({ userId: ada.id, displayName: "Ada", bio: "engines" });
    expect(read).toEqual(created);
  });

  it("UpdateProfile with the current etag changes the profile; with the old one it is ABORTED", async () => {
    const ada = await userWithProfile("Ada");
    const before = await ada.profiles.getProfile({ userId: ada.id });

    const updated = await ada.profiles.updateProfile({
      userId: ada.id,
      bio: "analytical",
      etag: before.etag,
    });
    const stale = await errorOf(
      ada.profiles.updateProfile({ userId: ada.id, bio: "again", etag: before.etag }),
    );

    expect(updated).toMatchObject({ displayName: "Ada", bio: "analytical" });
    expect(updated.etag).not.toBe(before.etag);
    expect(Code[stale.code]).toBe(Code[Code.Aborted]);
  });

  it("BatchGetProfiles answers the found profiles in request order and the missing ids", async () => {
    const [first, second] = [await userWithProfile("First"), await userWithProfile("Second")];
    const missing = crypto.randomUUID();

    const answer = await first.profiles.batchGetProfiles({
      userIds: [second.id, missing, first.id, second.id],
    });

    expect(answer.profiles.map((profile) => profile.displayName)).toEqual(["Second", "First"]);
    expect(answer.missingUserIds).toEqual([missing]);
  });

  it("DeleteProfile with the admin scope deletes it: GetProfile is NOT_FOUND after", async () => {
    const gone = await userWithProfile("Gone");

    const deleted = await admin.profiles.deleteProfile({ userId: gone.id });
    const error = await errorOf(gone.profiles.getProfile({ userId: gone.id }));

    expect(deleted.deleted).toBe(true);
    expect(Code[error.code]).toBe(Code[Code.NotFound]);
  });

  it("WatchProfiles starts with a snapshot of each watched id", async () => {
    const ada = await userWithProfile("Ada");
    const missing = crypto.randomUUID();
    const stop = new AbortController();
    const snapshots: string[] = [];

    for await (const message of ada.profiles.watchProfiles(
      { userIds: [ada.id, missing] },
      { signal: stop.signal },
    )) {
      snapshots.push(`${message.userId} ${message.state.case} ${message.snapshot}`);
      if (snapshots.length === 2) break;
    }
    stop.abort();

    expect(snapshots).toEqual([`${ada.id} profile true`, `${missing} missing true`]);
  });

  it("refuses broken fields with INVALID_ARGUMENT and a google.rpc.BadRequest naming each", async () => {
    const ada = await service.newUser();

    const error = await errorOf(
      ada.profiles.updateProfile({
        userId: ada.id,
        displayName: "",
        avatarUrl: "http://example.com/a.png",
      }),
    );

    expect(Code[error.code]).toBe(Code[Code.InvalidArgument]);
    expect(
      error
        .findDetails(BadRequestSchema)
        .flatMap((detail) => detail.fieldViolations.map((violation) => violation.field)),
    ).toEqual(["display_name", "avatar_url"]);
  });
});

describe("contacts and blocks through the real routes", () => {
  it("adds and lists a contact with its profile, then a block removes it", async () => {
    const ada = await userWithProfile("Ada");
    const bob = await userWithProfile("Bob");

    const contact = await ada.socialGraph.addContact({
      userId: ada.id,
      otherUserId: bob.id,
      nickname: "Bobby",
    });
    const listed = await ada.socialGraph.listContacts({ userId: ada.id });
    await ada.socialGraph.blockUser({ userId: ada.id, otherUserId: bob.id, reason: "spam" });
    const afterBlock = await ada.socialGraph.listContacts({ userId: ada.id });
    const blocked = await ada.socialGraph.listBlockedUsers({ userId: ada.id });
    const refused = await errorOf(
      bob.socialGraph.addContact({ userId: bob.id, otherUserId: ada.id }),
    );

    expect(contact).toMatchObject({ userId: ada.id, contactUserId: bob.id, nickname: "Bobby" });
    expect(listed.contacts.map((c) => [c.contactUserId, c.profile?.displayName])).toEqual([
      [bob.id, "Bob"],
    ]);
    expect(afterBlock.contacts).toEqual([]);
    expect(blocked.blocks.map((block) => [block.blockedUserId, block.reason])).toEqual([
      [bob.id, "spam"],
    ]);
    expect(Code[refused.code]).toBe(Code[Code.FailedPrecondition]);
  });

  it("GetRelationships tells how a user stands to others, and never who blocks them", async () => {
    const ada = await userWithProfile("Ada");
    const bob = await userWithProfile("Bob");
    await bob.socialGraph.blockUser({ userId: bob.id, otherUserId: ada.id });
    await ada.socialGraph.unblockUser({ userId: ada.id, otherUserId: bob.id });

    const { relationships } = await ada.socialGraph.getRelationships({
      userId: ada.id,
      otherUserIds: [bob.id],
    });

    expect(relationships).toMatchObject([
      { otherUserId: bob.id, isContact: false, blocksOtherUser: false, blockedByOtherUser: false },
    ]);
  });
});

describe("health through the real routes", () => {
  it("answers SERVING without a token for the server and each API, and NOT_FOUND for others", async () => {
    const { health } = service.clients(null);

    const statuses = await Promise.all(
      ["", ProfileApi.typeName].map(async (name) => (await health.check({ service: name })).status),
    );
    const unknown = await errorOf(health.check({ service: "no.such.Service" }));

    expect(statuses).toEqual([
      HealthCheckResponse_ServingStatus.SERVING,
      HealthCheckResponse_ServingStatus.SERVING,
    ]);
    expect(Code[unknown.code]).toBe(Code[Code.NotFound]);
  });
});

describe("the quota interceptor in the real wiring", () => {
  let limited: InMemoryService;
  beforeAll(async () => {
    limited = await startInMemoryService({
      quotas: {
        user: { perSecond: 10, burst: 20 },
        service: { perSecond: 0, burst: 1 },
        updateCost: 5,
        searchCost: 40,
        handleLookupCost: 8,
      },
    });
  });
  afterAll(() => limited?.stop());

  it("refuses a user past their burst with RESOURCE_EXHAUSTED and a RetryInfo, after the auth gate", async () => {
    const user = await limited.newUser();
    const other = await limited.newUser();
    const ids = (count: number) => Array.from({ length: count }, () => crypto.randomUUID());

    await user.profiles.batchGetProfiles({ userIds: ids(15) });
    await user.profiles.updateProfile({ userId: user.id, displayName: "Spender" });
    const refused = await errorOf(user.profiles.batchGetProfiles({ userIds: ids(3) }));
    const retryDelay = refused.findDetails(RetryInfoSchema)[0]?.retryDelay;
    if (retryDelay === undefined) throw new Error("no google.rpc.RetryInfo in the refusal");
    const retryAfterMs = durationMs(retryDelay);

    expect(Code[refused.code]).toBe(Code[Code.ResourceExhausted]);
    // 20 spent, 3 more wanted at 10 per second: 300 ms, less what refilled since.
    expect(retryAfterMs).toBeGreaterThan(200);
    expect(retryAfterMs).toBeLessThanOrEqual(300);
    expect(await other.profiles.batchGetProfiles({ userIds: ids(20) })).toBeDefined();
  });
});
