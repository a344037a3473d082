import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { Caller } from "../auth/caller.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import { toConnectError } from "./error-interceptor.js";

/** The verified caller of the current call; set by the auth gate before the handler runs. */
export const kCaller = createContextKey<Caller | undefined>(undefined, {
  description: "the authenticated caller",
});

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

/** The caller the gate verified; a handler behind the gate always has one. */
export function callerOf(context: HandlerContext): Caller {
  const caller = context.values.get(kCaller);
  if (caller === undefined) throw new ConnectError("missing bearer token", Code.Unauthenticated);
  return caller;
}
