import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import { classifyDatabaseError } from "../db/database-errors.js";
import {
  DependencyUnavailableError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
  UnauthenticatedError,
} from "../errors.js";

/**
 * The one place where failures become RPC errors. Expected outcomes get precise codes; anything
 * else is logged with its cause and reaches the client as a bare INTERNAL, with no detail.
 */
export function createErrorInterceptor(logger: Logger): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      const connectError = toConnectError(error);
      if (connectError.code === Code.Internal || connectError.code === Code.Unavailable) {
        logger.error({ err: error, procedure: request.method.name }, "call failed");
      }
      throw connectError;
    }
  };
}

/** Domain failures and the code each one gets. */
const codeOfDomainError: ReadonlyArray<readonly [new (...args: never[]) => Error, Code]> = [
  [NotFoundError, Code.NotFound],
  [PreconditionFailedError, Code.Aborted],
  [UnauthenticatedError, Code.Unauthenticated],
  [PermissionDeniedError, Code.PermissionDenied],
  [DependencyUnavailableError, Code.Unavailable],
];

/** Maps a failure from the domain or the database to the ConnectError a client sees. */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  if (error instanceof InvalidArgumentError) {
    return new ConnectError(error.message, Code.InvalidArgument, undefined, [
      { desc: BadRequestSchema, value: { fieldViolations: [...error.violations] } },
    ]);
  }
  for (const [type, code] of codeOfDomainError) {
    if (error instanceof type) return new ConnectError(error.message, code);
  }
  switch (classifyDatabaseError(error)) {
    case "unavailable":
      return new ConnectError("the database is unavailable; retry later", Code.Unavailable);
    case "timeout":
      return new ConnectError("the database did not answer in time", Code.DeadlineExceeded);
    case "conflict":
      return new ConnectError("the change lost a concurrent race; retry", Code.Aborted);
    default:
      return new ConnectError("internal error", Code.Internal);
  }
}
