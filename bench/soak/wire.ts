// Raw calls for the soak's attackers: what well-behaved clients cannot send (unfinished bodies,
// reset streams, malformed bytes, odd headers), with the answer reduced to a status code name.
import http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";

/** How one raw call ended. */
export interface RawAnswer {
  /** "OK", a gRPC code name such as "INVALID_ARGUMENT", or "NO_ANSWER". */
  readonly code: string;
  readonly message: string;
  /** The response body (gRPC: the framed messages). */
  readonly body: Buffer;
  /** From the first byte sent to the end of the answer (or to giving up). */
  readonly ms: number;
}

/** Whether the service answered (with any status), rather than resetting or never answering. */
export function isAnswer(answer: RawAnswer): boolean {
  return answer.code !== "NO_ANSWER" && !answer.code.startsWith("RESET_");
}

/** 16 or "ResourceExhausted" → "RESOURCE_EXHAUSTED": the spelling of the gRPC specification. */
export function codeName(code: Code | number): string {
  if (code === 0) return "OK";
  const name = Code[code] as string | undefined;
  return name === undefined
    ? `STATUS_${code}`
    : name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** The code name of a Connect client call's outcome. */
export function outcomeOf(error: unknown): string {
  return error === undefined ? "OK" : codeName(ConnectError.from(error).code);
}

/** What tells the service which protocol a request speaks. */
const protocols = {
  /** The body is gRPC-framed. */
  grpc: { "content-type": "application/grpc", te: "trailers" },
  /** Connect binary, unary: the body is the bare message. */
  connect: { "content-type": "application/proto", "connect-protocol-version": "1" },
} as const;
export type Protocol = keyof typeof protocols;

/** A request's headers in `protocol`, with a bearer token and `extra` added. */
export function requestHeaders(
  protocol: Protocol,
  path: string,
  token: string,
  extra: http2.OutgoingHttpHeaders = {},
): http2.OutgoingHttpHeaders {
  return { ":path": path, ...protocols[protocol], authorization: `Bearer ${token}`, ...extra };
}

/** The code name a Connect client call settled with: "OK", or its error's. */
export function settled(call: Promise<unknown>): Promise<string> {
  return call.then(
    () => "OK",
    (error: unknown) => outcomeOf(error),
  );
}

/** One HTTP/2 connection that reconnects when the server closed the last one. */
export function createSessionPool(origin: string) {
  let session: http2.ClientHttp2Session | undefined;
  return {
    get(): http2.ClientHttp2Session {
      if (session === undefined || session.closed || session.destroyed) {
        session = http2.connect(origin);
        session.on("error", () => {});
      }
      return session;
    },
    close(): void {
      session?.destroy();
      session = undefined;
    },
  };
}

/**
 * Sends one request on `session` and waits at most `waitMs` for its end. `end: false` leaves the
 * request body unfinished; `reset: true` resets the stream right after sending. A stream not
 * answered in time is reset and reported as NO_ANSWER.
 */
export function rawCall(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array,
  options: { waitMs: number; end?: boolean },
): Promise<RawAnswer> {
  const started = performance.now();
  return new Promise((resolve) => {
    let httpStatus = 0;
    let grpcStatus: string | undefined;
    let grpcMessage = "";
    const chunks: Buffer[] = [];
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request({ ":method": "POST", ...headers });
    } catch (error) {
      resolve({ code: "NO_ANSWER", message: String(error), body: Buffer.alloc(0), ms: 0 });
      return;
    }
    const timer = setTimeout(() => {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      resolve({
        code: "NO_ANSWER",
        message: "",
        body: Buffer.alloc(0),
        ms: performance.now() - started,
      });
    }, options.waitMs);
    const take = (h: http2.IncomingHttpHeaders) => {
      if (h[":status"] !== undefined) httpStatus = Number(h[":status"]);
      if (h["grpc-status"] !== undefined) grpcStatus = String(h["grpc-status"]);
      if (h["grpc-message"] !== undefined) grpcMessage = decodeURIComponent(`${h["grpc-message"]}`);
    };
    stream.on("response", take);
    stream.on("trailers", take);
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("error", () => {});
    stream.once("close", () => {
      clearTimeout(timer);
      const ms = performance.now() - started;
      const body = Buffer.concat(chunks);
      if (grpcStatus !== undefined) {
        resolve({ code: codeName(Number(grpcStatus)), message: grpcMessage, body, ms });
      } else if (httpStatus === 200) {
        resolve({ code: "OK", message: "", body, ms });
      } else if (httpStatus !== 0) {
        resolve({ ...connectError(httpStatus, body), body, ms });
      } else {
        resolve({
          code: `RESET_${stream.rstCode}`,
          message: "stream closed without an answer",
          body,
          ms,
        });
      }
    });
    if (options.end === false) stream.write(body);
    else stream.end(body);
  });
}

/** `rawCall` in `protocol` (a gRPC body framed by the caller, who may frame it wrongly). */
export function rawCallOver(
  protocol: Protocol,
  session: http2.ClientHttp2Session,
  call: {
    readonly path: string;
    readonly token: string;
    readonly headers?: http2.OutgoingHttpHeaders;
  },
  body: Uint8Array,
  options: { waitMs: number; end?: boolean },
): Promise<RawAnswer> {
  return rawCall(
    session,
    requestHeaders(protocol, call.path, call.token, call.headers),
    body,
    options,
  );
}

/** A Connect unary error: `{"code": "invalid_argument", "message": …}`, or HTTP 500 and the like. */
export function connectError(
  httpStatus: number,
  body: Uint8Array,
): { code: string; message: string } {
  try {
    const parsed = JSON.parse(Buffer.from(body).toString("utf8")) as {
      code?: unknown;
      message?: unknown;
    };
    if (typeof parsed.code === "string") {
      return { code: parsed.code.toUpperCase(), message: String(parsed.message ?? "") };
    }
  } catch {
    // not a Connect error body: the HTTP status is all there is
  }
  return { code: `HTTP_${httpStatus}`, message: "" };
}

/** Sends a request and resets the stream at once, without waiting for anything. */
export function resetCall(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body: Uint8Array,
): void {
  const stream = session.request({ ":method": "POST", ...headers });
  stream.on("error", () => {});
  stream.end(body);
  stream.close(http2.constants.NGHTTP2_CANCEL);
}
