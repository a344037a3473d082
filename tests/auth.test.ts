// docs/auth.md: bearer tokens verified by the auth gate, owner-only updates.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient } from "@connectrpc/connect";
import { exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { createTokenVerifier } from "../src/auth/token-verifier.js";
import { testAuth, tokenFor } from "./support/auth.js";
import { codeOf, grpcClient, type TestToken, transportsFor } from "./support/clients.js";
import { startTestServer, type TestServer, useTestServer } from "./support/test-server.js";

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

const secret = new TextEncoder().encode(testAuth.secret);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token with RealChat's claims, signed HS256 with the test secret unless `sign` says otherwise. */
function claims(subject: string | undefined) {
  const jwt = new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer(testAuth.issuer)
    .setAudience(testAuth.audience)
    .setIssuedAt();
  return subject === undefined ? jwt : jwt.setSubject(subject);
}

/** Serves a JSON Web Key Set on 127.0.0.1; `mode` lets a test make it slow. */
async function startJwksServer(keys: JWK[]) {
  const state = { mode: "normal" as "normal" | "hang" };
  const server: Server = createServer((_, response) => {
    if (state.mode === "hang") return;
    response.setHeader("content-type", "application/json");
    response.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const fixture = useTestServer();

const storedRow = (userId: string) =>
  fixture.database.db
    .selectFrom("profiles")
    .selectAll()
    .where("user_id", "=", userId)
    .executeTakeFirst();

describe("accepted callers", () => {
  it("a user with a valid HS256 token changes their own profile", async () => {
    const userId = crypto.randomUUID();
    const client = grpcClient(fixture.server.baseUrl, await tokenFor(userId));

    const profile = await client.updateProfile({ userId, displayName: "Self" });

    expect(profile.displayName).toBe("Self");
  });

  it("a user token written with an upper-case sub still owns the lower-case profile", async () => {
    const userId = crypto.randomUUID();
    const client = grpcClient(fixture.server.baseUrl, await tokenFor(userId.toUpperCase()));

    expect(await codeOf(client.updateProfile({ userId, displayName: "Case" }))).toBe("OK");
  });

  it("a service token with the profile:admin scope changes another user's profile", async () => {
    const userId = crypto.randomUUID();
    const token = await tokenFor("chat-service", { scopes: ["profile:read", "profile:admin"] });

    const profile = await grpcClient(fixture.server.baseUrl, token).updateProfile({
      userId,
      bio: "set",
    });

    expect(profile.bio).toBe("set");
  });

  it("any valid token may read any profile, one or many", async () => {
    const owner = crypto.randomUUID();
    await grpcClient(fixture.server.baseUrl).updateProfile({ userId: owner, displayName: "Shown" });
    const reader = grpcClient(fixture.server.baseUrl, await tokenFor(crypto.randomUUID()));

    expect((await reader.getProfile({ userId: owner })).displayName).toBe("Shown");
    expect((await reader.batchGetProfiles({ userIds: [owner] })).profiles).toHaveLength(1);
  });

  it("a token that expired within the allowed clock skew is still accepted", async () => {
    const userId = crypto.randomUUID();
    const token = await claims(userId)
      .setExpirationTime(nowSeconds() - 5)
      .sign(secret);

    expect(await codeOf(grpcClient(fixture.server.baseUrl, token).getProfile({ userId }))).toBe(
      "NotFound",
    );
  });
});

describe("refused tokens store nothing", () => {
  const refused: Array<[string, (userId: string) => Promise<TestToken>, string]> = [
    ["no Authorization header", async () => null, "Unauthenticated"],
    ["a token that is not a JWT", async () => "not.a.jwt", "Unauthenticated"],
    [
      "an alg: none token",
      async (userId) =>
        new UnsecuredJWT({})
          .setSubject(userId)
          .setIssuer(testAuth.issuer)
          .setAudience(testAuth.audience)
          .setExpirationTime("1h")
          .encode(),
      "Unauthenticated",
    ],
    [
      "an HS256 token signed with another secret",
      (userId) =>
        claims(userId)
          .setExpirationTime("1h")
          .sign(new TextEncoder().encode("another-secret-that-is-32-characters-long")),
      "Unauthenticated",
    ],
    [
      "an expired token",
      (userId) =>
        claims(userId)
          .setExpirationTime(nowSeconds() - 120)
          .sign(secret),
      "Unauthenticated",
    ],
    [
      "a token not valid yet",
      (userId) => claims(userId).setNotBefore("10m").setExpirationTime("1h").sign(secret),
      "Unauthenticated",
    ],
    [
      "a token without sub",
      () => claims(undefined).setExpirationTime("1h").sign(secret),
      "Unauthenticated",
    ],
    ["a token without exp", (userId) => claims(userId).sign(secret), "Unauthenticated"],
    [
      "a token from another issuer",
      (userId) => claims(userId).setIssuer("someone-else").setExpirationTime("1h").sign(secret),
      "Unauthenticated",
    ],
    [
      "a token for another audience",
      (userId) => claims(userId).setAudience("other-clients").setExpirationTime("1h").sign(secret),
      "Unauthenticated",
    ],
    ["a valid token of another user", () => tokenFor(crypto.randomUUID()), "PermissionDenied"],
    [
      "a service token without the admin scope",
      () => tokenFor("chat-service", { scopes: ["profile:read"] }),
      "PermissionDenied",
    ],
  ];

  it.each(refused)("refuses %s", async (_, makeToken, code) => {
    const userId = crypto.randomUUID();
    const client = grpcClient(fixture.server.baseUrl, await makeToken(userId));

    expect(await codeOf(client.updateProfile({ userId, displayName: "Intruder" }))).toBe(code);
    expect(await storedRow(userId)).toBeUndefined();
  });

  it("does not change an existing profile for another user's token", async () => {
    const victim = crypto.randomUUID();
    await grpcClient(fixture.server.baseUrl).updateProfile({
      userId: victim,
      displayName: "Victim",
    });
    const attacker = grpcClient(fixture.server.baseUrl, await tokenFor(crypto.randomUUID()));

    const code = await codeOf(attacker.updateProfile({ userId: victim, displayName: "Pwned" }));

    expect(code).toBe("PermissionDenied");
    expect((await storedRow(victim))?.display_name).toBe("Victim");
  });

  it.each([["Basic dXNlcjpwYXNz"], ["Bearer"], ["Bearer two tokens"], ["token-without-scheme"]])(
    "refuses the malformed header %j with UNAUTHENTICATED",
    async (header) => {
      const response = await fetch(
        `${fixture.server.baseUrl}/realchat.profile.v1.ProfileApi/GetProfile`,
        {
          method: "POST",
          headers: { "content-type": "application/json", authorization: header },
          body: JSON.stringify({ userId: crypto.randomUUID() }),
        },
      );

      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ code: "unauthenticated" });
    },
  );

  it("says no more than a client needs: which of the token's checks failed stays hidden", async () => {
    const userId = crypto.randomUUID();
    const wrongIssuer = await claims(userId).setIssuer("x").setExpirationTime("1h").sign(secret);

    const error = await grpcClient(fixture.server.baseUrl, wrongIssuer)
      .getProfile({ userId })
      .catch((e: unknown) => e as Error);

    expect((error as Error).message).toBe("[unauthenticated] invalid bearer token");
  });
});

describe.each(Object.keys(transportsFor("http://unused")))("over %s", (name) => {
  const clientWith = (token: TestToken) => {
    const transport = transportsFor(fixture.server.baseUrl, token)[name];
    if (transport === undefined) throw new Error(`no transport ${name}`);
    return createClient(ProfileApi, transport);
  };

  it("refuses a call without a token with UNAUTHENTICATED", async () => {
    const userId = crypto.randomUUID();

    expect(await codeOf(clientWith(null).updateProfile({ userId, bio: "x" }))).toBe(
      "Unauthenticated",
    );
    expect(await storedRow(userId)).toBeUndefined();
  });

  it("refuses another user's token with PERMISSION_DENIED", async () => {
    const userId = crypto.randomUUID();
    const other = clientWith(await tokenFor(crypto.randomUUID()));

    expect(await codeOf(other.updateProfile({ userId, bio: "x" }))).toBe("PermissionDenied");
    expect(await storedRow(userId)).toBeUndefined();
  });

  it("accepts the user's own token", async () => {
    const userId = crypto.randomUUID();

    expect(
      await codeOf(clientWith(await tokenFor(userId)).updateProfile({ userId, bio: "x" })),
    ).toBe("OK");
  });
});

describe("asymmetric tokens from a JWKS", () => {
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;
  let jwksServer: TestServer;

  beforeAll(async () => {
    rsa = await generateKeyPair("RS256", { extractable: true });
    ec = await generateKeyPair("ES256", { extractable: true });
    jwks = await startJwksServer([
      { ...(await exportJWK(rsa.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
      { ...(await exportJWK(ec.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
    ]);
    const verifier = createTokenVerifier({ ...testAuth, jwksUrl: jwks.url });
    jwksServer = await startTestServer(fixture.database.db, {}, {}, verifier);
  });

  afterAll(async () => {
    await jwksServer?.close();
    await jwks?.close();
  });

  const signed = (alg: string, kid: string, key: PrivateKey, userId: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg, kid, typ: "JWT" })
      .setSubject(userId)
      .setIssuer(testAuth.issuer)
      .setAudience(testAuth.audience)
      .setExpirationTime("5m")
      .sign(key);

  it.each([
    ["RS256", "rsa-1"],
    ["ES256", "ec-1"],
  ])("accepts a valid %s token whose key is in the JWKS", async (alg, kid) => {
    const userId = crypto.randomUUID();
    const key = alg === "RS256" ? rsa.privateKey : ec.privateKey;
    const client = grpcClient(jwksServer.baseUrl, await signed(alg, kid, key, userId));

    expect(await codeOf(client.updateProfile({ userId, displayName: alg }))).toBe("OK");
  });

  it("refuses a token signed HS256 with the JWKS public key as the secret (algorithm confusion)", async () => {
    const userId = crypto.randomUUID();
    const publicKeyAsSecret = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: "rsa-1", typ: "JWT" })
      .setSubject(userId)
      .setIssuer(testAuth.issuer)
      .setAudience(testAuth.audience)
      .setExpirationTime("5m")
      .sign(publicKeyAsSecret);
    const jwksOnly = createTokenVerifier({ ...testAuth, secret: undefined, jwksUrl: jwks.url });
    const jwksOnlyServer = await startTestServer(fixture.database.db, {}, {}, jwksOnly);

    const codes = [
      await codeOf(grpcClient(jwksServer.baseUrl, token).updateProfile({ userId, bio: "x" })),
      await codeOf(grpcClient(jwksOnlyServer.baseUrl, token).updateProfile({ userId, bio: "x" })),
    ];

    await jwksOnlyServer.close();
    expect(codes).toEqual(["Unauthenticated", "Unauthenticated"]);
    expect(await storedRow(userId)).toBeUndefined();
  });

  it("refuses a token whose kid is not in the JWKS", async () => {
    const userId = crypto.randomUUID();
    const stranger = await generateKeyPair("ES256");
    const token = await signed("ES256", "unknown-kid", stranger.privateKey, userId);

    expect(await codeOf(grpcClient(jwksServer.baseUrl, token).getProfile({ userId }))).toBe(
      "Unauthenticated",
    );
  });
});

describe("a JWKS endpoint that does not answer", () => {
  const tokenSignedBy = async (key: PrivateKey, userId: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: "ec-1", typ: "JWT" })
      .setSubject(userId)
      .setIssuer(testAuth.issuer)
      .setAudience(testAuth.audience)
      .setExpirationTime("5m")
      .sign(key);

  it("answers UNAVAILABLE when the endpoint is down, without storing anything", async () => {
    const jwks = await startJwksServer([]);
    await jwks.close();
    const verifier = createTokenVerifier({ ...testAuth, jwksUrl: jwks.url });
    const downServer = await startTestServer(fixture.database.db, {}, {}, verifier);
    const { privateKey } = await generateKeyPair("ES256");
    const userId = crypto.randomUUID();

    const code = await codeOf(
      grpcClient(downServer.baseUrl, await tokenSignedBy(privateKey, userId)).updateProfile({
        userId,
        bio: "x",
      }),
    );

    await downServer.close();
    expect(code).toBe("Unavailable");
    expect(await storedRow(userId)).toBeUndefined();
  });

  it("answers UNAVAILABLE after JWT_JWKS_TIMEOUT_MS when the endpoint hangs, not later", async () => {
    const jwks = await startJwksServer([]);
    jwks.state.mode = "hang";
    const verifier = createTokenVerifier({ ...testAuth, jwksUrl: jwks.url, jwksTimeoutMs: 300 });
    // The request deadline is far away: only the JWKS timeout can end this call in time.
    const slowServer = await startTestServer(
      fixture.database.db,
      { requestTimeoutMs: 60_000 },
      {},
      verifier,
    );
    const { privateKey } = await generateKeyPair("ES256");
    const userId = crypto.randomUUID();

    const code = await codeOf(
      grpcClient(slowServer.baseUrl, await tokenSignedBy(privateKey, userId)).getProfile(
        { userId },
        { timeoutMs: 20_000 },
      ),
    );

    await slowServer.close();
    await jwks.close();
    expect(code).toBe("Unavailable");
  });
});
