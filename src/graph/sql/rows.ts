import type { BlockRow } from "../../db/tables/blocks.js";
import type { ContactRow } from "../../db/tables/contacts.js";
import type { UserId } from "../../profile/user-id.js";
import type { Block, Contact } from "../social-graph.js";

/** The columns of a page of one owner's contacts: all but the owner's id. */
export const contactPageColumns = [
  "contact_user_id",
  "nickname",
  "is_favorite",
  "created_at",
  "updated_at",
] as const satisfies ReadonlyArray<keyof ContactRow>;

/** Named columns, not `*`: statements run prepared (see profile/sql/reads.ts). */
export const contactColumns = ["user_id", ...contactPageColumns] as const satisfies ReadonlyArray<
  keyof ContactRow
>;

export type ContactPageRow = Pick<ContactRow, (typeof contactPageColumns)[number]>;

export const blockColumns = [
  "user_id",
  "blocked_user_id",
  "reason",
  "created_at",
] as const satisfies ReadonlyArray<keyof BlockRow>;

/** A contact of `userId` from its row (a page's rows leave out the owner, the same in each). */
export function contactFromRow(userId: string, row: ContactPageRow): Contact {
  return {
    userId: userId as UserId,
    contactUserId: row.contact_user_id as UserId,
    nickname: row.nickname,
    isFavorite: row.is_favorite,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function blockFromRow(row: BlockRow): Block {
  return {
    userId: row.user_id as UserId,
    blockedUserId: row.blocked_user_id as UserId,
    reason: row.reason,
    createdAt: row.created_at,
  };
}
