// Browser-grade HTTP (docs/transport.md "Browsers"): x-request-id crosses CORS both ways, Connect
// GET answers carry an entity tag and are revalidated with If-None-Match (304, no body), and in
// development mode the example web client's origin gets CORS grants with no setting.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadOrCreateDevelopmentSecret } from "../src/auth/development-secret.js";
import { signHs256Token } from "../src/auth/token-signer.js";
import { compose } from "../src/compose.js";
import { exampleWebOrigins } from "../src/config/config.js";
import { loadConfig } from "../src/config/load-config.js";
import { type Listening, listen } from "../src/transport/listen.js";
import { adminToken } from "./support/auth.js";
import { grpcClient } from "./support/clients.js";
import { silentLogger, useTestDatabase } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

const allowedOrigin = "https://chat.example";
const fixture = useTestDatabase();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer(fixture.database.db, { corsAllowedOrigins: [allowedOrigin] });
});
afterAll(() => server.close());

const api = (method: string) => `${server.baseUrl}/realchat.profile.v1.ProfileApi/${method}`;

/** A Connect GET of `method` with `message` (JSON), sending `headers` besides the token. */
function connectGet(method: string, message: object, headers: Record<string, string> = {}) {
  const query = new URLSearchParams({ encoding: "json", message: JSON.stringify(message) });
  return fetch(`${api(method)}?${query}`, {
    headers: { authorization: `Bearer ${adminToken}`, ...headers },
  });
}

async function storedProfile(displayName = "Etag"): Promise<string> {
  const userId = crypto.randomUUID();
  await grpcClient(server.baseUrl).updateProfile({ userId, displayName });
  return userId;
}

describe("x-request-id across CORS", () => {
  it("lets a page of an allowed origin send it (preflight)", async () => {
    const response = await fetch(api("GetProfile"), {
      method: "OPTIONS",
      headers: {
        origin: allowedOrigin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type,x-request-id",
      },
    });

    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-headers")).toMatch(/(^|,)x-request-id(,|$)/i);
  });

  it("lets a page of an allowed origin read it, and the entity tag", async () => {
    const response = await fetch(api("GetProfile"), {
      method: "POST",
      headers: {
        origin: allowedOrigin,
        "content-type": "application/json",
        authorization: `Bearer ${adminToken}`,
        "x-request-id": "page-7",
      },
      body: JSON.stringify({ userId: await storedProfile() }),
    });

    expect(response.headers.get("x-request-id")).toBe("page-7");
    const exposed = response.headers.get("access-control-expose-headers")?.toLowerCase() ?? "";
    expect(exposed.split(",")).toEqual(expect.arrayContaining(["x-request-id", "etag"]));
  });
});

describe("Connect GET revalidation", () => {
  it("tags GetProfile with its version, private and revalidated before each use", async () => {
    const response = await connectGet("GetProfile", { userId: await storedProfile() });

    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).toMatch(/^W\/"[\w-]+"$/);
    expect(response.headers.get("cache-control")).toBe("private, no-cache");
  });

  it("answers a matching If-None-Match with 304 and no body, then 200 once the profile changed", async () => {
    const userId = await storedProfile();
    const first = await connectGet("GetProfile", { userId });
    const etag = first.headers.get("etag") ?? "";

    const again = await connectGet("GetProfile", { userId }, { "if-none-match": etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    expect(again.headers.get("x-request-id")).not.toBeNull();

    await grpcClient(server.baseUrl).updateProfile({ userId, bio: "changed" });
    const changed = await connectGet("GetProfile", { userId }, { "if-none-match": etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(etag);
    expect(await changed.json()).toMatchObject({ userId, bio: "changed" });
  });

  it("answers 200 with the body when If-None-Match names another tag", async () => {
    const userId = await storedProfile();

    const response = await connectGet("GetProfile", { userId }, { "if-none-match": 'W/"other"' });

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ userId });
  });

  it("tags BatchGetProfiles from every version: a change or a new profile gives a new tag", async () => {
    const [first, second, later] = [
      await storedProfile(),
      await storedProfile(),
      crypto.randomUUID(),
    ];
    const request = { userIds: [first, second, later] };
    const etagNow = async () => {
      const response = await connectGet("BatchGetProfiles", request);
      expect(response.headers.get("cache-control")).toBe("private, no-cache");
      return response.headers.get("etag") ?? "";
    };
    const initial = await etagNow();

    const unchanged = await connectGet("BatchGetProfiles", request, { "if-none-match": initial });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe("");

    await grpcClient(server.baseUrl).updateProfile({ userId: second, bio: "new" });
    const afterChange = await etagNow();
    await grpcClient(server.baseUrl).updateProfile({ userId: later, displayName: "Late" });
    const afterCreation = await etagNow();
    expect(new Set([initial, afterChange, afterCreation]).size).toBe(3);
  });

  it("gives POST answers no entity tag: only GET answers are revalidated", async () => {
    const response = await fetch(api("GetProfile"), {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${adminToken}` },
      body: JSON.stringify({ userId: await storedProfile() }),
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("etag")).toBeNull();
  });

  it("checks the token before answering 304", async () => {
    const userId = await storedProfile();
    const etag = (await connectGet("GetProfile", { userId })).headers.get("etag") ?? "";

    const response = await connectGet(
      "GetProfile",
      { userId },
      { authorization: "Bearer not-a-token", "if-none-match": etag },
    );

    expect(response.status).toBe(401);
  });
});

describe("development mode (embedded PGlite, no JWT settings)", () => {
  let dataDir: string;
  let service: Listening;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "dev-cors-"));
    const config = loadConfig({ DATA_DIR: dataDir, PORT: "0", HOST: "127.0.0.1" });
    service = await listen(await compose(config, { logger: silentLogger }), config);
  }, 120_000);
  afterAll(async () => {
    await service?.stop(1000);
    await rm(dataDir, { recursive: true, force: true });
  });

  it.each(exampleWebOrigins)(
    "serves the example web client's origin %s with no setting",
    async (origin) => {
      const token = await signHs256Token({
        secret: await loadOrCreateDevelopmentSecret(dataDir),
        subject: crypto.randomUUID(),
        scopes: [],
        issuer: "realchat-auth",
        audience: "realchat-clients",
        expiresIn: "5m",
      });
      const url = `http://127.0.0.1:${service.address.port}/realchat.profile.v1.ProfileApi/BatchGetProfiles`;
      const preflight = await fetch(url, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization,content-type,x-request-id",
        },
      });
      const call = await fetch(url, {
        method: "POST",
        headers: { origin, "content-type": "application/json", authorization: `Bearer ${token}` },
        body: "{}",
      });

      expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
      expect(call.status).toBe(200);
      expect(call.headers.get("access-control-allow-origin")).toBe(origin);
    },
  );

  it("gives another origin no grant", async () => {
    const response = await fetch(`http://127.0.0.1:${service.address.port}/healthz`, {
      headers: { origin: "http://localhost:9999" },
    });

    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});
