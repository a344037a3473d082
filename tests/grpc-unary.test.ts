import http2 from "node:http2";
import { gunzipSync, gzipSync } from "node:zlib";
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckRequestSchema } from "../gen/health/v1/health_pb.js";
import {
  BatchGetProfilesRequestSchema,
  BatchGetProfilesResponseSchema,
  GetProfileRequestSchema,
  UpdateProfileRequestSchema,
} from "../gen/realchat/profile/v1/profile_api_pb.js";
import { createRpcHandlers, type RpcHandlers } from "../src/transport/handler.js";
import type { RequestHandler } from "../src/transport/server.js";
import { adminToken } from "./support/auth.js";
import {
  answerOf,
  grpcEnvelope as envelope,
  grpcClient,
  grpcRequestHeaders,
  type RawAnswer,
} from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { metricValue } from "./support/metrics.js";
import { until } from "./support/nats.js";
import { holdProfileLock } from "./support/row-lock.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

// The direct unary gRPC path (src/transport/connect-internals/grpc-unary.ts) must answer every request exactly as
// Connect's gRPC handler does. Each case goes, byte for byte, to a server with only the direct path
// (anything it declines gets a bare 404) and to one with only Connect's handler; the answers are
// compared whole, and checked against what gRPC asks.

const maxRequestBytes = 4096;
let database: TestDatabase;
let direct: TestServer;
let connect: TestServer;
const storedUser = crypto.randomUUID();
const unknownUser = crypto.randomUUID();

function startWith(handler: (handlers: RpcHandlers) => RequestHandler) {
  return startTestServer(
    database.db,
    { maxRequestBytes },
    { requestHandler: (dependencies) => handler(createRpcHandlers(dependencies)) },
  );
}

beforeAll(async () => {
  database = await createTestDatabase();
  const notFound: RequestHandler = (_, response) => {
    response.statusCode = 404;
    response.end();
  };
  direct = await startWith(({ grpcUnary }) => Object.assign(notFound, { http2Stream: grpcUnary }));
  connect = await startWith(({ connect }) => connect);
  await grpcClient(connect.baseUrl).updateProfile({ userId: storedUser, displayName: "Ada" });
});

afterAll(async () => {
  await direct?.close();
  await connect?.close();
  await database?.drop();
});

/** One gRPC request as bytes on a fresh HTTP/2 connection; the answer as it came. */
async function send(
  server: TestServer,
  path: string,
  body: Buffer | readonly Buffer[],
  header: Record<string, string> = {},
): Promise<RawAnswer> {
  const session = http2.connect(server.baseUrl);
  try {
    const stream = session.request({
      ...grpcRequestHeaders(path, null),
      "x-request-id": "parity",
      ...header,
    });
    const answer = answerOf(stream);
    // Pieces go out as separate DATA frames, a turn of the event loop apart.
    const pieces = Buffer.isBuffer(body) ? [body] : body;
    const writeFrom = (index: number) => {
      if (index === pieces.length - 1) stream.end(pieces[index]);
      else stream.write(pieces[index], () => setImmediate(() => writeFrom(index + 1)));
    };
    writeFrom(0);
    return await answer;
  } finally {
    session.close();
  }
}

function encoded<Desc extends DescMessage>(schema: Desc, init: MessageInitShape<Desc>) {
  return toBinary(schema, create(schema, init));
}

/** The gRPC status of an answer, from its trailers (or its headers, for a trailers-only one). */
function grpcStatusOf(answer: RawAnswer): number {
  return Number(answer.trailer["grpc-status"] ?? answer.header["grpc-status"]);
}

const checkPath = "/grpc.health.v1.Health/Check";
const api = "/realchat.profile.v1.ProfileApi";
const auth = { authorization: `Bearer ${adminToken}` };
const getStored = encoded(GetProfileRequestSchema, { userId: storedUser });

const cases: ReadonlyArray<{
  readonly name: string;
  readonly path: string;
  readonly body: () => Buffer | readonly Buffer[];
  readonly header?: Record<string, string>;
  readonly grpcStatus: number;
  /** The status message, where it must be generic: no parser or zlib text. */
  readonly grpcMessage?: string;
}> = [
  {
    name: "a trivial call",
    path: checkPath,
    body: () => envelope(encoded(HealthCheckRequestSchema, {})),
    grpcStatus: 0,
  },
  {
    name: "a stored profile",
    path: `${api}/GetProfile`,
    body: () => envelope(getStored),
    header: auth,
    grpcStatus: 0,
  },
  {
    name: "a call without a token",
    path: `${api}/GetProfile`,
    body: () => envelope(getStored),
    grpcStatus: 16,
  },
  {
    name: "a malformed user id, with BadRequest details",
    path: `${api}/GetProfile`,
    body: () => envelope(encoded(GetProfileRequestSchema, { userId: "nope" })),
    header: auth,
    grpcStatus: 3,
  },
  {
    name: "an unknown user",
    path: `${api}/GetProfile`,
    body: () => envelope(encoded(GetProfileRequestSchema, { userId: unknownUser })),
    header: auth,
    grpcStatus: 5,
  },
  {
    name: "a message split across DATA frames, its length prefix too",
    path: `${api}/GetProfile`,
    body: () => {
      const whole = envelope(getStored);
      return [whole.subarray(0, 2), whole.subarray(2, 7), whole.subarray(7)];
    },
    header: auth,
    grpcStatus: 0,
  },
  {
    name: "a gzip-compressed request",
    path: `${api}/GetProfile`,
    body: () => envelope(gzipSync(getStored), 1),
    header: { ...auth, "grpc-encoding": "gzip" },
    grpcStatus: 0,
  },
  {
    name: "a compressed message without grpc-encoding",
    path: `${api}/GetProfile`,
    body: () => envelope(gzipSync(getStored), 1),
    header: auth,
    grpcStatus: 13,
  },
  {
    name: "an unsupported grpc-encoding",
    path: `${api}/GetProfile`,
    body: () => envelope(getStored),
    header: { ...auth, "grpc-encoding": "snappy" },
    grpcStatus: 12,
  },
  {
    name: "a malformed grpc-timeout",
    path: `${api}/GetProfile`,
    body: () => envelope(getStored),
    header: { ...auth, "grpc-timeout": "soon" },
    grpcStatus: 3,
  },
  {
    name: "a generous grpc-timeout",
    path: `${api}/GetProfile`,
    body: () => envelope(getStored),
    header: { ...auth, "grpc-timeout": "5S" },
    grpcStatus: 0,
  },
  {
    name: "no message at all",
    path: `${api}/GetProfile`,
    body: () => Buffer.alloc(0),
    header: auth,
    grpcStatus: 12,
  },
  {
    name: "a cut envelope prefix",
    path: `${api}/GetProfile`,
    body: () => Buffer.from([0, 0, 0]),
    header: auth,
    grpcStatus: 3,
  },
  {
    name: "a message shorter than its prefix says",
    path: `${api}/GetProfile`,
    body: () => envelope(getStored, 0, getStored.length + 10),
    header: auth,
    grpcStatus: 3,
  },
  {
    name: "two messages for a unary method",
    path: `${api}/GetProfile`,
    body: () => Buffer.concat([envelope(getStored), envelope(getStored)]),
    header: auth,
    grpcStatus: 12,
  },
  {
    name: "a message over MAX_REQUEST_BYTES",
    path: `${api}/UpdateProfile`,
    body: () =>
      envelope(encoded(UpdateProfileRequestSchema, { userId: storedUser, bio: "x".repeat(5000) })),
    header: auth,
    grpcStatus: 8,
  },
  {
    // INVALID_ARGUMENT with no parser text, as connect-go answers a request it cannot unmarshal.
    name: "bytes that are not the request message",
    path: `${api}/GetProfile`,
    body: () => envelope(Buffer.from([0xff, 0xff, 0xff, 0xff])),
    header: auth,
    grpcStatus: 3,
    grpcMessage: "invalid message: cannot decode protobuf binary",
  },
  {
    name: "invalid UTF-8 in a string field",
    path: `${api}/GetProfile`,
    body: () => envelope(Buffer.from([0x0a, 0x02, 0xc3, 0x28])),
    header: auth,
    grpcStatus: 3,
    grpcMessage: "invalid message: cannot decode protobuf binary",
  },
  {
    name: "a truncated varint",
    path: `${api}/GetProfile`,
    body: () => envelope(Buffer.from([0x08, 0xff])),
    header: auth,
    grpcStatus: 3,
    grpcMessage: "invalid message: cannot decode protobuf binary",
  },
  {
    // INTERNAL: gRPC's status code table, "Could not decompress, but compression algorithm
    // supported", without zlib's words.
    name: "truncated gzip",
    path: `${api}/GetProfile`,
    body: () => envelope(gzipSync(getStored).subarray(0, 12), 1),
    header: { ...auth, "grpc-encoding": "gzip" },
    grpcStatus: 13,
    grpcMessage: "decompression failed",
  },
  {
    name: "an unsupported grpc-encoding without a token: the gate answers first",
    path: `${api}/GetProfile`,
    body: () => envelope(getStored),
    header: { "grpc-encoding": "snappy" },
    grpcStatus: 16,
  },
];

describe("the direct unary gRPC path answers as Connect's gRPC handler does", () => {
  it.each(cases)("$name", async ({ path, body, header, grpcStatus, grpcMessage }) => {
    const fromDirect = await send(direct, path, body(), header);
    const fromConnect = await send(connect, path, body(), header);

    expect(fromDirect).toEqual(fromConnect);
    expect(fromDirect.status).toBe(200);
    expect(fromDirect.header["content-type"]).toBe("application/grpc+proto");
    expect(grpcStatusOf(fromDirect)).toBe(grpcStatus);
    if (grpcMessage !== undefined) {
      expect(decodeURIComponent(fromDirect.trailer["grpc-message"] ?? "")).toBe(grpcMessage);
    }
  });

  it("compresses a large answer when the client accepts gzip, as Connect does", async () => {
    const userIds = Array.from({ length: 100 }, () => crypto.randomUUID());
    const body = envelope(encoded(BatchGetProfilesRequestSchema, { userIds }));
    const header = { ...auth, "grpc-accept-encoding": "gzip" };

    const fromDirect = await send(direct, `${api}/BatchGetProfiles`, body, header);
    const fromConnect = await send(connect, `${api}/BatchGetProfiles`, body, header);

    expect(fromDirect).toEqual(fromConnect);
    expect(fromDirect.header["grpc-encoding"]).toBe("gzip");
    expect(fromDirect.body[0]).toBe(1);
    const answer = fromBinary(
      BatchGetProfilesResponseSchema,
      gunzipSync(fromDirect.body.subarray(5)),
    );
    expect(answer.missingUserIds).toEqual(userIds);
  });

  it("declines what is not a unary gRPC call with binary messages, for Connect to serve", async () => {
    const declined: ReadonlyArray<{ path: string; header: Record<string, string> }> = [
      { path: `${api}/GetProfile`, header: { "content-type": "application/grpc+json" } },
      { path: `${api}/GetProfile`, header: { "content-type": "application/grpc-web+proto" } },
      { path: `${api}/GetProfile`, header: { "content-type": "application/proto" } },
      { path: "/grpc.health.v1.Health/Watch", header: {} },
      { path: `${api}/NoSuchMethod`, header: {} },
    ];
    for (const { path, header } of declined) {
      const answer = await send(direct, path, envelope(getStored), { ...auth, ...header });
      expect(answer.status, `${path} ${JSON.stringify(header)}`).toBe(404);
    }
    const viaConnect = await send(
      connect,
      `${api}/GetProfile`,
      envelope(Buffer.from(`{"userId":"${storedUser}"}`)),
      {
        ...auth,
        "content-type": "application/grpc+json",
      },
    );
    expect(grpcStatusOf(viaConnect)).toBe(0);
  });
});

describe("a client that goes away during a call", () => {
  it("aborts the call on the server, which counts it as CANCELLED", async () => {
    if (database.config.kind !== "postgres") throw new Error("needs PostgreSQL");
    const release = await holdProfileLock(database.config.url, storedUser);
    try {
      for (const server of [direct, connect]) {
        const before = await canceledUpdates(server);
        const session = http2.connect(server.baseUrl);
        const stream = session.request(grpcRequestHeaders(`${api}/UpdateProfile`));
        stream.end(envelope(encoded(UpdateProfileRequestSchema, { userId: storedUser, bio: "b" })));
        // The call is now blocked on the row lock; the client resets the stream.
        await new Promise((resolve) => setTimeout(resolve, 200));
        stream.close(http2.constants.NGHTTP2_CANCEL);
        await until(async () => (await canceledUpdates(server)) === before + 1);
        session.close();
      }
    } finally {
      await release();
    }
  });
});

function canceledUpdates(server: TestServer): Promise<number> {
  return metricValue(server.service.metrics, "profile_rpc_requests_total", {
    procedure: "realchat.profile.v1.ProfileApi/UpdateProfile",
    code: "Canceled",
  });
}
