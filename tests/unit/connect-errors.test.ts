// The one mapping from failures to the codes clients see (src/transport/connect-errors.ts), through the
// error interceptor and Connect's in-memory router.
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { BadRequestSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  DependencyUnavailableError,
  EtagMismatchError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
} from "../../src/errors.js";
import { toConnectError } from "../../src/transport/connect-errors.js";
import { createErrorInterceptor } from "../../src/transport/interceptors/errors.js";
import { routerClients } from "./support/router-clients.js";

/** The error a GetProfile call fails with when its handler throws `thrown`. */
async function answerTo(thrown: unknown): Promise<ConnectError> {
  const { profiles } = routerClients({
    profileApi: {
      getProfile() {
        throw thrown;
      },
    },
    interceptors: [createErrorInterceptor()],
  });
  try {
    await profiles.getProfile({ userId: "any" });
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** A database error as `pg` reports it: an Error with a SQLSTATE or socket `code`. */
const databaseError = (code: string) => Object.assign(new Error(`database said ${code}`), { code });

describe("the error mapping, as a client sees it", () => {
  it.each([
    ["NotFoundError", new NotFoundError("no profile for user u"), Code.NotFound],
    ["EtagMismatchError", new EtagMismatchError("etag does not match"), Code.Aborted],
    ["UnauthenticatedError", new UnauthenticatedError("token expired"), Code.Unauthenticated],
    ["PermissionDeniedError", new PermissionDeniedError("not yours"), Code.PermissionDenied],
    ["DependencyUnavailableError", new DependencyUnavailableError("JWKS down"), Code.Unavailable],
  ])("answers a %s with its code and its message", async (_, thrown, code) => {
    const error = await answerTo(thrown);

    expect({ code: Code[error.code], message: error.rawMessage }).toEqual({
      code: Code[code],
      message: thrown.message,
    });
  });

  it("answers an InvalidArgumentError with INVALID_ARGUMENT and every violation as a google.rpc.BadRequest", async () => {
    const violations = [
      { field: "user_id", description: "must be a UUID", reason: "INVALID_USER_ID" },
      { field: "bio", description: "must be at most 500 characters", reason: "TOO_LONG" },
    ];

    const error = await answerTo(new InvalidArgumentError(violations));

    expect(Code[error.code]).toBe(Code[Code.InvalidArgument]);
    expect(error.rawMessage).toBe("user_id: must be a UUID; bio: must be at most 500 characters");
    expect(
      error.findDetails(BadRequestSchema).flatMap((detail) =>
        detail.fieldViolations.map(({ field, description, reason }) => ({
          field,
          description,
          reason,
        })),
      ),
    ).toEqual(violations);
  });

  it.each([
    [
      "a refused connection",
      "ECONNREFUSED",
      Code.Unavailable,
      "the database is unavailable; retry later",
    ],
    [
      "an administrator shutdown",
      "57P01",
      Code.Unavailable,
      "the database is unavailable; retry later",
    ],
    ["a statement timeout", "57014", Code.DeadlineExceeded, "the database did not answer in time"],
    ["a serialization failure", "40001", Code.Aborted, "the change lost a concurrent race; retry"],
  ])(
    "answers %s with its code and a message that hides the database's",
    async (_, sqlState, code, message) => {
      const error = await answerTo(databaseError(sqlState));

      expect({ code: Code[error.code], message: error.rawMessage }).toEqual({
        code: Code[code],
        message,
      });
    },
  );

  it("answers anything unexpected with a bare INTERNAL that carries neither its message nor details", async () => {
    const error = await answerTo(new TypeError("secret internals at src/x.ts:12"));

    expect(Code[error.code]).toBe(Code[Code.Internal]);
    expect(error.rawMessage).toBe("internal error");
    expect(error.details).toEqual([]);
  });

  it("passes a ConnectError through unchanged", async () => {
    const error = await answerTo(new ConnectError("slow down", Code.ResourceExhausted));

    expect({ code: Code[error.code], message: error.rawMessage }).toEqual({
      code: Code[Code.ResourceExhausted],
      message: "slow down",
    });
  });
});

describe("toConnectError", () => {
  it("keeps an unexpected error as the cause, for the log line", () => {
    const cause = new Error("boom");

    expect(toConnectError(cause).cause).toBe(cause);
  });
});
