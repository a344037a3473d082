import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import type { Caller } from "../../auth/caller.js";
import { kCaller } from "../../auth/caller-context.js";
import type { TokenVerifier } from "../../auth/token-verifier.js";
import { parseUserId } from "../../profile/user-id.js";
import { toConnectError } from "../connect-errors.js";

const bearer = /^Bearer +([A-Za-z0-9\-_.~+/]+=*) *$/i;

/** The metadata RealChat's gateway names the signed-in user with, on the internal door. */
export const USER_ID_HEADER = "x-user-id";

/** Who a door takes a call's caller from. */
export type CallerIdentity =
  /** The public port: a verified bearer token, nothing else. */
  | "bearer"
  /**
   * The trusted internal door: a bearer token when there is one, else the `x-user-id` header,
   * which the door's peers (RealChat's gateway) are trusted to have verified.
   */
  | "bearer-or-user-id-header";

/**
 * A Connect request gate: runs once the headers are in, before the request body is read, so an
 * unauthenticated call costs no parsing. Every call to a service not in `publicServices` needs a
 * caller: a valid `Authorization: Bearer <JWT>`, or on a door that trusts it, `x-user-id` with a
 * user id. The caller goes into `kCaller`.
 */
export function createAuthGate(options: {
  readonly verifyToken: TokenVerifier;
  /** Services any caller may use without a token (health, reflection). */
  readonly publicServices?: ReadonlySet<string>;
  /** "bearer" unless given. */
  readonly identity?: CallerIdentity;
}): (context: HandlerContext) => Promise<void> {
  const { verifyToken, publicServices = new Set(), identity = "bearer" } = options;
  const fromBearer = async (header: string) => {
    const token = bearer.exec(header)?.[1];
    if (token === undefined) {
      throw new ConnectError(
        "malformed authorization header: expected 'Bearer <token>'",
        Code.Unauthenticated,
      );
    }
    return verifyToken(token);
  };
  const authenticate = async (context: HandlerContext): Promise<Caller> => {
    const header = context.requestHeader.get("authorization");
    // A token, when sent, is the identity on either door: the header cannot override it.
    if (header !== null) return fromBearer(header);
    if (identity === "bearer") {
      throw new ConnectError("missing bearer token", Code.Unauthenticated);
    }
    return fromUserIdHeader(context.requestHeader.get(USER_ID_HEADER));
  };
  return async (context) => {
    if (publicServices.has(context.service.typeName)) return;
    try {
      context.values.set(kCaller, await authenticate(context));
    } catch (error) {
      throw toConnectError(error);
    }
  };
}

/**
 * The caller `x-user-id` names: that user exactly as their token's `sub` would, with no scope,
 * the id in canonical form (so that quotas and limits keyed by it are the user's).
 */
function fromUserIdHeader(value: string | null): Caller {
  // RealChat's own services answer a call without the header with these words.
  if (value === null || value === "") {
    throw new ConnectError("x-user-id header is missing", Code.Unauthenticated);
  }
  const userId = parseUserId(value);
  if (userId === undefined) {
    throw new ConnectError("x-user-id header is not a user id (a UUID)", Code.Unauthenticated);
  }
  return { subject: userId, scopes: noScopes };
}

const noScopes: ReadonlySet<string> = new Set();
