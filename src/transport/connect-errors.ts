import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  BadRequestSchema,
  QuotaFailureSchema,
  RetryInfoSchema,
} from "../../gen/google/rpc/error_details_pb.js";
import { InvalidToken, SigningKeysUnavailable, TokenExpired } from "../auth/errors.js";
import { classifyDatabaseError } from "../db/database-errors.js";
import type { FieldRulesBroken } from "../field-violations.js";
import {
  BlockedBetweenUsers,
  BlockLimitReached,
  ContactLimitReached,
  InvalidGraphRequest,
  NotAContact,
  NotGraphOwner,
} from "../graph/errors.js";
import {
  AdminScopeRequired,
  EtagMismatch,
  HandleClaimTooSoon,
  HandleNotFound,
  HandleTaken,
  InvalidHandle,
  InvalidHandleChange,
  InvalidPrivacyChange,
  InvalidProfileChange,
  InvalidSearchRequest,
  InvalidUserId,
  NotProfileOwner,
  NotSettingsOwner,
  PrivacyEtagMismatch,
  ProfileNotFound,
  ViewerNotAllowed,
} from "../profile/errors.js";
import {
  FeedLost,
  FeedNotLive,
  InstanceShuttingDown,
  WatchClosed,
  WatchLimitReached,
  WatchTooLarge,
} from "../profile/live/errors.js";

type ErrorClass<E extends Error = Error> = new (...args: never[]) => E;
type Details = NonNullable<ConstructorParameters<typeof ConnectError>[3]>;

/** How a client is told of one domain error: its message, a code, and maybe details. */
interface Answer {
  readonly type: ErrorClass;
  /** The ConnectError for `error` when it is a `type`. */
  readonly answer: (error: unknown) => ConnectError | undefined;
}

function answer<E extends Error>(
  type: ErrorClass<E>,
  code: Code,
  details?: (error: E) => Details,
): Answer {
  return {
    type,
    answer: (error) =>
      error instanceof type
        ? new ConnectError(error.message, code, undefined, details?.(error))
        : undefined,
  };
}

/** Every violation, as a `google.rpc.BadRequest`. */
const badRequest = (error: FieldRulesBroken): Details => [
  { desc: BadRequestSchema, value: { fieldViolations: [...error.violations] } },
];

/** Whose limit is reached, as a `google.rpc.QuotaFailure`. */
const quotaFailure = (error: Error & { readonly subject: string }): Details => [
  {
    desc: QuotaFailureSchema,
    value: { violations: [{ subject: error.subject, description: error.message }] },
  },
];

/** When to try again, as a `google.rpc.RetryInfo`. */
const retryInfo = (error: { readonly retryAfterMs: number }): Details => [
  { desc: RetryInfoSchema, value: { retryDelay: durationFromMs(Math.ceil(error.retryAfterMs)) } },
];

/** Each domain error and what a client is told of it. */
const answers: readonly Answer[] = [
  answer(InvalidUserId, Code.InvalidArgument, badRequest),
  answer(InvalidProfileChange, Code.InvalidArgument, badRequest),
  answer(ProfileNotFound, Code.NotFound),
  answer(InvalidPrivacyChange, Code.InvalidArgument, badRequest),
  answer(PrivacyEtagMismatch, Code.Aborted),
  answer(NotSettingsOwner, Code.PermissionDenied),
  answer(ViewerNotAllowed, Code.PermissionDenied),
  // A concurrent change came first: the caller reads again and retries.
  answer(EtagMismatch, Code.Aborted),
  answer(NotProfileOwner, Code.PermissionDenied),
  answer(AdminScopeRequired, Code.PermissionDenied),
  answer(InvalidSearchRequest, Code.InvalidArgument, badRequest),
  answer(InvalidHandleChange, Code.InvalidArgument, badRequest),
  answer(InvalidHandle, Code.InvalidArgument, badRequest),
  answer(HandleTaken, Code.AlreadyExists),
  // The user's own cooldown: RetryInfo says when a claim is allowed again.
  answer(HandleClaimTooSoon, Code.FailedPrecondition, retryInfo),
  answer(HandleNotFound, Code.NotFound),

  answer(InvalidGraphRequest, Code.InvalidArgument, badRequest),
  answer(NotGraphOwner, Code.PermissionDenied),
  answer(NotAContact, Code.NotFound),
  answer(BlockedBetweenUsers, Code.FailedPrecondition),
  // A per-user limit: the QuotaFailure names whose.
  answer(ContactLimitReached, Code.ResourceExhausted, quotaFailure),
  answer(BlockLimitReached, Code.ResourceExhausted, quotaFailure),

  answer(WatchTooLarge, Code.ResourceExhausted),
  answer(WatchLimitReached, Code.ResourceExhausted),
  answer(InstanceShuttingDown, Code.Unavailable),
  answer(FeedLost, Code.Unavailable),
  answer(FeedNotLive, Code.Unavailable),
  answer(WatchClosed, Code.Unavailable),

  answer(InvalidToken, Code.Unauthenticated),
  answer(TokenExpired, Code.Unauthenticated),
  answer(SigningKeysUnavailable, Code.Unavailable),
];

/** The domain errors the table answers; every other failure is a database error or INTERNAL. */
export const answeredErrors: ReadonlySet<ErrorClass> = new Set(answers.map(({ type }) => type));

/**
 * The one mapping from failures to the ConnectError a client sees. Domain errors get the code
 * and details of `answers`; database failures a code by their kind; anything else is a bare
 * INTERNAL with no detail, its cause kept for the log line (see telemetry.ts).
 */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  for (const { answer } of answers) {
    const answered = answer(error);
    if (answered !== undefined) return answered;
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
