// BatchGetProfiles answered from the read cache (assembled from stored encodings on the binary
// protocols) is byte for byte the answer of an instance without the cache, on every protocol,
// with the same order, duplicates and missing_user_ids.
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  BatchGetProfilesRequestSchema,
  BatchGetProfilesResponseSchema,
} from "../gen/realchat/profile/v1/profile_api_pb.js";
import { adminToken } from "./support/auth.js";
import { answerOf, grpcEnvelope, grpcRequestHeaders } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { testNatsUrl } from "./support/environment.js";
import { startInstance, type TestInstance } from "./support/instance.js";
import { until } from "./support/nats.js";
import { cacheMetric, insertUnannounced, untilServing, urlOf } from "./support/profile-cache.js";

const path = "/realchat.profile.v1.ProfileApi/BatchGetProfiles";

let database: TestDatabase;
/** The cache on, warm. */
let warm: TestInstance;
/** The cache off: every answer built from database rows, as before the cache. */
let cold: TestInstance;
/** Profiles the test made, by how they reached the warm cache. */
const ids = { ownWrites: [] as string[], events: [] as string[], reads: [] as string[] };
const missing = [crypto.randomUUID(), crypto.randomUUID()];

beforeAll(async () => {
  database = await createTestDatabase();
  warm = await startInstance(database, { natsUrl: testNatsUrl });
  cold = await startInstance(
    database,
    { natsUrl: testNatsUrl },
    { profileCache: { enabled: false } },
  );
  await untilServing(warm.server.service.metrics, 1);

  const heard = new Set<string>();
  warm.server.service.profileFeed.subscribe({
    changed: (profile) => heard.add(`${profile.userId}@${profile.version}`),
    removed: () => {},
    lost: () => {},
    resumed: () => {},
  });
  // Written on the warm instance: cached from its own writes, then changed again.
  for (const [displayName, bio] of [
    ["Ada Lovelace", "Analytical engines ✨"],
    ["Zoë", ""],
    ["李小龍", "武術 — and philosophy"],
  ] as const) {
    const userId = crypto.randomUUID();
    await warm.client.updateProfile({ userId, displayName, bio });
    ids.ownWrites.push(userId);
  }
  await warm.client.updateProfile({
    userId: ids.ownWrites[0] ?? "",
    avatarUrl: "https://example.test/ada.png",
  });
  // Written on the other instance: cached from their events.
  for (const displayName of ["Grace", "Barbara"]) {
    const written = await cold.client.updateProfile({
      userId: crypto.randomUUID(),
      displayName,
      bio: `${displayName} writes elsewhere`,
    });
    ids.events.push(written.userId);
    await until(() => heard.has(`${written.userId}@1`));
  }
  // Known only to the database: cached by reading them.
  ids.reads.push(crypto.randomUUID(), crypto.randomUUID());
  await insertUnannounced(urlOf(database.config), ids.reads, "inserted by SQL");
  await warm.client.batchGetProfiles({ userIds: [...ids.ownWrites, ...ids.events, ...ids.reads] });
});

afterAll(async () => {
  await warm?.stop();
  await cold?.stop();
  await database?.drop();
});

/** The raw body of a BatchGetProfiles answer, as one protocol carries it. */
type RawCall = (baseUrl: string, userIds: readonly string[]) => Promise<Buffer>;

const requestBytes = (userIds: readonly string[]) =>
  toBinary(
    BatchGetProfilesRequestSchema,
    create(BatchGetProfilesRequestSchema, { userIds: [...userIds] }),
  );

const connectHeaders = (contentType: string) => ({
  "content-type": contentType,
  "connect-protocol-version": "1",
  authorization: `Bearer ${adminToken}`,
});

async function fetched(url: string, init: RequestInit): Promise<Buffer> {
  const response = await fetch(url, init);
  const body = Buffer.from(await response.arrayBuffer());
  if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${body}`);
  return body;
}

const protocols: Record<string, RawCall> = {
  async gRPC(baseUrl, userIds) {
    const session = http2.connect(baseUrl);
    try {
      const stream = session.request(grpcRequestHeaders(path));
      const answer = answerOf(stream);
      stream.end(grpcEnvelope(requestBytes(userIds)));
      const { body, trailer } = await answer;
      if (trailer["grpc-status"] !== "0") throw new Error(`gRPC status ${trailer["grpc-status"]}`);
      return body;
    } finally {
      session.close();
    }
  },
  // The body holds the answer and the trailers frame: both must match.
  "gRPC-Web": (baseUrl, userIds) =>
    fetched(`${baseUrl}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/grpc-web+proto",
        authorization: `Bearer ${adminToken}`,
      },
      body: grpcEnvelope(requestBytes(userIds)),
    }),
  "Connect binary": (baseUrl, userIds) =>
    fetched(`${baseUrl}${path}`, {
      method: "POST",
      headers: connectHeaders("application/proto"),
      body: requestBytes(userIds),
    }),
  "Connect JSON": (baseUrl, userIds) =>
    fetched(`${baseUrl}${path}`, {
      method: "POST",
      headers: connectHeaders("application/json"),
      body: JSON.stringify({ userIds }),
    }),
  "Connect GET binary": (baseUrl, userIds) => {
    const message = Buffer.from(requestBytes(userIds)).toString("base64url");
    return fetched(`${baseUrl}${path}?connect=v1&encoding=proto&base64=1&message=${message}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
  },
  "Connect GET JSON": (baseUrl, userIds) => {
    const message = encodeURIComponent(JSON.stringify({ userIds }));
    return fetched(`${baseUrl}${path}?connect=v1&encoding=json&message=${message}`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
  },
};

/** The answer's profiles and missing ids, decoded from a body of either encoding. */
function decoded(protocol: string, body: Buffer) {
  if (protocol.includes("JSON")) {
    const json = JSON.parse(body.toString()) as {
      profiles?: Array<{ userId: string }>;
      missingUserIds?: string[];
    };
    return {
      profileIds: (json.profiles ?? []).map((profile) => profile.userId),
      missingUserIds: json.missingUserIds ?? [],
    };
  }
  const message = protocol.startsWith("gRPC") ? body.subarray(5, 5 + body.readUInt32BE(1)) : body;
  const answer = fromBinary(BatchGetProfilesResponseSchema, message);
  return {
    profileIds: answer.profiles.map((profile) => profile.userId),
    missingUserIds: answer.missingUserIds,
  };
}

/** Requests in ids of any case, with duplicates and missing ids, and what each must answer. */
function requests() {
  const [own1 = "", own2 = "", own3 = ""] = ids.ownWrites;
  const [event1 = "", event2 = ""] = ids.events;
  const [read1 = "", read2 = ""] = ids.reads;
  const [missing1 = "", missing2 = ""] = missing;
  return {
    "every profile, in a mixed order and mixed case": {
      userIds: [read2, own3.toUpperCase(), event1, own1, read1.toUpperCase(), event2, own2],
      profiles: [read2, own3, event1, own1, read1, event2, own2],
      missing: [],
    },
    "duplicates, in several cases": {
      userIds: [own1, event1.toUpperCase(), own1.toUpperCase(), read1, event1, own1],
      profiles: [own1, event1, read1],
      missing: [],
    },
    "only missing ids, one repeated in another case": {
      userIds: [missing2, missing1, missing2.toUpperCase()],
      profiles: [],
      missing: [missing2, missing1],
    },
    "found and missing mixed": {
      userIds: [missing1.toUpperCase(), own2, missing2, event2.toUpperCase(), missing1, own2],
      profiles: [own2, event2],
      missing: [missing1, missing2],
    },
    "no ids": { userIds: [], profiles: [], missing: [] },
  };
}

describe.each(Object.keys(protocols))("BatchGetProfiles over %s", (protocol) => {
  const call = (baseUrl: string, userIds: readonly string[]) => {
    const raw = protocols[protocol];
    if (raw === undefined) throw new Error(`no protocol ${protocol}`);
    return raw(baseUrl, userIds);
  };

  it.each(Object.keys(requests()))("%s: the cached answer is byte-identical", async (name) => {
    const request = requests()[name as keyof ReturnType<typeof requests>];
    const hitsBefore = await cacheMetric(warm.server.service.metrics, "profile_cache_hits_total");

    const fromCache = await call(warm.server.baseUrl, request.userIds);
    const withoutCache = await call(cold.server.baseUrl, request.userIds);

    // Every profile found came from the warm instance's cache.
    const hits = await cacheMetric(warm.server.service.metrics, "profile_cache_hits_total");
    expect(hits - hitsBefore).toBe(request.profiles.length);
    expect(fromCache.toString("hex")).toBe(withoutCache.toString("hex"));
    expect(decoded(protocol, fromCache)).toEqual({
      profileIds: request.profiles,
      missingUserIds: request.missing,
    });
  });
});
