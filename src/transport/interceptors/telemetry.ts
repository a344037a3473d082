import { randomUUID } from "node:crypto";
import {
  Code,
  ConnectError,
  type ContextValues,
  createContextKey,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import type { Logger } from "pino";
import { kCaller } from "../../auth/caller-context.js";
import type { Metrics } from "../../ops/metrics.js";
import { parseTraceParent, type TraceParent, withTraceParent } from "../../ops/trace-context.js";

/** Echoed back on every response; taken from the request when it carries a sane one. */
const REQUEST_ID_HEADER = "x-request-id";
const saneRequestId = /^[\w.:-]{1,128}$/;
/** W3C Trace Context: kept for the call's log line and passed on with the events it causes. */
const TRACEPARENT_HEADER = "traceparent";

/** Codes that mean the service, not the caller, has a problem: logged with their cause. */
const serverSide = new Set([Code.Internal, Code.Unavailable, Code.Unknown, Code.DataLoss]);

/** A Connect request gate: runs once a call's headers are in, before its body is read. */
export type RequestGate = (context: HandlerContext) => Promise<void>;

export interface Telemetry {
  /**
   * Wraps the request gate, where every call starts (on both serving paths, every protocol): a
   * call that fails before the interceptors run (refused by `gate`, a body that cannot be read,
   * decompressed or parsed) is recorded when its context is aborted with the failure. Calls
   * through the internal door (`door: "internal"`) say so on their log line.
   */
  gate(gate: RequestGate, door?: "public" | "internal"): RequestGate;
  /** Outermost of the interceptors: records the calls that reach them when they end. */
  readonly interceptor: Interceptor;
}

/** One call, from the gate to its end; recorded once. */
interface Call {
  readonly start: number;
  readonly procedure: string;
  readonly protocol: string;
  readonly requestId: string;
  readonly trace: TraceParent | undefined;
  readonly internal: boolean;
  readonly values: ContextValues;
  readonly recorded: (code: string, seconds: number) => void;
  /** The interceptor ends the call; its context's abort no longer does. */
  claimed: boolean;
  ended: boolean;
}

const kCall = createContextKey<Call | undefined>(undefined, {
  description: "the call's telemetry",
});

/**
 * One JSON log line and one set of metric updates per RPC, whatever ends it: procedure, protocol,
 * code, duration, request id, the W3C trace id when the call carries a `traceparent`, and caller
 * (a user id or service name), never tokens or profile text.
 */
export function createTelemetry(logger: Logger, metrics: Metrics): Telemetry {
  const end = (call: Call, error: unknown) => {
    if (call.ended) return;
    call.ended = true;
    const failure = error === undefined ? undefined : failureOf(error);
    const code = failure === undefined ? "ok" : Code[failure.code];
    const seconds = (performance.now() - call.start) / 1000;
    call.recorded(code, seconds);
    const line = {
      procedure: call.procedure,
      protocol: call.protocol,
      requestId: call.requestId,
      ...(call.trace === undefined ? {} : { traceId: call.trace.traceId }),
      ...(call.internal ? { door: "internal" } : {}),
      caller: call.values.get(kCaller)?.subject,
      code,
      durationMs: Math.round(seconds * 100_000) / 100,
    };
    if (failure !== undefined && serverSide.has(failure.code)) {
      logger.error({ ...line, err: failure.cause ?? failure }, "rpc failed");
    } else {
      logger.info(line, "rpc");
    }
  };

  return {
    gate:
      (gate, door = "public") =>
      async (context) => {
        const procedure = `${context.service.typeName}/${context.method.name}`;
        const call: Call = {
          start: performance.now(),
          procedure,
          protocol: context.protocolName,
          requestId: requestIdOf(context.requestHeader),
          trace: parseTraceParent(context.requestHeader.get(TRACEPARENT_HEADER)),
          internal: door === "internal",
          values: context.values,
          recorded: metrics.rpcStarted(procedure),
          claimed: false,
          ended: false,
        };
        context.values.set(kCall, call);
        context.responseHeader.set(REQUEST_ID_HEADER, call.requestId);
        // Both serving paths abort a call's context when it fails, with the failure as the reason.
        const aborted = () => {
          if (!call.claimed) end(call, context.signal.reason);
        };
        if (context.signal.aborted) aborted();
        else context.signal.addEventListener("abort", aborted, { once: true });
        await gate(context);
      },
    interceptor: (next) => async (request) => {
      const call = request.contextValues.get(kCall);
      if (call === undefined) throw new Error("the call did not pass the telemetry gate");
      call.claimed = true;
      try {
        // The handler and everything it awaits run in the call's trace (ops/trace-context.ts).
        const response = await withTraceParent(call.trace, () => next(request));
        if (!response.stream) {
          end(call, undefined);
          return response;
        }
        return { ...response, message: observeEnd(response.message, (error) => end(call, error)) };
      } catch (error) {
        end(call, error);
        throw error;
      }
    },
  };
}

/** The error a failure reaches the client as: Connect answers anything else as INTERNAL. */
function failureOf(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof Error && error.name === "AbortError") return ConnectError.from(error);
  return new ConnectError("internal error", Code.Internal, undefined, undefined, error);
}

/**
 * Passes a response stream through and calls `end` when it finishes or fails, or, when it is left
 * unfinished (the client went away), with CANCELLED.
 */
async function* observeEnd<T>(
  messages: AsyncIterable<T>,
  end: (error?: unknown) => void,
): AsyncIterable<T> {
  try {
    yield* messages;
    end();
  } catch (error) {
    end(error);
    throw error;
  } finally {
    end(new ConnectError("the client closed the stream", Code.Canceled));
  }
}

function requestIdOf(header: Headers): string {
  const given = header.get(REQUEST_ID_HEADER);
  return given !== null && saneRequestId.test(given) ? given : randomUUID();
}
