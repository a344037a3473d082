/** Who is calling, as proven by a verified token. */
export interface Caller {
  /** The token's `sub`: a user id for user tokens, a service name for service tokens. */
  readonly subject: string;
  /** The token's `scope` claim, split on spaces. */
  readonly scopes: ReadonlySet<string>;
}

/** Lets a service token change any user's profile. */
export const PROFILE_ADMIN_SCOPE = "profile:admin";

/** Lets a service token read any user's relationships (SocialGraphApi.GetRelationships). */
export const SOCIAL_READ_SCOPE = "social:read";
