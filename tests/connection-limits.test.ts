import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConnectionConfig } from "../src/config/config.js";
import type { ServerOptions } from "../src/transport/server.js";
import { adminToken } from "./support/auth.js";
import { grpcRequestHeaders } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { connectRawHttp2, errorCodeOf, frameType } from "./support/raw-http2.js";
import { startTestServer, type TestServer } from "./support/test-server.js";
import { useTestCertificate } from "./support/tls.js";

// Short limits, so that a stalled connection is told from a closed one within a test; every
// timing assertion below is a generous "not stalled" bound, many times the limit.
const limits: Partial<ConnectionConfig> = {
  headersTimeoutMs: 500,
  http1RequestTimeoutMs: 1000,
  http1KeepAliveTimeoutMs: 300,
  http2IdleTimeoutMs: 500,
  http2MaxConcurrentStreams: 5,
  maxConnections: 12,
};
/** How long a connection may take to be closed before it counts as never closed. */
const closedWithinMs = 4000;

const watchPath = "/grpc.health.v1.Health/Watch";
/** A gRPC message frame holding an empty HealthCheckRequest (all services). */
const emptyGrpcMessage = Buffer.alloc(5);

let database: TestDatabase;
let server: TestServer;

beforeAll(async () => {
  database = await createTestDatabase();
  server = await startTestServer(database.db, {}, { limits });
});

afterAll(async () => {
  await server?.close();
  await database?.drop();
});

/** Opens a plain socket, sends `bytes`, and says after how long the server closed it. */
async function msUntilClosed(socket: net.Socket | tls.TLSSocket, bytes?: string): Promise<number> {
  const started = Date.now();
  socket.on("error", () => {});
  socket.resume();
  if (bytes !== undefined) socket.write(bytes);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after ${closedWithinMs} ms`));
    }, closedWithinMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

function connected(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Says what the server answers to a stalled request, and when it closed the connection. */
async function answerToStalledRequest(socket: net.Socket | tls.TLSSocket, bytes: string) {
  let answer = "";
  socket.on("data", (chunk: Buffer) => {
    answer += chunk.toString("latin1");
  });
  await msUntilClosed(socket, bytes);
  return answer;
}

/** Opens a health watch of all services on `session`, sending no token. */
function openWatch(session: http2.ClientHttp2Session): http2.ClientHttp2Stream {
  const stream = session.request(grpcRequestHeaders(watchPath, null));
  stream.end(emptyGrpcMessage);
  return stream;
}

/** The SETTINGS the server at `baseUrl` advertises to a new HTTP/2 connection. */
async function advertisedSettings(
  baseUrl: string,
  options: http2.SecureClientSessionOptions = {},
): Promise<http2.Settings> {
  const session = http2.connect(baseUrl, options);
  try {
    return await new Promise<http2.Settings>((resolve, reject) => {
      session.once("remoteSettings", resolve);
      session.once("error", reject);
    });
  } finally {
    session.close();
  }
}

/** An HTTP/2 connection kept busy (so never idle) by an open health watch. */
async function sessionWithWatch(
  baseUrl: string,
  options: http2.SecureClientSessionOptions = {},
): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(baseUrl, options);
  session.on("error", () => {});
  const stream = openWatch(session);
  stream.on("error", () => {});
  await new Promise((resolve, reject) => {
    stream.once("data", resolve);
    stream.once("close", () => reject(new Error(`watch closed: ${stream.rstCode}`)));
  });
  return session;
}

/** The body of a GET over an open session. */
function bodyOf(session: http2.ClientHttp2Session | undefined, path: string): Promise<string> {
  if (session === undefined) throw new Error("no session");
  const stream = session.request({ ":path": path });
  stream.setEncoding("utf8");
  let body = "";
  stream.on("data", (chunk: string) => {
    body += chunk;
  });
  return new Promise((resolve, reject) => {
    stream.once("end", () => resolve(body));
    stream.once("error", reject);
  });
}

function statusOf(session: http2.ClientHttp2Session | undefined, path: string): Promise<number> {
  if (session === undefined) throw new Error("no session");
  const stream = session.request({ ":path": path });
  stream.resume();
  return new Promise((resolve, reject) => {
    stream.once("response", (headers) => resolve(Number(headers[":status"])));
    stream.once("error", reject);
  });
}

describe("HTTP/1.1 timeouts on the one-port server", () => {
  it("answers 408 and closes a connection that sent 'G' and nothing more", async () => {
    const answer = await answerToStalledRequest(await connected(server.port), "G");

    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("closes a request whose body never ends, after the request timeout", async () => {
    const answer = await answerToStalledRequest(
      await connected(server.port),
      "POST /realchat.profile.v1.ProfileApi/GetProfile HTTP/1.1\r\nHost: x\r\n" +
        `Authorization: Bearer ${adminToken}\r\n` +
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );

    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("closes a connection that sends nothing at all", async () => {
    await expect(msUntilClosed(await connected(server.port))).resolves.toBeLessThan(closedWithinMs);
  });

  it("closes an idle keep-alive connection after the keep-alive timeout", async () => {
    const socket = await connected(server.port);
    let answered = false;
    socket.once("data", () => {
      answered = true;
    });

    await msUntilClosed(socket, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");

    expect(answered).toBe(true);
  });
});

describe("HTTP/2 stream cap", () => {
  it("advertises SETTINGS_MAX_CONCURRENT_STREAMS", async () => {
    const settings = await advertisedSettings(server.baseUrl);

    expect(settings.maxConcurrentStreams).toBe(5);
  });

  it("refuses health watches beyond the cap with REFUSED_STREAM, serving the others", async () => {
    // Node's client sends all of them before the server's SETTINGS arrives, as any client may.
    const session = http2.connect(server.baseUrl, { peerMaxConcurrentStreams: 1000 });
    session.on("error", () => {});
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () => {
        const stream = openWatch(session);
        stream.on("error", () => {});
        return new Promise<string>((resolve) => {
          stream.once("data", () => resolve("served"));
          stream.once("close", () => resolve(`reset ${stream.rstCode}`));
        });
      }),
    );
    session.destroy();

    expect(outcomes.filter((outcome) => outcome === "served")).toHaveLength(5);
    expect(
      outcomes.filter((outcome) => outcome === `reset ${http2.constants.NGHTTP2_REFUSED_STREAM}`),
    ).toHaveLength(15);
  });

  it("closes a connection that opens unfinished streams beyond the cap it acknowledged", async () => {
    const connection = await connectRawHttp2(server.port);
    for (let i = 0; i < 50; i++) {
      connection.headers(1 + 2 * i, {
        ":scheme": "http",
        ":authority": "127.0.0.1",
        ...grpcRequestHeaders("/realchat.profile.v1.ProfileApi/UpdateProfile", null),
      });
      connection.data(1 + 2 * i, Buffer.from([0, 0, 0, 0x10, 0]));
    }

    const goaway = await connection.waitFor((frame) => frame.type === frameType.goaway);
    connection.close();

    expect(errorCodeOf(goaway)).toBe(http2.constants.NGHTTP2_PROTOCOL_ERROR);
    // The last stream the server took is within the cap: streams 1, 3, 5, 7, 9.
    expect(goaway.payload.readUInt32BE(0)).toBeLessThanOrEqual(9);
  });
  it("resets a stream whose header block is over 16 KiB, as HTTP/1.1 refuses it", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => {});
    await new Promise((resolve) => session.once("remoteSettings", resolve));
    // Let the acknowledgement of the server's SETTINGS reach it: only then does the bound hold.
    await statusOf(session, "/healthz");

    const stream = session.request({ ":path": "/healthz", "x-padding": "a".repeat(17 * 1024) });
    stream.on("error", () => {});
    stream.resume();
    const outcome = await new Promise<string>((resolve) => {
      stream.once("response", (headers) => resolve(`status ${headers[":status"]}`));
      stream.once("close", () => resolve(`reset ${stream.rstCode}`));
    });
    session.destroy();

    expect(outcome).toBe(`reset ${http2.constants.NGHTTP2_ENHANCE_YOUR_CALM}`);
  });
});

describe("HTTP/2 connection bounds", () => {
  it("sends GOAWAY on a connection left idle without streams", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => {});
    const goaway = new Promise<number | "none">((resolve) => {
      session.once("goaway", resolve);
      session.once("close", () => resolve("none"));
    });
    const timer = setTimeout(() => session.destroy(), closedWithinMs);

    const code = await goaway;
    clearTimeout(timer);
    session.destroy();

    expect(code).toBe(http2.constants.NGHTTP2_NO_ERROR);
  });

  it("keeps an idle connection while a health watch is open on it", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => {});
    let goaway = false;
    session.once("goaway", () => {
      goaway = true;
    });
    const stream = openWatch(session);
    await new Promise((resolve) => stream.once("data", resolve));

    await new Promise((resolve) => setTimeout(resolve, 4 * (limits.http2IdleTimeoutMs ?? 0)));
    session.destroy();

    expect(goaway).toBe(false);
  });

  it("sends GOAWAY to a client that resets streams as fast as it opens them", async () => {
    const session = http2.connect(server.baseUrl);
    session.on("error", () => {});
    await new Promise((resolve) => session.once("connect", resolve));
    let lastStreamTaken: number | undefined;
    session.once("goaway", (_code: number, lastStreamId: number) => {
      lastStreamTaken = lastStreamId;
    });
    // Bounded: nghttp2's own brake (1000 resets in a burst) stops a client well before this.
    for (let opened = 0; lastStreamTaken === undefined && !session.destroyed && opened < 3000; ) {
      for (let i = 0; i < 20 && !session.destroyed; i++, opened++) {
        const stream = session.request(
          grpcRequestHeaders("/realchat.profile.v1.ProfileApi/GetProfile", null),
        );
        stream.on("error", () => {});
        stream.write(Buffer.from([0, 0, 0, 0, 2, 0x0a]));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    session.destroy();

    // Client streams have odd ids: the server took fewer than 500 of them.
    expect(lastStreamTaken).toBeLessThan(1000);
  });
});

describe("connection cap", () => {
  it("closes connections beyond MAX_CONNECTIONS unanswered and keeps serving the open ones", async () => {
    // A server of its own: until it has seen them close, the connections this test fills it
    // with would refuse the next test's.
    const capped = await startTestServer(database.db, {}, { limits });
    try {
      const held = await Promise.all(
        Array.from({ length: limits.maxConnections ?? 0 }, () => sessionWithWatch(capped.baseUrl)),
      );

      const refused = await answerToStalledRequest(
        await connected(capped.port),
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
      );
      const status = await statusOf(held[0], "/healthz");
      const metrics = await bodyOf(held[0], "/metrics");
      for (const session of held) session.destroy();

      expect(refused).toBe("");
      expect(status).toBe(200);
      // Operators see refusals: the listener's 'drop' events are counted.
      expect(metrics).toMatch(/^profile_connections_refused_total 1$/m);
    } finally {
      await capped.close();
    }
  });
});

describe("TLS port", () => {
  const certificate = useTestCertificate();
  let tlsServer: TestServer;
  let tlsOptions: ServerOptions;
  beforeAll(async () => {
    tlsOptions = { tls: certificate.files, limits };
    tlsServer = await startTestServer(database.db, {}, tlsOptions);
  });
  afterAll(async () => {
    await tlsServer?.close();
  });

  const tlsConnected = (alpn: string, port = tlsServer.port) =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect(
        { port, host: "127.0.0.1", ca: certificate.ca, ALPNProtocols: [alpn] },
        () => resolve(socket),
      );
      socket.once("error", reject);
    });

  it("answers 408 and closes an HTTP/1.1 connection that sent 'G' and nothing more", async () => {
    const answer = await answerToStalledRequest(await tlsConnected("http/1.1"), "G");

    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("closes a connection that never finishes the TLS handshake", async () => {
    await expect(msUntilClosed(await connected(tlsServer.port))).resolves.toBeLessThan(
      closedWithinMs,
    );
  });

  it("advertises the stream cap over h2", async () => {
    const settings = await advertisedSettings(tlsServer.baseUrl, { ca: certificate.ca });

    expect(settings.maxConcurrentStreams).toBe(5);
  });

  it("closes an idle keep-alive HTTP/1.1 connection", async () => {
    const socket = await tlsConnected("http/1.1");

    await expect(
      msUntilClosed(socket, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
    ).resolves.toBeLessThan(closedWithinMs);
  });

  it("closes connections beyond MAX_CONNECTIONS before the handshake", async () => {
    // A server of its own, as for the plain port's cap.
    const capped = await startTestServer(database.db, {}, tlsOptions);
    try {
      const held = await Promise.all(
        Array.from({ length: limits.maxConnections ?? 0 }, () =>
          sessionWithWatch(capped.baseUrl, { ca: certificate.ca }),
        ),
      );

      const refused = tlsConnected("http/1.1", capped.port);
      await expect(refused).rejects.toThrow();
      const status = await statusOf(held[0], "/healthz");
      for (const session of held) session.destroy();

      expect(status).toBe(200);
    } finally {
      await capped.close();
    }
  });
});
