// The service as browsers meet it, in headless Chromium (docs/transport.md "Browsers"): the example
// web client (examples/web/) served from an origin of its own against a real service on PostgreSQL
// and NATS, over Connect and gRPC-Web; CORS from an allowed and another origin; x-request-id both
// ways; Connect GET revalidated (304); live updates through WatchProfiles between two pages.
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ExampleServer, startExampleServer } from "../examples/web/server.js";
import { createRequestHandler } from "../src/transport/handler.js";
import { tokenFor } from "./support/auth.js";
import { browserArtifact, launchChromium, type TestBrowser } from "./support/browser.js";
import { useTestDatabase } from "./support/databases.js";
import { type PrivateNats, startNatsServer, until } from "./support/nats.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const fixture = useTestDatabase();
/** Every answer of the service: method, path and status, to see what the browser really sent. */
const answers: { method: string; path: string; status: number }[] = [];
let allowed: ExampleServer;
let other: ExampleServer;
let server: TestServer;
let browser: TestBrowser;
// A broker of the file's own, so that its instance takes no registration from tests/events.test.ts.
let broker: PrivateNats;

beforeAll(async () => {
  broker = await startNatsServer();
  // Test tokens: the example's "Get a development token" signs with the suite's secret.
  const mintToken = (userId: string) => tokenFor(userId);
  [allowed, other] = await Promise.all([
    startExampleServer({ port: 0, host: "127.0.0.1", mintToken }),
    startExampleServer({ port: 0, host: "127.0.0.1", mintToken }),
  ]);
  server = await startTestServer(
    fixture.database.handle,
    { corsAllowedOrigins: [allowed.origin] },
    {
      events: { natsUrl: broker.url, createStreams: true, outboxPollIntervalMs: 250 },
      requestHandler: (dependencies) => {
        const handler = createRequestHandler(dependencies);
        return (request, response) => {
          response.once("finish", () => {
            const [path = ""] = (request.url ?? "").split("?");
            answers.push({ method: request.method ?? "", path, status: response.statusCode });
          });
          handler(request, response);
        };
      },
    },
  );
  await until(() => server.service.profileFeed.live(), 20_000);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await Promise.all([allowed?.close(), other?.close()]);
  await broker?.dispose();
});

type Transport = "connect" | "grpc-web";

/** The example page from `origin`, signed in as `userId` with a token it fetched itself. */
async function openExample(
  origin: string,
  options: { userId: string; transport: Transport; watch?: string[] },
): Promise<Page> {
  const page = await browser.context.newPage();
  const query = new URLSearchParams({
    api: server.baseUrl,
    transport: options.transport,
    user: options.userId,
    ids: (options.watch ?? []).join(","),
  });
  await page.goto(`${origin}/?${query}`);
  await page.waitForSelector("body[data-ready]");
  await page.click("#get-token");
  // With its token the page loads your profile, which says something either way.
  await waitForText(page, "#my-status", /./);
  return page;
}

/** Waits until the element of `selector` shows `text` (exactly, or matching the pattern). */
function waitForText(page: Page, selector: string, text: string | RegExp, timeoutMs = 10_000) {
  const pattern =
    typeof text === "string"
      ? new RegExp(`^${text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")}$`)
      : text;
  return page.locator(selector).filter({ hasText: pattern }).waitFor({ timeout: timeoutMs });
}

const status = (page: Page) => page.textContent("#my-status");

/** Saves the form's name and waits for the answer. */
async function saveName(page: Page, name: string): Promise<void> {
  await page.fill("#my-name", name);
  await page.click("#save");
  await waitForText(page, "#my-status", /^(saved|Changed elsewhere.*|\w+: .*)$/);
}

/** Waits until the page's list shows `expected` as the name of `userId`. */
function shownWithin(page: Page, userId: string, expected: string, timeoutMs: number) {
  return waitForText(page, `#profiles li[data-user-id="${userId}"] .name`, expected, timeoutMs);
}

describe.each<Transport>(["connect", "grpc-web"])("the example over %s", (transport) => {
  it("creates, shows and lists a profile, with the request id readable", async () => {
    const userId = crypto.randomUUID();
    const page = await openExample(allowed.origin, { userId, transport });

    expect(await status(page)).toBe("no profile yet: save one");
    await saveName(page, `Ada ${transport}`);
    expect(await status(page)).toBe("saved");
    expect(await page.textContent("#my-etag")).toBe("etag v1");
    // The page sends its own x-request-id and reads the echo: both cross CORS.
    expect(await page.textContent("#last-request-id")).toMatch(/^web-[a-z0-9]+$/);

    await page.click("#show");
    await shownWithin(page, userId, `Ada ${transport}`, 10_000);
    await page.close();
  });
});

describe("CORS in the browser", () => {
  /** A POST to GetProfile from the page's own code: the status, or the error the browser gave. */
  async function getProfileFrom(page: Page, requestId: string) {
    return page.evaluate(
      async ([api, token, id]) => {
        try {
          const response = await fetch(`${api}/realchat.profile.v1.ProfileApi/GetProfile`, {
            method: "POST",
            headers: {
              "content-type": "application/json",
              authorization: `Bearer ${token}`,
              "x-request-id": id,
            },
            body: JSON.stringify({ userId: crypto.randomUUID() }),
          });
          return { status: response.status, requestId: response.headers.get("x-request-id") };
        } catch (error) {
          return { error: String(error) };
        }
      },
      [server.baseUrl, await tokenFor(crypto.randomUUID()), requestId] as const,
    );
  }

  it("lets the allowed origin's page send and read x-request-id", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${allowed.origin}/`);

    expect(await getProfileFrom(page, "page-sent-1")).toEqual({
      status: 404,
      requestId: "page-sent-1",
    });
    await page.close();
  });

  it("refuses the answer to another origin's page", async () => {
    const page = await browser.context.newPage();
    await page.goto(`${other.origin}/`);

    expect(await getProfileFrom(page, "page-sent-2")).toEqual({
      error: "TypeError: Failed to fetch",
    });
    await page.close();
  });

  it("leaves the example on another origin unable to call the service", async () => {
    const page = await openExample(other.origin, {
      userId: crypto.randomUUID(),
      transport: "connect",
    });

    expect(await status(page)).toMatch(/^(Unknown|Unavailable|Internal): /);
    await page.close();
  });
});

describe("Connect GET in the browser", () => {
  it("is answered 304 the second time: the browser revalidates with the entity tag", async () => {
    const userId = crypto.randomUUID();
    const page = await openExample(allowed.origin, { userId, transport: "connect" });
    await saveName(page, "Cached");
    const path = "/realchat.profile.v1.ProfileApi/BatchGetProfiles";
    const before = answers.length;

    await page.click("#show");
    await shownWithin(page, userId, "Cached", 10_000);
    await page.click("#show");
    await shownWithin(page, userId, "Cached", 10_000);

    const gets = answers.slice(before).filter((a) => a.method === "GET" && a.path === path);
    expect(gets.map((answer) => answer.status)).toEqual([200, 304]);
    await page.close();
  });
});

describe("live profiles in the browser", () => {
  it("shows an edit made in one page in the other within 1 s, and keeps a screenshot", async () => {
    const writer = crypto.randomUUID();
    const editor = await openExample(allowed.origin, { userId: writer, transport: "connect" });
    await saveName(editor, "Before");
    const viewer = await openExample(allowed.origin, {
      userId: crypto.randomUUID(),
      transport: "grpc-web",
      watch: [writer],
    });
    await viewer.click("#show");
    await shownWithin(viewer, writer, "Before", 10_000);
    await waitForText(viewer, "#live-status", /^live over/);

    await saveName(editor, "After, live");
    await shownWithin(viewer, writer, "After, live", 1000);

    const screenshot = await browserArtifact("example-live-update.png");
    await viewer.screenshot({ path: screenshot, fullPage: true });
    await Promise.all([editor.close(), viewer.close()]);
  });

  it("tells an editor whose profile changed elsewhere to reload", async () => {
    const userId = crypto.randomUUID();
    const first = await openExample(allowed.origin, { userId, transport: "connect" });
    await saveName(first, "First");
    const second = await openExample(allowed.origin, { userId, transport: "grpc-web" });
    await waitForText(second, "#my-etag", "etag v1");
    await second.fill("#my-bio", "typed while the other page saves");

    await saveName(first, "First, again");
    await second.click("#save");
    await waitForText(second, "#my-status", /elsewhere/);

    expect(await status(second)).toBe("Changed elsewhere: reload, then apply your edit again.");
    await second.click("#reload");
    await waitForText(second, "#my-status", "loaded");
    expect(await second.inputValue("#my-name")).toBe("First, again");
    await Promise.all([first.close(), second.close()]);
  });
});

describe("who sees what in the browser", () => {
  it("lets the owner choose audiences, and shows another user hidden fields as hidden, live", async () => {
    const owner = crypto.randomUUID();
    const ownerPage = await openExample(allowed.origin, { userId: owner, transport: "connect" });
    await ownerPage.fill("#my-bio", "Only for some");
    await saveName(ownerPage, "Private");
    await waitForText(ownerPage, "#privacy-etag", "etag v1");
    const viewer = await openExample(allowed.origin, {
      userId: crypto.randomUUID(),
      transport: "grpc-web",
      watch: [owner],
    });
    await viewer.click("#show");
    const bio = `#profiles li[data-user-id="${owner}"] .bio`;
    await waitForText(viewer, bio, "Only for some");
    await waitForText(viewer, "#live-status", /^live over/);

    await ownerPage.selectOption("#bio-audience", "nobody");
    await ownerPage.click("#save-privacy");
    await waitForText(ownerPage, "#privacy-status", "saved");
    expect(await ownerPage.textContent("#privacy-etag")).toBe("etag v2");
    await waitForText(viewer, bio, "bio hidden", 1000);
    expect(await viewer.getAttribute(bio, "class")).toContain("hidden");
    // The owner still sees their own bio.
    await ownerPage.click("#show");
    await waitForText(ownerPage, bio, "Only for some");

    await ownerPage.selectOption("#bio-audience", "everyone");
    await ownerPage.click("#save-privacy");
    await waitForText(viewer, bio, "Only for some", 1000);
    await viewer.screenshot({ path: await browserArtifact("example-privacy.png"), fullPage: true });
    await Promise.all([ownerPage.close(), viewer.close()]);
  });
});
