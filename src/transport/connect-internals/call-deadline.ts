import {
  Http2ServerRequest,
  constants as http2Constants,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import { Code, ConnectError, createContextKey } from "@connectrpc/connect";
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
 * The one deadline of every RPC, on both serving paths (Connect's router through
 * connect-adapter.ts, and the direct gRPC path): computed once from the request's headers, the
 * client's (`grpc-timeout`, `connect-timeout-ms`) capped at `maxMs` (REQUEST_TIMEOUT_MS), or
 * `maxMs` without one; one timer per call, started when the request arrives, before any of its
 * body is read. Nothing else times a call: Connect is never handed a valid client timeout, so it
 * starts no timer of its own (a malformed one is left for it to refuse, INVALID_ARGUMENT, after
 * the request gate), and the deadline interceptor only answers once the call's signal aborts.
 *
 * When the deadline passes and the call has not finished:
 * - nothing answered yet, and the body is still incomplete or the method is unary: the call is
 *   answered DEADLINE_EXCEEDED in its protocol's form and its stream dropped (HTTP/2: closed with
 *   NO_ERROR after the answer; HTTP/1.1: the connection closed), which frees what was buffered;
 * - a unary answer still being written (a client that does not read it): the stream is reset
 *   (HTTP/2 CANCEL; HTTP/1.1: the connection is destroyed), which frees the unsent bytes;
 * - a streaming method whose request has arrived is ended by its handler, through its signal,
 *   when the client set the deadline, and otherwise left alone: a health Watch may last for hours.
 * Whenever the deadline answers or ends a call, it aborts the call's handler context with the
 * same error, so the handler stops waiting and the call is logged and counted DEADLINE_EXCEEDED.
 */
export interface CallDeadline {
  /** Whether the deadline has passed: whatever the serving path still writes is too late. */
  readonly expired: boolean;
  /** A malformed client timeout, which the call is refused with once its gate has run. */
  readonly refusal: ConnectError | undefined;
  /** Gives the deadline the call's handler context, for it to abort. */
  attach(context: AbortableContext): void;
  /** Removes a valid client timeout from the headers Connect reads: the deadline is this one. */
  withholdTimeout(header: Headers): void;
}

/** What the deadline needs of a call's handler context: Connect's can be aborted with a reason. */
export interface AbortableContext {
  abort(reason: unknown): void;
}

/**
 * The deadline of a call, in its context values: the request gate hands it the call's context
 * (connect-adapter.ts).
 */
export const kCallDeadline = createContextKey<CallDeadline | undefined>(undefined, {
  description: "the call's deadline",
});

/** Starts the deadline of a call that Connect's router serves from a Node request. */
export function startCallDeadline(
  request: Request,
  response: Response,
  unary: boolean,
  maxMs: number,
): CallDeadline {
  const { headers } = request;
  const protocol = protocolOf(headers["content-type"] ?? "");
  return new Deadline({ request, response }, headers, protocol, unary, maxMs);
}

/** Starts the deadline of a unary gRPC call that the direct path serves from `stream`. */
export function startStreamDeadline(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  maxMs: number,
): CallDeadline {
  return new Deadline({ stream }, headers, "grpc", true, maxMs);
}

/** Where a call is answered: Node's request and response, or the raw HTTP/2 stream. */
type Call =
  | { readonly request: Request; readonly response: Response; readonly stream?: undefined }
  | { readonly stream: ServerHttp2Stream };

class Deadline implements CallDeadline {
  readonly contentType: string;
  readonly timeoutHeader: "grpc-timeout" | "connect-timeout-ms";
  /** The client's timeout, uncapped; undefined without a valid one. */
  readonly clientMs: number | undefined;
  readonly refusal: ConnectError | undefined;
  expired = false;
  private context: AbortableContext | undefined;
  /** What the context is to be aborted with when it is attached after the deadline passed. */
  private abortedWith: ConnectError | undefined;

  constructor(
    readonly call: Call,
    headers: IncomingHttpHeaders,
    readonly protocol: Protocol,
    readonly unary: boolean,
    maxMs: number,
  ) {
    this.contentType = headers["content-type"] ?? "";
    const isGrpc = protocol === "grpc" || protocol === "grpc-web";
    this.timeoutHeader = isGrpc ? "grpc-timeout" : "connect-timeout-ms";
    const value = headers[this.timeoutHeader];
    // Connect's own parsers, without an upper bound: the cap is `maxMs`, applied here.
    const parsed =
      typeof value !== "string"
        ? {}
        : isGrpc
          ? parseGrpcTimeout(value, Number.POSITIVE_INFINITY)
          : parseConnectTimeout(value, Number.POSITIVE_INFINITY);
    this.clientMs = parsed.timeoutMs;
    this.refusal = parsed.error;
    const timer = setTimeout(expire, Math.min(parsed.timeoutMs ?? maxMs, maxMs), this);
    (call.stream ?? call.response).once("close", () => clearTimeout(timer));
  }

  attach(context: AbortableContext): void {
    this.context = context;
    if (this.abortedWith !== undefined) context.abort(this.abortedWith);
  }

  withholdTimeout(header: Headers): void {
    if (this.clientMs !== undefined) header.delete(this.timeoutHeader);
  }

  abort(error: ConnectError): void {
    this.abortedWith = error;
    this.context?.abort(error);
  }
}

function expire(deadline: Deadline): void {
  deadline.expired = true;
  const error = new ConnectError("the call ran past its deadline", Code.DeadlineExceeded);
  const { call } = deadline;
  const answered =
    call.stream !== undefined
      ? expireStream(call.stream, deadline, error, false)
      : call.request instanceof Http2ServerRequest
        ? expireStream(call.request.stream, deadline, error, call.request.complete)
        : expireHttp1(call.request, call.response, deadline, error);
  if (answered || (!deadline.unary && deadline.clientMs !== undefined)) deadline.abort(error);
}

/** Answers or resets a call on an HTTP/2 stream; true when it answered. */
function expireStream(
  stream: ServerHttp2Stream,
  deadline: Deadline,
  error: ConnectError,
  complete: boolean,
): boolean {
  if (stream.headersSent) {
    if (deadline.unary) stream.close(http2Constants.NGHTTP2_CANCEL);
    return false;
  }
  if (complete && !deadline.unary) return false;
  const { status, header, body } = answerOf(error, deadline.protocol, deadline.contentType);
  stream.respond({ ":status": status, ...header }, { endStream: body === undefined });
  if (body !== undefined) stream.end(body);
  // RST_STREAM NO_ERROR once the answer is out tells the client to stop sending (RFC 9113,
  // 8.1), and frees the stream.
  stream.close(http2Constants.NGHTTP2_NO_ERROR);
  return true;
}

/**
 * HTTP/1.1 cannot stop a request body mid-way, nor an answer, but by closing the connection;
 * true when it answered.
 */
function expireHttp1(
  request: Request,
  response: Response,
  deadline: Deadline,
  error: ConnectError,
): boolean {
  if (response.headersSent) {
    if (deadline.unary) request.socket.destroy();
    return false;
  }
  if (request.complete && !deadline.unary) return false;
  const { status, header, body } = answerOf(error, deadline.protocol, deadline.contentType);
  const out: Http1Answer = response;
  out.writeHead(status, { ...header, connection: "close" });
  out.end(body ?? "");
  return true;
}

function protocolOf(contentType: string): Protocol {
  if (/^application\/grpc-web/i.test(contentType)) return "grpc-web";
  if (/^application\/grpc/i.test(contentType)) return "grpc";
  if (/^application\/connect\+/i.test(contentType)) return "connect-stream";
  return "connect";
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

/** A fetch `Headers` object as the plain record Node's HTTP/2 API takes. */
export function plainHeadersOf(headers: Headers): Record<string, string> {
  const result: Record<string, string> = {};
  headers.forEach((value, name) => {
    result[name] = value;
  });
  return result;
}
