// The auth gate (src/transport/interceptors/auth-gate.ts) as Connect's request gate, through the in-memory router:
// who may call, and what a refused caller is told.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { callerOf } from "../../src/auth/caller-context.js";
import { SigningKeysUnavailable } from "../../src/auth/errors.js";
import type { TokenVerifier } from "../../src/auth/token-verifier.js";
import { createAuthGate } from "../../src/transport/interceptors/auth-gate.js";
import { testTokenVerifier, tokenFor } from "../support/auth.js";
import type { TestToken } from "../support/clients.js";
import { routerClients } from "./support/router-clients.js";

/** Clients whose GetProfile answers with the caller the gate verified, behind the gate. */
function behindTheGate(token: TestToken, verifyToken: TokenVerifier = testTokenVerifier) {
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
