import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
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
 * else reaches the client as a bare INTERNAL with no detail, its cause kept for the log line
 * (see telemetry.ts).
 */
export function createErrorInterceptor(): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      throw toConnectError(error);
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
      return withCause("the database is unavailable; retry later", Code.Unavailable, error);
    case "timeout":
      return withCause("the database did not answer in time", Code.DeadlineExceeded, error);
    case "conflict":
      return withCause("the change lost a concurrent race; retry", Code.Aborted, error);
    default:
      return withCause("internal error", Code.Internal, error);
  }
}

/** A client-facing error whose cause is kept for the log only: Connect never sends it. */
function withCause(message: string, code: Code, cause: unknown): ConnectError {
  return new ConnectError(message, code, undefined, undefined, cause);
}
