// The one mapping from failures to the codes clients see (src/transport/connect-errors.ts), through the
// error interceptor and Connect's in-memory router.
import { globSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { BadRequestSchema, QuotaFailureSchema } from "../../gen/google/rpc/error_details_pb.js";
import { InvalidToken, SigningKeysUnavailable, TokenExpired } from "../../src/auth/errors.js";
import {
  BlockedBetweenUsers,
  BlockLimitReached,
  ContactLimitReached,
  InvalidGraphRequest,
  NotAContact,
  NotGraphOwner,
} from "../../src/graph/errors.js";
import {
  AdminScopeRequired,
  EtagMismatch,
  InvalidProfileChange,
  InvalidUserId,
  NotProfileOwner,
  ProfileNotFound,
} from "../../src/profile/errors.js";
import {
  FeedLost,
  FeedNotLive,
  InstanceShuttingDown,
  WatchClosed,
  WatchLimitReached,
  WatchTooLarge,
} from "../../src/profile/live/errors.js";
import { answeredErrors, toConnectError } from "../../src/transport/connect-errors.js";
import { createErrorInterceptor } from "../../src/transport/interceptors/errors.js";
import { alice, bob } from "./support/profiles.js";
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

type FieldViolations = ConstructorParameters<typeof InvalidUserId>[0];

/** A database error as `pg` reports it: an Error with a SQLSTATE or socket `code`. */
const databaseError = (code: string) => Object.assign(new Error(`database said ${code}`), { code });

describe("the error mapping, as a client sees it", () => {
  it.each([
    [new ProfileNotFound(alice), Code.NotFound, `no profile for user ${alice}`],
    [
      new EtagMismatch(alice),
      Code.Aborted,
      `etag does not match the stored profile of user ${alice}`,
    ],
    [new NotProfileOwner(), Code.PermissionDenied, "a profile may be changed only by its own user"],
    [
      new AdminScopeRequired(),
      Code.PermissionDenied,
      "a profile may be deleted only with the admin scope",
    ],
    [new NotGraphOwner(), Code.PermissionDenied, "a social graph may be used only by its own user"],
    [new NotAContact(alice, bob), Code.NotFound, `user ${bob} is not a contact of user ${alice}`],
    [
      new BlockedBetweenUsers(),
      Code.FailedPrecondition,
      "these users cannot be contacts: there is a block between them",
    ],
    [
      new WatchTooLarge(100, 101),
      Code.ResourceExhausted,
      "a watch may name at most 100 users, got 101",
    ],
    [
      new WatchLimitReached("caller", 4),
      Code.ResourceExhausted,
      "a caller may have at most 4 watches open; close one first",
    ],
    [
      new WatchLimitReached("instance", 9),
      Code.ResourceExhausted,
      "this instance has 9 watches open; retry later",
    ],
    [new InstanceShuttingDown(), Code.Unavailable, "the instance is shutting down"],
    [
      new InstanceShuttingDown({ endsWatch: true }),
      Code.Unavailable,
      "the instance is shutting down; watch again",
    ],
    [
      new FeedLost(),
      Code.Unavailable,
      "this instance lost its feed of profile changes; watch again for a fresh snapshot",
    ],
    [
      new FeedNotLive(),
      Code.Unavailable,
      "this instance does not see every profile change now; retry later",
    ],
    [new WatchClosed(), Code.Unavailable, "the watch was closed"],
    [new InvalidToken(), Code.Unauthenticated, "invalid bearer token"],
    [new TokenExpired(), Code.Unauthenticated, "bearer token expired"],
    [
      new SigningKeysUnavailable(),
      Code.Unavailable,
      "token signing keys cannot be fetched; retry later",
    ],
  ])("answers %o with its code and its message, and no details", async (thrown, code, message) => {
    const error = await answerTo(thrown);

    expect({ code: Code[error.code], message: error.rawMessage, details: error.details }).toEqual({
      code: Code[code],
      message,
      details: [],
    });
  });

  it.each([
    ["InvalidUserId", (v: FieldViolations) => new InvalidUserId(v)],
    ["InvalidProfileChange", (v: FieldViolations) => new InvalidProfileChange(v)],
    ["InvalidGraphRequest", (v: FieldViolations) => new InvalidGraphRequest(v)],
  ])(
    "answers an %s with INVALID_ARGUMENT and every violation as a google.rpc.BadRequest",
    async (_, make) => {
      const violations = [
        { field: "user_id", description: "must be a UUID", reason: "INVALID_USER_ID" },
        { field: "bio", description: "must be at most 500 characters", reason: "TOO_LONG" },
      ];

      const error = await answerTo(make(violations));

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
    },
  );

  it.each([
    [new ContactLimitReached(alice, 5000), "a user may have at most 5000 contacts"],
    [new BlockLimitReached(alice, 1000), "a user may block at most 1000 users"],
  ])(
    "answers %o with RESOURCE_EXHAUSTED and whose limit as a google.rpc.QuotaFailure",
    async (thrown, message) => {
      const error = await answerTo(thrown);

      expect(Code[error.code]).toBe(Code[Code.ResourceExhausted]);
      expect(error.rawMessage).toBe(message);
      expect(
        error
          .findDetails(QuotaFailureSchema)
          .flatMap((detail) =>
            detail.violations.map(({ subject, description }) => ({ subject, description })),
          ),
      ).toEqual([{ subject: `user:${alice}`, description: message }]);
    },
  );

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

describe("the domain errors", () => {
  const src = join(import.meta.dirname, "../../src");
  /** Every errors module of the domain: transport's own (the error interceptor) is no domain. */
  const errorModules = globSync("**/errors.ts", { cwd: src }).filter(
    (path) => !path.startsWith("transport/"),
  );

  it("are found in every capability's errors module", () => {
    expect(errorModules.sort()).toEqual(
      expect.arrayContaining([
        "auth/errors.ts",
        "graph/errors.ts",
        "profile/errors.ts",
        "profile/live/errors.ts",
      ]),
    );
  });

  it("each have an answer in the adapter, so that none reaches a client as INTERNAL", async () => {
    const answered: ReadonlySet<unknown> = answeredErrors;
    const unanswered: string[] = [];
    for (const path of errorModules) {
      const exports: Record<string, unknown> = await import(pathToFileURL(join(src, path)).href);
      for (const [name, value] of Object.entries(exports)) {
        const isErrorClass = typeof value === "function" && value.prototype instanceof Error;
        if (isErrorClass && !answered.has(value)) unanswered.push(`${path}: ${name}`);
      }
    }

    expect(unanswered).toEqual([]);
  });
});
