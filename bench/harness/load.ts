import http2 from "node:http2";
import { create, type DescMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { latencySummary } from "./stats.js";

/** One stream of requests to drive at a unary gRPC method. */
export interface LoadSpec {
  /** e.g. http://127.0.0.1:8080 */
  readonly origin: string;
  /** e.g. /realchat.profile.v1.ProfileApi/UpdateProfile; unused when `paths` is given. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  /** gRPC-framed request bodies, sent in turn. */
  readonly bodies: readonly Buffer[];
  /** A mix of methods: call i goes to paths[i] with bodies[i] (same length), instead of `path`. */
  readonly paths?: readonly string[];
  readonly connections: number;
  readonly durationMs: number;
  readonly warmUpMs: number;
  /** Closed loop: this many calls in flight per connection, each starting when one ends. */
  readonly streamsPerConnection?: number;
  /** Open loop: this many calls per second in total, whatever the answers' pace. */
  readonly ratePerSecond?: number;
}

export interface LoadResult {
  readonly requests: number;
  /** Calls that ended with a gRPC status other than OK, or a transport error. */
  readonly errors: number;
  readonly seconds: number;
  /** Latency of every measured call, in milliseconds. */
  readonly latenciesMs: number[];
}

/** A run's throughput, errors and the two percentiles the tables show. */
export function summarize(result: LoadResult) {
  const { p50, p99 } = latencySummary(result.latenciesMs);
  return { rps: Math.round(result.requests / result.seconds), errors: result.errors, p50, p99 };
}

/**
 * A small HTTP/2 gRPC load generator for what h2load cannot do: send a different body with each
 * call (updates that all change something) and hold a fixed request rate. Bodies are encoded
 * beforehand, so the client's per-call work is a stream and a buffer write.
 */
export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const sessions = await Promise.all(
    Array.from({ length: spec.connections }, () => connect(spec.origin)),
  );
  let next = 0;
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  const start = performance.now();
  const measureFrom = start + spec.warmUpMs;
  const end = measureFrom + spec.durationMs;

  // Open loop measures from when a call was due, not when it went out, so a late client does not
  // hide the server's delay (coordinated omission).
  const call = async (session: http2.ClientHttp2Session, dueAt?: number) => {
    const index = next++ % spec.bodies.length;
    const sent = dueAt ?? performance.now();
    const answer = await unaryCall(
      session,
      spec.paths?.[index] ?? spec.path,
      spec.headers,
      spec.bodies[index] ?? Buffer.alloc(0),
    );
    if (sent >= measureFrom && sent < end) {
      requests += 1;
      if (!answer.ok) errors += 1;
      latencies.push(performance.now() - sent);
    }
  };

  if (spec.ratePerSecond !== undefined) {
    await atFixedRate(spec.ratePerSecond, end - start, async (n, due) => {
      const session = sessions[n % sessions.length];
      if (session !== undefined) await call(session, due);
    });
  } else {
    const streams = spec.streamsPerConnection ?? 1;
    await Promise.all(
      sessions.flatMap((session) =>
        Array.from({ length: streams }, async () => {
          while (performance.now() < end) await call(session);
        }),
      ),
    );
  }
  for (const session of sessions) session.close();
  return { requests, errors, seconds: spec.durationMs / 1000, latenciesMs: latencies };
}

/**
 * Open loop: starts `call(n, dueAt)` `ratePerSecond` times a second for `durationMs`, whatever the
 * answers' pace, and resolves when every call has ended. `dueAt` is when call n was due
 * (`performance.now()` time), to measure latency from (coordinated omission).
 */
export async function atFixedRate(
  ratePerSecond: number,
  durationMs: number,
  call: (n: number, dueAt: number) => Promise<void>,
  stopped: () => boolean = () => false,
): Promise<void> {
  const start = performance.now();
  const end = start + durationMs;
  const intervalMs = 1000 / ratePerSecond;
  const inFlight: Promise<void>[] = [];
  for (let n = 0; performance.now() < end && !stopped(); n++) {
    const due = start + n * intervalMs;
    if (due >= end) break;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const started = call(n, due);
    // A failure surfaces from Promise.all below, not as an unhandled rejection meanwhile.
    started.catch(() => {});
    inFlight.push(started);
  }
  await Promise.all(inFlight);
}

export function connect(origin: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin);
    session.once("connect", () => resolve(session));
    session.once("error", reject);
  });
}

/** How one unary gRPC call ended: OK or not, and the answer's message bytes (unframed). */
export interface UnaryAnswer {
  readonly ok: boolean;
  /** The grpc-status it ended with ("0" is OK, "12" UNIMPLEMENTED); undefined without one. */
  readonly status: string | undefined;
  /** Empty unless the call was made with `keepAnswer`. */
  readonly message: Buffer;
}

export interface UnaryOptions {
  /** Cancel the call, which then fails, when it has been idle this long. */
  readonly timeoutMs?: number;
  /** Collect the answer's bytes (a load generator drops them, to spend no CPU on them). */
  readonly keepAnswer?: boolean;
}

/** One unary gRPC call on an open session; `body` is gRPC-framed (`grpcFrame`). */
export function unaryCall(
  session: http2.ClientHttp2Session,
  path: string,
  headers: Readonly<Record<string, string>>,
  body: Buffer,
  { timeoutMs, keepAnswer = false }: UnaryOptions = {},
): Promise<UnaryAnswer> {
  return new Promise((resolve) => {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      ...headers,
    });
    let status: string | undefined;
    const chunks: Buffer[] = [];
    stream.on("response", (responseHeaders) => {
      status ??= responseHeaders["grpc-status"] as string | undefined;
    });
    stream.on("trailers", (trailers) => {
      status = trailers["grpc-status"] as string | undefined;
    });
    stream.on("data", (chunk: Buffer) => {
      if (keepAnswer) chunks.push(chunk);
    });
    stream.once("close", () =>
      resolve({
        ok: stream.rstCode === http2.constants.NGHTTP2_NO_ERROR && status === "0",
        status,
        message: keepAnswer ? Buffer.concat(chunks).subarray(5) : Buffer.alloc(0),
      }),
    );
    stream.once("error", () => {});
    if (timeoutMs !== undefined) {
      stream.setTimeout(timeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL));
    }
    stream.end(body);
  });
}

/**
 * Sends every body once, `concurrency` calls in flight on one connection (a warm-up pass, or
 * filling a cache); returns how many calls failed (or took over 30 s).
 */
export async function sendEach(
  origin: string,
  path: string,
  headers: Readonly<Record<string, string>>,
  bodies: readonly Buffer[],
  concurrency = 16,
): Promise<number> {
  const session = await connect(origin);
  let next = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let body = bodies[next++]; body !== undefined; body = bodies[next++]) {
        if (!(await unaryCall(session, path, headers, body, { timeoutMs: 30_000 })).ok) failed += 1;
      }
    }),
  );
  session.close();
  return failed;
}

/** Frames a protobuf message as one gRPC message: flag byte, 4-byte length, bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** A message of `schema`, encoded and gRPC-framed: a request body for `runLoad` or `unaryCall`. */
export function grpcMessage<Desc extends DescMessage>(
  schema: Desc,
  init: MessageInitShape<Desc>,
): Buffer {
  return grpcFrame(toBinary(schema, create(schema, init)));
}
