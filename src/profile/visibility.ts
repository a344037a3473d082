import { hash } from "node:crypto";
import type { Caller } from "../auth/caller.js";
import { InvalidUserId, ViewerNotAllowed } from "./errors.js";
import type { Profile } from "./profile.js";
import { parseUserId, type UserId } from "./user-id.js";

// Who sees what (docs/privacy.md): the rules that turn a stored profile into what one viewer may
// see of it. Pure: the facts the rules need (settings, relation) are given by the caller.

/** Who may see a field. */
export type Audience = "everyone" | "contacts" | "nobody";

/** The fields an owner may withhold, by their proto names (what `hidden_fields` lists). */
export const HIDEABLE_FIELDS = ["avatar_url", "bio"] as const;
export type HideableField = (typeof HIDEABLE_FIELDS)[number];

/** An owner's audiences, at a version of their own (1: never changed). */
export interface PrivacySettings {
  readonly userId: UserId;
  readonly avatarAudience: Audience;
  readonly bioAudience: Audience;
  /** Who finds the owner in search (docs/search.md); no read path looks at it. */
  readonly discoverableBy: Audience;
  readonly version: number;
}

/** The settings of a user who never chose: everyone sees everything and finds them. */
export function defaultPrivacySettings(userId: UserId): PrivacySettings {
  return {
    userId,
    avatarAudience: "everyone",
    bioAudience: "everyone",
    discoverableBy: "everyone",
    version: 1,
  };
}

/**
 * Whose view a read returns: a trusted backend sees whole profiles; a user, or a backend rendering
 * for one, sees what that user may. `userId` is undefined for a user token whose subject is no
 * user id: a stranger to every owner.
 */
export type Viewer =
  | { readonly kind: "trusted" }
  | { readonly kind: "user"; readonly userId: UserId | undefined };

export const TRUSTED_VIEWER: Viewer = { kind: "trusted" };

/**
 * The viewer of a read by `caller` that names `rawViewerUserId` ("" for none). A service token (one
 * with a scope) may name anyone, and without a name sees whole profiles; a user token is its own
 * viewer, and naming anyone else is refused before anything else is checked.
 *
 * @throws ViewerNotAllowed for a user token naming another viewer, InvalidUserId for a service
 *   token naming no valid user id.
 */
export function viewerOf(caller: Caller, rawViewerUserId: string): Viewer {
  const service = caller.scopes.size > 0;
  if (!service) {
    const self = parseUserId(caller.subject);
    if (rawViewerUserId !== "" && parseUserId(rawViewerUserId) !== self) {
      throw new ViewerNotAllowed();
    }
    return { kind: "user", userId: self };
  }
  if (rawViewerUserId === "") return TRUSTED_VIEWER;
  const userId = parseUserId(rawViewerUserId);
  if (userId === undefined) {
    throw new InvalidUserId([
      {
        field: "viewer_user_id",
        description: "must be a UUID such as 0b7c3f5e-8f2a-4c1d-9e6b-2a4d5f6e7c8b",
        reason: "INVALID_USER_ID",
      },
    ]);
  }
  return { kind: "user", userId };
}

/** What the graph says of an owner and a viewer, as far as the rules care. */
export interface RelationFacts {
  /** The viewer is in the owner's contact list. */
  readonly isContact: boolean;
  /** The owner blocks the viewer. */
  readonly blocked: boolean;
}

export const NO_RELATION: RelationFacts = { isContact: false, blocked: false };

/**
 * The fields `owner`'s settings withhold from a user viewer with these facts, in HIDEABLE_FIELDS
 * order. A blocked viewer is outside every audience; the owner themself sees everything.
 */
export function hiddenFieldsFor(
  settings: Pick<PrivacySettings, "avatarAudience" | "bioAudience">,
  facts: RelationFacts,
): readonly HideableField[] {
  const sees = (audience: Audience) =>
    !facts.blocked && (audience === "everyone" || (audience === "contacts" && facts.isContact));
  const avatar = sees(settings.avatarAudience);
  const bio = sees(settings.bioAudience);
  if (avatar && bio) return NOTHING_HIDDEN;
  if (avatar) return ONLY_BIO;
  if (bio) return ONLY_AVATAR;
  return BOTH_HIDDEN;
}

const NOTHING_HIDDEN: readonly HideableField[] = [];
const ONLY_AVATAR: readonly HideableField[] = ["avatar_url"];
const ONLY_BIO: readonly HideableField[] = ["bio"];
const BOTH_HIDDEN: readonly HideableField[] = ["avatar_url", "bio"];

/** Whether this viewer is the owner, or trusted: then nothing is ever withheld. */
export function seesEverything(viewer: Viewer, ownerId: UserId): boolean {
  return viewer.kind === "trusted" || viewer.userId === ownerId;
}

/** Where a withheld view keeps its source: a symbol, so that it is no field of what it shows. */
const SOURCE = Symbol("source");

/**
 * A profile with some fields withheld from its viewer. It shows nothing that changes when a hidden
 * field does: no `updatedAt`, no version, and an `etag` made from what it shows.
 */
export interface WithheldProfile {
  readonly userId: UserId;
  readonly displayName: string;
  /** "" when hidden. */
  readonly avatarUrl: string;
  /** "" when hidden. */
  readonly bio: string;
  readonly handle: string;
  readonly createdAt: Date;
  readonly etag: string;
  /** Never empty. */
  readonly hiddenFields: readonly HideableField[];
  /** The profile it was made from (never shown). */
  readonly [SOURCE]: Profile;
}

/** What a viewer sees of one profile: the whole profile, or a withheld one. */
export type ProfileView = Profile | WithheldProfile;

export function isWithheld(view: ProfileView): view is WithheldProfile {
  return "hiddenFields" in view;
}

/**
 * The withheld views of the profile objects that live on (the cache's): each made once per
 * version and hidden set. Others' views are made afresh: remembering them would cost more than
 * making them (a WeakMap entry per profile of a read that the garbage collector must then clear).
 */
const withheldViews = new WeakMap<Profile, WithheldProfile[]>();

/** Says that `profile` lives on (the read cache holds it): its withheld views are kept with it. */
export function keepViewsOf(profile: Profile): void {
  if (!withheldViews.has(profile)) withheldViews.set(profile, []);
}

/** The profile object a withheld view was made from. */
export function sourceOf(view: WithheldProfile): Profile {
  return view[SOURCE];
}

/** `profile` with `hidden` withheld (the profile itself when nothing is). */
export function withhold(profile: Profile, hidden: readonly HideableField[]): ProfileView {
  if (hidden.length === 0) return profile;
  const views = withheldViews.get(profile);
  const known =
    views?.find((view) => view.hiddenFields === hidden) ??
    views?.find((view) => view.hiddenFields.join() === hidden.join());
  if (known !== undefined) return known;
  const hides = (field: HideableField) => hidden.includes(field);
  const shown = {
    userId: profile.userId,
    displayName: profile.displayName,
    avatarUrl: hides("avatar_url") ? "" : profile.avatarUrl,
    bio: hides("bio") ? "" : profile.bio,
    handle: profile.handle,
    createdAt: profile.createdAt,
  };
  const view: WithheldProfile = {
    ...shown,
    etag: viewTagOf(shown, hidden),
    hiddenFields: hidden,
    [SOURCE]: profile,
  };
  views?.push(view);
  return view;
}

/**
 * The etag of a withheld view: a digest of exactly what it shows, so it changes with every change
 * the viewer can see and with none they cannot. "h" keeps it apart from the version etags ("v12"),
 * so it never matches in UpdateProfile.
 */
function viewTagOf(
  shown: Pick<
    WithheldProfile,
    "userId" | "displayName" | "avatarUrl" | "bio" | "handle" | "createdAt"
  >,
  hidden: readonly HideableField[],
): string {
  const shows = [
    shown.userId,
    shown.displayName,
    shown.avatarUrl,
    shown.bio,
    shown.handle,
    String(shown.createdAt.getTime()),
    hidden.join(","),
  ].join("\0");
  const digest = hash("sha256", shows, "base64url");
  return `h${digest.slice(0, 22)}`;
}

/** What `viewer` sees of `profile`, given the owner's settings and the facts between the two. */
export function viewFor(
  profile: Profile,
  viewer: Viewer,
  settings: Pick<PrivacySettings, "avatarAudience" | "bioAudience">,
  facts: RelationFacts,
): ProfileView {
  if (seesEverything(viewer, profile.userId)) return profile;
  return withhold(profile, hiddenFieldsFor(settings, facts));
}
