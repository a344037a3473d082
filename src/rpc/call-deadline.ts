import { Http2ServerRequest, constants as http2Constants } from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import {
  codeToHttpStatus,
  endStreamFlag,
  endStreamToJson,
  errorToJsonBytes,
  parseTimeout as parseConnectTimeout,
} from "@connectrpc/connect/protocol-connect";
import {
  parseTimeout as parseGrpcTimeout,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
import { trailerFlag, trailerSerialize } from "@connectrpc/connect/protocol-grpc-web";
import type { RequestHandler } from "../server.js";

type Request = Parameters<RequestHandler>[0];
type Response = Parameters<RequestHandler>[1];
type Protocol = "grpc" | "grpc-web" | "connect" | "connect-stream";

/**
 * Starts every RPC's deadline when its request arrives, before any of its body is read: the
 * client's (`grpc-timeout`, `connect-timeout-ms`) or `maxMs`, whichever is shorter. A call whose
 * body is still incomplete when the deadline passes, and that has not answered, is answered
 * DEADLINE_EXCEEDED in its protocol's form, and its unread body is dropped (HTTP/2: the stream is
 * closed with NO_ERROR after the answer; HTTP/1.1: the connection is closed), which frees what was
 * buffered and aborts the call's signal.
 *
 * Why here: Connect and the direct gRPC path read the whole body before they invoke interceptors,
 * and neither ties body reading to the call's deadline, so a body that never ends held its
 * buffers forever. Calls whose body has arrived are left to the handler's own deadline (the
 * call's signal and the deadline interceptor), which answers and logs them.
 */
export function withCallDeadline(handler: RequestHandler, maxMs: number): RequestHandler {
  return (request, response) => {
    const protocol = protocolOf(request.headers["content-type"]);
    const timer = setTimeout(
      () => expire(request, response, protocol),
      deadlineMs(request, protocol, maxMs),
    );
    response.once("close", () => clearTimeout(timer));
    handler(request, response);
  };
}

function protocolOf(contentType: string | undefined): Protocol {
  if (contentType === undefined) return "connect";
  if (/^application\/grpc-web/i.test(contentType)) return "grpc-web";
  if (/^application\/grpc/i.test(contentType)) return "grpc";
  if (/^application\/connect\+/i.test(contentType)) return "connect-stream";
  return "connect";
}

/** The client's deadline capped at `maxMs`; a missing or malformed one (refused later) is `maxMs`. */
function deadlineMs(request: Request, protocol: Protocol, maxMs: number): number {
  const isGrpc = protocol === "grpc" || protocol === "grpc-web";
  const value = request.headers[isGrpc ? "grpc-timeout" : "connect-timeout-ms"];
  if (typeof value !== "string") return maxMs;
  const parsed = isGrpc ? parseGrpcTimeout(value, maxMs) : parseConnectTimeout(value, maxMs);
  return parsed.error === undefined ? (parsed.timeoutMs ?? maxMs) : maxMs;
}

function expire(request: Request, response: Response, protocol: Protocol): void {
  if (response.headersSent || request.complete) return;
  const error = new ConnectError(
    "the request was not received before its deadline",
    Code.DeadlineExceeded,
  );
  const { status, header, body } = answerOf(error, protocol, request.headers["content-type"] ?? "");
  if (request instanceof Http2ServerRequest) {
    const { stream } = request;
    stream.respond({ ":status": status, ...header }, { endStream: body === undefined });
    if (body !== undefined) stream.end(body);
    // RST_STREAM NO_ERROR once the answer is out tells the client to stop sending (RFC 9113,
    // 8.1), and frees the stream.
    stream.close(http2Constants.NGHTTP2_NO_ERROR);
  } else {
    // HTTP/1.1 cannot stop a request body mid-way but by closing the connection.
    const out: Http1Answer = response;
    out.writeHead(status, { ...header, connection: "close" });
    out.end(body ?? "");
  }
}

/** What an HTTP/1.1 response needs for the answer (Response is a union of both versions). */
interface Http1Answer {
  writeHead(status: number, header: Record<string, string>): unknown;
  end(body: Uint8Array | string): unknown;
}

/**
 * An error as `protocol` answers it on a response that has sent nothing yet. gRPC's is a
 * Trailers-Only response: the status in the headers, which end the stream.
 */
function answerOf(
  error: ConnectError,
  protocol: Protocol,
  contentType: string,
): { status: number; header: Record<string, string>; body?: Uint8Array } {
  const header = { "content-type": contentType };
  switch (protocol) {
    case "grpc":
      return {
        status: 200,
        header: { ...header, ...plainHeadersOf(setTrailerStatus(new Headers(), error)) },
      };
    case "grpc-web": {
      const trailer = trailerSerialize(setTrailerStatus(new Headers(), error));
      return { status: 200, header, body: encodeEnvelope(trailerFlag, trailer) };
    }
    case "connect-stream": {
      const endStream = JSON.stringify(endStreamToJson(new Headers(), error, undefined));
      const body = encodeEnvelope(endStreamFlag, new TextEncoder().encode(endStream));
      return { status: 200, header, body };
    }
    case "connect":
      return {
        status: codeToHttpStatus(error.code),
        header: { "content-type": "application/json" },
        body: errorToJsonBytes(error, undefined),
      };
  }
}

function plainHeadersOf(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {};
  headers.forEach((value, name) => {
    result[name] = value;
  });
  return result;
}
