import type { ClientHttp2Stream } from "node:http2";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { adminToken } from "./auth.js";

export type ProfileClient = Client<typeof ProfileApi>;

/** A bearer token, or `null` for calls that send no Authorization header. */
export type TestToken = string | null;

/** Sends `Authorization: Bearer <token>` with every call (no header for `null`). */
export function bearer(token: TestToken): Interceptor[] {
  if (token === null) return [];
  return [
    (next) => (request) => {
      request.header.set("authorization", `Bearer ${token}`);
      return next(request);
    },
  ];
}

/**
 * The four ways browsers and services reach the port, each over a real socket, sending `token`
 * (by default a service token with the admin scope).
 */
export function transportsFor(
  baseUrl: string,
  token: TestToken = adminToken,
): Record<string, Transport> {
  const interceptors = bearer(token);
  return {
    "gRPC over h2c": createGrpcTransport({ baseUrl, interceptors }),
    "Connect JSON over HTTP/1.1": createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      interceptors,
    }),
    "Connect binary over HTTP/2": createConnectTransport({
      baseUrl,
      httpVersion: "2",
      useBinaryFormat: true,
      interceptors,
    }),
    "gRPC-Web over HTTP/1.1": createGrpcWebTransport({ baseUrl, httpVersion: "1.1", interceptors }),
  };
}

/** A gRPC client, what backend services use, sending `token` (by default an admin token). */
export function grpcClient(baseUrl: string, token: TestToken = adminToken): ProfileClient {
  return createClient(ProfileApi, createGrpcTransport({ baseUrl, interceptors: bearer(token) }));
}

/** The error a call fails with; fails the test if the call succeeds. */
export async function errorOf(call: Promise<unknown>): Promise<ConnectError> {
  try {
    await call;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** The outcome of a call as a code name: "OK", or the error's code such as "NotFound". */
export function codeOf(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "OK",
    (error: unknown) => Code[ConnectError.from(error).code],
  );
}

/**
 * The request headers of a unary gRPC call to `path` (e.g. `/realchat.profile.v1.ProfileApi/GetProfile`)
 * sent with Node's own HTTP/2 client, for tests that look at the raw answer; `token` as above.
 */
export function grpcRequestHeaders(
  path: string,
  token: TestToken = adminToken,
): Record<string, string> {
  const headers: Record<string, string> = {
    ":method": "POST",
    ":path": path,
    "content-type": "application/grpc",
    te: "trailers",
  };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return headers;
}

/** gRPC's length-prefixed message: a flags byte (1: compressed) and the length, then `message`. */
export function grpcEnvelope(
  message: Uint8Array,
  flags = 0,
  declaredLength = message.length,
): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(flags, 0);
  prefix.writeUInt32BE(declaredLength, 1);
  return Buffer.concat([prefix, message]);
}

/** An answer as it came over the wire; headers without pseudo-headers and `date`. */
export interface RawAnswer {
  readonly status: number;
  readonly header: Record<string, string>;
  readonly trailer: Record<string, string>;
  readonly body: Buffer;
}

/**
 * The answer to a request sent with Node's own HTTP/2 client, once the stream has ended; rejects
 * on a stream error. Call it before sending the body, so that no event is missed.
 */
export function answerOf(stream: ClientHttp2Stream): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let header: Record<string, string> = {};
    let trailer: Record<string, string> = {};
    const chunks: Buffer[] = [];
    stream.on("response", (received) => {
      status = Number(received[":status"]);
      header = plainHeaders(received);
    });
    stream.on("trailers", (received) => {
      trailer = plainHeaders(received);
    });
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => resolve({ status, header, trailer, body: Buffer.concat(chunks) }));
    stream.on("error", reject);
  });
}

/**
 * Headers or trailers (HTTP/2 or HTTP/1.1) as plain strings, repeated ones joined, without the
 * pseudo-headers and `date`: what two answers to the same request must agree on.
 */
export function plainHeaders(headers: NodeJS.Dict<string | string[]>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || name === "date" || value === undefined) continue;
    result[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return result;
}
