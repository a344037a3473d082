// Bytes a client sends that are not a request (issue 10, item 7): undecodable protobuf or JSON is
// the client's fault, INVALID_ARGUMENT with a generic message; a message that does not decompress
// takes gRPC's INTERNAL on gRPC and INVALID_ARGUMENT on Connect; and each such call is logged and
// counted like any other.
import http2 from "node:http2";
import { gzipSync } from "node:zlib";
import { create, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckRequestSchema } from "../gen/health/v1/health_pb.js";
import {
  BatchGetProfilesRequestSchema,
  GetProfileRequestSchema,
  UpdateProfileRequestSchema,
} from "../gen/realchat/profile/v1/profile_api_pb.js";
import type { Metrics } from "../src/ops/metrics.js";
import { adminToken } from "./support/auth.js";
import { answerOf, grpcEnvelope as envelope, grpcRequestHeaders } from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { until } from "./support/nats.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

let database: TestDatabase;
let server: TestServer;
let metrics: Metrics;
/** The server's log, one parsed JSON line each. */
const logLines: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  const logger = pino({ level: "info" }, { write: (line) => logLines.push(JSON.parse(line)) });
  server = await startTestServer(database.db, {}, { logger });
  metrics = server.service.metrics;
});

afterAll(async () => {
  session?.close();
  await server?.close();
  await database?.drop();
});

const api = "realchat.profile.v1.ProfileApi";
const auth = { authorization: `Bearer ${adminToken}` };

interface Answer {
  /** The code's name as Connect spells it in JSON: "invalid_argument", "ok", ... */
  readonly code: string;
  readonly message: string;
}

const grpcCodeNames = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

let session: http2.ClientHttp2Session | undefined;

/** One gRPC call as raw bytes; the HTTP/2 session is shared while it lasts. */
function grpcCall(
  procedure: string,
  body: Uint8Array,
  header: Record<string, string>,
): Promise<Answer> {
  if (session === undefined || session.closed || session.destroyed) {
    session = http2.connect(server.baseUrl);
    session.on("error", () => {});
  }
  const stream = session.request({ ...grpcRequestHeaders(`/${procedure}`), ...header });
  const answer = answerOf(stream);
  stream.end(body);
  return answer.then(({ header: head, trailer }) => {
    // A trailers-only answer carries its status in the headers.
    const status = Object.keys(trailer).length > 0 ? trailer : head;
    return {
      code: grpcCodeNames[Number(status["grpc-status"])] ?? `grpc-status ${status["grpc-status"]}`,
      message: decodeURIComponent(status["grpc-message"] ?? ""),
    };
  });
}

/** One unary Connect call as raw bytes over HTTP/1.1. */
async function connectCall(
  procedure: string,
  body: Uint8Array,
  contentType: "application/proto" | "application/json",
  header: Record<string, string>,
): Promise<Answer> {
  const response = await fetch(`${server.baseUrl}/${procedure}`, {
    method: "POST",
    headers: { "content-type": contentType, "connect-protocol-version": "1", ...auth, ...header },
    body,
  });
  const bytes = await response.arrayBuffer();
  if (response.status === 200) return { code: "ok", message: "" };
  const error = JSON.parse(new TextDecoder().decode(bytes)) as { code: string; message?: string };
  return { code: error.code, message: error.message ?? "" };
}

/** The sum of a metric's values over all its labels. */
async function total(name: string): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`${name} is not registered`);
  const { values } = await metric.get();
  return values.reduce((sum, { value }) => sum + value, 0);
}

/** All calls counted in profile_rpc_requests_total so far. */
const countedCalls = () => total("profile_rpc_requests_total");

const getProfile = toBinary(
  GetProfileRequestSchema,
  create(GetProfileRequestSchema, { userId: crypto.randomUUID() }),
);
const decodeFailure = "invalid message: cannot decode protobuf binary";
/** Field 1 (user_id), 2 bytes: "\xc3(" is not UTF-8. */
const invalidUtf8 = Uint8Array.from([0x0a, 0x02, 0xc3, 0x28]);
/** Field 1 as a varint whose last byte is missing. */
const truncatedVarint = Uint8Array.from([0x08, 0xff]);
const truncatedGzip = gzipSync(getProfile).subarray(0, 12);

describe("a request whose bytes are not the request message", () => {
  const cases: ReadonlyArray<{
    readonly name: string;
    readonly call: (procedure: string) => Promise<Answer>;
    readonly protocol: string;
    readonly code: string;
    readonly message: string;
  }> = [
    {
      name: "invalid UTF-8 in a string field, over gRPC",
      call: (procedure) => grpcCall(procedure, envelope(invalidUtf8), {}),
      protocol: "grpc",
      code: "invalid_argument",
      message: decodeFailure,
    },
    {
      name: "a truncated varint, over gRPC",
      call: (procedure) => grpcCall(procedure, envelope(truncatedVarint), {}),
      protocol: "grpc",
      code: "invalid_argument",
      message: decodeFailure,
    },
    {
      name: "truncated gzip, over gRPC (INTERNAL, as gRPC's status code table says)",
      call: (procedure) =>
        grpcCall(procedure, envelope(truncatedGzip, 1), { "grpc-encoding": "gzip" }),
      protocol: "grpc",
      code: "internal",
      message: "decompression failed",
    },
    {
      name: "invalid UTF-8 in a string field, over Connect",
      call: (procedure) => connectCall(procedure, invalidUtf8, "application/proto", {}),
      protocol: "connect",
      code: "invalid_argument",
      message: decodeFailure,
    },
    {
      name: "a truncated varint, over Connect",
      call: (procedure) => connectCall(procedure, truncatedVarint, "application/proto", {}),
      protocol: "connect",
      code: "invalid_argument",
      message: decodeFailure,
    },
    {
      name: "truncated gzip, over Connect",
      call: (procedure) =>
        connectCall(procedure, truncatedGzip, "application/proto", { "content-encoding": "gzip" }),
      protocol: "connect",
      code: "invalid_argument",
      message: "decompression failed",
    },
    {
      name: "JSON that is not the request message, over Connect",
      call: (procedure) =>
        connectCall(procedure, new TextEncoder().encode('{"userId": 12}'), "application/json", {}),
      protocol: "connect",
      code: "invalid_argument",
      message: "invalid message: cannot decode JSON",
    },
  ];

  it.each(cases)(
    "$name: answers with a generic message, logs one rpc line and counts the call",
    async ({ call, protocol, code, message }) => {
      const procedure = `${api}/GetProfile`;
      const countedBefore = await countedCalls();
      const loggedBefore = logLines.length;

      const answer = await call(procedure);

      expect(answer).toEqual({ code, message });
      await until(async () => (await countedCalls()) === countedBefore + 1);
      const lines = logLines.slice(loggedBefore).filter((line) => line.procedure === procedure);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({
        procedure,
        protocol,
        code: code === "internal" ? "Internal" : "InvalidArgument",
        caller: "test-suite",
      });
      expect(typeof lines[0]?.durationMs).toBe("number");
      expect(typeof lines[0]?.requestId).toBe("string");
    },
  );
});

/** The unary methods, each with a valid request to start from. */
const methods: ReadonlyArray<readonly [string, Uint8Array]> = [
  [`${api}/GetProfile`, getProfile],
  [
    `${api}/BatchGetProfiles`,
    toBinary(
      BatchGetProfilesRequestSchema,
      create(BatchGetProfilesRequestSchema, { userIds: [crypto.randomUUID()] }),
    ),
  ],
  [
    `${api}/UpdateProfile`,
    toBinary(
      UpdateProfileRequestSchema,
      create(UpdateProfileRequestSchema, { userId: crypto.randomUUID(), displayName: "Fuzz" }),
    ),
  ],
  [
    "grpc.health.v1.Health/Check",
    toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, {})),
  ],
];

/** Bytes: arbitrary ones, or a valid request cut short or with a byte flipped. */
const bytesFor = (valid: Uint8Array) =>
  fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.nat({ max: valid.length }).map((end) => valid.subarray(0, end)),
    fc
      .tuple(fc.nat({ max: Math.max(0, valid.length - 1) }), fc.integer({ min: 0, max: 255 }))
      .map(([at, byte]) => Uint8Array.from(valid, (b, i) => (i === at ? byte : b))),
  );

/** Maybe gzip the bytes, maybe cut the result: a body for a compressed message. */
const maybeCompressed = (bytes: fc.Arbitrary<Uint8Array>) =>
  fc
    .tuple(bytes, fc.boolean(), fc.option(fc.nat({ max: 40 }), { nil: undefined }))
    .map(([raw, gzip, cut]) => {
      const body = gzip ? Uint8Array.from(gzipSync(raw)) : raw;
      return cut === undefined ? body : body.subarray(0, cut);
    });

const encodings = fc.constantFrom(undefined, "gzip", "br", "identity");

/** One call of any kind to `procedure`, and the answers it may get besides INTERNAL. */
function anyCall(procedure: string, valid: Uint8Array) {
  const grpc = fc
    .record({
      body: maybeCompressed(bytesFor(valid)),
      flags: fc.oneof(fc.constantFrom(0, 1), fc.integer({ min: 0, max: 255 })),
      lengthDelta: fc.oneof(fc.constant(0), fc.integer({ min: -3, max: 3 })),
      encoding: encodings,
    })
    .map(({ body, flags, lengthDelta, encoding }) => ({
      protocol: "gRPC",
      compressed: (flags & 1) === 1,
      send: () =>
        grpcCall(
          procedure,
          envelope(body, flags, Math.max(0, body.length + lengthDelta)),
          encoding === undefined ? {} : { "grpc-encoding": encoding },
        ),
    }));
  const connectBinary = fc
    .record({ body: maybeCompressed(bytesFor(valid)), encoding: encodings })
    .map(({ body, encoding }) => ({
      protocol: "Connect binary",
      compressed: false,
      send: () =>
        connectCall(
          procedure,
          body,
          "application/proto",
          encoding === undefined ? {} : { "content-encoding": encoding },
        ),
    }));
  const connectJson = fc
    .oneof(
      fc.json().map((json) => new TextEncoder().encode(json)),
      fc.string().map((text) => new TextEncoder().encode(text)),
      fc.uint8Array({ maxLength: 64 }),
    )
    .map((body) => ({
      protocol: "Connect JSON",
      compressed: false,
      send: () => connectCall(procedure, body, "application/json", {}),
    }));
  return fc.oneof(grpc, connectBinary, connectJson);
}

describe("arbitrary bytes to every unary method, over gRPC, Connect binary and Connect JSON", () => {
  it.each(methods)(
    "%s: never INTERNAL but a gRPC decompression failure, every call counted, /healthz fine",
    async (procedure, valid) => {
      const countedBefore = await countedCalls();
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(anyCall(procedure, valid), async ({ protocol, compressed, send }) => {
          sent += 1;
          const answer = await send();
          expect(grpcCodeNames, `${protocol}: ${JSON.stringify(answer)}`).toContain(answer.code);
          expect(answer.code, `${protocol}: ${answer.message}`).not.toBe("unknown");
          if (answer.code === "internal") {
            // gRPC's status code table and compression spec: a message that does not decompress
            // (or is flagged compressed with no grpc-encoding) is INTERNAL.
            expect(protocol === "gRPC" && compressed, answer.message).toBe(true);
            expect([
              "decompression failed",
              "received compressed envelope, but do not know how to decompress",
            ]).toContain(answer.message);
          }
        }),
        { numRuns: 200 },
      );

      await until(async () => (await countedCalls()) === countedBefore + sent);
      expect(await total("profile_rpc_in_flight")).toBe(0);
      const health = await fetch(`${server.baseUrl}/healthz`);
      expect(health.status).toBe(200);
    },
    300_000,
  );
});
