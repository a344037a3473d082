import type { IncomingHttpHeaders, ServerHttp2Stream } from "node:http2";
import type { DescMessage } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createHandlerContext,
  type HandlerContext,
  type MethodImplSpec,
} from "@connectrpc/connect";
import {
  compressionNegotiate,
  createMethodSerializationLookup,
  encodeEnvelope,
  envelopeCompress,
  envelopeDecompress,
  invokeUnaryImplementation,
  type UniversalHandlerOptions,
  validateUniversalHandlerOptions,
} from "@connectrpc/connect/protocol";
import {
  contentTypeProto,
  headerAcceptEncoding,
  headerEncoding,
  setTrailerStatus,
} from "@connectrpc/connect/protocol-grpc";
import { pathOf } from "../registered-methods.js";
import type { Http2StreamHandler } from "../server.js";
import { plainHeadersOf, startStreamDeadline } from "./call-deadline.js";

/** Takes an HTTP/2 stream and returns true, or returns false and leaves it to the next handler. */
export type GrpcUnaryHandler = Http2StreamHandler;

type UnarySpec = MethodImplSpec<DescMessage, DescMessage> & { kind: "unary" };

/** gRPC's length-prefixed message: one flags byte, then the length as a big-endian uint32. */
const envelopeHeaderBytes = 5;
const binaryGrpcContentType = /^application\/grpc(?:\+proto)?$/i;

/**
 * Serves unary gRPC calls with binary messages straight from Node's HTTP/2 stream, with
 * Connect's own pieces: the handler context, request gate, interceptors, serialization,
 * compression negotiation and the status trailers (error details included), each call under its
 * one deadline (call-deadline.ts), capped at `maxDeadlineMs`. Everything else (gRPC-Web, Connect,
 * JSON, streaming methods) returns false and goes to Connect's handler.
 *
 * Why: Connect's gRPC handler runs every unary call through its streaming pipeline (async
 * iterables over the body, envelope transforms, a second abort controller and header copies),
 * which cost most of a trivial call's CPU in the service's profile (bench/README.md). A unary
 * call has exactly one message each way, so it can be read whole and answered whole. Callers
 * see the same wire format, codes, metadata and limits as from Connect; the test suite runs
 * against both paths.
 *
 * It takes the raw stream (`ServerHttp2Stream`), before Node's HTTP/2 compatibility layer would
 * wrap it in a request and a response (server.ts): those wrappers re-emit the body and translate
 * every header and write, per call (bench/README.md, "Lean path"). Requests with an `expect`
 * header are left to the compatibility layer, which answers them.
 */
export function createGrpcUnaryHandler(
  registered: readonly MethodImplSpec[],
  options: Partial<UniversalHandlerOptions>,
  maxDeadlineMs: number,
): GrpcUnaryHandler {
  const settings = validateUniversalHandlerOptions(options);
  const methods = new Map<string, { spec: UnarySpec; serve: CallServer }>();
  for (const spec of registered) {
    if (spec.kind !== "unary") continue;
    methods.set(pathOf(spec.method), {
      spec,
      serve: createCallServer(spec, settings, maxDeadlineMs),
    });
  }

  return (stream, headers) => {
    const entry = methods.get(headers[":path"] ?? "");
    if (
      entry === undefined ||
      headers[":method"] !== "POST" ||
      headers.expect !== undefined ||
      !binaryGrpcContentType.test(headers["content-type"] ?? "")
    ) {
      return false;
    }
    // As Node's compatibility layer does: a stream's error (a reset, a session torn down) also
    // closes it, which is how the call learns of it; unheard, the error would crash the process.
    stream.on("error", ignore);
    void entry.serve(stream, headers);
    return true;
  };
}

function ignore(): void {}

type CallServer = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => Promise<void>;

function createCallServer(
  spec: UnarySpec,
  settings: ReturnType<typeof validateUniversalHandlerOptions>,
  maxDeadlineMs: number,
): CallServer {
  const serialization = createMethodSerializationLookup(
    spec.method,
    settings.binaryOptions,
    settings.jsonOptions,
    settings,
  );
  const input = serialization.getI(true);
  const output = serialization.getO(true);
  const { acceptCompression, readMaxBytes, compressMinBytes, interceptors, requestGate } = settings;

  return async (stream, headers) => {
    const deadline = startStreamDeadline(stream, headers, maxDeadlineMs);
    // No timeoutMs: the deadline times the call, and Connect's context would start a second timer.
    const context = createHandlerContext({
      ...spec,
      service: spec.method.parent,
      protocolName: "grpc",
      requestMethod: "POST",
      url: `${headers[":scheme"]}://${headers[":authority"] ?? headers.host}${headers[":path"]}`,
      shutdownSignal: settings.shutdownSignal,
      requestHeader: withoutPseudoHeaders(headers),
      responseHeader: { "content-type": contentTypeProto },
    });
    deadline.attach(context);
    const body = readEnvelope(stream, readMaxBytes);
    // Awaited only after the gate; until then a framing error must not count as unhandled.
    body.catch(() => {});
    let answered = false;
    const aborted = () => {
      if (!answered) context.abort(clientGone());
    };
    stream.once("close", aborted);

    const compression = compressionNegotiate(
      acceptCompression,
      context.requestHeader.get(headerEncoding),
      context.requestHeader.get(headerAcceptEncoding),
      headerAcceptEncoding,
    );
    if (compression.response !== null) {
      context.responseHeader.set(headerEncoding, compression.response.name);
    }
    try {
      // Like Connect, the gate runs first, before the body is read: a refused call is never
      // parsed, and the call's telemetry (which starts at the gate) sees every failure after it.
      await requestGate?.(context);
      if (compression.error !== undefined) throw compression.error;
      if (deadline.refusal !== undefined) throw deadline.refusal;
      // Connect's own (patched, see ./patches/) functions, so both paths give the same codes:
      // INTERNAL "decompression failed" (gRPC's status code table), and INVALID_ARGUMENT with no
      // parser text for bytes that are not the request message (as connect-go answers).
      const envelope = await envelopeDecompress(await body, compression.request, readMaxBytes);
      const message = await invokeUnaryImplementation(
        spec,
        context,
        input.parse(envelope.data),
        interceptors,
      );
      const reply = await envelopeCompress(
        { flags: 0, data: output.serialize(message) },
        compression.response,
        compressMinBytes,
      );
      answered = true;
      // A finished call's signal is not aborted: its context has no timer to stop, and
      // dispatching the abort event showed in the profile of a trivial call.
      send(stream, context, encodeEnvelope(reply.flags, reply.data));
    } catch (error) {
      const failure =
        error instanceof ConnectError
          ? error
          : new ConnectError("internal error", Code.Internal, undefined, undefined, error);
      answered = true;
      send(stream, context, undefined, failure);
      context.abort(failure);
    } finally {
      stream.off("close", aborted);
    }
  };
}

/** Why a call's signal aborts when its client resets the stream or goes away. */
function clientGone(): ConnectError {
  return new ConnectError("the client closed the stream", Code.Canceled);
}

/** Headers, the body if any, then the trailers: what Node's compatibility layer would send. */
function send(
  stream: ServerHttp2Stream,
  context: HandlerContext,
  body: Uint8Array | undefined,
  error?: ConnectError,
): void {
  // Answered already (the call's deadline), or reset by the client.
  if (stream.headersSent || stream.destroyed || stream.closed) return;
  const trailers = plainHeadersOf(setTrailerStatus(context.responseTrailer, error));
  stream.respond(
    { ":status": 200, ...plainHeadersOf(context.responseHeader) },
    { waitForTrailers: true },
  );
  stream.once("wantTrailers", () => stream.sendTrailers(trailers));
  if (body === undefined) stream.end();
  else stream.end(body);
}

/** The request's one enveloped message; fails as Connect's gRPC handler does on bad framing. */
function readEnvelope(
  stream: ServerHttp2Stream,
  readMaxBytes: number,
): Promise<{ flags: number; data: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let declaredLength: number | undefined;
    let ended = false;
    const fail = (error: ConnectError) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.resume();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (received < envelopeHeaderBytes) return;
      // Read once, as soon as the prefix is in: a large message arrives in many chunks.
      declaredLength ??= Buffer.concat(chunks).readUInt32BE(1);
      const length = declaredLength;
      if (length > readMaxBytes) {
        fail(
          new ConnectError(
            `message size ${length} is larger than configured readMaxBytes ${readMaxBytes}`,
            Code.ResourceExhausted,
          ),
        );
      } else if (received > envelopeHeaderBytes + length) {
        fail(unaryInputError("received extra input message"));
      }
    };
    const onEnd = () => {
      ended = true;
      if (received === 0) return fail(unaryInputError("missing input message"));
      const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      const length = received < envelopeHeaderBytes ? -1 : bytes.readUInt32BE(1);
      if (received !== envelopeHeaderBytes + length) {
        return fail(new ConnectError("protocol error: incomplete envelope", Code.InvalidArgument));
      }
      resolve({ flags: bytes[0] as number, data: bytes.subarray(envelopeHeaderBytes) });
    };
    stream.on("data", onData);
    stream.once("end", onEnd);
    stream.once("close", () => {
      if (!ended) fail(clientGone());
    });
  });
}

function unaryInputError(what: string): ConnectError {
  return new ConnectError(`protocol error: ${what} for unary method`, Code.Unimplemented);
}

/** Node's HTTP/2 header object without the pseudo-headers, repeated fields joined. */
function withoutPseudoHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name in headers) {
    if (name.charCodeAt(0) === 58 /* ":" */) continue;
    const value = headerValue(headers[name]);
    if (value !== null) result[name] = value;
  }
  return result;
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return typeof value === "string" ? value : value.join(", ");
}
