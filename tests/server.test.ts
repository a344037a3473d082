import http2 from "node:http2";
import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { adminToken } from "./support/auth.js";
import {
  answerOf,
  bearer,
  codeOf,
  grpcClient,
  grpcEnvelope,
  grpcRequestHeaders,
  transportsFor,
} from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { startTestServer, type TestServer } from "./support/test-server.js";
import { useTestCertificate } from "./support/tls.js";

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await database?.drop();
});

describe("closing the server", () => {
  it("returns at once while idle keep-alive connections of every protocol are open", async () => {
    const server = await startTestServer(database.db);
    for (const transport of Object.values(transportsFor(server.baseUrl))) {
      await createClient(ProfileApi, transport).batchGetProfiles({ userIds: [] });
    }

    // A grace period longer than the test's timeout: close must not wait for idle connections.
    await server.close(120_000);

    await expect(grpcClient(server.baseUrl).batchGetProfiles({ userIds: [] })).rejects.toThrow();
  });
});

describe("request bounds", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(database.db, { maxRequestBytes: 2048 });
  });
  afterAll(() => server.close());

  it("refuses a request message over MAX_REQUEST_BYTES with RESOURCE_EXHAUSTED", async () => {
    const call = grpcClient(server.baseUrl).updateProfile({
      userId: crypto.randomUUID(),
      bio: "x".repeat(4096),
    });

    expect(await codeOf(call)).toBe("ResourceExhausted");
  });

  it("accepts a request message under the limit", async () => {
    const call = grpcClient(server.baseUrl).updateProfile({
      userId: crypto.randomUUID(),
      bio: "x".repeat(400),
    });

    expect(await codeOf(call)).toBe("OK");
  });
});

describe("Connect GET for side-effect-free calls", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(database.db);
  });
  afterAll(() => server.close());

  it("serves GetProfile over HTTP GET, as browsers may cache it", async () => {
    const userId = crypto.randomUUID();
    await grpcClient(server.baseUrl).updateProfile({ userId, displayName: "Get" });
    const message = encodeURIComponent(JSON.stringify({ userId }));

    const response = await fetch(
      `${server.baseUrl}/realchat.profile.v1.ProfileApi/GetProfile?encoding=json&message=${message}`,
      { headers: { authorization: `Bearer ${adminToken}` } },
    );

    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ userId, displayName: "Get", avatarUrl: "" });
  });

  it("refuses UpdateProfile over HTTP GET", async () => {
    const message = encodeURIComponent(JSON.stringify({ userId: crypto.randomUUID() }));

    const response = await fetch(
      `${server.baseUrl}/realchat.profile.v1.ProfileApi/UpdateProfile?encoding=json&message=${message}`,
      { headers: { authorization: `Bearer ${adminToken}` } },
    );

    expect(response.status).toBe(405);
  });
});

describe("CORS", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(database.db, {
      corsAllowedOrigins: ["https://chat.example"],
    });
  });
  afterAll(() => server.close());

  const preflight = (origin: string) =>
    fetch(`${server.baseUrl}/realchat.profile.v1.ProfileApi/GetProfile`, {
      method: "OPTIONS",
      headers: {
        origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,connect-protocol-version,authorization",
      },
    });

  it("answers a preflight from an allowed origin", async () => {
    const response = await preflight("https://chat.example");

    expect(response.status).toBe(204);
    expect(response.headers.get("access-control-allow-origin")).toBe("https://chat.example");
    expect(response.headers.get("access-control-allow-headers")).toMatch(/authorization/i);
  });

  it("exposes the gRPC status headers to browser code", async () => {
    const response = await fetch(`${server.baseUrl}/realchat.profile.v1.ProfileApi/GetProfile`, {
      method: "POST",
      headers: {
        origin: "https://chat.example",
        "content-type": "application/json",
        authorization: `Bearer ${adminToken}`,
      },
      body: JSON.stringify({ userId: crypto.randomUUID() }),
    });

    expect(response.status).toBe(404);
    expect(response.headers.get("access-control-expose-headers")).toMatch(/grpc-status/i);
  });

  it("gives the CORS headers to a gRPC call over HTTP/2 that carries an Origin", async () => {
    const session = http2.connect(server.baseUrl);
    try {
      const stream = session.request({
        ...grpcRequestHeaders("/realchat.profile.v1.ProfileApi/BatchGetProfiles"),
        origin: "https://chat.example",
      });
      const answer = answerOf(stream);
      stream.end(grpcEnvelope(new Uint8Array()));
      const { header, trailer } = await answer;

      expect(trailer["grpc-status"]).toBe("0");
      expect(header["access-control-allow-origin"]).toBe("https://chat.example");
      expect(header["access-control-expose-headers"]).toMatch(/grpc-status/i);
    } finally {
      session.close();
    }
  });

  it("gives no CORS grant to another origin", async () => {
    const response = await preflight("https://evil.example");

    expect(response.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("TLS", () => {
  const certificate = useTestCertificate();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(database.db, {}, { tls: certificate.files });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    [
      "gRPC over h2",
      () =>
        createGrpcTransport({
          baseUrl: server.baseUrl,
          nodeOptions: { ca: certificate.ca },
          interceptors: bearer(adminToken),
        }),
    ],
    [
      "Connect over HTTP/1.1",
      () =>
        createConnectTransport({
          baseUrl: server.baseUrl,
          httpVersion: "1.1",
          nodeOptions: { ca: certificate.ca },
          interceptors: bearer(adminToken),
        }),
    ],
    [
      "gRPC-Web over HTTP/1.1",
      () =>
        createGrpcWebTransport({
          baseUrl: server.baseUrl,
          httpVersion: "1.1",
          nodeOptions: { ca: certificate.ca },
          interceptors: bearer(adminToken),
        }),
    ],
  ])("serves %s on the same TLS port", async (_, transport) => {
    const userId = crypto.randomUUID();

    const profile = await createClient(ProfileApi, transport()).updateProfile({
      userId,
      displayName: "Over TLS",
    });

    expect(profile.displayName).toBe("Over TLS");
  });

  it("negotiates h2 by ALPN", async () => {
    const session = http2.connect(server.baseUrl, { ca: certificate.ca });
    const protocol = await new Promise<string | undefined>((resolve, reject) => {
      session.once("connect", () => resolve(session.alpnProtocol));
      session.once("error", reject);
    });
    session.close();

    expect(protocol).toBe("h2");
  });
});
