// Attackers that test what a caller's token may do: well-signed tokens with claims of the
// wrong type (item 8), one user token reading every profile (item 10).
import { ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { SignJWT } from "jose";
import { ProfileApi } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import { outcomeOf, settled } from "../wire.js";
import {
  type AttackContext,
  type AttackReport,
  atRate,
  BATCH,
  breach,
  clientSide,
  count,
  GET,
  newReport,
  timed,
  UPDATE,
} from "./attack.js";

/** Item 8: well-signed tokens whose claims have the wrong type. */
export async function oddClaims(ctx: AttackContext): Promise<AttackReport> {
  const r = newReport(
    "claims",
    8,
    "GetProfile and UpdateProfile (of a profile the token's subject does not own) over gRPC with a validly signed token whose sub is an array or a number, or whose scope is a number, every 2 s",
    "answered UNAUTHENTICATED (no answer within 5 s or UNAVAILABLE is left to the load's and /healthz's checks)",
  );
  const key = new TextEncoder().encode(ctx.secret);
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(ctx.issuer)
      .setAudience(ctx.audience)
      .setIssuedAt()
      .setExpirationTime("2h")
      .sign(key);
  const cases = [
    { name: "sub array", token: await sign({ sub: [crypto.randomUUID()] }) },
    { name: "sub number", token: await sign({ sub: 42 }) },
    { name: "scope number", token: await sign({ sub: crypto.randomUUID(), scope: 7 }) },
  ];
  const client = createClient(ProfileApi, createGrpcTransport({ baseUrl: ctx.origin }));
  await atRate(ctx, 0.5, async (n) => {
    const bad = cases[n % cases.length];
    if (bad === undefined) return;
    const update = Math.floor(n / cases.length) % 2 === 1;
    const options = { headers: { authorization: `Bearer ${bad.token}` }, timeoutMs: 5000 };
    const outcome = await timed(ctx, "claims", () =>
      settled(
        update
          ? client.updateProfile({ userId: ctx.victimUserId, bio: "claims" }, options)
          : client.getProfile({ userId: ctx.victimUserId }, options),
      ),
    );
    const label = `${update ? "UpdateProfile" : "GetProfile"}, ${bad.name}`;
    count(r, `${label}: ${outcome}`);
    if (clientSide.has(outcome)) return;
    ctx.answered((update ? UPDATE : GET).slice(1));
    if (outcome !== "UNAUTHENTICATED") breach(r, `${label}: answered ${outcome}`);
  });
  return r;
}

/** Item 10: one user token reading every profile, 1000 at a time, 4 calls a second. */
export async function scraper(ctx: AttackContext): Promise<AttackReport> {
  const sustained = Number(process.env.SOAK_SCRAPER_ALLOWED_PER_S ?? 2000);
  const burst = Number(process.env.SOAK_SCRAPER_ALLOWED_BURST ?? 20_000);
  const r = newReport(
    "scraper",
    10,
    "one user token, BatchGetProfiles of 1000 ids walking all profiles, 4 calls a second (4,000 profiles/s)",
    `served at most ${burst} + ${sustained}/s × elapsed profiles (SOAK_SCRAPER_ALLOWED_BURST, SOAK_SCRAPER_ALLOWED_PER_S); throttled calls get RESOURCE_EXHAUSTED with google.rpc.RetryInfo; never INTERNAL`,
  );
  const token = await ctx.tokenFor(crypto.randomUUID());
  const client = createClient(ProfileApi, createGrpcTransport({ baseUrl: ctx.origin }));
  let served = 0;
  let withoutRetryInfo = 0;
  const started = performance.now();
  await atRate(ctx, 4, async (n) => {
    const first = (n * 1000) % ctx.profiles;
    const userIds = Array.from({ length: 1000 }, (_, i) =>
      ctx.seededId(1 + ((first + i) % ctx.profiles)),
    );
    const outcome = await timed(ctx, "scraper", async () => {
      try {
        const response = await client.batchGetProfiles(
          { userIds },
          { headers: { authorization: `Bearer ${token}` }, timeoutMs: 10_000 },
        );
        served += response.profiles.length;
        return "OK";
      } catch (error) {
        const hasRetryInfo = ConnectError.from(error).details.some(
          (detail) => "type" in detail && detail.type === "google.rpc.RetryInfo",
        );
        if (outcomeOf(error) === "RESOURCE_EXHAUSTED" && !hasRetryInfo) withoutRetryInfo += 1;
        return outcomeOf(error);
      }
    });
    if (!clientSide.has(outcome)) ctx.answered(BATCH.slice(1));
    count(r, outcome);
    if (outcome === "INTERNAL") breach(r, "answered INTERNAL");
  });
  const elapsedS = (performance.now() - started) / 1000;
  const allowed = Math.round(burst + sustained * elapsedS);
  r.notes.push(
    `${served} profiles served in ${elapsedS.toFixed(1)} s (${Math.round(served / elapsedS)}/s); allowed at most ${allowed}`,
  );
  if (served > allowed) {
    breach(
      r,
      `one token read ${served} profiles in ${elapsedS.toFixed(0)} s, more than ${allowed}`,
    );
  }
  if (withoutRetryInfo > 0) {
    breach(r, `${withoutRetryInfo} RESOURCE_EXHAUSTED answers without google.rpc.RetryInfo`);
  }
  return r;
}
