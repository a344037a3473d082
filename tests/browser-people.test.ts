// The example web client's people screen (examples/web/, docs/transport.md "Example web client")
// in headless Chromium, against a real service on PostgreSQL and NATS: search as you type, avatars
// and handles, contacts and blocks, your handle, who finds you, and cards kept live. Screenshots
// of the key steps are kept in test-artifacts/people-screen/ (git-ignored).
import type { Page, Route } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ExampleServer, startExampleServer } from "../examples/web/server.js";
import { Audience } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { tokenFor } from "./support/auth.js";
import { browserArtifact, launchChromium, type TestBrowser } from "./support/browser.js";
import { grpcClient } from "./support/clients.js";
import { useTestDatabase } from "./support/databases.js";
import { type PrivateNats, startNatsServer, until } from "./support/nats.js";
import { graphClient } from "./support/social-graph.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const fixture = useTestDatabase();
let example: ExampleServer;
let server: TestServer;
let browser: TestBrowser;
// A broker of the file's own: the last test stops it to end every watch with UNAVAILABLE.
let broker: PrivateNats;

/** Where avatars are served from: answered by the browser context itself, never the network. */
const avatarHost = "https://avatars.example";

/** A round picture with a letter, standing in for an avatar CDN. */
function avatarPicture(letter: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96">
    <rect width="96" height="96" fill="#d9822b"/>
    <text x="48" y="64" font-size="44" font-family="sans-serif" text-anchor="middle"
      fill="#fff">${letter}</text></svg>`;
}

beforeAll(async () => {
  broker = await startNatsServer();
  example = await startExampleServer({ port: 0, host: "127.0.0.1", mintToken: tokenFor });
  server = await startTestServer(
    fixture.database.handle,
    { corsAllowedOrigins: [example.origin] },
    { events: { natsUrl: broker.url, createStreams: true, outboxPollIntervalMs: 250 } },
  );
  await until(() => server.service.profileFeed.live(), 20_000);
  browser = await launchChromium();
  await browser.context.route(`${avatarHost}/**`, (route) => {
    const letter = new URL(route.request().url()).pathname.slice(1, 2).toUpperCase();
    return route.fulfill({ contentType: "image/svg+xml", body: avatarPicture(letter) });
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await example?.close();
  await broker?.dispose();
});

interface Person {
  readonly id: string;
  readonly name: string;
}

/** A user with a profile (and a handle, an avatar) made through the API, as their own client. */
async function person(
  name: string,
  options: { handle?: string; avatar?: string; bio?: string } = {},
): Promise<Person> {
  const id = crypto.randomUUID();
  const api = grpcClient(server.baseUrl, await tokenFor(id));
  await api.updateProfile({
    userId: id,
    displayName: name,
    ...(options.avatar === undefined ? {} : { avatarUrl: `${avatarHost}/${options.avatar}.svg` }),
    ...(options.bio === undefined ? {} : { bio: options.bio }),
  });
  if (options.handle !== undefined) await api.setHandle({ userId: id, handle: options.handle });
  return { id, name };
}

/** The pages a test opened: closed after it, so that a failed test leaves no stream open. */
const openPages: Page[] = [];
afterEach(async () => {
  await Promise.all(openPages.splice(0).map((page) => page.close()));
});

/** The example page signed in as `user` with a token it fetched itself, its watch live. */
async function openPeople(user: Person, transport = "connect"): Promise<Page> {
  const page = await browser.context.newPage();
  openPages.push(page);
  await page.setViewportSize({ width: 1200, height: 900 });
  const query = new URLSearchParams({ api: server.baseUrl, transport, user: user.id });
  await page.goto(`${example.origin}/?${query}`);
  await page.waitForSelector("body[data-ready]");
  await page.click("#get-token");
  await waitForText(page, "#my-status", "loaded");
  await waitForText(page, "#people-live-status", /^live over/);
  return page;
}

/** Waits until the element of `selector` shows `text` (exactly, or matching the pattern). */
function waitForText(page: Page, selector: string, text: string | RegExp, timeoutMs = 10_000) {
  const pattern =
    typeof text === "string"
      ? new RegExp(`^${text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")}$`)
      : text;
  return page
    .locator(selector)
    .filter({ hasText: pattern })
    .first()
    .waitFor({ timeout: timeoutMs });
}

/** Types `text` into the search box key by key, as a person does, and waits for its answer. */
async function typeSearch(page: Page, text: string): Promise<void> {
  await page.fill("#search", "");
  await page.locator("#search").pressSequentially(text, { delay: 60 });
  // Attached, not visible: an empty list has no height.
  const answered = `#results[data-query="${text}"][aria-busy="false"]`;
  await page.waitForSelector(answered, { state: "attached", timeout: 10_000 }).catch(async () => {
    throw new Error(`no answer for "${text}": ${await page.textContent("#search-status")}`);
  });
}

/** What the results show, in order, once every picture has loaded or given way to initials. */
async function results(page: Page, list = "#results") {
  await page.waitForFunction(
    `[...document.querySelectorAll("${list} img.avatar")].every((image) => image.complete)`,
  );
  return page.$$eval(`${list} .person`, (cards) =>
    cards.map((card) => {
      const text = (name: string) => card.querySelector(`.${name}`)?.textContent ?? "";
      // The root tsconfig has no DOM types: the picture's two properties read here.
      type Picture = { complete: boolean; naturalWidth: number };
      const image = card.querySelector("img.avatar") as unknown as Picture | null;
      return {
        userId: card.getAttribute("data-user-id") ?? "",
        name: text("name"),
        handle: text("handle"),
        hints: text("hints"),
        relation: text("relation"),
        // A picture that loaded, or the initials shown instead.
        avatar:
          image === null
            ? text("initials")
            : image.complete && image.naturalWidth > 0
              ? "image"
              : "",
      };
    }),
  );
}

/** The card of `user` in `list`. */
const cardOf = (page: Page, list: string, user: Person) =>
  page.locator(`${list} .person[data-user-id="${user.id}"]`);

async function screenshot(page: Page, name: string): Promise<void> {
  const path = await browserArtifact(`${name}.png`, "people-screen");
  await page.screenshot({ path, fullPage: true });
}

describe("searching as you type", () => {
  it("finds a user by an accented name's prefix and by handle, with avatars and handles", async () => {
    const jose = await person("José Núñez", { handle: "jnunez", avatar: "jose" });
    const josefina = await person("Josefina Ortega", { handle: "josefina_o" });
    const hidden = await person("Josep Puig", { avatar: "josep" });
    await grpcClient(server.baseUrl, await tokenFor(hidden.id)).updatePrivacySettings({
      userId: hidden.id,
      avatarAudience: Audience.NOBODY,
    });
    const viewer = await openPeople(await person("Viewer One"));

    // Typed without accents: "jose nu" is a prefix of each word of "José Núñez" only.
    await typeSearch(viewer, "jose nu");
    const [first] = await results(viewer);
    expect(first).toEqual({
      userId: jose.id,
      name: "José Núñez",
      handle: "@jnunez",
      hints: "",
      relation: "",
      avatar: "image",
    });

    await typeSearch(viewer, "jos");
    const found = await results(viewer);
    expect(found.map((result) => result.name)).toEqual(
      expect.arrayContaining(["José Núñez", "Josefina Ortega", "Josep Puig"]),
    );
    expect(found.find((result) => result.userId === josefina.id)).toMatchObject({
      handle: "@josefina_o",
      avatar: "JO",
    });
    // Josep's avatar is for nobody: initials, and a hint that it is hidden rather than unset.
    expect(found.find((result) => result.userId === hidden.id)).toMatchObject({
      handle: "",
      hints: "avatar hidden",
      avatar: "JP",
    });
    expect(await viewer.textContent("#search-status")).toMatch(/^\d+ people for “jos”/);
    await screenshot(viewer, "1-search-by-name");

    await typeSearch(viewer, "@jnunez");
    expect((await results(viewer))[0]?.userId).toBe(jose.id);
    await typeSearch(viewer, "josefina_");
    expect((await results(viewer))[0]?.userId).toBe(josefina.id);
    await screenshot(viewer, "2-search-by-handle");
  });
  it("shows only the last query's answer: the search still in flight is cancelled", async () => {
    const marie = await person("Marie Curie");
    await person("Mario Molina");
    const page = await openPeople(await person("Viewer Four"));
    // The first search is held on its way to the service, so that it is still in flight when the
    // next key makes the page search again.
    const held: Route[] = [];
    await page.route("**/realchat.profile.v1.ProfileApi/SearchProfiles**", (route) =>
      held.length === 0 ? void held.push(route) : route.continue(),
    );
    const aborted = page.waitForEvent("requestfailed", {
      predicate: (request) => request.url().includes("/SearchProfiles"),
      timeout: 10_000,
    });
    await page.locator("#search").pressSequentially("mar", { delay: 60 });
    await until(() => held.length === 1, 10_000);

    await page.locator("#search").pressSequentially("ie", { delay: 60 });
    await page.waitForSelector('#results[data-query="marie"][aria-busy="false"]');
    expect((await aborted).failure()?.errorText).toBe("net::ERR_ABORTED");
    await held[0]?.continue().catch(() => {});
    expect((await results(page))[0]?.userId).toBe(marie.id);
    expect(await page.getAttribute("#results", "data-query")).toBe("marie");
  });
});

describe("contacts and blocks", () => {
  it("adds a contact, blocks and unblocks, and shows each in the lists and the service", async () => {
    const me = await person("Ada Lovelace");
    const bruno = await person("Bruno Díaz", { handle: "bdiaz", avatar: "bruno" });
    const myGraph = graphClient(server.baseUrl, await tokenFor(me.id));
    const page = await openPeople(me, "grpc-web");
    await typeSearch(page, "bruno");

    await cardOf(page, "#results", bruno).locator('button[data-action="add-contact"]').click();
    await waitForText(page, "#people-status", "Bruno Díaz is in your contacts.");
    expect((await results(page))[0]?.relation).toBe("Contact");
    expect(await results(page, "#contacts")).toEqual([
      expect.objectContaining({ userId: bruno.id, handle: "@bdiaz", avatar: "image" }),
    ]);
    const contacts = await myGraph.listContacts({ userId: me.id });
    expect(contacts.contacts.map((contact) => contact.contactUserId)).toEqual([bruno.id]);
    await screenshot(page, "3-contact-added");

    await cardOf(page, "#results", bruno).locator('button[data-action="block"]').click();
    await waitForText(page, "#people-status", "You block Bruno Díaz.");
    expect((await results(page))[0]?.relation).toBe("Blocked");
    expect(await results(page, "#contacts")).toEqual([]);
    expect((await results(page, "#blocks")).map((blocked) => blocked.userId)).toEqual([bruno.id]);
    const blocks = await myGraph.listBlockedUsers({ userId: me.id });
    expect(blocks.blocks.map((block) => block.blockedUserId)).toEqual([bruno.id]);
    expect((await myGraph.listContacts({ userId: me.id })).contacts).toEqual([]);
    await screenshot(page, "4-blocked");

    // The lists come from the service: a reload shows the same.
    await page.reload();
    await page.waitForSelector("body[data-ready]");
    await page.click("#get-token");
    await cardOf(page, "#blocks", bruno).waitFor();

    await cardOf(page, "#blocks", bruno).locator('button[data-action="unblock"]').click();
    await waitForText(page, "#people-status", "You no longer block Bruno Díaz.");
    expect(await results(page, "#blocks")).toEqual([]);
    expect((await myGraph.listBlockedUsers({ userId: me.id })).blocks).toEqual([]);
    await typeSearch(page, "bdiaz");
    expect(await results(page)).toEqual([
      expect.objectContaining({ userId: bruno.id, relation: "" }),
    ]);
  });

  it("leaves a blocked user unable to find the blocker", async () => {
    const blocker = await person("Carla Mendes", { handle: "carla_m" });
    const blockedUser = await person("Diego Rivera");
    const blockerPage = await openPeople(blocker);
    const blockedPage = await openPeople(blockedUser, "grpc-web");
    await typeSearch(blockedPage, "carla");
    expect((await results(blockedPage)).map((result) => result.userId)).toContain(blocker.id);

    await typeSearch(blockerPage, "diego");
    await cardOf(blockerPage, "#results", blockedUser)
      .locator('button[data-action="block"]')
      .click();
    await waitForText(blockerPage, "#people-status", "You block Diego Rivera.");

    for (const query of ["carla", "carla_m", "@carla_m"]) {
      await typeSearch(blockedPage, query);
      expect((await results(blockedPage)).map((result) => result.userId)).not.toContain(blocker.id);
    }
    await screenshot(blockedPage, "5-blocker-not-found");
  });
});

describe("your handle", () => {
  it("says while you type whether a handle is free, and claims it; a taken one is refused", async () => {
    await person("Someone Else", { handle: "taken_one" });
    const me = await person("Grace Hopper");
    const page = await openPeople(me);
    expect(await page.textContent("#my-handle")).toBe("no handle yet");

    await page.locator("#handle-input").pressSequentially("taken_one", { delay: 40 });
    await waitForText(page, "#handle-hint", "@taken_one is taken");
    await page.click("#claim-handle");
    await waitForText(page, "#handle-status", "@taken_one is taken: try another.");

    await page.fill("#handle-input", "");
    await page.locator("#handle-input").pressSequentially("1grace", { delay: 40 });
    await waitForText(page, "#handle-hint", /^Not a handle/);
    await page.click("#claim-handle");
    await waitForText(page, "#handle-status", /^Not a handle/);

    await page.fill("#handle-input", "");
    await page.locator("#handle-input").pressSequentially("@Grace_H", { delay: 40 });
    await waitForText(page, "#handle-hint", "@grace_h is available");
    await screenshot(page, "6-handle-available");
    await page.click("#claim-handle");
    await waitForText(page, "#handle-status", "Your handle is @grace_h.");
    expect(await page.textContent("#my-handle")).toBe("@grace_h");
    expect(await page.textContent("#me-card .handle")).toBe("@grace_h");
    const stored = await grpcClient(server.baseUrl).getProfile({ userId: me.id });
    expect(stored.handle).toBe("grace_h");

    // A second claim the same day: refused, saying when it can be done.
    await page.fill("#handle-input", "grace_hopper");
    await page.click("#claim-handle");
    await waitForText(page, "#handle-status", /^You claimed a handle less than a day ago/);
    const retryAt = Date.parse((await page.getAttribute("#handle-status", "data-retry-at")) ?? "");
    expect(retryAt - Date.now()).toBeGreaterThan(23 * 3600_000);
    expect(retryAt - Date.now()).toBeLessThanOrEqual(24 * 3600_000 + 60_000);
    await screenshot(page, "7-handle-cooldown");
  });
});

describe("who finds you", () => {
  it("hides you from another user's search with discoverable_by nobody, and shows you to contacts", async () => {
    const me = await person("Hedy Lamarr", { handle: "hedy_l" });
    const other = await person("Ida Noddack");
    const mine = await openPeople(me);
    const theirs = await openPeople(other, "grpc-web");
    await typeSearch(theirs, "hedy");
    expect((await results(theirs)).map((result) => result.userId)).toContain(me.id);

    await mine.selectOption("#discoverable-by", "nobody");
    await mine.click("#save-privacy");
    await waitForText(mine, "#privacy-status", "saved");
    await screenshot(mine, "8-discoverable-by-nobody");
    for (const query of ["hedy", "@hedy_l"]) {
      await typeSearch(theirs, query);
      expect((await results(theirs)).map((result) => result.userId)).not.toContain(me.id);
    }
    expect(await theirs.textContent("#search-status")).toBe("No one found for “@hedy_l”.");
    await screenshot(theirs, "9-not-found");

    // "My contacts": found again once the owner adds the searcher.
    await mine.selectOption("#discoverable-by", "contacts");
    await mine.click("#save-privacy");
    await waitForText(mine, "#privacy-status", "saved");
    await graphClient(server.baseUrl, await tokenFor(me.id)).addContact({
      userId: me.id,
      otherUserId: other.id,
    });
    await typeSearch(theirs, "hedy");
    expect((await results(theirs)).map((result) => result.userId)).toContain(me.id);
  });
});

describe("live cards", () => {
  /** Renames `user` through the API as themself. */
  async function rename(user: Person, displayName: string): Promise<void> {
    const api = grpcClient(server.baseUrl, await tokenFor(user.id));
    await api.updateProfile({ userId: user.id, displayName });
  }

  it("shows another user's new name and handle without reload, in results and contacts", async () => {
    // No handle yet: claiming one is allowed once a day, and the test claims it below.
    const frank = await person("Frank Lloyd");
    const viewer = await person("Viewer Two");
    await graphClient(server.baseUrl, await tokenFor(viewer.id)).addContact({
      userId: viewer.id,
      otherUserId: frank.id,
    });
    const page = await openPeople(viewer);
    await typeSearch(page, "frank");
    await cardOf(page, "#contacts", frank).waitFor();
    // The watch follows whoever is on screen: reopened once the results are in.
    await waitForText(page, "#people-live-status", /^live over/);

    await rename(frank, "Francis Lloyd");
    await waitForText(page, `#results .person[data-user-id="${frank.id}"] .name`, "Francis Lloyd");
    await waitForText(page, `#contacts .person[data-user-id="${frank.id}"] .name`, "Francis Lloyd");
    await grpcClient(server.baseUrl, await tokenFor(frank.id)).setHandle({
      userId: frank.id,
      handle: "francis",
    });
    await waitForText(page, `#results .person[data-user-id="${frank.id}"] .handle`, "@francis");
    await screenshot(page, "10-live-rename");
  });

  it("opens the watch again when it ends with UNAVAILABLE, and stays live", async () => {
    const subject = await person("Katherine Johnson", { handle: "kjohnson" });
    const page = await openPeople(await person("Viewer Three"));
    await typeSearch(page, "katherine");
    await waitForText(page, "#people-live-status", /^live over/);

    // Without its broker the instance cannot see every change: streams end UNAVAILABLE.
    await broker.stop();
    await waitForText(page, "#people-live-status", /^Unavailable: .*reconnecting/, 30_000);
    await broker.start();
    await until(() => server.service.profileFeed.live(), 30_000);
    await waitForText(page, "#people-live-status", /^live over/, 30_000);

    await rename(subject, "Katherine G. Johnson");
    await waitForText(
      page,
      `#results .person[data-user-id="${subject.id}"] .name`,
      "Katherine G. Johnson",
      30_000,
    );
  }, 120_000);
});
