import { PROFILE_ADMIN_SCOPE } from "../../src/auth/caller.js";
import { signHs256Token } from "../../src/auth/token-signer.js";
import { createTokenVerifier, type TokenVerifierOptions } from "../../src/auth/token-verifier.js";

/** The verification settings every test server uses unless a test says otherwise. */
export const testAuth: TokenVerifierOptions = {
  secret: "test-secret-that-is-at-least-32-characters-long",
  jwksAlgorithms: ["RS256", "ES256"],
  jwksTimeoutMs: 1000,
  issuer: "realchat-auth",
  audience: "realchat-clients",
  clockToleranceSeconds: 30,
};

export const testTokenVerifier = createTokenVerifier(testAuth);

/** A valid HS256 token for `subject`, as RealChat's Auth would issue it. */
export function tokenFor(
  subject: string,
  options: { scopes?: string[]; expiresIn?: string } = {},
): Promise<string> {
  return signHs256Token({
    secret: testAuth.secret ?? "",
    subject,
    scopes: options.scopes ?? [],
    issuer: testAuth.issuer,
    audience: testAuth.audience,
    expiresIn: options.expiresIn ?? "1h",
  });
}

/**
 * A service token that may change any profile: what tests use unless they test who may do what.
 */
export const adminToken = await tokenFor("test-suite", { scopes: [PROFILE_ADMIN_SCOPE] });
