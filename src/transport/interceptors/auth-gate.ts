import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { kCaller } from "../../auth/caller-context.js";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import { toConnectError } from "../connect-errors.js";

const bearer = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i;

/**
 * A Connect request gate: runs once the headers are in, before the request body is read, so an
 * unauthenticated call costs no parsing. Every call to a service not in `publicServices` needs a
 * valid `Authorization: Bearer <JWT>`; the verified caller goes into `kCaller`.
 */
export function createAuthGate(options: {
  readonly verifyToken: TokenVerifier;
  /** Services any caller may use without a token (health, reflection). */
  readonly publicServices?: ReadonlySet<string>;
}): (context: HandlerContext) => Promise<void> {
  const { verifyToken, publicServices = new Set() } = options;
  const authenticate = async (context: HandlerContext) => {
    const header = context.requestHeader.get("authorization");
    if (header === null) throw new ConnectError("missing bearer token", Code.Unauthenticated);
    const token = bearer.exec(header)?.[1];
    if (token === undefined) {
      throw new ConnectError(
        "malformed authorization header: expected 'Bearer <token>'",
        Code.Unauthenticated,
      );
    }
    context.values.set(kCaller, await verifyToken(token));
  };
  return async (context) => {
    if (publicServices.has(context.service.typeName)) return;
    try {
      await authenticate(context);
    } catch (error) {
      throw toConnectError(error);
    }
  };
}
