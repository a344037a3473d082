import {
  Http2ServerRequest,
  constants as http2Constants,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
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
import type { Http2StreamHandler, RequestHandler } from "../server.js";
import { plainHeadersOf } from "./grpc-unary.js";

type Request = Parameters<RequestHandler>[0];
type Response = Parameters<RequestHandler>[1];
type Protocol = "grpc" | "grpc-web" | "connect" | "connect-stream";

/**
 * Bounds every RPC by one deadline that starts when its request arrives, before any of its body
 * is read: the client's (`grpc-timeout`, `connect-timeout-ms`) or `maxMs`, whichever is shorter.
 * When it passes and the call has not finished:
 * - nothing answered yet, and the body is still incomplete or the method is unary: the call is
 *   answered DEADLINE_EXCEEDED in its protocol's form and its stream dropped (HTTP/2: closed with
 *   NO_ERROR after the answer; HTTP/1.1: the connection closed), which frees what was buffered
 *   and aborts the call's signal, so its handler stops waiting;
 * - a unary answer still being written (a client that does not read it): the stream is reset
 *   (HTTP/2 CANCEL; HTTP/1.1: the connection is destroyed), which frees the unsent bytes.
 * Streaming methods whose request has arrived are left alone: a health Watch may last for hours.
 *
 * Why here: Connect and the direct gRPC path start their own deadlines only once the body is
 * read, and neither bounds the writing of the answer, so a body that never ended, or an answer
 * never read, held its buffers forever. Calls that end in time are answered by the handler's
 * own deadline (the call's signal and the deadline interceptor), which logs them.
 */
export function withCallDeadline(
  handler: RequestHandler,
  options: { readonly maxMs: number; readonly isUnary: (path: string) => boolean },
): RequestHandler {
  return (request, response) => {
    const protocol = protocolOf(request.headers["content-type"]);
    const unary = options.isUnary(pathOf(request.url));
    const timer = setTimeout(
      () => expire(request, response, protocol, unary),
      deadlineMs(request.headers, protocol, options.maxMs),
    );
    response.once("close", () => clearTimeout(timer));
    handler(request, response);
  };
}

/**
 * The same deadline for the HTTP/2 streams `handler` takes (the direct unary gRPC path, which
 * takes only unary gRPC calls).
 */
export function withStreamDeadline(
  handler: Http2StreamHandler,
  options: { readonly maxMs: number },
): Http2StreamHandler {
  return (stream, headers) => {
    if (!handler(stream, headers)) return false;
    const timer = setTimeout(
      () => expireStream(stream, "grpc", headers["content-type"] ?? "", true, false),
      deadlineMs(headers, "grpc", options.maxMs),
    );
    stream.once("close", () => clearTimeout(timer));
    return true;
  };
}

/** The request target without its query (Connect GET puts the message there). */
function pathOf(url: string | undefined): string {
  if (url === undefined) return "";
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

function protocolOf(contentType: string | undefined): Protocol {
  if (contentType === undefined) return "connect";
  if (/^application\/grpc-web/i.test(contentType)) return "grpc-web";
  if (/^application\/grpc/i.test(contentType)) return "grpc";
  if (/^application\/connect\+/i.test(contentType)) return "connect-stream";
  return "connect";
}

/** The client's deadline capped at `maxMs`; a missing or malformed one (refused later) is `maxMs`. */
function deadlineMs(headers: IncomingHttpHeaders, protocol: Protocol, maxMs: number): number {
  const isGrpc = protocol === "grpc" || protocol === "grpc-web";
  const value = headers[isGrpc ? "grpc-timeout" : "connect-timeout-ms"];
  if (typeof value !== "string") return maxMs;
  const parsed = isGrpc ? parseGrpcTimeout(value, maxMs) : parseConnectTimeout(value, maxMs);
  return parsed.error === undefined ? (parsed.timeoutMs ?? maxMs) : maxMs;
}

function expire(request: Request, response: Response, protocol: Protocol, unary: boolean): void {
  const contentType = request.headers["content-type"] ?? "";
  if (request instanceof Http2ServerRequest) {
    expireStream(request.stream, protocol, contentType, unary, request.complete);
    return;
  }
  // HTTP/1.1 cannot stop a request body mid-way, nor an answer, but by closing the connection.
  if (response.headersSent) {
    if (unary) request.socket.destroy();
    return;
  }
  if (request.complete && !unary) return;
  const { status, header, body } = answerOf(pastDeadline(), protocol, contentType);
  const out: Http1Answer = response;
  out.writeHead(status, { ...header, connection: "close" });
  out.end(body ?? "");
}

function expireStream(
  stream: ServerHttp2Stream,
  protocol: Protocol,
  contentType: string,
  unary: boolean,
  complete: boolean,
): void {
  if (stream.headersSent) {
    if (unary) stream.close(http2Constants.NGHTTP2_CANCEL);
    return;
  }
  if (complete && !unary) return;
  const { status, header, body } = answerOf(pastDeadline(), protocol, contentType);
  stream.respond({ ":status": status, ...header }, { endStream: body === undefined });
  if (body !== undefined) stream.end(body);
  // RST_STREAM NO_ERROR once the answer is out tells the client to stop sending (RFC 9113,
  // 8.1), and frees the stream.
  stream.close(http2Constants.NGHTTP2_NO_ERROR);
}

function pastDeadline(): ConnectError {
  return new ConnectError("the call ran past its deadline", Code.DeadlineExceeded);
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
