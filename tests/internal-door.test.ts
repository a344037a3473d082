// Issue 19: the trusted internal door. RealChat's gateway calls it unchanged (plaintext gRPC,
// `x-user-id` and `x-request-id`, no token, 2 s deadlines), with the permissions and quota the
// user's token would have; every refusal the gateway or an attacker can meet; the door's peers.
import net from "node:net";
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { parseCidr } from "../src/config/cidr.js";
import type { Cidr } from "../src/config/config.js";
import { tokenFor } from "./support/auth.js";
import { errorOf, grpcClient } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import {
  answered,
  createGatewayClient,
  type GatewayClient,
  refusal,
} from "./support/gateway-client.js";
import { metricValue } from "./support/metrics.js";
import { until } from "./support/nats.js";
import { graphClient } from "./support/social-graph.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const origin = "https://chat.example";
let database: TestDatabase;
let server: TestServer;
let gateway: GatewayClient;
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const logger = pino({ level: "info" }, { write: (line) => logLines.push(JSON.parse(line)) });
  server = await startTestServer(
    database.db,
    { corsAllowedOrigins: [origin] },
    { logger, internal: {} },
  );
  gateway = createGatewayClient(`127.0.0.1:${server.internalPort}`);
});

afterAll(async () => {
  gateway?.close();
  await server?.close();
  await database?.drop();
});

/** A user who has a profile, made through the door as the gateway would. */
async function signedUpUser(displayName: string): Promise<string> {
  const userId = crypto.randomUUID();
  await answered(gateway.updateProfile({ user_id: userId, display_name: displayName }, { userId }));
  return userId;
}

/** The log line of the call with this request id. */
function logLineOf(requestId: string): Record<string, unknown> | undefined {
  return logLines.find((line) => line.msg === "rpc" && line.requestId === requestId);
}

describe("the gateway's calls through the internal door", () => {
  it("UpdateProfile for oneself, with only the fields the user changed", async () => {
    const userId = crypto.randomUUID();

    const created = await answered(
      gateway.updateProfile({ user_id: userId, display_name: "Ada" }, { userId }),
    );
    const edited = await answered(
      gateway.updateProfile({ user_id: userId, bio: "hello" }, { userId }),
    );

    expect(created).toMatchObject({ user_id: userId, display_name: "Ada", bio: "" });
    expect(edited).toMatchObject({ user_id: userId, display_name: "Ada", bio: "hello" });
    expect(edited.etag).not.toBe(created.etag);
  });

  it("GetProfile for oneself", async () => {
    const userId = await signedUpUser("Grace");

    const profile = await answered(gateway.getProfile(userId, { userId }));

    expect(profile).toMatchObject({ user_id: userId, display_name: "Grace" });
  });

  it("BatchGetProfiles of a conversation's other participants, with the one who has none missing", async () => {
    const me = await signedUpUser("Me");
    const alan = await signedUpUser("Alan");
    const barbara = await signedUpUser("Barbara");
    const unknown = crypto.randomUUID();

    const batch = await answered(
      gateway.batchGetProfiles([alan, unknown, barbara], { userId: me }),
    );

    expect(batch.profiles.map((profile) => profile.display_name)).toEqual(["Alan", "Barbara"]);
    expect(batch.missing_user_ids).toEqual([unknown]);
  });

  it("reads as the x-user-id: a participant who blocked the user shows only their name", async () => {
    const me = await signedUpUser("Me");
    const barbara = await signedUpUser("Barbara");
    await answered(
      gateway.updateProfile({ user_id: barbara, bio: "not for me" }, { userId: barbara }),
    );
    await graphClient(server.baseUrl, await tokenFor(barbara)).blockUser({
      userId: barbara,
      otherUserId: me,
    });

    const seen = await answered(gateway.batchGetProfiles([barbara], { userId: me }));
    const own = await answered(gateway.batchGetProfiles([barbara], { userId: barbara }));

    expect(seen.profiles[0]).toMatchObject({ display_name: "Barbara", bio: "" });
    expect(seen.profiles[0]?.hidden_fields).toEqual(expect.arrayContaining(["bio"]));
    expect(own.profiles[0]).toMatchObject({ bio: "not for me", hidden_fields: [] });
  });

  it("takes an upper-case x-user-id as the same user", async () => {
    const userId = await signedUpUser("Upper");

    const profile = await answered(
      gateway.updateProfile({ user_id: userId, bio: "case" }, { userId: userId.toUpperCase() }),
    );

    expect(profile.bio).toBe("case");
  });

  it("keeps the gateway's x-request-id: answered back, and on the call's log line with the user", async () => {
    const userId = await signedUpUser("Traced");
    const requestId = `gw-${crypto.randomUUID()}`;

    const outcome = await gateway.getProfile(userId, { userId, requestId });

    expect(outcome.ok).toBe(true);
    expect(outcome.header.get("x-request-id")).toEqual([requestId]);
    await until(() => logLineOf(requestId) !== undefined);
    expect(logLineOf(requestId)).toMatchObject({
      procedure: "realchat.profile.v1.ProfileApi/GetProfile",
      protocol: "grpc",
      caller: userId,
      code: "ok",
      door: "internal",
    });
  });

  it("logs the trace id of the gateway's W3C traceparent on the call's line", async () => {
    const userId = await signedUpUser("Trace");
    const requestId = `gw-${crypto.randomUUID()}`;
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    await answered(
      gateway.getProfile(userId, {
        userId,
        requestId,
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      }),
    );

    await until(() => logLineOf(requestId) !== undefined);
    expect(logLineOf(requestId)?.traceId).toBe(traceId);
  });

  it("serves Connect too, with x-user-id as an HTTP header", async () => {
    const userId = await signedUpUser("Connected");
    const client = createClient(
      ProfileApi,
      createConnectTransport({ baseUrl: server.internalBaseUrl ?? "", httpVersion: "1.1" }),
    );

    const profile = await client.getProfile({ userId }, { headers: { "x-user-id": userId } });

    expect(profile.displayName).toBe("Connected");
  });
});

describe("what the internal door refuses", () => {
  it("another user's profile: PERMISSION_DENIED, and nothing changes", async () => {
    const victim = await signedUpUser("Victim");
    const attacker = await signedUpUser("Attacker");

    const refused = await refusal(
      gateway.updateProfile({ user_id: victim, display_name: "Pwned" }, { userId: attacker }),
    );

    expect(refused).toBe("PERMISSION_DENIED: a profile may be changed only by its own user");
    expect((await answered(gateway.getProfile(victim, { userId: victim }))).display_name).toBe(
      "Victim",
    );
  });

  it("a call without x-user-id (and without a token): UNAUTHENTICATED, as RealChat's services answer", async () => {
    const userId = await signedUpUser("Headless");
    const expected = "UNAUTHENTICATED: x-user-id header is missing";

    expect(await refusal(gateway.getProfile(userId, { userId: null }))).toBe(expected);
    expect(await refusal(gateway.batchGetProfiles([userId], { userId: null }))).toBe(expected);
    expect(
      await refusal(gateway.updateProfile({ user_id: userId, bio: "x" }, { userId: null })),
    ).toBe(expected);
    expect(await refusal(gateway.getProfile(userId, { userId: "" }))).toBe(expected);
  });

  it.each([
    ["not a UUID", "alice"],
    ["two ids", `${crypto.randomUUID()}, ${crypto.randomUUID()}`],
    ["a UUID short of a digit", crypto.randomUUID().slice(1)],
    ["a UUID in braces", `{${crypto.randomUUID()}}`],
  ])("an x-user-id that is %s: UNAUTHENTICATED", async (_, value) => {
    expect(await refusal(gateway.getProfile(crypto.randomUUID(), { userId: value }))).toBe(
      "UNAUTHENTICATED: x-user-id header is not a user id (a UUID)",
    );
  });

  it("a bearer token wins over x-user-id: the token's user is the caller", async () => {
    const tokenUser = await signedUpUser("Token");
    const headerUser = await signedUpUser("Header");
    const bearer = await tokenFor(tokenUser);

    const asTokenUser = await gateway.updateProfile(
      { user_id: tokenUser, bio: "mine" },
      { userId: headerUser, bearer },
    );
    const asHeaderUser = await refusal(
      gateway.updateProfile(
        { user_id: headerUser, bio: "not mine" },
        { userId: headerUser, bearer },
      ),
    );
    const badToken = await refusal(
      gateway.getProfile(headerUser, { userId: headerUser, bearer: "not.a.token" }),
    );

    expect(asTokenUser.ok).toBe(true);
    expect(asHeaderUser).toMatch(/^PERMISSION_DENIED: /);
    expect(badToken).toBe("UNAUTHENTICATED: invalid bearer token");
  });

  it("no CORS grant: a browser page cannot send x-user-id to it", async () => {
    const preflight = (baseUrl: string) =>
      fetch(`${baseUrl}/realchat.profile.v1.ProfileApi/GetProfile`, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type,x-user-id",
        },
      });

    const publicPort = await preflight(server.baseUrl);
    const internalPort = await preflight(server.internalBaseUrl ?? "");

    expect(publicPort.headers.get("access-control-allow-origin")).toBe(origin);
    expect(internalPort.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("x-user-id on the public port", () => {
  it("is ignored: without a token every call is UNAUTHENTICATED, so spoofing fails", async () => {
    const victim = await signedUpUser("Spoofed");
    const spoofer = createGatewayClient(`127.0.0.1:${server.port}`);
    try {
      const expected = "UNAUTHENTICATED: missing bearer token";
      expect(
        await refusal(
          spoofer.updateProfile({ user_id: victim, display_name: "Spoofer" }, { userId: victim }),
        ),
      ).toBe(expected);
      expect(await refusal(spoofer.getProfile(victim, { userId: victim }))).toBe(expected);
      expect(await refusal(spoofer.batchGetProfiles([victim], { userId: victim }))).toBe(expected);
    } finally {
      spoofer.close();
    }
    const stored = await grpcClient(server.baseUrl).getProfile({ userId: victim });
    expect(stored.displayName).toBe("Spoofed");
  });

  it("logs its calls without the internal door's mark", async () => {
    const requestId = `public-${crypto.randomUUID()}`;
    const userId = crypto.randomUUID();

    await errorOf(
      grpcClient(server.baseUrl).getProfile(
        { userId },
        { headers: { "x-request-id": requestId, "x-user-id": userId } },
      ),
    );

    await until(() => logLineOf(requestId) !== undefined);
    expect(logLineOf(requestId)).toMatchObject({ caller: "test-suite", code: "NotFound" });
    expect(logLineOf(requestId)).not.toHaveProperty("door");
  });

  it("does not change who a token's caller is", async () => {
    const tokenUser = await signedUpUser("Public");
    const headerUser = await signedUpUser("Other");

    const refused = await errorOf(
      grpcClient(server.baseUrl, await tokenFor(tokenUser)).updateProfile(
        { userId: headerUser, bio: "spoof" },
        { headers: { "x-user-id": headerUser } },
      ),
    );

    expect(refused.rawMessage).toBe("a profile may be changed only by its own user");
  });
});

describe("one user, one quota, whichever door", () => {
  let quotaServer: TestServer;
  beforeAll(async () => {
    quotaServer = await startTestServer(
      database.db,
      {
        quotas: {
          user: { perSecond: 1, burst: 10 },
          service: { perSecond: 0, burst: 1 },
          updateCost: 5,
          searchCost: 40,
          handleLookupCost: 8,
        },
      },
      { internal: {} },
    );
  });
  afterAll(() => quotaServer?.close());

  it("what a user spends through the door is gone on the public port, and back", async () => {
    const userId = crypto.randomUUID();
    const door = createGatewayClient(`127.0.0.1:${quotaServer.internalPort}`);
    const publicClient = grpcClient(quotaServer.baseUrl, await tokenFor(userId));
    try {
      const ids = Array.from({ length: 9 }, () => crypto.randomUUID());
      await answered(door.batchGetProfiles(ids, { userId }));

      const publicSpent = await publicClient.batchGetProfiles({ userIds: [userId] });
      const publicRefused = await errorOf(publicClient.batchGetProfiles({ userIds: [userId] }));
      const doorRefused = await refusal(door.getProfile(userId, { userId }));

      expect(publicSpent.missingUserIds).toEqual([userId]);
      expect(publicRefused.rawMessage).toMatch(/^rate limit exceeded/);
      expect(doorRefused).toMatch(/^RESOURCE_EXHAUSTED: rate limit exceeded/);
    } finally {
      door.close();
    }
  });
});

describe("peers outside INTERNAL_TRUSTED_CIDRS", () => {
  let fenced: TestServer;
  const fencedLog: Array<Record<string, unknown>> = [];
  beforeAll(async () => {
    const logger = pino({ level: "info" }, { write: (line) => fencedLog.push(JSON.parse(line)) });
    const onlyTenSlashEight = [parseCidr("10.0.0.0/8")].filter(
      (cidr): cidr is Cidr => cidr !== undefined,
    );
    fenced = await startTestServer(
      database.db,
      {},
      { logger, internal: { trustedCidrs: onlyTenSlashEight } },
    );
  });
  afterAll(() => fenced?.close());

  it("are closed at once, before a byte is read; logged and counted", async () => {
    const socket = net.connect(fenced.internalPort ?? 0, "127.0.0.1");
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("close", resolve));

    expect(Buffer.concat(received).length).toBe(0);
    expect(await metricValue(fenced.service.metrics, "profile_internal_peers_refused_total")).toBe(
      1,
    );
    expect(
      fencedLog.find((line) => String(line.msg).includes("INTERNAL_TRUSTED_CIDRS")),
    ).toMatchObject({ level: 40, peer: "127.0.0.1" });
  });

  it("make the gateway's call UNAVAILABLE, while the public port still serves 127.0.0.1", async () => {
    const userId = crypto.randomUUID();
    const outsider = createGatewayClient(`127.0.0.1:${fenced.internalPort}`);
    try {
      expect(await refusal(outsider.getProfile(userId, { userId }))).toMatch(/^UNAVAILABLE: /);
    } finally {
      outsider.close();
    }
    const publicPort = await errorOf(grpcClient(fenced.baseUrl).getProfile({ userId }));
    expect(publicPort.rawMessage).toBe(`no profile for user ${userId}`);
  });
});
