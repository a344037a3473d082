import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { Health } from "../../gen/health/v1/health_pb.js";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { SocialGraphApi } from "../../gen/realchat/profile/v1/social_graph_api_pb.js";

// Who may call what: the one table of the service's access rules. The security suites
// (tests/unit/security.test.ts in memory, tests/security.test.ts over gRPC and Connect) call every
// method the routes register (src/transport/registered-methods.ts) without a token, with a token
// that does not verify, and with a stranger's valid user token, and hold each answer to the rule
// found here. A registered method with no row fails them, named: adding a method means deciding
// who may call it, here.

/** Who may call a method. */
export type AccessRule =
  /** Anyone, without a token; a token sent is not even verified. */
  | "public"
  /** Any caller with a valid token, whoever it names. */
  | "signed-in"
  /**
   * The user the request names in `user_id` (the token's `sub`), or a token with the
   * `profile:admin` scope; anyone else is PERMISSION_DENIED.
   */
  | "owner"
  /** Only a token with the `profile:admin` scope; the user themself too is PERMISSION_DENIED. */
  | "admin";

export interface Access {
  readonly rule: AccessRule;
  /** Why: what the docs say about it. */
  readonly reason: string;
}

/** A method's key in {@link accessRules}: `package.Service/Method`. */
export function methodKey(method: DescMethod): string {
  return `${method.parent.typeName}/${method.name}`;
}

/** A row for every method of `service`. */
function forService(service: DescService, rule: AccessRule, reason: string): [string, Access] {
  return [service.typeName, { rule, reason }];
}

/** A row for one method. */
function forMethod(method: DescMethod, rule: AccessRule, reason: string): [string, Access] {
  return [methodKey(method), { rule, reason }];
}

const addressBook = "a user's address book is theirs alone";
const blocks = "only the user decides whom they block";
const privacy =
  "who sees a user's avatar and bio is the user's choice; services with profile:admin act for them";

/**
 * The access rules, keyed by a service's type name (every method of it) or by a method
 * ({@link methodKey}); a method's own row wins over its service's. The public services must be
 * exactly `publicServices` of src/transport/routes.ts, which the auth gate lets through.
 */
export const accessRules: ReadonlyMap<string, Access> = new Map<string, Access>([
  forService(
    Health,
    "public",
    "load balancers and orchestrators probe readiness without credentials; it tells only " +
      "SERVING or NOT_SERVING",
  ),
  forService(
    ServerReflectionV1,
    "public",
    "grpcurl and buf curl read the schema before any call; it describes the public proto files " +
      "and nothing stored",
  ),
  forService(ServerReflectionV1Alpha, "public", "the same reflection, for older clients"),
  forMethod(
    ProfileApi.method.getProfile,
    "signed-in",
    "a profile (display name, avatar, bio) is what a user shows to everyone they chat with",
  ),
  forMethod(
    ProfileApi.method.batchGetProfiles,
    "signed-in",
    "GetProfile for many users at once (a chat's members)",
  ),
  forMethod(
    ProfileApi.method.watchProfiles,
    "signed-in",
    "the same reads as BatchGetProfiles, kept up to date",
  ),
  forMethod(
    ProfileApi.method.updateProfile,
    "owner",
    "only the user changes their profile; services with profile:admin act for them",
  ),
  forMethod(
    ProfileApi.method.deleteProfile,
    "admin",
    "deleting a profile erases the account's trace (contacts, blocks, the id for good): an " +
      "operation of RealChat's Auth and support tools, not of the user",
  ),
  forMethod(
    ProfileApi.method.searchProfiles,
    "signed-in",
    "finding people to chat with is for every user; each owner's discoverable_by decides who " +
      "finds them, and each result shows what GetProfile would",
  ),
  forMethod(
    ProfileApi.method.setHandle,
    "owner",
    "only the user picks their handle; services with profile:admin act for them",
  ),
  forMethod(
    ProfileApi.method.checkHandle,
    "signed-in",
    "anyone about to pick a handle asks whether it is free; the answer never says who holds it",
  ),
  forMethod(
    ProfileApi.method.resolveHandle,
    "signed-in",
    "a handle is what its owner shares to be found; the profile is shown as GetProfile shows it",
  ),
  forMethod(ProfileApi.method.getPrivacySettings, "owner", privacy),
  forMethod(ProfileApi.method.updatePrivacySettings, "owner", privacy),
  forMethod(SocialGraphApi.method.addContact, "owner", addressBook),
  forMethod(SocialGraphApi.method.updateContact, "owner", addressBook),
  forMethod(SocialGraphApi.method.removeContact, "owner", addressBook),
  forMethod(
    SocialGraphApi.method.listContacts,
    "owner",
    "who is in a user's address book (and their nicknames) is private, even to the contacts",
  ),
  forMethod(SocialGraphApi.method.blockUser, "owner", blocks),
  forMethod(SocialGraphApi.method.unblockUser, "owner", blocks),
  forMethod(
    SocialGraphApi.method.listBlockedUsers,
    "owner",
    "whom a user blocks (and why) is private, above all to the blocked",
  ),
  forMethod(
    SocialGraphApi.method.getRelationships,
    "owner",
    "how a user stands to others is theirs to ask (never telling who blocks them); service " +
      "tokens with social:read (chat, delivery) may ask too, and see blocks both ways",
  ),
]);

/** The rule of `method`: its own row, else its service's; undefined when it has neither. */
export function accessOf(method: DescMethod): Access | undefined {
  return accessRules.get(methodKey(method)) ?? accessRules.get(method.parent.typeName);
}
