// Who sees what (docs/privacy.md), through the real service on PostgreSQL with a broker: a
// model-based property over viewer × relation × settings × field × read path × protocol, with the
// cache warm and off; no hidden value in an answer, an ETag, an error or a log line; two viewers
// one right after the other; privacy settings' own rules; and watchers as blocks and audiences
// change, on the instance that made the change and on another one.
import { Writable } from "node:stream";
import { type Client, Code, createClient, type Transport } from "@connectrpc/connect";
import fc from "fast-check";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Audience,
  type Profile,
  ProfileApi,
  type WatchProfilesResponse,
} from "../gen/realchat/profile/v1/profile_api_pb.js";
import { adminToken, tokenFor } from "./support/auth.js";
import { errorOf, grpcClient, transportsFor } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { type PrivateNats, startNatsServer, storedEvents, until } from "./support/nats.js";
import { untilServing } from "./support/profile-cache.js";
import { graphClient } from "./support/social-graph.js";
import { defaultTestConfig, startTestServer, type TestServer } from "./support/test-server.js";

type ProfileClient = Client<typeof ProfileApi>;
type Relation =
  | "stranger"
  | "contact"
  | "blocked"
  | "owner"
  | "service"
  | "service as stranger"
  | "service as contact"
  | "service as blocked";
type Path = "Get" | "Batch" | "Watch" | "ListContacts" | "Connect GET";
type HiddenField = "avatar_url" | "bio";

const audiences = [Audience.EVERYONE, Audience.CONTACTS, Audience.NOBODY] as const;
const relations: readonly Relation[] = [
  "stranger",
  "contact",
  "blocked",
  "owner",
  "service",
  "service as stranger",
  "service as contact",
  "service as blocked",
];
const paths: readonly Path[] = ["Get", "Batch", "Watch", "ListContacts", "Connect GET"];
const protocols = Object.keys(transportsFor("http://unused"));

/** Every line the instances log, to look for hidden values in. */
const logLines: string[] = [];
const logger = pino(
  { level: "debug" },
  new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  }),
);

let broker: PrivateNats;
let database: TestDatabase;
let warm: TestServer;
let off: TestServer;

async function instance(cache: boolean): Promise<TestServer> {
  const server = await startTestServer(
    database.handle,
    // The owners here write far more often than a person would; quotas are not what this tests.
    { quotas: { ...defaultTestConfig.quotas, user: { perSecond: 1e6, burst: 1e7 } } },
    {
      logger,
      events: { natsUrl: broker.url, createStreams: true, outboxPollIntervalMs: 100 },
      profileCache: { enabled: cache },
    },
  );
  await until(() => server.service.profileFeed.live(), 20_000);
  return server;
}

beforeAll(async () => {
  broker = await startNatsServer();
  database = await createTestDatabase();
  [warm, off] = await Promise.all([instance(true), instance(false)]);
  await untilServing(warm.service.metrics, 1);
}, 60_000);
afterAll(async () => {
  await Promise.all([warm?.close(), off?.close()]);
  await database?.drop();
  await broker?.dispose();
});

/** A user with a profile, their token, and clients of both services as them. */
interface User {
  readonly id: string;
  readonly token: string;
}

async function newUser(name: string): Promise<User> {
  const id = crypto.randomUUID();
  const token = await tokenFor(id);
  await grpcClient(warm.baseUrl, token).updateProfile({ userId: id, displayName: name });
  return { id, token };
}

const profiles = (server: TestServer, token: string, protocol = "gRPC over h2c"): ProfileClient => {
  const transport: Transport | undefined = transportsFor(server.baseUrl, token)[protocol];
  if (transport === undefined) throw new Error(`no transport ${protocol}`);
  return createClient(ProfileApi, transport);
};

/** Sets the owner's audiences (on the warm instance, which applies its own writes at once). */
async function choose(owner: User, avatar: Audience, bio: Audience): Promise<void> {
  await profiles(warm, owner.token).updatePrivacySettings({
    userId: owner.id,
    avatarAudience: avatar,
    bioAudience: bio,
  });
}

/** What the model says a viewer with `relation` sees hidden, for these audiences. */
function expectedHidden(relation: Relation, avatar: Audience, bio: Audience): HiddenField[] {
  if (relation === "owner" || relation === "service") return [];
  const blocked = relation.endsWith("blocked");
  const contact = relation.endsWith("contact");
  const sees = (audience: Audience) =>
    !blocked && (audience === Audience.EVERYONE || (audience === Audience.CONTACTS && contact));
  return [...(sees(avatar) ? [] : ["avatar_url" as const]), ...(sees(bio) ? [] : ["bio" as const])];
}

/** What a viewer sees of a profile, as the test compares it. */
function seen(
  profile: Pick<Profile, "userId" | "displayName" | "avatarUrl" | "bio" | "hiddenFields">,
) {
  return {
    userId: profile.userId,
    displayName: profile.displayName,
    avatarUrl: profile.avatarUrl,
    bio: profile.bio,
    hiddenFields: profile.hiddenFields,
  };
}

function summaryOf(message: WatchProfilesResponse) {
  return {
    version: Number(message.version),
    snapshot: message.snapshot,
    profile: message.state.case === "profile" ? seen(message.state.value) : `${message.state.case}`,
  };
}

/** An open WatchProfiles stream whose messages are collected as they come. */
function watchOf(client: ProfileClient, userIds: string[], viewerUserId = "") {
  const controller = new AbortController();
  const received: Array<{ at: number; message: ReturnType<typeof summaryOf> }> = [];
  const done = (async () => {
    try {
      for await (const message of client.watchProfiles(
        { userIds, viewerUserId },
        { signal: controller.signal },
      )) {
        received.push({ at: performance.now(), message: summaryOf(message) });
      }
    } catch {
      // closed by the test
    }
  })();
  return {
    received,
    async first() {
      await until(() => received.length > 0, 5000);
      return received[0]?.message;
    },
    async close() {
      controller.abort();
      await done;
    },
  };
}

describe("who sees what, against the model", () => {
  let owner: User;
  let stranger: User;
  let contact: User;
  let blocked: User;
  /** A user whose address book holds the owner: service calls list it for another viewer. */
  let lister: User;
  let secret = 0;

  beforeAll(async () => {
    owner = await newUser("Owner");
    stranger = await newUser("Stranger");
    contact = await newUser("Contact");
    blocked = await newUser("Blocked");
    lister = await newUser("Lister");
    const ownersGraph = graphClient(warm.baseUrl, owner.token);
    await ownersGraph.addContact({ userId: owner.id, otherUserId: contact.id });
    await ownersGraph.blockUser({
      userId: owner.id,
      otherUserId: blocked.id,
      reason: "harassment",
    });
    for (const user of [stranger, contact, lister]) {
      await graphClient(warm.baseUrl, user.token).addContact({
        userId: user.id,
        otherUserId: owner.id,
      });
    }
  });

  /** Gives the owner new secret values; returns them. */
  async function newSecrets(): Promise<{ avatarUrl: string; bio: string }> {
    secret += 1;
    const values = {
      avatarUrl: `https://cdn.example/secret-avatar-${secret}-${crypto.randomUUID()}.png`,
      bio: `secret bio ${secret} ${crypto.randomUUID()}`,
    };
    await profiles(warm, owner.token).updateProfile({ userId: owner.id, ...values });
    return values;
  }

  /** The token a relation reads with, and the viewer it names. */
  function caller(relation: Relation): { token: string; viewerUserId: string; listerId: string } {
    const byName: Record<string, User> = { stranger, contact, blocked };
    if (relation === "owner") return { token: owner.token, viewerUserId: "", listerId: lister.id };
    if (relation === "service") return { token: adminToken, viewerUserId: "", listerId: lister.id };
    const name = relation.replace("service as ", "");
    const user = byName[name];
    if (user === undefined) throw new Error(`no user ${name}`);
    if (relation.startsWith("service")) {
      return { token: adminToken, viewerUserId: user.id, listerId: lister.id };
    }
    return { token: user.token, viewerUserId: "", listerId: user.id };
  }

  /** What `relation` gets over `path`: the owner's profile as seen, and the raw bytes it came in. */
  async function read(
    relation: Relation,
    path: Path,
    server: TestServer,
    protocol: string,
  ): Promise<{ profile: ReturnType<typeof seen>; raw: string }> {
    const { token, viewerUserId, listerId } = caller(relation);
    const client = profiles(server, token, protocol);
    switch (path) {
      case "Get": {
        const profile = await client.getProfile({ userId: owner.id, viewerUserId });
        return { profile: seen(profile), raw: text(profile) };
      }
      case "Batch": {
        const answer = await client.batchGetProfiles({
          userIds: [crypto.randomUUID(), owner.id, stranger.id],
          viewerUserId,
        });
        const profile = answer.profiles.find((found) => found.userId === owner.id);
        if (profile === undefined) throw new Error("the owner is missing");
        return { profile: seen(profile), raw: text(answer) };
      }
      case "Watch": {
        const watch = watchOf(client, [owner.id], viewerUserId);
        const first = await watch.first();
        await watch.close();
        const profile = first?.profile;
        if (profile === undefined || typeof profile === "string") throw new Error("no profile");
        return { profile, raw: text(first) };
      }
      case "ListContacts": {
        // The owner is in no list of their own: a service lists another's for them.
        const asOwner = relation === "owner";
        const graph = graphClient(server.baseUrl, asOwner ? adminToken : token);
        const page = await graph.listContacts({
          userId: listerId,
          viewerUserId: asOwner ? owner.id : viewerUserId,
          pageSize: 500,
        });
        const listed = page.contacts.find((entry) => entry.contactUserId === owner.id)?.profile;
        if (listed === undefined) throw new Error("the owner is not listed");
        return { profile: seen(listed), raw: text(page) };
      }
      case "Connect GET": {
        const answer = await connectGet(server, owner.id, token, viewerUserId);
        return { profile: seen(answer.body), raw: text(answer) };
      }
    }
  }

  it("every path shows each viewer what the rules allow, and nothing hidden anywhere", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...audiences),
        fc.constantFrom(...audiences),
        fc.constantFrom(...relations),
        fc.constantFrom(...paths),
        fc.boolean(),
        fc.constantFrom(...protocols),
        async (avatar, bio, relation, path, cached, protocol) => {
          // The owner and a user token can list only the caller's own address book.
          fc.pre(!(path === "ListContacts" && relation === "blocked"));
          await choose(owner, avatar, bio);
          const values = await newSecrets();
          const hidden = expectedHidden(relation, avatar, bio);
          const logsBefore = logLines.length;

          const { profile, raw } = await read(relation, path, cached ? warm : off, protocol);

          expect({ relation, path, cached, profile }).toEqual({
            relation,
            path,
            cached,
            profile: {
              userId: owner.id,
              displayName: "Owner",
              avatarUrl: hidden.includes("avatar_url") ? "" : values.avatarUrl,
              bio: hidden.includes("bio") ? "" : values.bio,
              hiddenFields: hidden,
            },
          });
          const logs = logLines.slice(logsBefore).join("");
          for (const field of hidden) {
            const value = field === "bio" ? values.bio : values.avatarUrl;
            expect(raw).not.toContain(value);
            expect(logs).not.toContain(value);
          }
        },
      ),
      { numRuns: 120 },
    );
  }, 240_000);

  it("a Connect GET answers 304 across changes of hidden fields, and a new ETag with visible ones", async () => {
    for (const relation of relations) {
      for (const [avatar, bio] of [
        [Audience.EVERYONE, Audience.NOBODY],
        [Audience.CONTACTS, Audience.CONTACTS],
        [Audience.EVERYONE, Audience.EVERYONE],
      ] as const) {
        await choose(owner, avatar, bio);
        const { token, viewerUserId } = caller(relation);
        const hidden = expectedHidden(relation, avatar, bio);
        for (const server of [warm, off]) {
          await newSecrets();
          const first = await connectGet(server, owner.id, token, viewerUserId);
          // Only the bio changes: the answer may change only if this viewer sees the bio.
          secret += 1;
          const bioSecret = `secret bio ${secret} ${crypto.randomUUID()}`;
          await profiles(warm, owner.token).updateProfile({ userId: owner.id, bio: bioSecret });
          const again = await connectGet(server, owner.id, token, viewerUserId, first.etag);
          expect({ relation, avatar, bio, status: again.status }).toEqual({
            relation,
            avatar,
            bio,
            status: hidden.includes("bio") ? 304 : 200,
          });
          if (again.status === 200) expect(again.etag).not.toBe(first.etag);
          else expect(again.raw).not.toContain(bioSecret);
        }
      }
    }
  });

  it("two viewers reading one right after the other each get their own view", async () => {
    await choose(owner, Audience.CONTACTS, Audience.CONTACTS);
    const values = await newSecrets();
    const contactClient = profiles(warm, contact.token);
    const blockedClient = profiles(warm, blocked.token);
    for (let round = 0; round < 50; round++) {
      const [forContact, forBlocked] = await Promise.all([
        contactClient.getProfile({ userId: owner.id }),
        blockedClient.getProfile({ userId: owner.id }),
      ]);
      const [batchForBlocked, batchForContact] = [
        await blockedClient.batchGetProfiles({ userIds: [owner.id] }),
        await contactClient.batchGetProfiles({ userIds: [owner.id] }),
      ];
      expect(seen(forContact)).toMatchObject({ bio: values.bio, hiddenFields: [] });
      expect(seen(forBlocked)).toMatchObject({ bio: "", hiddenFields: ["avatar_url", "bio"] });
      expect(batchForContact.profiles[0]?.bio).toBe(values.bio);
      expect(batchForBlocked.profiles[0]?.bio).toBe("");
      expect(text(batchForBlocked)).not.toContain(values.avatarUrl);
    }
    const [getContact, getBlocked] = [
      await connectGet(warm, owner.id, contact.token, ""),
      await connectGet(warm, owner.id, blocked.token, ""),
    ];
    expect(getContact.body.bio).toBe(values.bio);
    expect(getBlocked.body.bio ?? "").toBe("");
    expect(getBlocked.etag).not.toBe(getContact.etag);
    // The blocked viewer's tag, sent back, never gets the contact's answer as "not modified".
    expect((await connectGet(warm, owner.id, contact.token, "", getBlocked.etag)).status).toBe(200);
  });

  it("a block is indistinguishable from an owner who chose nobody", async () => {
    await choose(owner, Audience.EVERYONE, Audience.EVERYONE);
    const asBlocked = await profiles(warm, blocked.token).getProfile({ userId: owner.id });
    await choose(owner, Audience.NOBODY, Audience.NOBODY);
    const asStranger = await profiles(warm, stranger.token).getProfile({ userId: owner.id });
    expect(asBlocked).toEqual(asStranger);
    expect(asBlocked.updatedAt).toBeUndefined();
  });

  it("refuses a user token naming another viewer, with no hidden value in the error", async () => {
    await choose(owner, Audience.NOBODY, Audience.NOBODY);
    const values = await newSecrets();
    for (const call of [
      () => profiles(warm, stranger.token).getProfile({ userId: owner.id, viewerUserId: owner.id }),
      () =>
        profiles(warm, stranger.token).batchGetProfiles({
          userIds: [owner.id],
          viewerUserId: owner.id,
        }),
      () =>
        graphClient(warm.baseUrl, stranger.token).listContacts({
          userId: stranger.id,
          viewerUserId: owner.id,
        }),
    ]) {
      const error = await errorOf(call());
      expect(error.code).toBe(Code.PermissionDenied);
      expect(text(error)).not.toContain(values.bio);
    }
    const watch = profiles(warm, stranger.token).watchProfiles({
      userIds: [owner.id],
      viewerUserId: owner.id,
    });
    await expect(
      (async () => {
        for await (const _ of watch) return "message";
        return "end";
      })(),
    ).rejects.toMatchObject({ code: Code.PermissionDenied });
    const malformed = await errorOf(
      profiles(warm, adminToken).getProfile({ userId: owner.id, viewerUserId: "nope" }),
    );
    expect(malformed.code).toBe(Code.InvalidArgument);
  });
});

/** Anything as text, to look for a value in it (int64s included). */
function text(value: unknown): string {
  return JSON.stringify(value, (_, field) => (typeof field === "bigint" ? String(field) : field));
}

/** A Connect GET of GetProfile as a browser sends it, with `If-None-Match` when given. */
async function connectGet(
  server: TestServer,
  userId: string,
  token: string,
  viewerUserId: string,
  ifNoneMatch?: string,
) {
  const message = encodeURIComponent(JSON.stringify({ userId, viewerUserId }));
  const response = await fetch(
    `${server.baseUrl}/realchat.profile.v1.ProfileApi/GetProfile?encoding=json&message=${message}`,
    {
      headers: {
        authorization: `Bearer ${token}`,
        ...(ifNoneMatch === undefined ? {} : { "if-none-match": ifNoneMatch }),
      },
    },
  );
  const raw = await response.text();
  const etag = response.headers.get("etag") ?? "";
  // proto3 JSON leaves out fields at their defaults.
  const body = (raw === "" ? {} : JSON.parse(raw)) as Partial<
    Pick<Profile, "userId" | "displayName" | "avatarUrl" | "bio" | "hiddenFields">
  >;
  return {
    status: response.status,
    etag,
    raw: `${raw} ${etag}`,
    body: { userId: "", displayName: "", avatarUrl: "", bio: "", hiddenFields: [], ...body },
  };
}

describe("watchers, as blocks and audiences change", () => {
  /** Watches `owner` as `viewer` on `server`; the owner writes on the warm instance. */
  async function watching(server: TestServer) {
    const owner = await newUser("Watched");
    const viewer = await newUser("Watcher");
    const watch = watchOf(profiles(server, viewer.token), [owner.id]);
    await watch.first();
    return { owner, viewer, watch };
  }
  const ownerClient = (owner: User) => profiles(warm, owner.token);
  const bios = (watch: ReturnType<typeof watchOf>) =>
    watch.received.map(({ message }) =>
      typeof message.profile === "string" ? "" : message.profile.bio,
    );

  for (const [where, server] of [
    ["the instance that blocks", () => warm],
    ["another instance", () => off],
  ] as const) {
    it(`on ${where}: a block during a stream of changes shows within 1 s, and no later change is sent`, async () => {
      const { owner, viewer, watch } = await watching(server());
      let writing = true;
      let written = 0;
      const writer = (async () => {
        while (writing) {
          written += 1;
          await ownerClient(owner).updateProfile({ userId: owner.id, bio: `before ${written}` });
        }
      })();
      await until(() => watch.received.length > 3, 5000);
      await graphClient(warm.baseUrl, owner.token).blockUser({
        userId: owner.id,
        otherUserId: viewer.id,
      });
      const committed = performance.now();
      writing = false;
      await writer;
      for (let i = 1; i <= 20; i++) {
        await ownerClient(owner).updateProfile({ userId: owner.id, bio: `after ${i}` });
        await ownerClient(owner).updateProfile({
          userId: owner.id,
          avatarUrl: `https://cdn.example/after-${i}.png`,
        });
      }
      await until(
        () =>
          watch.received.some(
            ({ message }) =>
              typeof message.profile !== "string" && message.profile.hiddenFields.length === 2,
          ),
        1000,
      );
      const blockedView = watch.received.find(
        ({ message }) =>
          typeof message.profile !== "string" && message.profile.hiddenFields.length === 2,
      );
      expect((blockedView?.at ?? Number.POSITIVE_INFINITY) - committed).toBeLessThan(1000);
      // Time for anything else to arrive.
      await new Promise((resolve) => setTimeout(resolve, 500));
      await watch.close();
      expect(bios(watch).filter((bio) => bio.startsWith("after"))).toEqual([]);
      expect(text(watch.received)).not.toContain("after-");
      // After the blocked view, nothing more: changes of hidden fields send no message at all.
      const index = watch.received.indexOf(blockedView as (typeof watch.received)[number]);
      expect(watch.received.slice(index + 1)).toEqual([]);
      const versions = watch.received.map(({ message }) => message.version);
      expect(versions).toEqual([...versions].sort((a, b) => a - b));
    });
  }

  it("sends the new view at once on unblock, on contact added or removed, and on an audience change", async () => {
    const { owner, viewer, watch } = await watching(warm);
    const graph = graphClient(warm.baseUrl, owner.token);
    await ownerClient(owner).updateProfile({ userId: owner.id, bio: "for contacts" });
    await until(() => bios(watch).includes("for contacts"), 2000);
    const shows = async (hidden: string[]) =>
      until(() => {
        const last = watch.received.at(-1)?.message.profile;
        return typeof last !== "string" && text(last?.hiddenFields) === text(hidden);
      }, 1000);

    await choose(owner, Audience.EVERYONE, Audience.CONTACTS);
    await shows(["bio"]);
    await graph.addContact({ userId: owner.id, otherUserId: viewer.id });
    await shows([]);
    await graph.removeContact({ userId: owner.id, otherUserId: viewer.id });
    await shows(["bio"]);
    await graph.blockUser({ userId: owner.id, otherUserId: viewer.id });
    await shows(["avatar_url", "bio"]);
    const count = watch.received.length;
    await ownerClient(owner).updateProfile({ userId: owner.id, bio: "still hidden" });
    await choose(owner, Audience.NOBODY, Audience.NOBODY);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(watch.received.length).toBe(count);
    await graph.unblockUser({ userId: owner.id, otherUserId: viewer.id });
    await choose(owner, Audience.EVERYONE, Audience.EVERYONE);
    await shows([]);
    expect(bios(watch).at(-1)).toBe("still hidden");
    await watch.close();
  });
});

describe("privacy settings", () => {
  it("are the owner's or an admin's to read and change, with etags, and publish their event", async () => {
    const owner = await newUser("Settings");
    const stranger = await newUser("Nosy");
    const mine = profiles(warm, owner.token);
    expect(await mine.getPrivacySettings({ userId: owner.id.toUpperCase() })).toMatchObject({
      userId: owner.id,
      avatarAudience: Audience.EVERYONE,
      bioAudience: Audience.EVERYONE,
      etag: "v1",
    });
    // Nothing to change: nothing written, the etag stays.
    expect(
      await mine.updatePrivacySettings({ userId: owner.id, bioAudience: Audience.EVERYONE }),
    ).toMatchObject({ etag: "v1" });
    const changed = await mine.updatePrivacySettings({
      userId: owner.id,
      bioAudience: Audience.CONTACTS,
      etag: "v1",
    });
    expect(changed).toMatchObject({
      avatarAudience: Audience.EVERYONE,
      bioAudience: Audience.CONTACTS,
      etag: "v2",
    });
    expect(
      (
        await errorOf(
          mine.updatePrivacySettings({
            userId: owner.id,
            avatarAudience: Audience.NOBODY,
            etag: "v1",
          }),
        )
      ).code,
    ).toBe(Code.Aborted);
    expect(
      await profiles(off, adminToken).updatePrivacySettings({
        userId: owner.id,
        avatarAudience: Audience.NOBODY,
        etag: "v2",
      }),
    ).toMatchObject({ etag: "v3" });
    expect(await profiles(off, owner.token).getPrivacySettings({ userId: owner.id })).toMatchObject(
      { avatarAudience: Audience.NOBODY, bioAudience: Audience.CONTACTS, etag: "v3" },
    );

    const nosy = profiles(warm, stranger.token);
    expect((await errorOf(nosy.getPrivacySettings({ userId: owner.id }))).code).toBe(
      Code.PermissionDenied,
    );
    expect(
      (
        await errorOf(
          nosy.updatePrivacySettings({ userId: owner.id, bioAudience: Audience.EVERYONE }),
        )
      ).code,
    ).toBe(Code.PermissionDenied);
    const invalid = await errorOf(
      mine.updatePrivacySettings({ userId: owner.id, bioAudience: Audience.UNSPECIFIED }),
    );
    expect(invalid.code).toBe(Code.InvalidArgument);
    expect(invalid.rawMessage).toContain("bio_audience");
    const nobody = crypto.randomUUID();
    expect(
      (await errorOf(profiles(warm, adminToken).getPrivacySettings({ userId: nobody }))).code,
    ).toBe(Code.NotFound);
    expect(
      (
        await errorOf(
          profiles(warm, adminToken).updatePrivacySettings({
            userId: nobody,
            bioAudience: Audience.NOBODY,
          }),
        )
      ).code,
    ).toBe(Code.NotFound);

    // discoverable_by is one more audience, with the same etag and event.
    expect(
      await mine.updatePrivacySettings({ userId: owner.id, discoverableBy: Audience.NOBODY }),
    ).toMatchObject({
      avatarAudience: Audience.NOBODY,
      bioAudience: Audience.CONTACTS,
      discoverableBy: Audience.NOBODY,
      etag: "v4",
    });
    expect(await mine.getPrivacySettings({ userId: owner.id })).toMatchObject({
      discoverableBy: Audience.NOBODY,
      etag: "v4",
    });

    const events = await storedEvents(broker.url, `profile.privacy.${owner.id}`);
    expect(
      events.map(({ event }) =>
        "settings" in event
          ? [event.version, event.settings?.etag, event.settings?.discoverableBy]
          : [],
      ),
    ).toEqual([
      [2n, "v2", Audience.EVERYONE],
      [3n, "v3", Audience.EVERYONE],
      [4n, "v4", Audience.NOBODY],
    ]);
  });
});

describe("another instance's caches", () => {
  it("follow settings and graph changes made elsewhere, through their events", async () => {
    const other = await instance(true);
    try {
      await untilServing(other.service.metrics, 1);
      const owner = await newUser("Elsewhere");
      const viewer = await newUser("Reader");
      await profiles(warm, owner.token).updateProfile({
        userId: owner.id,
        bio: "seen or not",
        avatarUrl: "https://cdn.example/elsewhere.png",
      });
      const reader = profiles(other, viewer.token);
      const hiddenOnOther = async () =>
        (await reader.batchGetProfiles({ userIds: [owner.id] })).profiles[0]?.hiddenFields ?? [];
      const becomes = (expected: string[]) =>
        until(async () => text(await hiddenOnOther()) === text(expected), 5000);
      // Read once, so that the other instance holds this viewer's facts and the owner's settings.
      await becomes([]);
      const graph = graphClient(warm.baseUrl, owner.token);

      await graph.blockUser({ userId: owner.id, otherUserId: viewer.id });
      await becomes(["avatar_url", "bio"]);
      await graph.unblockUser({ userId: owner.id, otherUserId: viewer.id });
      await becomes([]);
      await choose(owner, Audience.EVERYONE, Audience.CONTACTS);
      await becomes(["bio"]);
      await graph.addContact({ userId: owner.id, otherUserId: viewer.id });
      await becomes([]);
      await graph.removeContact({ userId: owner.id, otherUserId: viewer.id });
      await becomes(["bio"]);
    } finally {
      await other.close();
    }
  });
});
