/** One reason a request field was refused; `field` is the proto field path, e.g. `user_ids[3]`. */
export interface FieldViolation {
  readonly field: string;
  readonly description: string;
  /** UPPER_SNAKE_CASE, stable for clients to branch on. */
  readonly reason: string;
}

/** The request breaks the API's rules; nothing was changed. */
export class InvalidArgumentError extends Error {
  override readonly name = "InvalidArgumentError";
  constructor(readonly violations: readonly FieldViolation[]) {
    super(violations.map((v) => `${v.field}: ${v.description}`).join("; "));
  }
}

/** The requested resource does not exist. */
export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

/**
 * The etag sent with a change does not name the stored version (a concurrent change came first,
 * or the etag is none of ours); nothing was changed. The caller reads again and retries.
 */
export class EtagMismatchError extends Error {
  override readonly name = "EtagMismatchError";
}

/** The caller did not prove who they are (no, malformed, expired or unverifiable credentials). */
export class UnauthenticatedError extends Error {
  override readonly name = "UnauthenticatedError";
}

/** The caller is known but may not do this. */
export class PermissionDeniedError extends Error {
  override readonly name = "PermissionDeniedError";
}

/** Something the service depends on (other than the database) cannot answer now; retry later. */
export class DependencyUnavailableError extends Error {
  override readonly name = "DependencyUnavailableError";
}

/** The request is valid but the state of the system refuses it (e.g. a block between two users). */
export class FailedPreconditionError extends Error {
  override readonly name = "FailedPreconditionError";
}

/** A per-user limit is reached; retrying does not help until something is removed. */
export class LimitReachedError extends Error {
  override readonly name = "LimitReachedError";
  /** `subject`: whose limit, e.g. `user:<uuid>`; the message says which and how large. */
  constructor(
    readonly subject: string,
    description: string,
  ) {
    super(description);
  }
}

/** A bound on what one caller, or the instance, may hold open was reached; nothing was started. */
export class LimitExceededError extends Error {
  override readonly name = "LimitExceededError";
}
