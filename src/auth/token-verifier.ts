import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import { z } from "zod";
import type { Caller } from "./caller.js";
import { InvalidToken, SigningKeysUnavailable, TokenExpired } from "./errors.js";

export interface TokenVerifierOptions {
  /** Shared secret for HS256 tokens, as RealChat's Auth signs them. */
  readonly secret?: string | undefined;
  /** JSON Web Key Set for asymmetric tokens. */
  readonly jwksUrl?: string | undefined;
  /** Asymmetric algorithms accepted with keys from the JWKS. */
  readonly jwksAlgorithms: readonly string[];
  /** How long one fetch of the JWKS may take. */
  readonly jwksTimeoutMs: number;
  readonly issuer: string;
  readonly audience: string;
  readonly clockToleranceSeconds: number;
}

/** Verifies a bearer token and says who sent it. */
export type TokenVerifier = (token: string) => Promise<Caller>;

/**
 * Builds a verifier that accepts exactly the pinned algorithms: HS256 with the shared secret, and
 * the configured asymmetric algorithms with keys from the JWKS (cached, refetched on an unknown
 * `kid` at most every 30 s). `exp` and `sub` are required, issuer and audience checked, and every
 * registered claim the service reads or jose checks must have its JSON type (see `claimsSchema`).
 *
 * @throws TokenExpired for a token past its `exp`, InvalidToken for any other token that does not
 *   verify, SigningKeysUnavailable when the JWKS cannot be fetched in time.
 */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const secret =
    options.secret === undefined ? undefined : new TextEncoder().encode(options.secret);
  const keySet =
    options.jwksUrl === undefined
      ? undefined
      : createRemoteJWKSet(new URL(options.jwksUrl), {
          timeoutDuration: options.jwksTimeoutMs,
          cooldownDuration: 30_000,
          cacheMaxAge: 10 * 60_000,
        });
  const algorithms = [
    ...(secret === undefined ? [] : ["HS256"]),
    ...(keySet === undefined ? [] : options.jwksAlgorithms),
  ];

  // jose has already refused any `alg` outside `algorithms` when it asks for a key.
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === "HS256" && secret !== undefined) return secret;
    if (keySet === undefined) throw new InvalidToken();
    try {
      return await keySet(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) throw error;
      if (error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new SigningKeysUnavailable({ cause: error });
    }
  };

  const verified = createVerifiedTokenCache();
  return async (token) => {
    const cached = verified.get(token);
    if (cached !== undefined) return cached;
    try {
      const { payload } = await jwtVerify(token, getKey, {
        algorithms,
        issuer: options.issuer,
        audience: options.audience,
        clockTolerance: options.clockToleranceSeconds,
        requiredClaims: ["exp", "sub"],
      });
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new InvalidToken({ cause: claims.error });
      }
      const caller = { subject: claims.data.sub, scopes: scopesOf(claims.data.scope) };
      const expiresAtMs = (claims.data.exp + options.clockToleranceSeconds) * 1000;
      verified.set(token, caller, expiresAtMs);
      return caller;
    } catch (error) {
      if (error instanceof SigningKeysUnavailable) throw error;
      if (error instanceof errors.JWTExpired) throw new TokenExpired();
      throw new InvalidToken({ cause: error });
    }
  };
}

const stringOrStrings = z.union([z.string(), z.array(z.string())]);

/**
 * The claims' JSON types (RFC 7519 section 4.1; `scope` as in RFC 8693 section 4.2, or a list).
 * jose checks the values of `exp`, `nbf`, `iat`, `iss` and `aud` but lets some wrong types through
 * (an `aud` list with a number in it, any `sub`, `scope` or `jti`); a token with a claim of the
 * wrong type is refused as a whole, so no caller of the verifier sees a claim it did not expect.
 * Other claims are not read, and not checked.
 */
const claimsSchema = z.object({
  sub: z.string().min(1),
  scope: stringOrStrings.optional(),
  exp: z.number(),
  nbf: z.number().optional(),
  iat: z.number().optional(),
  iss: z.string(),
  aud: stringOrStrings,
  jti: z.string().optional(),
});

/** OAuth's `scope` claim: a space-separated string (RFC 8693), or a list of strings. */
function scopesOf(scope: string | readonly string[] | undefined): ReadonlySet<string> {
  if (scope === undefined) return new Set();
  if (typeof scope === "string") return new Set(scope.split(" ").filter((s) => s !== ""));
  return new Set(scope);
}

/** Tokens verified before, kept so a caller's repeated token costs no signature check. */
const CACHE_ENTRIES = 10_000;
/**
 * A cached token is checked again after this long, so a key removed from the JWKS stops counting
 * within minutes even for long-lived tokens.
 */
const CACHE_TTL_MS = 5 * 60_000;

/**
 * Verified tokens and who they prove, until the token expires (with the clock tolerance) or the
 * TTL passes, whichever comes first. A token is an immutable signed string: the same string
 * verifies the same way until then. Bounded; the oldest entries go first.
 */
function createVerifiedTokenCache() {
  const entries = new Map<string, { caller: Caller; validUntilMs: number }>();
  return {
    get(token: string): Caller | undefined {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      if (Date.now() < entry.validUntilMs) return entry.caller;
      entries.delete(token);
      return undefined;
    },
    set(token: string, caller: Caller, expiresAtMs: number): void {
      if (entries.size >= CACHE_ENTRIES) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(token, {
        caller,
        validUntilMs: Math.min(expiresAtMs, Date.now() + CACHE_TTL_MS),
      });
    },
  };
}
