import http from "node:http";
import http2 from "node:http2";
import { create, toBinary } from "@bufbuild/protobuf";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthCheckRequestSchema } from "../gen/health/v1/health_pb.js";
import {
  BatchGetProfilesRequestSchema,
  GetProfileRequestSchema,
  UpdateProfileRequestSchema,
} from "../gen/realchat/profile/v1/profile_api_pb.js";
import { adminToken } from "./support/auth.js";
import {
  type RawAnswer as Answer,
  answerOf,
  grpcEnvelope as envelope,
  grpcClient,
  grpcRequestHeaders,
  plainHeaders,
} from "./support/clients.js";
import { createTestDatabase, type TestDatabase } from "./support/databases.js";
import { until } from "./support/nats.js";
import { holdProfileLock } from "./support/row-lock.js";
import { startTestServer, type TestServer } from "./support/test-server.js";

// Issue 10, items 2, 5 and 6: a call's deadline runs from its first byte, a body that never ends
// is answered by it and dropped, long client deadlines are capped rather than overflowed, and a
// call the client reset sends no SQL. The one deadline (src/transport/connect-internals/
// call-deadline.ts) also ends the call's handler: every call it ends is logged DEADLINE_EXCEEDED.

let database: TestDatabase;
/** Server deadline far away: only the client's deadline can end a call early. */
let patient: TestServer;
/** REQUEST_TIMEOUT_MS of half a second. */
let strict: TestServer;
/** The strict server's log, one parsed JSON line each. */
const strictLog: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  patient = await startTestServer(database.db, { requestTimeoutMs: 600_000 });
  const logger = pino({ level: "info" }, { write: (line) => strictLog.push(JSON.parse(line)) });
  strict = await startTestServer(database.db, { requestTimeoutMs: 500 }, { logger });
});

afterAll(async () => {
  await patient?.close();
  await strict?.close();
  await database?.drop();
});

const batchGetPath = "/realchat.profile.v1.ProfileApi/BatchGetProfiles";
const updatePath = "/realchat.profile.v1.ProfileApi/UpdateProfile";
/** Generous: the answer is due after half a second. */
const answerWithinMs = 10_000;

/** An answer, and when its stream or connection closed. */
interface RawAnswer extends Answer {
  /** Settles once the server has closed the stream (HTTP/2) or the connection (HTTP/1.1). */
  readonly closed: Promise<void>;
}

/** A BatchGetProfiles message of `count` ids, as its binary bytes. */
function batchRequest(count: number): Uint8Array {
  const userIds = Array.from({ length: count }, () => crypto.randomUUID());
  return toBinary(
    BatchGetProfilesRequestSchema,
    create(BatchGetProfilesRequestSchema, { userIds }),
  );
}

/** All but the last ten bytes of `body`: what an unfinished request sends before it stalls. */
function almostAll(body: Uint8Array): Buffer {
  return Buffer.from(body.subarray(0, body.length - 10));
}

function withTimeLimit<T>(work: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`${what}: no answer in ${answerWithinMs} ms`)),
        answerWithinMs,
      ),
    ),
  ]);
}

/** Sends `body` to `path` on a new HTTP/2 connection, ending the stream only if `end`. */
function overHttp2(
  baseUrl: string,
  header: Record<string, string>,
  body: Buffer,
  end: boolean,
  path = batchGetPath,
): Promise<RawAnswer> {
  const session = http2.connect(baseUrl);
  session.on("error", () => {});
  // The header names the protocol: its content-type replaces gRPC's.
  const stream = session.request(
    { ...grpcRequestHeaders(path, null), ...header },
    { endStream: false },
  );
  const closed = new Promise<void>((resolve) => stream.once("close", () => resolve()));
  void closed.then(() => session.close());
  const answer = answerOf(stream).then((received) => ({ ...received, closed }));
  if (end) stream.end(body);
  else stream.write(body);
  return withTimeLimit(answer, "HTTP/2 call");
}

/** Sends `body` to `path` on a new HTTP/1.1 connection, ending the request only if `end`. */
function overHttp1(
  baseUrl: string,
  header: Record<string, string>,
  body: Buffer,
  end: boolean,
  path = batchGetPath,
): Promise<RawAnswer> {
  const request = http.request(`${baseUrl}${path}`, {
    method: "POST",
    headers: header,
    agent: false,
  });
  const closed = new Promise<void>((resolve) =>
    request.once("socket", (socket) => socket.once("close", () => resolve())),
  );
  const answer = new Promise<RawAnswer>((resolve, reject) => {
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          header: plainHeaders(response.headers),
          trailer: plainHeaders(response.trailers),
          body: Buffer.concat(chunks),
          closed,
        }),
      );
    });
    request.on("error", reject);
  });
  if (end) request.end(body);
  else request.write(body);
  return withTimeLimit(answer, "HTTP/1.1 call");
}

/** The grpc-status a gRPC or gRPC-Web answer carries, from its trailers or its trailer frame. */
function grpcStatusOf(answer: RawAnswer): string | undefined {
  const fromTrailer = answer.trailer["grpc-status"] ?? answer.header["grpc-status"];
  if (fromTrailer !== undefined) return fromTrailer;
  // gRPC-Web: the last frame, flagged 0x80, holds the trailers as HTTP/1.1 header lines.
  const text = answer.body.subarray(5).toString("latin1");
  return /grpc-status: ?(\d+)/.exec(text)?.[1];
}

interface Transport {
  readonly name: string;
  readonly send: typeof overHttp2;
  readonly contentType: string;
  readonly timeoutHeader: string;
  /** The deadline header's value for half a second, and for five. */
  readonly halfSecond: string;
  readonly fiveSeconds: string;
  /** The request body: enveloped for gRPC and gRPC-Web, bare for Connect unary. */
  readonly frame: (message: Uint8Array) => Uint8Array;
  /** Whether `answer` is DEADLINE_EXCEEDED in this protocol's form. */
  readonly isDeadlineExceeded: (answer: RawAnswer) => boolean;
}

const grpcDeadline = (answer: RawAnswer) => answer.status === 200 && grpcStatusOf(answer) === "4";
const connectDeadline = (answer: RawAnswer) =>
  answer.status === 504 && JSON.parse(answer.body.toString()).code === "deadline_exceeded";
const grpcLike = {
  timeoutHeader: "grpc-timeout",
  halfSecond: "500m",
  fiveSeconds: "5S",
  frame: envelope,
};
const connectLike = {
  timeoutHeader: "connect-timeout-ms",
  halfSecond: "500",
  fiveSeconds: "5000",
  frame: (m: Uint8Array) => m,
};

const transports: readonly Transport[] = [
  {
    name: "gRPC over HTTP/2",
    send: overHttp2,
    contentType: "application/grpc",
    ...grpcLike,
    isDeadlineExceeded: grpcDeadline,
  },
  {
    name: "gRPC-Web over HTTP/1.1",
    send: overHttp1,
    contentType: "application/grpc-web+proto",
    ...grpcLike,
    isDeadlineExceeded: grpcDeadline,
  },
  {
    name: "gRPC-Web over HTTP/2",
    send: overHttp2,
    contentType: "application/grpc-web+proto",
    ...grpcLike,
    isDeadlineExceeded: grpcDeadline,
  },
  {
    name: "Connect binary over HTTP/1.1",
    send: overHttp1,
    contentType: "application/proto",
    ...connectLike,
    isDeadlineExceeded: connectDeadline,
  },
  {
    name: "Connect binary over HTTP/2",
    send: overHttp2,
    contentType: "application/proto",
    ...connectLike,
    isDeadlineExceeded: connectDeadline,
  },
];

describe("a request body that never ends", () => {
  describe.each(transports)("over $name", (transport) => {
    const header = {
      "content-type": transport.contentType,
      authorization: `Bearer ${adminToken}`,
    };
    const body = () => almostAll(transport.frame(batchRequest(1000)));

    it("is answered DEADLINE_EXCEEDED at the client's deadline, and dropped", async () => {
      const answer = await transport.send(
        patient.baseUrl,
        { ...header, [transport.timeoutHeader]: transport.halfSecond },
        body(),
        false,
      );
      expect(transport.isDeadlineExceeded(answer), JSON.stringify(answer)).toBe(true);
      await withTimeLimit(answer.closed, "closing the unfinished request");
    });

    it("is answered DEADLINE_EXCEEDED at REQUEST_TIMEOUT_MS, dropped, and logged so", async () => {
      const requestId = crypto.randomUUID();
      const answer = await transport.send(
        strict.baseUrl,
        { ...header, "x-request-id": requestId },
        body(),
        false,
      );
      expect(transport.isDeadlineExceeded(answer), JSON.stringify(answer)).toBe(true);
      await withTimeLimit(answer.closed, "closing the unfinished request");
      await loggedOnce(requestId, "DeadlineExceeded");
    });
  });
});

/** Waits for the strict server's one log line of the call `requestId`, and checks its code. */
async function loggedOnce(requestId: string, code: string): Promise<void> {
  await until(() => strictLog.some((line) => line.requestId === requestId));
  // Anything logged late about the same call would come with the next turns of the event loop.
  await new Promise((resolve) => setTimeout(resolve, 50));
  const lines = strictLog.filter((line) => line.requestId === requestId);
  expect(lines.map((line) => line.code)).toEqual([code]);
}

describe("a call whose handler is still running at the deadline", () => {
  describe.each(transports)("over $name", (transport) => {
    it("is answered DEADLINE_EXCEEDED, and logged so", async () => {
      if (database.config.kind !== "postgres") throw new Error("the test needs PostgreSQL");
      const userId = crypto.randomUUID();
      await grpcClient(strict.baseUrl).updateProfile({ userId, displayName: "Locked" });
      const release = await holdProfileLock(database.config.url, userId);
      try {
        const requestId = crypto.randomUUID();
        const message = create(UpdateProfileRequestSchema, { userId, bio: "late" });
        const answer = await transport.send(
          strict.baseUrl,
          {
            "content-type": transport.contentType,
            authorization: `Bearer ${adminToken}`,
            "x-request-id": requestId,
          },
          Buffer.from(transport.frame(toBinary(UpdateProfileRequestSchema, message))),
          true,
          updatePath,
        );

        expect(transport.isDeadlineExceeded(answer), JSON.stringify(answer)).toBe(true);
        await loggedOnce(requestId, "DeadlineExceeded");
      } finally {
        await release();
      }
    });
  });
});

describe("a server stream", () => {
  const watch = (header: Record<string, string>) => {
    const session = http2.connect(strict.baseUrl);
    session.on("error", () => {});
    const stream = session.request({
      ...grpcRequestHeaders("/grpc.health.v1.Health/Watch", null),
      ...header,
    });
    const answer = answerOf(stream).finally(() => session.close());
    stream.end(envelope(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, {}))));
    return { answer, cancel: () => stream.close(http2.constants.NGHTTP2_CANCEL) };
  };

  it("with a client deadline longer than REQUEST_TIMEOUT_MS ends at REQUEST_TIMEOUT_MS", async () => {
    const started = performance.now();
    const answer = await withTimeLimit(watch({ "grpc-timeout": "597H" }).answer, "the watch");

    expect(answer.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(490);
  });

  it("without a client deadline is not cut at REQUEST_TIMEOUT_MS", async () => {
    const { answer, cancel } = watch({});
    const ended = await Promise.race([
      answer.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 1500)),
    ]);
    cancel();

    expect(ended).toBe(false);
  });
});

/**
 * Code that serves calls: ours, and Connect's (whose handler context starts a timer for a deadline
 * it sees); server.ts times connections, not calls.
 */
const servingCode = /\/src\/transport\/(?!server\.ts)|@connectrpc\//;

/** How many timers serving code starts while `work` runs. */
async function timersStartedBy(work: () => Promise<unknown>): Promise<number> {
  const original = globalThis.setTimeout;
  let count = 0;
  const counting = (...args: Parameters<typeof setTimeout>) => {
    // Line 0 is "Error", line 1 this function, line 2 whoever called setTimeout.
    if (servingCode.test((new Error().stack ?? "").split("\n")[2] ?? "")) count += 1;
    return original(...args);
  };
  globalThis.setTimeout = Object.assign(counting, { __promisify__: original.__promisify__ });
  try {
    await work();
  } finally {
    globalThis.setTimeout = original;
  }
  return count;
}

describe("a call that ends in time", () => {
  describe.each(transports)("over $name", (transport) => {
    it.each([false, true])("starts one timer (client deadline: %s)", async (withDeadline) => {
      const header = {
        "content-type": transport.contentType,
        authorization: `Bearer ${adminToken}`,
        ...(withDeadline ? { [transport.timeoutHeader]: transport.fiveSeconds } : {}),
      };
      const body = Buffer.from(transport.frame(batchRequest(1)));
      const timers = await timersStartedBy(async () => {
        const answer = await transport.send(patient.baseUrl, header, body, true);
        expect(answer.status, answer.body.toString()).toBe(200);
        await answer.closed;
      });

      expect(timers).toBe(1);
    });
  });
});

describe("a client deadline longer than REQUEST_TIMEOUT_MS", () => {
  let warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  beforeAll(() => {
    process.on("warning", onWarning);
  });
  afterAll(() => {
    process.off("warning", onWarning);
  });

  it.each([
    ["grpc-timeout: 597H", transports[0] as Transport, "597H"],
    ["connect-timeout-ms: 9999999999", transports[3] as Transport, "9999999999"],
  ])("%s is accepted and capped, without a warning", async (_, transport, timeout) => {
    warnings = [];
    const answer = await transport.send(
      strict.baseUrl,
      {
        "content-type": transport.contentType,
        authorization: `Bearer ${adminToken}`,
        [transport.timeoutHeader]: timeout,
      },
      Buffer.from(transport.frame(batchRequest(1))),
      true,
    );
    if (transport.timeoutHeader === "grpc-timeout") {
      expect(grpcStatusOf(answer), JSON.stringify(answer)).toBe("0");
    } else {
      expect(answer.status, answer.body.toString()).toBe(200);
    }
    // Node reports a TimeoutOverflowWarning on the next turn of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(warnings).toEqual([]);
  });
});

describe("calls the client reset while they waited for the database", () => {
  it("send no SQL", async () => {
    const pool = () => {
      const stats = database.handle.poolStats();
      if (stats === undefined) throw new Error("the test needs PostgreSQL's pool");
      return stats;
    };
    if (database.config.kind !== "postgres") throw new Error("the test needs PostgreSQL");
    const client = grpcClient(patient.baseUrl);
    const locked = crypto.randomUUID();
    await client.updateProfile({ userId: locked, displayName: "Locked" });

    // Every pooled connection waits on the row lock, so the next calls queue for the pool.
    const release = await holdProfileLock(database.config.url, locked);
    const blockers = Array.from({ length: 10 }, (_, n) =>
      client.updateProfile({ userId: locked, displayName: `Blocker ${n}` }).catch(() => undefined),
    );
    await until(() => pool().total === 10 && pool().idle === 0);

    const session = http2.connect(patient.baseUrl);
    session.on("error", () => {});
    const resetUsers = Array.from({ length: 20 }, () => crypto.randomUUID());
    const streams = resetUsers.map((userId) => {
      const stream = session.request(grpcRequestHeaders(updatePath));
      stream.on("error", () => {});
      const message = create(UpdateProfileRequestSchema, { userId, displayName: "Reset" });
      stream.end(envelope(toBinary(UpdateProfileRequestSchema, message)));
      return stream;
    });
    await until(() => pool().waiting >= resetUsers.length);
    await Promise.all(
      streams.map(
        (stream) =>
          new Promise<void>((resolve) => stream.close(http2.constants.NGHTTP2_CANCEL, resolve)),
      ),
    );
    // Give the server a moment to see the resets before the pool frees up.
    await new Promise((resolve) => setTimeout(resolve, 200));

    await release();
    await Promise.all(blockers);
    await until(() => pool().waiting === 0 && pool().idle === pool().total);
    session.close();

    const stored = await database.db
      .selectFrom("profiles")
      .select("user_id")
      .where("user_id", "in", resetUsers)
      .execute();
    expect(stored).toEqual([]);
  });
});

describe("the deadline covers the whole call, from the first byte", () => {
  it("answers a call whose body came late and whose handler is slow at its deadline", async () => {
    if (database.config.kind !== "postgres") throw new Error("the test needs PostgreSQL");
    const server = await startTestServer(database.db, { requestTimeoutMs: 2000 });
    const userId = crypto.randomUUID();
    await grpcClient(server.baseUrl).updateProfile({ userId, displayName: "Locked" });
    const release = await holdProfileLock(database.config.url, userId);
    const session = http2.connect(server.baseUrl);
    session.on("error", () => {});
    try {
      const stream = session.request(grpcRequestHeaders(updatePath));
      const message = create(UpdateProfileRequestSchema, { userId, displayName: "Late" });
      const body = envelope(toBinary(UpdateProfileRequestSchema, message));
      const started = performance.now();
      const answered = new Promise<Record<string, unknown>>((resolve) => {
        stream.on("response", (header) => {
          if (header["grpc-status"] !== undefined) resolve(header);
        });
        stream.on("trailers", resolve);
        stream.on("data", () => {});
        stream.on("error", () => {});
      });
      stream.write(body.subarray(0, 8));
      await new Promise((resolve) => setTimeout(resolve, 1800));
      stream.end(body.subarray(8));
      const status = await withTimeLimit(answered, "the late call");
      const elapsedMs = performance.now() - started;

      expect(status["grpc-status"]).toBe("4");
      // The handler's own deadline alone would answer 2 s after the body, at 3.8 s or later.
      expect(elapsedMs).toBeLessThan(3400);
    } finally {
      session.close();
      await release();
      await server.close();
    }
  });

  it("resets a unary answer the client never reads, at the deadline", async () => {
    const userId = crypto.randomUUID();
    await grpcClient(strict.baseUrl).updateProfile({ userId, displayName: "Unread" });
    // A flow-control window of 0: the server can send headers but never a byte of the answer.
    const session = http2.connect(strict.baseUrl, { settings: { initialWindowSize: 0 } });
    session.on("error", () => {});
    try {
      const stream = session.request(
        grpcRequestHeaders("/realchat.profile.v1.ProfileApi/GetProfile"),
      );
      stream.on("error", () => {});
      stream.end(
        envelope(toBinary(GetProfileRequestSchema, create(GetProfileRequestSchema, { userId }))),
      );
      const rstCode = await withTimeLimit(
        new Promise<number>((resolve) => stream.once("close", () => resolve(stream.rstCode))),
        "the unread answer",
      );
      expect(rstCode).toBe(http2.constants.NGHTTP2_CANCEL);
    } finally {
      session.close();
    }
  });
});
