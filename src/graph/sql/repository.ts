import { type Kysely, sql, type Transaction } from "kysely";
import type { Database } from "../../db/schema.js";
import { recordTrace } from "../../db/traced-writes.js";
import { blockedEitherWay } from "../../profile/sql/privacy.js";
import type { UserId } from "../../profile/user-id.js";
import type { SocialGraphStore, SocialGraphTransaction } from "../store.js";
import { findRelationships, listBlocks, listContacts } from "./reads.js";
import { blockColumns, blockFromRow, contactColumns, contactFromRow } from "./rows.js";

// All SQL for the contacts and blocks tables, and the SocialGraphStore on top of it. Triggers on
// both tables write their outbox rows (db/migrations/20261210T0000_social_graph.ts), so every
// statement here that adds or removes an edge announces it in the same transaction.

/** The social graph store on this database. */
export function createSocialGraphStore(db: Kysely<Database>): SocialGraphStore {
  return {
    async transaction(work, signal) {
      signal?.throwIfAborted();
      return db.transaction().execute(async (trx) => {
        // The outbox rows of the changes below carry the call's trace, if it has one.
        await recordTrace(trx);
        return work(graphTransaction(trx));
      });
    },
    async listContacts(userId, after, limit, signal) {
      const rows = await listContacts(db, userId, after, limit, signal);
      return rows.map((row) => contactFromRow(userId, row));
    },
    async listBlocks(userId, after, limit, signal) {
      return (await listBlocks(db, userId, after, limit, signal)).map(blockFromRow);
    },
    relationships: (userId, otherUserIds, signal) =>
      findRelationships(db, userId, otherUserIds, signal),
  };
}

function graphTransaction(trx: Transaction<Database>): SocialGraphTransaction {
  return {
    lockProfiles: (userIds) => lockProfiles(trx, userIds),
    blockedEitherWay: (userId, otherUserId) => blockedEitherWay(trx, userId, otherUserId),
    async findContact(userId, contactUserId) {
      const row = await trx
        .selectFrom("contacts")
        .select(contactColumns)
        .where("user_id", "=", userId)
        .where("contact_user_id", "=", contactUserId)
        .executeTakeFirst();
      return row === undefined ? undefined : contactFromRow(row.user_id, row);
    },
    countContacts: (userId) => countRows(trx, "contacts", userId),
    async insertContact(contact) {
      const row = await trx
        .insertInto("contacts")
        .values({
          user_id: contact.userId,
          contact_user_id: contact.contactUserId,
          nickname: contact.nickname,
          is_favorite: contact.isFavorite,
        })
        .returning(contactColumns)
        .executeTakeFirstOrThrow();
      return contactFromRow(row.user_id, row);
    },
    async updateContact(userId, contactUserId, changes) {
      const row = await trx
        .updateTable("contacts")
        .set({
          ...(changes.nickname === undefined ? {} : { nickname: changes.nickname }),
          ...(changes.isFavorite === undefined ? {} : { is_favorite: changes.isFavorite }),
          updated_at: sql<Date>`now()`,
        })
        .where("user_id", "=", userId)
        .where("contact_user_id", "=", contactUserId)
        .returning(contactColumns)
        .executeTakeFirst();
      return row === undefined ? undefined : contactFromRow(row.user_id, row);
    },
    async deleteContactsBetween(userId, otherUserId) {
      const result = await trx
        .deleteFrom("contacts")
        .where((eb) =>
          eb.or([
            eb.and([eb("user_id", "=", userId), eb("contact_user_id", "=", otherUserId)]),
            eb.and([eb("user_id", "=", otherUserId), eb("contact_user_id", "=", userId)]),
          ]),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
    async deleteContact(userId, contactUserId) {
      const result = await trx
        .deleteFrom("contacts")
        .where("user_id", "=", userId)
        .where("contact_user_id", "=", contactUserId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
    async findBlock(userId, blockedUserId) {
      const row = await trx
        .selectFrom("blocks")
        .select(blockColumns)
        .where("user_id", "=", userId)
        .where("blocked_user_id", "=", blockedUserId)
        .executeTakeFirst();
      return row === undefined ? undefined : blockFromRow(row);
    },
    countBlocks: (userId) => countRows(trx, "blocks", userId),
    async insertBlock(block) {
      const row = await trx
        .insertInto("blocks")
        .values({
          user_id: block.userId,
          blocked_user_id: block.blockedUserId,
          reason: block.reason,
        })
        .returning(blockColumns)
        .executeTakeFirstOrThrow();
      return blockFromRow(row);
    },
    async deleteBlock(userId, blockedUserId) {
      const result = await trx
        .deleteFrom("blocks")
        .where("user_id", "=", userId)
        .where("blocked_user_id", "=", blockedUserId)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}

/**
 * Locks the profile rows of `userIds` in ascending id order and returns the ids that exist.
 * `FOR NO KEY UPDATE` conflicts with itself (two graph changes of the same user wait for each
 * other) but not with the `FOR KEY SHARE` that foreign key checks take.
 *
 * `SELECT user_id FROM profiles WHERE user_id = any($1) ORDER BY user_id FOR NO KEY UPDATE`
 */
export async function lockProfiles(
  trx: Transaction<Database>,
  userIds: readonly UserId[],
): Promise<ReadonlySet<UserId>> {
  const rows = await trx
    .selectFrom("profiles")
    .select("user_id")
    .where("user_id", "=", (eb) => eb.fn.any(eb.val(userIds)))
    .orderBy("user_id")
    .forNoKeyUpdate()
    .execute();
  return new Set(rows.map((row) => row.user_id as UserId));
}

/** `SELECT count(*) FROM <table> WHERE user_id = $1` */
async function countRows(
  trx: Transaction<Database>,
  table: "contacts" | "blocks",
  userId: UserId,
): Promise<number> {
  const row = await trx
    .selectFrom(table)
    .select(sql<string>`count(*)::text`.as("count"))
    .where("user_id", "=", userId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
