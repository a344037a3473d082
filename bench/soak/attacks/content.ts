// Attackers whose calls are well-formed but whose field values the rules must refuse: a
// combining-mark bomb (item 1), names that render as nothing (item 9).
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ProfileApi } from "../../../gen/realchat/profile/v1/profile_api_pb.js";
import { settled } from "../wire.js";
import {
  type AttackContext,
  type AttackReport,
  atRate,
  breach,
  clientSide,
  count,
  newReport,
  SLACK_MS,
  timed,
  UPDATE,
} from "./attack.js";

/** Item 1: "a" and 2 × 65,536 combining marks in display_name or bio, own profile or another's. */
export async function combiningMarkBomb(ctx: AttackContext): Promise<AttackReport> {
  const r = newReport(
    "bomb",
    1,
    "UpdateProfile over Connect JSON (HTTP/1.1), display_name or bio = 'a' + 15,000 × U+0301 + 15,000 × U+0316 (60 KB: under MAX_REQUEST_BYTES, so the field rules see it), every 30 s from 5 s on, 2 s deadline",
    "answered within deadline + 3 s, never INTERNAL (and /healthz stays fast: see the health check)",
  );
  const ownId = crypto.randomUUID();
  const token = await ctx.tokenFor(ownId);
  // The largest bomb MAX_REQUEST_BYTES lets through to the field rules: normalizing it unbounded
  // stalls the event loop (bench/README.md, "npm run soak"); the raw-length bound refuses it
  // before NFC.
  const marks = `a${"\u0301".repeat(15_000)}${"\u0316".repeat(15_000)}`;
  const deadlineMs = 2000;
  // 5 s in, once the other attackers are under way: a stall then shows this call as its oldest.
  await new Promise((resolve) => setTimeout(resolve, Math.min(5000, ctx.durationMs / 4)));
  await atRate(ctx, 1 / 30, async (n) => {
    const field = n % 2 === 0 ? "displayName" : "bio";
    const target = n % 4 < 2 ? ownId : ctx.victimUserId;
    const start = performance.now();
    let outcome = "NO_ANSWER";
    try {
      const response = await fetch(`${ctx.origin}${UPDATE}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "connect-protocol-version": "1",
          "connect-timeout-ms": String(deadlineMs),
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({ userId: target, [field]: marks }),
        signal: AbortSignal.timeout(deadlineMs + SLACK_MS),
      });
      const body = new Uint8Array(await response.arrayBuffer());
      outcome =
        response.status === 200
          ? "OK"
          : ((
              JSON.parse(Buffer.from(body).toString() || "{}") as { code?: string }
            ).code?.toUpperCase() ?? `HTTP_${response.status}`);
      ctx.answered(UPDATE.slice(1));
    } catch {
      // aborted at deadline + slack: NO_ANSWER
    }
    const end = performance.now();
    ctx.busy("bomb", start, end);
    count(r, outcome);
    if (outcome === "NO_ANSWER") {
      breach(r, `no answer within ${deadlineMs + SLACK_MS} ms`);
    } else if (end - start > deadlineMs + SLACK_MS) {
      breach(r, `answered only after ${Math.round(end - start)} ms`);
    }
    if (outcome === "INTERNAL" || outcome === "HTTP_500") breach(r, `answered ${outcome}`);
    if (outcome === "OK") breach(r, `accepted a ${field} of ${marks.length} characters`);
  });
  return r;
}

/** Item 9: display names that render as nothing, and a bidi override in bio. */
export async function invisibleNames(ctx: AttackContext): Promise<AttackReport> {
  const r = newReport(
    "invisible",
    9,
    "UpdateProfile of the caller's own profile with an invisible or forbidden display_name, or a right-to-left override in bio, every 2 s",
    "answered INVALID_ARGUMENT (no answer within 5 s or UNAVAILABLE is left to the load's and /healthz's checks)",
  );
  const ownId = crypto.randomUUID();
  const token = await ctx.tokenFor(ownId);
  const cases: { name: string; displayName?: string; bio?: string }[] = [
    { name: "U+3164 Hangul filler", displayName: "\u3164" },
    { name: "U+2800 braille blank", displayName: "\u2800" },
    { name: "U+115F Hangul choseong filler", displayName: "\u115F" },
    { name: "combining marks alone", displayName: "\u0301\u0316\u0301" },
    { name: "U+FFFF noncharacter", displayName: "ok\uFFFF" },
    { name: "U+E000 private use", displayName: "ok\uE000" },
    { name: "U+202E override in bio", bio: "hello \u202Edlrow" },
  ];
  const client = createClient(ProfileApi, createGrpcTransport({ baseUrl: ctx.origin }));
  await atRate(ctx, 0.5, async (n) => {
    const bad = cases[n % cases.length];
    if (bad === undefined) return;
    const outcome = await timed(ctx, "invisible", () =>
      settled(
        client.updateProfile(
          { userId: ownId, displayName: bad.displayName, bio: bad.bio },
          { headers: { authorization: `Bearer ${token}` }, timeoutMs: 5000 },
        ),
      ),
    );
    count(r, `${bad.name}: ${outcome}`);
    if (clientSide.has(outcome)) return;
    ctx.answered(UPDATE.slice(1));
    if (outcome !== "INVALID_ARGUMENT") breach(r, `${bad.name}: answered ${outcome}`);
  });
  return r;
}
