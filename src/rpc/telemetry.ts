import { randomUUID } from "node:crypto";
import { Code, ConnectError, type HandlerContext, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Metrics } from "../observability/metrics.js";
import { kCaller } from "./auth-gate.js";

/** Echoed back on every response; taken from the request when it carries a sane one. */
const REQUEST_ID_HEADER = "x-request-id";
const saneRequestId = /^[\w.:-]{1,128}$/;

/** Codes that mean the service, not the caller, has a problem: logged with their cause. */
const serverSide = new Set([Code.Internal, Code.Unavailable, Code.Unknown, Code.DataLoss]);

export interface Telemetry {
  /** Logs one line per RPC and feeds the RPC metrics; outermost of the interceptors. */
  readonly interceptor: Interceptor;
  /** Records a call the auth gate refused before any interceptor ran. */
  recordRefusal(context: HandlerContext, error: ConnectError): void;
}

interface CallFacts {
  readonly procedure: string;
  readonly protocol: string;
  readonly requestId: string;
  readonly caller: string | undefined;
}

/**
 * One JSON log line and one set of metric updates per RPC: procedure, protocol, code, duration,
 * request id and caller (a user id or service name), never tokens or profile text.
 */
export function createTelemetry(logger: Logger, metrics: Metrics): Telemetry {
  const finish = (facts: CallFacts, start: number, error: unknown) => {
    const connectError = error === undefined ? undefined : ConnectError.from(error);
    const code = connectError === undefined ? "ok" : Code[connectError.code];
    const seconds = (performance.now() - start) / 1000;
    return { code, seconds, connectError, facts };
  };
  const log = (outcome: ReturnType<typeof finish>) => {
    const { code, seconds, connectError, facts } = outcome;
    const line = { ...facts, code, durationMs: Math.round(seconds * 100_000) / 100 };
    if (connectError !== undefined && serverSide.has(connectError.code)) {
      logger.error({ ...line, err: connectError.cause ?? connectError }, "rpc failed");
    } else {
      logger.info(line, "rpc");
    }
  };

  return {
    interceptor: (next) => async (request) => {
      const start = performance.now();
      const facts: CallFacts = {
        procedure: `${request.service.typeName}/${request.method.name}`,
        protocol: protocolOf(request.header),
        requestId: requestIdOf(request.header),
        caller: request.contextValues.get(kCaller)?.subject,
      };
      const recorded = metrics.rpcStarted(facts.procedure);
      const end = (error?: unknown) => {
        const outcome = finish(facts, start, error);
        recorded(outcome.code, outcome.seconds);
        log(outcome);
      };
      try {
        const response = await next(request);
        response.header.set(REQUEST_ID_HEADER, facts.requestId);
        if (!response.stream) {
          end();
          return response;
        }
        return { ...response, message: observeEnd(response.message, end) };
      } catch (error) {
        end(error);
        if (error instanceof ConnectError) error.metadata.set(REQUEST_ID_HEADER, facts.requestId);
        throw error;
      }
    },
    recordRefusal(context, error) {
      const facts: CallFacts = {
        procedure: `${context.service.typeName}/${context.method.name}`,
        protocol: context.protocolName,
        requestId: requestIdOf(context.requestHeader),
        caller: undefined,
      };
      context.responseHeader.set(REQUEST_ID_HEADER, facts.requestId);
      const outcome = finish(facts, performance.now(), error);
      metrics.rpcStarted(facts.procedure)(outcome.code, 0);
      log(outcome);
    },
  };
}

/** Passes a response stream through and calls `end` once, when it finishes or fails. */
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
  }
}

function requestIdOf(header: Headers): string {
  const given = header.get(REQUEST_ID_HEADER);
  return given !== null && saneRequestId.test(given) ? given : randomUUID();
}

function protocolOf(header: Headers): string {
  const contentType = header.get("content-type") ?? "";
  if (contentType.startsWith("application/grpc-web")) return "grpc-web";
  if (contentType.startsWith("application/grpc")) return "grpc";
  return "connect";
}
