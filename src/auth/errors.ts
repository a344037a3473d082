/**
 * A bearer token that does not verify: malformed, signed with no key or algorithm we accept, for
 * another issuer or audience, or with a claim of the wrong type.
 */
export class InvalidToken extends Error {
  override readonly name = "InvalidToken";
  constructor(options?: ErrorOptions) {
    super("invalid bearer token", options);
  }
}

/** A bearer token that verifies but is past its `exp` (with the clock tolerance). */
export class TokenExpired extends Error {
  override readonly name = "TokenExpired";
  constructor() {
    super("bearer token expired");
  }
}

/** The keys that sign tokens (the JWKS) cannot be fetched now, so no token can be checked. */
export class SigningKeysUnavailable extends Error {
  override readonly name = "SigningKeysUnavailable";
  constructor(options?: ErrorOptions) {
    super("token signing keys cannot be fetched; retry later", options);
  }
}
