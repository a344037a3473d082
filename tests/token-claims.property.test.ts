// Tokens whose claims have the wrong JSON type (issue 10, item 8): a signed token with, say, an
// array for `sub` is an invalid token, UNAUTHENTICATED, never an INTERNAL from code that trusted
// the claim's type.
import fc from "fast-check";
import { type JWTPayload, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { PROFILE_ADMIN_SCOPE } from "../src/auth/caller.js";
import { testAuth } from "./support/auth.js";
import { codeOf, grpcClient } from "./support/clients.js";
import { useTestServer } from "./support/test-server.js";

const fixture = useTestServer();
const secret = new TextEncoder().encode(testAuth.secret);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Signs `payload` as it is, wrong types and all, with the test secret. */
function signed(payload: JWTPayload): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(secret);
}

/** Claims that verify, for `sub`. */
function validClaims(sub: string): JWTPayload {
  const now = nowSeconds();
  return { sub, iss: testAuth.issuer, aud: testAuth.audience, iat: now, exp: now + 3600 };
}

/** Calls UpdateProfile on `userId` with `token`: the call that reads `sub` for its permission. */
function updateWith(token: string, userId: string): Promise<string> {
  const client = grpcClient(fixture.server.baseUrl, token);
  return codeOf(client.updateProfile({ userId, displayName: "Claims" }));
}

describe("a token with a claim of the wrong type", () => {
  it("a sub that is an array holding the caller's own user id is UNAUTHENTICATED, not INTERNAL", async () => {
    const userId = crypto.randomUUID();
    const token = await signed({ ...validClaims(userId), sub: [userId] as unknown as string });

    expect(await updateWith(token, userId)).toBe("Unauthenticated");
  });

  it("a scope list with a number in it is UNAUTHENTICATED, not a narrower scope set", async () => {
    const token = await signed({ ...validClaims("chat-service"), scope: [PROFILE_ADMIN_SCOPE, 7] });

    expect(await updateWith(token, crypto.randomUUID())).toBe("Unauthenticated");
  });
});

/** Each claim the verifier reads or jose checks, with a value of the right type that verifies. */
const wellTyped = {
  sub: fc.oneof(fc.uuid(), fc.constantFrom("chat-service", "A")),
  scope: fc.option(
    fc.oneof(
      fc.constantFrom(PROFILE_ADMIN_SCOPE, `profile:read ${PROFILE_ADMIN_SCOPE}`, "profile:read"),
      fc.array(fc.constantFrom(PROFILE_ADMIN_SCOPE, "profile:read")),
    ),
    { nil: undefined },
  ),
  exp: fc.integer({ min: 600, max: 86_400 }).map((ahead) => nowSeconds() + ahead),
  nbf: fc.option(
    fc.integer({ min: 0, max: 600 }).map((ago) => nowSeconds() - ago),
    { nil: undefined },
  ),
  iat: fc.option(
    fc.integer({ min: 0, max: 600 }).map((ago) => nowSeconds() - ago),
    { nil: undefined },
  ),
  iss: fc.constant(testAuth.issuer),
  aud: fc.oneof(fc.constant(testAuth.audience), fc.constant([testAuth.audience, "other-clients"])),
  jti: fc.option(fc.string(), { nil: undefined }),
} as const;

type Claim = keyof typeof wellTyped;
const claimNames = Object.keys(wellTyped) as Claim[];

/** Whether `value` has the JSON type RFC 7519 (and RFC 8693 for `scope`) give `claim`. */
function hasItsType(claim: Claim, value: unknown): boolean {
  const isString = (v: unknown) => typeof v === "string";
  const stringOrStrings = isString(value) || (Array.isArray(value) && value.every(isString));
  switch (claim) {
    case "sub":
      return isString(value) && value !== "";
    case "iss":
      return isString(value);
    case "exp":
      return typeof value === "number";
    case "scope":
    case "aud":
      return value === undefined ? claim === "scope" : stringOrStrings;
    case "jti":
      return value === undefined || isString(value);
    case "nbf":
    case "iat":
      return value === undefined || typeof value === "number";
  }
}

/** For every claim: a well-typed valid value, or any JSON value at all (or none). */
const claimSets = fc.record(
  Object.fromEntries(
    claimNames.map((claim) => [
      claim,
      fc.oneof(
        { arbitrary: wellTyped[claim], weight: 3 },
        { arbitrary: fc.jsonValue({ maxDepth: 2 }), weight: 1 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      ),
    ]),
  ) as Record<Claim, fc.Arbitrary<unknown>>,
);

describe("tokens with random claim types", () => {
  it("are OK or PERMISSION_DENIED when every claim is well-typed and valid, else UNAUTHENTICATED; never INTERNAL", async () => {
    const target = crypto.randomUUID();
    await fc.assert(
      fc.asyncProperty(claimSets, async (claims) => {
        const payload = Object.fromEntries(
          Object.entries(claims).filter(([, value]) => value !== undefined),
        );
        const sub = claims.sub;
        const userId = typeof sub === "string" && /^[0-9a-f-]{36}$/i.test(sub) ? sub : target;
        const code = await updateWith(await signed(payload), userId);

        expect(["OK", "PermissionDenied", "Unauthenticated"]).toContain(code);
        const allWellTyped = claimNames.every((claim) => hasItsType(claim, claims[claim]));
        if (!allWellTyped) expect(code).toBe("Unauthenticated");
        if (claimNames.every((claim) => isFromWellTyped(claim, claims[claim])))
          expect(["OK", "PermissionDenied"]).toContain(code);
      }),
      { numRuns: 200 },
    );
  }, 120_000);
});

/** Whether `value` could have come from `wellTyped[claim]`: the values that must verify. */
function isFromWellTyped(claim: Claim, value: unknown): boolean {
  const now = nowSeconds();
  switch (claim) {
    case "sub":
      return typeof value === "string" && value !== "";
    case "iss":
      return value === testAuth.issuer;
    case "aud":
      return (
        value === testAuth.audience ||
        (Array.isArray(value) &&
          value.every((v) => typeof v === "string") &&
          value.includes(testAuth.audience))
      );
    case "exp":
      return typeof value === "number" && value > now + 60;
    case "nbf":
    case "iat":
      return value === undefined || (typeof value === "number" && value <= now);
    case "scope":
      return hasItsType("scope", value);
    case "jti":
      return hasItsType("jti", value);
  }
}
