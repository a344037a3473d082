import type { OwnerVisibility } from "../store.js";
import type { UserId } from "../user-id.js";
import {
  defaultPrivacySettings,
  isWithheld,
  NO_RELATION,
  type PrivacySettings,
  type RelationFacts,
  type Viewer,
  viewFor,
} from "../visibility.js";
import type { RelationChange } from "./feed.js";
import type { ProfileState, ViewState } from "./watch.js";

/** A watch's side of one watched user when it may see less than the whole profile. */
export interface ViewerSide {
  /** The latest accepted state as stored (what is projected). */
  latest: ProfileState | undefined;
  settings: PrivacySettings;
  facts: RelationFacts;
  /** The feed told of the settings or the relation since `open`: the snapshot's read is older. */
  settingsHeard: boolean;
  factsHeard: boolean;
  /** What the last message sent or pending showed ("missing", "deleted" or a view's etag). */
  lastShown: string | undefined;
  /** The version of the last message sent or pending. */
  lastVersion: number;
}

export function newViewerSide(userId: UserId): ViewerSide {
  return {
    latest: undefined,
    settings: defaultPrivacySettings(userId),
    facts: NO_RELATION,
    settingsHeard: false,
    factsHeard: false,
    lastShown: undefined,
    lastVersion: 0,
  };
}

/** Takes the owner's new settings from the feed; false when they are no newer than those held. */
export function hearSettings(seen: ViewerSide, settings: PrivacySettings): boolean {
  if (settings.version <= seen.settings.version) return false;
  seen.settings = settings;
  seen.settingsHeard = true;
  return true;
}

/** Takes a change, told by the feed, of how the owner stands to the viewer. */
export function hearRelation(seen: ViewerSide, change: RelationChange): void {
  seen.facts =
    change.kind === "contact"
      ? { ...seen.facts, isContact: change.present }
      : { ...seen.facts, blocked: change.present };
  seen.factsHeard = true;
}

/**
 * Takes the settings and relation the snapshot read (`owner` undefined: the defaults and no
 * relation), except what the feed told since `open`, which is newer.
 */
export function adoptSnapshotVisibility(
  seen: ViewerSide,
  owner: OwnerVisibility | undefined,
): void {
  if (!seen.settingsHeard && owner !== undefined) seen.settings = owner.settings;
  if (!seen.factsHeard && owner !== undefined) seen.facts = owner.facts;
}

/**
 * What `viewer` is to be sent next of the latest state, remembered as the last message shown; or
 * undefined when it shows what the last message showed: a change of a hidden field, or of the
 * relation or settings that changes nothing visible, sends nothing.
 */
export function nextView(seen: ViewerSide, viewer: Viewer): ViewState | undefined {
  if (seen.latest === undefined) return undefined;
  const state = projected(seen.latest, viewer, seen);
  if (state === undefined) return undefined;
  seen.lastShown = shownBy(state);
  seen.lastVersion = state.version;
  return state;
}

/** What a message shows, to tell whether the next one would show anything new. */
function shownBy(state: ViewState): string {
  return state.kind === "profile" ? state.profile.etag : state.kind;
}

/**
 * The message `viewer` gets for `latest`, or undefined when it would show what the last one did.
 * A whole profile keeps its version when that still grows the stream's; otherwise (a withheld
 * view, or a view changed by the settings or the relation) the version is the stream's last + 1,
 * which says nothing of changes the viewer cannot see.
 */
function projected(latest: ProfileState, viewer: Viewer, seen: ViewerSide): ViewState | undefined {
  const state: ViewState =
    latest.kind === "profile"
      ? { ...latest, profile: viewFor(latest.profile, viewer, seen.settings, seen.facts) }
      : latest;
  if (shownBy(state) === seen.lastShown) return undefined;
  if (state.kind === "missing") return state;
  const whole = state.kind === "deleted" || !isWithheld(state.profile);
  if (whole && state.version > seen.lastVersion) {
    const unchanged =
      latest.kind === "profile" && state.kind === "profile" && state.profile === latest.profile;
    return unchanged ? latest : state;
  }
  return { ...state, version: seen.lastVersion + 1 };
}
