// The auth gate (src/transport/interceptors/auth-gate.ts) as Connect's request gate, through the in-memory router:
// who may call, and what a refused caller is told.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { callerOf } from "../../src/auth/caller-context.js";
import { SigningKeysUnavailable } from "../../src/auth/errors.js";
import type { TokenVerifier } from "../../src/auth/token-verifier.js";
import { type CallerIdentity, createAuthGate } from "../../src/transport/interceptors/auth-gate.js";
import { testTokenVerifier, tokenFor } from "../support/auth.js";
import type { TestToken } from "../support/clients.js";
import { routerClients } from "./support/router-clients.js";

/** Clients whose GetProfile answers with the caller the gate verified, behind the gate. */
function behindTheGate(
  token: TestToken,
  verifyToken: TokenVerifier = testTokenVerifier,
  identity?: CallerIdentity,
) {
  let handlerRan = false;
  const clients = routerClients({
    profileApi: {
      getProfile(_, context) {
        handlerRan = true;
        const caller = callerOf(context);
        return { userId: caller.subject, bio: [...caller.scopes].join(" ") };
      },
    },
    requestGate: createAuthGate({
      verifyToken,
      publicServices: new Set(["grpc.health.v1.Health"]),
      identity,
    }),
    token,
  });
  return { ...clients, handlerRan: () => handlerRan };
}

/** The code and message a call fails with, or "OK". */
async function outcome(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (error) {
    const connectError = ConnectError.from(error);
    return `${Code[connectError.code]}: ${connectError.rawMessage}`;
  }
}

describe("the auth gate", () => {
  it("lets a valid token through and hands the handler its caller", async () => {
    const userId = crypto.randomUUID();
    const { profiles } = behindTheGate(await tokenFor(userId, { scopes: ["profile:admin"] }));

    const answer = await profiles.getProfile({ userId });

    expect({ subject: answer.userId, scopes: answer.bio }).toEqual({
      subject: userId,
      scopes: "profile:admin",
    });
  });

  it.each([
    ["no Authorization header", null, "Unauthenticated: missing bearer token"],
    [
      "a header that is not a bearer token",
      "Basic dXNlcjpwYXNz",
      "Unauthenticated: malformed authorization header: expected 'Bearer <token>'",
    ],
  ])("refuses a call with %s before its handler runs", async (_, header, expected) => {
    const { profiles, handlerRan } = behindTheGate(null);
    const headers = header === null ? undefined : { authorization: header };

    expect(await outcome(profiles.getProfile({ userId: "any" }, { headers }))).toBe(expected);
    expect(handlerRan()).toBe(false);
  });

  it("refuses a token the verifier rejects with UNAUTHENTICATED, before the handler runs", async () => {
    const { profiles, handlerRan } = behindTheGate(
      await tokenFor(crypto.randomUUID(), { expiresIn: "-2h" }),
    );

    expect(await outcome(profiles.getProfile({ userId: "any" }))).toMatch(/^Unauthenticated: /);
    expect(handlerRan()).toBe(false);
  });

  it("answers UNAVAILABLE when the verifier's key source cannot answer", async () => {
    const unreachable: TokenVerifier = () => Promise.reject(new SigningKeysUnavailable());
    const { profiles } = behindTheGate("some.jwt.token", unreachable);

    expect(await outcome(profiles.getProfile({ userId: "any" }))).toBe(
      "Unavailable: token signing keys cannot be fetched; retry later",
    );
  });

  it("lets a public service answer without a token", async () => {
    const { health } = behindTheGate(null);

    expect(await outcome(health.check({}))).toBe("OK");
  });
});

describe("the internal door's gate (identity bearer-or-user-id-header)", () => {
  const door = (token: TestToken = null) =>
    behindTheGate(token, testTokenVerifier, "bearer-or-user-id-header");
  const asUser = (userId: string) => ({ headers: { "x-user-id": userId } });

  it("takes x-user-id as a user with no scope, in canonical form", async () => {
    const userId = crypto.randomUUID();
    const { profiles } = door();

    const answer = await profiles.getProfile({ userId }, asUser(userId.toUpperCase()));

    expect({ subject: answer.userId, scopes: answer.bio }).toEqual({ subject: userId, scopes: "" });
  });

  it("takes a bearer token over x-user-id: the token's subject and scopes", async () => {
    const tokenUser = crypto.randomUUID();
    const { profiles } = door(await tokenFor(tokenUser, { scopes: ["profile:admin"] }));

    const answer = await profiles.getProfile({ userId: "any" }, asUser(crypto.randomUUID()));

    expect({ subject: answer.userId, scopes: answer.bio }).toEqual({
      subject: tokenUser,
      scopes: "profile:admin",
    });
  });

  it.each([
    ["neither header", undefined, "Unauthenticated: x-user-id header is missing"],
    ["an empty x-user-id", "", "Unauthenticated: x-user-id header is missing"],
    [
      "an x-user-id that is no UUID",
      "bob",
      "Unauthenticated: x-user-id header is not a user id (a UUID)",
    ],
  ])("refuses %s before the handler runs", async (_, value, expected) => {
    const { profiles, handlerRan } = door();
    const options = value === undefined ? undefined : asUser(value);

    expect(await outcome(profiles.getProfile({ userId: "any" }, options))).toBe(expected);
    expect(handlerRan()).toBe(false);
  });

  it("refuses a bad token even with a good x-user-id: the header never rescues a token", async () => {
    const { profiles, handlerRan } = door("not.a.token");

    expect(await outcome(profiles.getProfile({ userId: "any" }, asUser(crypto.randomUUID())))).toBe(
      "Unauthenticated: invalid bearer token",
    );
    expect(handlerRan()).toBe(false);
  });

  it("is not the public port's: there x-user-id alone is a missing bearer token", async () => {
    const { profiles, handlerRan } = behindTheGate(null);

    expect(await outcome(profiles.getProfile({ userId: "any" }, asUser(crypto.randomUUID())))).toBe(
      "Unauthenticated: missing bearer token",
    );
    expect(handlerRan()).toBe(false);
  });
});
