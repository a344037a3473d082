import { randomUUID } from "node:crypto";
import { type Client, Code, ConnectError } from "@connectrpc/connect";
import { type Kysely, sql } from "kysely";
import { describe, expect, it } from "vitest";
import {
  Audience,
  type ProfileApi,
  type SearchProfilesResponse,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import type { SocialGraphApi } from "../../gen/realchat/profile/v1/social_graph_api_pb.js";
import type { Database } from "../../src/db/schema.js";
import { searchNameOf } from "../../src/profile/search-text.js";
import { adminToken, tokenFor } from "./auth.js";

// SearchProfiles (docs/search.md) through the whole service: matching and folding, each rank and
// its ties, paging and its bound, bad input, who may find whom, and what each result shows. Run
// in memory on PGlite (tests/unit/profile-search.test.ts) and over gRPC and Connect on PostgreSQL
// (tests/profile-search.test.ts). Every test keeps to names and handles of its own random word,
// so that tests sharing a database never find each other's users.

/** The clients of one caller, and the database underneath (for seeding handles). */
export interface SearchFixture {
  db(): Kysely<Database>;
  /** What a registration does: ProfileService.provisionProfile (a username becomes the handle). */
  provision(userId: string, displayName: string, username?: string): Promise<boolean>;
  profiles(token: string): Client<typeof ProfileApi>;
  graph(token: string): Client<typeof SocialGraphApi>;
}

interface Person {
  readonly name: string;
  readonly handle?: string;
  readonly avatarUrl?: string;
  readonly bio?: string;
}

/** A word of 10 random letters: no other test's name or handle starts with it. */
function freshWord(): string {
  return Array.from({ length: 10 }, () =>
    String.fromCharCode(97 + Math.floor(Math.random() * 26)),
  ).join("");
}

/** The same word with its last letter changed: a typo. */
function typoOf(word: string): string {
  const last = word.at(-1) === "z" ? "y" : "z";
  return `${word.slice(0, -1)}${last}`;
}

/**
 * Profiles with handles written straight into the table (SetHandle is another feature's), before
 * anything reads them, so no cache holds them without their handle.
 */
async function seed(db: Kysely<Database>, people: readonly Person[]): Promise<string[]> {
  const ids = people.map(() => randomUUID());
  await sql`
    INSERT INTO profiles (user_id, display_name, search_name, handle, avatar_url, bio)
    SELECT * FROM unnest(${ids}::uuid[], ${people.map((p) => p.name)}::text[],
      ${people.map((p) => searchNameOf(p.name))}::text[], ${people.map((p) => p.handle ?? null)}::text[],
      ${people.map((p) => p.avatarUrl ?? "")}::text[], ${people.map((p) => p.bio ?? "")}::text[])
  `.execute(db);
  return ids;
}

const idsOf = (response: SearchProfilesResponse) => response.profiles.map((p) => p.userId);

async function codeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return "OK";
  } catch (error) {
    return Code[ConnectError.from(error).code];
  }
}

/** Every test of SearchProfiles, against `fixture`. */
export function searchSuite(fixture: SearchFixture): void {
  const admin = () => fixture.profiles(adminToken);
  const adminGraph = () => fixture.graph(adminToken);
  const viewer = async () => {
    const [id = ""] = await seed(fixture.db(), [{ name: `Viewer ${freshWord()}` }]);
    return { id, profiles: fixture.profiles(await tokenFor(id)) };
  };
  const search = (client: Client<typeof ProfileApi>, query: string, pageSize = 50) =>
    client.searchProfiles({ query, pageSize });

  describe("SearchProfiles", () => {
    it("folds case, accents, apostrophes and word order, for names written by UpdateProfile", async () => {
      const word = freshWord();
      const ids = [randomUUID(), randomUUID(), randomUUID()];
      const names = [`José Müller ${word}`, `Seán O’Brien ${word}`, `ANNA ${word}`];
      for (const [index, userId] of ids.entries()) {
        await admin().updateProfile({ userId, displayName: names[index] ?? "" });
      }
      const [provisioned, registered] = [randomUUID(), randomUUID()];
      expect(await fixture.provision(provisioned, `Zoë Ærø ${word}`)).toBe(true);
      expect(await fixture.provision(registered, `Ines Ñúñez ${word}`, `${word}_ines`)).toBe(true);
      const me = await viewer();
      // The prefix match comes first; the others share the rare word, so follow as fuzzy ones.
      const first = async (query: string) => idsOf(await search(me.profiles, query))[0];

      expect(await first(`jose ${word}`)).toBe(ids[0]);
      expect(await first(`${word} MÜLL`)).toBe(ids[0]);
      expect(await first(`o'brien ${word}`)).toBe(ids[1]);
      expect(await first(`anna ${word.slice(0, 4)}`)).toBe(ids[2]);
      expect(await first(`zoe aero ${word}`)).toBe(provisioned);
      expect(await first(`nunez ${word}`)).toBe(registered);
      expect(await first(`@${word}_ines`)).toBe(registered);

      // A rename replaces the words the name is found by.
      await admin().updateProfile({ userId: ids[2], displayName: `Hanna ${word}` });
      expect(await first(`hann ${word}`)).toBe(ids[2]);
      const terms = await sql<{ term: string }>`
        SELECT term FROM profile_search_terms WHERE user_id = ${ids[2]} ORDER BY term
      `.execute(fixture.db());
      expect(terms.rows.map((row) => row.term)).toEqual(["hanna", word].sort());
    });

    it("ranks exact handle, contacts, handle prefix, name prefix, then fuzzy, each with its ties", async () => {
      const word = freshWord();
      const me = await viewer();
      const [exact, contact, handleB, handleA, nameX, nameY, longer, typo] = await seed(
        fixture.db(),
        [
          { name: "Quinn Example", handle: word },
          { name: `Bob ${word}zz` },
          { name: "Carl", handle: `${word}_b` },
          { name: "Cleo", handle: `${word}_a` },
          { name: `Dora ${word}` },
          { name: `Eve ${word}` },
          { name: `Gus ${word}a` },
          { name: `Fay ${typoOf(word)}` },
        ],
      );
      await adminGraph().addContact({ userId: me.id, otherUserId: contact });
      const [first, second] = [nameX ?? "", nameY ?? ""].sort();

      expect(idsOf(await search(me.profiles, word))).toEqual([
        exact,
        contact,
        handleA,
        handleB,
        first,
        second,
        longer,
        typo,
      ]);
      // "@" looks for handles only; a typo finds by similarity alone.
      expect(idsOf(await search(me.profiles, `@${word.toUpperCase()}`))).toEqual([
        exact,
        handleA,
        handleB,
      ]);
      // Every word must match a word of the name, by prefix or, for the longest, by similarity:
      // the typo's name does; the contact's has no "fay".
      expect(idsOf(await search(me.profiles, `fay ${word}`))).toEqual([typo]);
    });

    it("pages in a stable order, coerces page sizes, and stops after 200 results", async () => {
      const word = freshWord();
      const me = await viewer();
      const people = Array.from({ length: 205 }, (_, index) => ({
        name: `Pat ${word}${String.fromCharCode(97 + (index % 26))}`,
      }));
      const seeded = await seed(fixture.db(), people);

      const whole: string[] = [];
      let pageToken = "";
      let pages = 0;
      do {
        const page = await me.profiles.searchProfiles({ query: word, pageSize: 50, pageToken });
        whole.push(...idsOf(page));
        pageToken = page.nextPageToken;
        pages += 1;
      } while (pageToken !== "" && pages < 10);
      expect(pages).toBe(4);
      expect(whole).toHaveLength(200);
      expect(new Set(whole).size).toBe(200);

      const small: string[] = [];
      pageToken = "";
      for (let page = 0; page < 3; page += 1) {
        const answer = await me.profiles.searchProfiles({ query: word, pageSize: 7, pageToken });
        small.push(...idsOf(answer));
        pageToken = answer.nextPageToken;
      }
      expect(small).toEqual(whole.slice(0, 21));

      expect(idsOf(await me.profiles.searchProfiles({ query: word }))).toHaveLength(20);
      expect(idsOf(await me.profiles.searchProfiles({ query: word, pageSize: 51 }))).toHaveLength(
        50,
      );
      // The 8 whose word ends in "a" match by prefix; the others follow, as fuzzy matches.
      const endsInA = seeded.filter((_, index) => index % 26 === 0);
      const narrower = idsOf(await me.profiles.searchProfiles({ query: `${word}a` }));
      expect(new Set(narrower.slice(0, 8))).toEqual(new Set(endsInA));
      expect(narrower.slice(0, 8)).toEqual(whole.filter((id) => endsInA.includes(id)));
    });

    it("counts a name with several matching words once, at its first", async () => {
      const word = freshWord();
      const me = await viewer();
      const letters = "abcdefghij";
      const twins = await seed(
        fixture.db(),
        [...letters].map((letter) => ({ name: `Duo ${word}${letter}${letter} ${word}${letter}` })),
      );

      const first = await me.profiles.searchProfiles({ query: word, pageSize: 5 });
      expect(idsOf(first)).toEqual(twins.slice(0, 5));
      const second = await me.profiles.searchProfiles({
        query: word,
        pageSize: 5,
        pageToken: first.nextPageToken,
      });
      expect(idsOf(second)).toEqual(twins.slice(5, 10));
    });

    it("refuses bad queries, page sizes and page tokens with INVALID_ARGUMENT", async () => {
      const me = await viewer();
      const other = await viewer();
      const word = freshWord();
      await seed(
        fixture.db(),
        Array.from({ length: 3 }, () => ({ name: `Ray ${word}` })),
      );
      const { nextPageToken } = await me.profiles.searchProfiles({ query: word, pageSize: 1 });
      expect(nextPageToken).not.toBe("");
      const all = await me.profiles.searchProfiles({ query: word });
      expect(all.profiles).toHaveLength(3);
      expect(all.nextPageToken).toBe("");

      const refused = [
        () => me.profiles.searchProfiles({ query: "" }),
        () => me.profiles.searchProfiles({ query: "a".repeat(101) }),
        () => me.profiles.searchProfiles({ query: "!?- ’" }),
        () => me.profiles.searchProfiles({ query: word, pageSize: -1 }),
        () => me.profiles.searchProfiles({ query: `${word} `, pageToken: nextPageToken }),
        () => other.profiles.searchProfiles({ query: word, pageToken: nextPageToken }),
        () => me.profiles.searchProfiles({ query: word, pageToken: "not-a-token" }),
        () => me.profiles.searchProfiles({ query: word, pageToken: `${nextPageToken}A` }),
      ];
      for (const call of refused) expect(await codeOf(call())).toBe("InvalidArgument");
      expect(await codeOf(me.profiles.searchProfiles({ query: "a".repeat(100) }))).toBe("OK");
      expect(
        await codeOf(me.profiles.searchProfiles({ query: word, pageToken: nextPageToken })),
      ).toBe("OK");
      expect(
        await codeOf(me.profiles.searchProfiles({ query: word, viewerUserId: other.id })),
      ).toBe("PermissionDenied");
    });

    it("finds only whom discoverable_by admits, never across a block, never the deleted", async () => {
      const word = freshWord();
      const [open, contactsOnly, hidden, blocker, blocked, deleted] = await seed(
        fixture.db(),
        ["Open", "Friends", "Hidden", "Blocker", "Blocked", "Gone"].map((name) => ({
          name: `${name} ${word}`,
        })),
      );
      const stranger = await viewer();
      const friend = await viewer();
      for (const [userId, discoverableBy] of [
        [contactsOnly, Audience.CONTACTS],
        [hidden, Audience.NOBODY],
      ] as const) {
        const settings = await admin().updatePrivacySettings({ userId, discoverableBy });
        expect(settings.discoverableBy).toBe(discoverableBy);
      }
      expect((await admin().getPrivacySettings({ userId: hidden })).discoverableBy).toBe(
        Audience.NOBODY,
      );
      expect((await admin().getPrivacySettings({ userId: open })).discoverableBy).toBe(
        Audience.EVERYONE,
      );
      expect(
        await codeOf(
          admin().updatePrivacySettings({ userId: open, discoverableBy: Audience.UNSPECIFIED }),
        ),
      ).toBe("InvalidArgument");
      await adminGraph().addContact({ userId: contactsOnly, otherUserId: friend.id });
      await adminGraph().addContact({ userId: hidden, otherUserId: friend.id });
      await adminGraph().blockUser({ userId: blocker, otherUserId: stranger.id });
      await adminGraph().blockUser({ userId: stranger.id, otherUserId: blocked });
      await admin().deleteProfile({ userId: deleted });

      const found = async (client: Client<typeof ProfileApi>) =>
        new Set(idsOf(await search(client, word)));
      expect(await found(stranger.profiles)).toEqual(new Set([open]));
      expect(await found(friend.profiles)).toEqual(new Set([open, contactsOnly, blocker, blocked]));
      const owner = fixture.profiles(await tokenFor(hidden ?? ""));
      expect(await found(owner)).toEqual(new Set([open, hidden, blocker, blocked]));

      // A service token: as its viewer, or with none, only those everyone may find.
      const service = fixture.profiles(
        await tokenFor("chat-backend", { scopes: ["profile:read"] }),
      );
      const asFriend = await service.searchProfiles({ query: word, viewerUserId: friend.id });
      expect(new Set(idsOf(asFriend))).toEqual(new Set([open, contactsOnly, blocker, blocked]));
      expect(new Set(idsOf(await search(service, word)))).toEqual(
        new Set([open, blocker, blocked]),
      );
    });

    it("shows each result as the viewer may see it", async () => {
      const word = freshWord();
      const avatarUrl = "https://cdn.example/secret.png";
      const [owner] = await seed(fixture.db(), [{ name: `Ivy ${word}`, avatarUrl, bio: "hi" }]);
      await admin().updatePrivacySettings({ userId: owner, avatarAudience: Audience.CONTACTS });
      const stranger = await viewer();
      const friend = await viewer();
      await adminGraph().addContact({ userId: owner, otherUserId: friend.id });

      const [seen] = (await search(stranger.profiles, word)).profiles;
      expect(seen).toMatchObject({ userId: owner, avatarUrl: "", bio: "hi" });
      expect(seen?.hiddenFields).toEqual(["avatar_url"]);
      const [known] = (await search(friend.profiles, word)).profiles;
      expect(known).toMatchObject({ userId: owner, avatarUrl, hiddenFields: [] });
      const service = fixture.profiles(
        await tokenFor("chat-backend", { scopes: ["profile:read"] }),
      );
      const [whole] = (await search(service, word)).profiles;
      expect(whole).toMatchObject({ userId: owner, avatarUrl, hiddenFields: [] });
    });
  });
}
