import { randomBytes } from "node:crypto";
import { PROFILE_ADMIN_SCOPE } from "../../src/auth/caller.js";
import { signHs256Token } from "../../src/auth/token-signer.js";

/**
 * The HS256 key, issuer and audience every service instance a bench starts verifies tokens with:
 * a random key per bench process, RealChat Auth's issuer and audience (the service's defaults).
 */
export const benchAuth = {
  secret: randomBytes(32).toString("hex"),
  issuer: "realchat-auth",
  audience: "realchat-clients",
} as const;

/** A token for `subject` signed with `benchAuth`, as RealChat's Auth would issue it. */
export function benchToken(
  subject: string,
  options: { scopes?: string[]; expiresIn?: string } = {},
): Promise<string> {
  return signHs256Token({
    secret: benchAuth.secret,
    subject,
    scopes: options.scopes ?? [],
    issuer: benchAuth.issuer,
    audience: benchAuth.audience,
    expiresIn: options.expiresIn ?? "2h",
  });
}

/** A service token that may read and change any profile, as the benches' loads use. */
export function adminToken(subject = "bench"): Promise<string> {
  return benchToken(subject, { scopes: [PROFILE_ADMIN_SCOPE] });
}

/** The request header that carries `token`. */
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
