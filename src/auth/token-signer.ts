import { SignJWT } from "jose";

export interface TokenRequest {
  readonly secret: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly issuer: string;
  readonly audience: string;
  /** A jose time span such as "1h", "30m" or "2 days". */
  readonly expiresIn: string;
}

/**
 * Signs an HS256 token of the shape RealChat's Auth issues (`sub`, `iss`, `aud`, `iat`, `exp`, and
 * `scope` when there are scopes). For development and tests: production tokens come from Auth.
 *
 * @throws TypeError when `expiresIn` is not a time span.
 */
export async function signHs256Token(request: TokenRequest): Promise<string> {
  const claims = request.scopes.length === 0 ? {} : { scope: request.scopes.join(" ") };
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(request.subject)
    .setIssuer(request.issuer)
    .setAudience(request.audience)
    .setIssuedAt()
    .setExpirationTime(request.expiresIn)
    .sign(new TextEncoder().encode(request.secret));
}
