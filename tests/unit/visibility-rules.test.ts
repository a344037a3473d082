// Who sees what (src/profile/visibility.ts): the viewer a call reads for, the fields each audience
// and relation withholds, and what a withheld view shows (docs/privacy.md).
import { describe, expect, it } from "vitest";
import { PROFILE_ADMIN_SCOPE, SOCIAL_READ_SCOPE } from "../../src/auth/caller.js";
import { InvalidUserId, ViewerNotAllowed } from "../../src/profile/errors.js";
import { versionOfEtag } from "../../src/profile/profile.js";
import {
  type Audience,
  defaultPrivacySettings,
  hiddenFieldsFor,
  isWithheld,
  keepViewsOf,
  NO_RELATION,
  type RelationFacts,
  TRUSTED_VIEWER,
  viewerOf,
  viewFor,
} from "../../src/profile/visibility.js";
import { alice, bob, profileAt } from "./support/profiles.js";

const user = (subject: string) => ({ subject, scopes: new Set<string>() });
const service = (scope: string) => ({ subject: "chat-backend", scopes: new Set([scope]) });
const audiences: Audience[] = ["everyone", "contacts", "nobody"];
const relations: Record<string, RelationFacts> = {
  stranger: NO_RELATION,
  contact: { isContact: true, blocked: false },
  blocked: { isContact: false, blocked: true },
};
const settings = (avatarAudience: Audience, bioAudience: Audience) => ({
  ...defaultPrivacySettings(alice),
  avatarAudience,
  bioAudience,
  version: 2,
});
const aliceProfile = { ...profileAt(alice, 4), avatarUrl: "https://cdn.example/a.png", bio: "hi" };

describe("the viewer of a read", () => {
  it("is the token's user, who may name themself in any case but no one else", () => {
    expect(viewerOf(user(bob), "")).toEqual({ kind: "user", userId: bob });
    expect(viewerOf(user(bob), bob.toUpperCase())).toEqual({ kind: "user", userId: bob });
    expect(() => viewerOf(user(bob), alice)).toThrow(ViewerNotAllowed);
    expect(() => viewerOf(user(bob), "not a uuid")).toThrow(ViewerNotAllowed);
  });

  it("is a stranger to everyone for a user token whose subject is no user id", () => {
    expect(viewerOf(user("some-name"), "")).toEqual({ kind: "user", userId: undefined });
  });

  it("is trusted for a service token without a viewer, else the user it names", () => {
    for (const scope of [PROFILE_ADMIN_SCOPE, SOCIAL_READ_SCOPE]) {
      expect(viewerOf(service(scope), "")).toBe(TRUSTED_VIEWER);
      expect(viewerOf(service(scope), bob)).toEqual({ kind: "user", userId: bob });
      expect(() => viewerOf(service(scope), "nope")).toThrow(InvalidUserId);
    }
  });
});

describe("the fields withheld", () => {
  it("follow each audience and relation: everyone, contacts for contacts, nobody; a block hides all", () => {
    for (const avatar of audiences) {
      for (const bio of audiences) {
        for (const [name, facts] of Object.entries(relations)) {
          const sees = (audience: Audience) =>
            name !== "blocked" &&
            (audience === "everyone" || (audience === "contacts" && name === "contact"));
          const expected = [...(sees(avatar) ? [] : ["avatar_url"]), ...(sees(bio) ? [] : ["bio"])];
          expect({
            avatar,
            bio,
            name,
            hidden: hiddenFieldsFor(settings(avatar, bio), facts),
          }).toEqual({ avatar, bio, name, hidden: expected });
        }
      }
    }
  });

  it("are none for the owner and for a trusted backend, whatever the settings and relation", () => {
    const hidden = settings("nobody", "nobody");
    expect(
      viewFor(
        aliceProfile,
        { kind: "user", userId: alice },
        hidden,
        relations.blocked ?? NO_RELATION,
      ),
    ).toBe(aliceProfile);
    expect(viewFor(aliceProfile, TRUSTED_VIEWER, hidden, NO_RELATION)).toBe(aliceProfile);
  });
});

describe("a withheld view", () => {
  const bobViewer = { kind: "user", userId: bob } as const;

  it("shows a blocked viewer exactly what an owner who chose nobody shows", () => {
    const blocked = viewFor(
      aliceProfile,
      bobViewer,
      defaultPrivacySettings(alice),
      relations.blocked ?? NO_RELATION,
    );
    const nobody = viewFor(aliceProfile, bobViewer, settings("nobody", "nobody"), NO_RELATION);
    expect(blocked).toEqual(nobody);
    expect(blocked).toMatchObject({ avatarUrl: "", bio: "", hiddenFields: ["avatar_url", "bio"] });
  });

  it("keeps its etag through changes of hidden fields and changes it with visible ones", () => {
    const onlyAvatar = settings("everyone", "nobody");
    const view = (profile: typeof aliceProfile) =>
      viewFor(profile, bobViewer, onlyAvatar, NO_RELATION);
    const before = view(aliceProfile);
    const bioChanged = view({ ...aliceProfile, version: 5, etag: "v5", bio: "secret" });
    const avatarChanged = view({
      ...aliceProfile,
      ...profileAt(alice, 6),
      avatarUrl: "https://cdn.example/b.png",
    });

    expect(isWithheld(before) && before.bio).toBe("");
    expect(bioChanged.etag).toBe(before.etag);
    expect(JSON.stringify(bioChanged)).not.toContain("secret");
    expect(avatarChanged.etag).not.toBe(before.etag);
    expect(versionOfEtag(before.etag)).toBeUndefined();
    expect("updatedAt" in before).toBe(false);
  });

  it("is made once per profile object and hidden set when the profile lives on (the cache's)", () => {
    const hidden = settings("nobody", "everyone");
    const read = { ...aliceProfile };
    expect(viewFor(read, bobViewer, hidden, NO_RELATION)).not.toBe(
      viewFor(read, bobViewer, hidden, NO_RELATION),
    );
    keepViewsOf(read);
    expect(viewFor(read, bobViewer, hidden, NO_RELATION)).toBe(
      viewFor(read, bobViewer, hidden, NO_RELATION),
    );
  });
});
