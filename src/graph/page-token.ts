import { createHmac, timingSafeEqual } from "node:crypto";
import { parseUserId, type UserId } from "../profile/user-id.js";

/** The lists that are paged; a token of one is refused by the other. */
export type PagedList = "contacts" | "blocks";

/** Layout of a token's bytes: version, the last key returned (a UUID), the tag. */
const TOKEN_VERSION = 1;
const KEY_BYTES = 16;
const TAG_BYTES = 16;
const TOKEN_BYTES = 1 + KEY_BYTES + TAG_BYTES;

/**
 * Opaque keyset page tokens: `base64url(version ‖ last id ‖ tag)`, where the tag is an
 * HMAC-SHA256 (truncated to 128 bits) over the version, the list, the list's owner and the last
 * id. A token altered in any bit, or made for another user or another list, does not verify.
 *
 * The key need not be secret: a token only says where a list the caller may read anyway resumes,
 * so a forged one could only skip within that list. The tag makes tokens opaque and
 * tamper-evident, so that clients cannot come to depend on their content and a broken one is a
 * clear refusal (reason INVALID_PAGE_TOKEN) rather than a wrong page.
 */
export function createPageTokens(key: string | Uint8Array) {
  const tagOf = (list: PagedList, owner: UserId, lastKey: Uint8Array) =>
    createHmac("sha256", key)
      .update(`${TOKEN_VERSION}\0${list}\0${owner}\0`)
      .update(lastKey)
      .digest()
      .subarray(0, TAG_BYTES);

  return {
    /** The token for the page after `lastKey` of `owner`'s `list`. */
    encode(list: PagedList, owner: UserId, lastKey: UserId): string {
      const keyBytes = Buffer.from(lastKey.replaceAll("-", ""), "hex");
      return Buffer.concat([
        Buffer.of(TOKEN_VERSION),
        keyBytes,
        tagOf(list, owner, keyBytes),
      ]).toString("base64url");
    },

    /** The last key a token names, or undefined when it is not a valid token of this list. */
    decode(list: PagedList, owner: UserId, token: string): UserId | undefined {
      if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
      const bytes = Buffer.from(token, "base64url");
      if (bytes.length !== TOKEN_BYTES || bytes[0] !== TOKEN_VERSION) return undefined;
      if (bytes.toString("base64url") !== token) return undefined;
      const keyBytes = bytes.subarray(1, 1 + KEY_BYTES);
      if (!timingSafeEqual(bytes.subarray(1 + KEY_BYTES), tagOf(list, owner, keyBytes))) {
        return undefined;
      }
      const hex = keyBytes.toString("hex");
      return parseUserId(
        `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`,
      );
    },
  };
}

export type PageTokens = ReturnType<typeof createPageTokens>;
