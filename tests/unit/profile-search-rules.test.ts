// The search use case's own rules, on a scripted store: what a query looks for, page sizes, page
// tokens and the bound of 200 results. The matching itself is the SQL's:
// tests/unit/profile-search.test.ts runs it on PGlite.
import { describe, expect, it } from "vitest";
import { InvalidSearchRequest } from "../../src/profile/errors.js";
import { createProfileSearch, planOf, SEARCH_RANKS } from "../../src/profile/search.js";
import { rangeEndOf } from "../../src/profile/sql/search.js";
import type { UserId } from "../../src/profile/user-id.js";
import type { ProfileView, Viewer } from "../../src/profile/visibility.js";
import { createInMemorySearchStore } from "./support/in-memory-search-store.js";
import { alice, profileAt } from "./support/profiles.js";

const viewer: Viewer = { kind: "user", userId: alice };
const idAt = (index: number) =>
  `00000000-0000-4000-8000-${String(index).padStart(12, "0")}` as UserId;

function setUp(results: number) {
  const store = createInMemorySearchStore(
    Array.from({ length: results }, (_, index) => ({
      userId: idAt(index),
      rank: SEARCH_RANKS.namePrefix,
    })),
  );
  const search = createProfileSearch(store, async (userIds) => ({
    views: userIds.map((userId): ProfileView => profileAt(userId, 1)),
  }));
  const page = (query: string, pageSize: number, pageToken = "", as = viewer) =>
    search.searchProfiles({ viewer: as, query, pageSize, pageToken });
  return { store, page };
}

async function reasonsOf(call: Promise<unknown>): Promise<string[]> {
  const error = await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (!(error instanceof InvalidSearchRequest)) throw new Error("expected InvalidSearchRequest");
  return error.violations.map((violation) => `${violation.field}: ${violation.reason}`);
}

describe("what a query looks for", () => {
  it("folds names, and looks for handles when the query is a handle prefix", () => {
    expect(planOf("José  O'Brien", viewer, 0, 21)).toMatchObject({
      exactHandle: undefined,
      handlePrefix: undefined,
      nameWords: ["jose", "o", "brien"],
      fuzzyWord: "brien",
    });
    expect(planOf("Ada_L", viewer, 0, 21)).toMatchObject({
      exactHandle: "ada_l",
      handlePrefix: "ada_l",
      nameWords: ["ada", "l"],
      fuzzyWord: "ada",
    });
    expect(planOf("ad", viewer, 0, 21)).toMatchObject({
      exactHandle: undefined,
      handlePrefix: "ad",
      fuzzyWord: undefined,
    });
  });

  it("looks for handles only after a leading @, and for nothing when no handle can match", () => {
    expect(planOf("@ＡＤＡ", viewer, 0, 21)).toMatchObject({
      exactHandle: "ada",
      handlePrefix: "ada",
      nameWords: [],
      fuzzyWord: undefined,
    });
    expect(planOf("@José", viewer, 0, 21)).toBeUndefined();
  });

  it("has no viewer for a trusted caller", () => {
    expect(planOf("ada", { kind: "trusted" }, 0, 21)?.viewerId).toBeUndefined();
    expect(planOf("ada", viewer, 0, 21)?.viewerId).toBe(alice);
  });

  it("ends a word's range after every word it begins", () => {
    expect(rangeEndOf("ada")).toBe("adb");
    expect(rangeEndOf("jos\u00e9")).toBe("jos\u00ea");
    expect(rangeEndOf("\ud7ff")).toBe("\ue000");
    expect("adam" < rangeEndOf("ada") && "adb" >= rangeEndOf("ada")).toBe(true);
  });
});

describe("pages", () => {
  it("coerces the page size: 0 is 20, more than 50 is 50", async () => {
    const { page } = setUp(120);
    expect((await page("ada", 0)).views).toHaveLength(20);
    expect((await page("ada", 51)).views).toHaveLength(50);
    expect((await page("ada", 3)).views).toHaveLength(3);
  });

  it("walks the results in order and stops after 200 in all", async () => {
    const { page } = setUp(260);
    const seen: string[] = [];
    let token = "";
    for (let pages = 0; pages < 10; pages += 1) {
      const answer = await page("ada", 30, token);
      seen.push(...answer.views.map((view) => view.userId));
      token = answer.nextPageToken;
      if (token === "") break;
    }
    expect(seen).toEqual(Array.from({ length: 200 }, (_, index) => idAt(index)));
  });

  it("has no next page after the last result", async () => {
    const { page } = setUp(5);
    expect(await page("ada", 5)).toMatchObject({ nextPageToken: "" });
    expect((await page("ada", 4)).nextPageToken).not.toBe("");
  });

  it("refuses bad input, every rule broken at once", async () => {
    const { page, store } = setUp(5);
    const { nextPageToken } = await page("ada", 1);
    const stranger: Viewer = { kind: "user", userId: idAt(999) };

    expect(await reasonsOf(page("", -1, "%%"))).toEqual([
      "query: REQUIRED",
      "page_size: NEGATIVE",
      "page_token: INVALID_PAGE_TOKEN",
    ]);
    expect(await reasonsOf(page("x".repeat(101), 1))).toEqual(["query: TOO_LONG"]);
    expect(await reasonsOf(page("¿…?", 1))).toEqual(["query: NO_LETTER_OR_DIGIT"]);
    expect(await reasonsOf(page("ada ", 1, nextPageToken))).toEqual([
      "page_token: INVALID_PAGE_TOKEN",
    ]);
    expect(await reasonsOf(page("ada", 1, nextPageToken, stranger))).toEqual([
      "page_token: INVALID_PAGE_TOKEN",
    ]);
    expect(await reasonsOf(page("ada", 1, nextPageToken, { kind: "trusted" }))).toEqual([
      "page_token: INVALID_PAGE_TOKEN",
    ]);
    expect(await reasonsOf(page("ada", 1, `${nextPageToken.slice(0, -1)}A`))).toEqual([
      "page_token: INVALID_PAGE_TOKEN",
    ]);
    expect(store.plans).toHaveLength(1);
    expect((await page("ada", 1, nextPageToken)).views[0]?.userId).toBe(idAt(1));
  });
});
