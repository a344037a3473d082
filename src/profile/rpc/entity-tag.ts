import { createHash } from "node:crypto";

/**
 * Cache-Control of Connect GET answers. `private`: the answer was authorized for one caller's
 * token, so no shared cache may keep it. `no-cache`: the browser keeps it but asks again every
 * time with `If-None-Match`, so the token is checked on every use and a changed profile shows at
 * once; an unchanged one costs a 304 with no body.
 */
export const CONNECT_GET_CACHE_CONTROL = "private, no-cache";

/**
 * The entity tag of an answer made of these profiles, as its viewer sees them. The request (its
 * URL and token) fixes which ids were asked for and by whom, so the found profiles' ids and etags
 * fix the answer: a whole profile's etag names its version, a withheld view's is a digest of what
 * it shows, so a change of a hidden field changes neither the answer nor its tag. Weak (`W/`): the
 * same answer may be sent gzip-compressed or not, in bytes that differ.
 */
export function entityTagOf(
  profiles: readonly { readonly userId: string; readonly etag: string }[],
): string {
  const versions = profiles.map((profile) => `${profile.userId}@${profile.etag}`).join(",");
  const digest = createHash("sha256").update(versions).digest("base64url").slice(0, 22);
  return `W/"${digest}"`;
}
