import {
  create,
  type DescField,
  type DescMessage,
  type DescMethod,
  type Message,
  type MessageInitShape,
  ScalarType,
} from "@bufbuild/protobuf";
import { reflect } from "@bufbuild/protobuf/reflect";
import { Code, ConnectError, type MethodImplSpec, type Transport } from "@connectrpc/connect";
import { beforeAll, describe, expect, it } from "vitest";
import { ServerReflection as ServerReflectionV1 } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { signHs256Token } from "../../src/auth/token-signer.js";
import type { ProfileService } from "../../src/profile/service.js";
import { registeredMethods } from "../../src/transport/registered-methods.js";
import { publicServices, type Routes } from "../../src/transport/routes.js";
import { type AccessRule, accessOf, accessRules, methodKey } from "./access-rules.js";
import { testAuth, tokenFor } from "./auth.js";
import type { TestToken } from "./clients.js";

/** The users a probe request names. */
export interface ProbeIds {
  /** The user whose data the call is about: every field named `user_id`. */
  readonly userId: string;
  /** A third user: every other `*_user_id` field, and the ids of `*_user_ids` lists. */
  readonly otherUserId: string;
}

/** Values that pass the field rules, for string fields of these names. */
const validStrings: Readonly<Record<string, string>> = {
  display_name: "Probe",
  avatar_url: "https://example.com/probe.png",
  bio: "probing the access rules",
  nickname: "Probe",
  reason: "probing the access rules",
  query: "Probe",
};

/** A request built by hand, for a method whose generic request would not be a valid one. */
function requestOverride<I extends DescMessage>(
  method: DescMethod & { readonly input: I },
  build: (ids: ProbeIds) => MessageInitShape<I>,
): [string, (ids: ProbeIds) => Message] {
  return [methodKey(method), (ids) => create(method.input, build(ids))];
}

/** The only requests the generic builder cannot make: keyed by {@link methodKey}. */
/** The handle the probed user registers with: theirs alone, being made of their id. */
const probeHandle = (ids: ProbeIds) => `probe_${ids.userId.replaceAll("-", "").slice(0, 20)}`;

const requestOverrides: ReadonlyMap<string, (ids: ProbeIds) => Message> = new Map([
  // The user's own handle (no change); the handle a stranger finds or checks.
  requestOverride(ProfileApi.method.setHandle, (ids) => ({
    userId: ids.userId,
    handle: probeHandle(ids),
  })),
  requestOverride(ProfileApi.method.checkHandle, (ids) => ({ handle: probeHandle(ids) })),
  requestOverride(ProfileApi.method.resolveHandle, (ids) => ({ handle: probeHandle(ids) })),
  // A reflection request must choose what it asks (a oneof); listing the services is the least.
  requestOverride(ServerReflectionV1.method.serverReflectionInfo, () => ({
    messageRequest: { case: "listServices" as const, value: "" },
  })),
  requestOverride(ServerReflectionV1Alpha.method.serverReflectionInfo, () => ({
    messageRequest: { case: "listServices" as const, value: "" },
  })),
]);

/**
 * A valid request of `method` about `ids`, built from its input descriptor: `user_id` is
 * `ids.userId`, another `*_user_id` is `ids.otherUserId`, `user_ids` is `[ids.userId]`, another
 * `*_user_ids` is `[ids.otherUserId]`, strings with field rules get a value that passes them, and
 * everything else keeps its default ("" for etag and page_token means none; "" for
 * `viewer_user_id` means the caller reads as itself, as a user token must). Oneofs stay unset.
 */
export function probeRequest(method: DescMethod, ids: ProbeIds): Message {
  const override = requestOverrides.get(methodKey(method));
  if (override !== undefined) return override(ids);
  const request = create(method.input);
  const fields = reflect(method.input, request);
  for (const field of method.input.fields) {
    if (field.oneof !== undefined || !holdsStrings(field)) continue;
    if (field.fieldKind === "list") {
      const list = fields.get(field);
      if (field.name === "user_ids") list.add(ids.userId);
      else if (field.name.endsWith("_user_ids")) list.add(ids.otherUserId);
    } else if (field.name === "user_id") {
      fields.set(field, ids.userId);
    } else if (field.name.endsWith("_user_id") && field.name !== "viewer_user_id") {
      fields.set(field, ids.otherUserId);
    } else if (field.name in validStrings) {
      fields.set(field, validStrings[field.name]);
    }
  }
  return request;
}

function holdsStrings(field: DescField): boolean {
  return (
    (field.fieldKind === "scalar" || (field.fieldKind === "list" && field.listKind === "scalar")) &&
    field.scalar === ScalarType.STRING
  );
}

/** Longest a probe waits for its answer (a stream's first message). */
const PROBE_TIMEOUT_MS = 5000;

/** A method as the routes register it: its kind tells unary from streaming calls. */
type RegisteredMethod = MethodImplSpec["method"];

/**
 * How `method` answers `request` over `transport`: "OK", or the error's code name such as
 * "PermissionDenied". A stream (server, client or bidi) sends the one request, and is judged by
 * its first message or its error; it is then cancelled.
 */
export async function outcomeOf(
  transport: Transport,
  method: RegisteredMethod,
  request: Message,
): Promise<string> {
  const done = new AbortController();
  try {
    if (method.methodKind === "unary") {
      await transport.unary(method, done.signal, PROBE_TIMEOUT_MS, undefined, request);
    } else {
      const response = await transport.stream(
        method,
        done.signal,
        PROBE_TIMEOUT_MS,
        undefined,
        (async function* () {
          yield request;
        })(),
      );
      await response.message[Symbol.asyncIterator]().next();
    }
    return "OK";
  } catch (error) {
    return Code[ConnectError.from(error).code];
  } finally {
    done.abort();
  }
}

/** What the security suite calls: the routes (to list their methods) and a way in. */
export interface SecurityTarget {
  readonly routes: Routes;
  /** Creates the profiles the probes name, so that a refusal is never a NOT_FOUND. */
  readonly profiles: Pick<ProfileService, "provisionProfile">;
  /** A transport into the service sending `token` (none for `null`). */
  transport(token: TestToken): Transport;
}

const OK = "OK";
const UNAUTHENTICATED = Code[Code.Unauthenticated];
const PERMISSION_DENIED = Code[Code.PermissionDenied];

/** What each rule answers a stranger: a signed-in user who is not `user_id`, without a scope. */
const strangerOutcome: Record<AccessRule, string> = {
  public: OK,
  "signed-in": OK,
  owner: PERMISSION_DENIED,
  admin: PERMISSION_DENIED,
};

/**
 * Calls every method the routes register, whatever its kind, without a token, with a token that
 * names the user but does not verify, with a stranger's valid user token and (for owner and
 * admin methods) with the user's own token, and holds each answer to its row of
 * tests/support/access-rules.ts. A method without a row fails, named.
 */
export function describeAccessRules(target: SecurityTarget): void {
  const methods = registeredMethods(target.routes).map((spec) => spec.method);
  const ids: ProbeIds = { userId: crypto.randomUUID(), otherUserId: crypto.randomUUID() };
  let as: Record<"anonymous" | "forged" | "stranger" | "self", Transport>;
  beforeAll(async () => {
    await target.profiles.provisionProfile(ids.userId, ["Victim"], probeHandle(ids));
    await target.profiles.provisionProfile(ids.otherUserId, ["Other"]);
    as = {
      anonymous: target.transport(null),
      // The user's own claims, signed with a key the service does not know.
      forged: target.transport(
        await signHs256Token({
          secret: "not-the-service-secret-but-as-long-as-one",
          subject: ids.userId,
          scopes: [],
          issuer: testAuth.issuer,
          audience: testAuth.audience,
          expiresIn: "1h",
        }),
      ),
      stranger: target.transport(await tokenFor(crypto.randomUUID())),
      self: target.transport(await tokenFor(ids.userId)),
    };
  });
  const probe = (caller: keyof typeof as, method: RegisteredMethod) =>
    outcomeOf(as[caller], method, probeRequest(method, ids));

  it("has an access rule for every registered method", () => {
    const unruled = methods.filter((method) => accessOf(method) === undefined).map(methodKey);

    expect(
      unruled,
      "registered methods with no row in tests/support/access-rules.ts: add each with its rule " +
        "and reason",
    ).toEqual([]);
  });

  it("has no access rule for a service or method that is not registered", () => {
    const registered = new Set(
      methods.flatMap((method) => [methodKey(method), method.parent.typeName]),
    );

    expect([...accessRules.keys()].filter((key) => !registered.has(key))).toEqual([]);
  });

  it("calls public exactly the services the auth gate lets through (publicServices)", () => {
    const publicRows = [...accessRules]
      .filter(([, access]) => access.rule === "public")
      .map(([key]) => key);

    expect(publicRows.sort()).toEqual([...publicServices].sort());
  });

  describe.each(methods.map((method) => [methodKey(method), method] as const))(
    "%s",
    (_, method) => {
      const rule = accessOf(method)?.rule;
      const withoutCredentials = rule === "public" ? OK : UNAUTHENTICATED;

      it(`without a token: ${withoutCredentials}`, async () => {
        expect(await probe("anonymous", method)).toBe(withoutCredentials);
      });

      it(`with a token that does not verify: ${withoutCredentials}`, async () => {
        expect(await probe("forged", method)).toBe(withoutCredentials);
      });

      it(`as a stranger: ${rule === undefined ? "no rule" : strangerOutcome[rule]}`, async () => {
        if (rule === undefined) {
          throw new Error(
            `${methodKey(method)} has no access rule: add it to tests/support/access-rules.ts`,
          );
        }
        expect(await probe("stranger", method)).toBe(strangerOutcome[rule]);
      });

      if (rule === "owner") {
        it("as the user themself: let through", async () => {
          expect([UNAUTHENTICATED, PERMISSION_DENIED]).not.toContain(await probe("self", method));
        });
      }
      if (rule === "admin") {
        it(`as the user themself: ${PERMISSION_DENIED}`, async () => {
          expect(await probe("self", method)).toBe(PERMISSION_DENIED);
        });
      }
    },
  );
}
