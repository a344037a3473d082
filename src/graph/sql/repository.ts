import { type Kysely, sql, type Transaction } from "kysely";
import type { Database } from "../../db/schema.js";
import type { BlockRow } from "../../db/tables/blocks.js";
import type { ContactRow } from "../../db/tables/contacts.js";
import type { UserId } from "../../profile/user-id.js";
import type { Block, Contact, Relationship } from "../social-graph.js";
import type { SocialGraphStore, SocialGraphTransaction } from "../store.js";

// All SQL for the contacts and blocks tables, and the SocialGraphStore on top of it. Triggers on
// both tables write their outbox rows (db/migrations/20261210T0000_social_graph.ts), so every
// statement here that adds or removes an edge announces it in the same transaction.

/** The social graph store on this database. */
export function createSocialGraphStore(db: Kysely<Database>): SocialGraphStore {
  return {
    async transaction(work, signal) {
      signal?.throwIfAborted();
      return db.transaction().execute((trx) => work(graphTransaction(trx)));
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
    async blockedEitherWay(userId, otherUserId) {
      const row = await trx
        .selectFrom("blocks")
        .select("user_id")
        .where((eb) =>
          eb.or([
            eb.and([eb("user_id", "=", userId), eb("blocked_user_id", "=", otherUserId)]),
            eb.and([eb("user_id", "=", otherUserId), eb("blocked_user_id", "=", userId)]),
          ]),
        )
        .limit(1)
        .executeTakeFirst();
      return row !== undefined;
    },
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

/** Named columns, not `*`: statements run prepared (see profile-repository.ts). */
const contactColumns = [
  "user_id",
  "contact_user_id",
  "nickname",
  "is_favorite",
  "created_at",
  "updated_at",
] as const satisfies ReadonlyArray<keyof ContactRow>;

/** The columns of a page of one owner's contacts: all but the owner's id. */
const contactPageColumns = [
  "contact_user_id",
  "nickname",
  "is_favorite",
  "created_at",
  "updated_at",
] as const satisfies ReadonlyArray<keyof ContactRow>;

type ContactPageRow = Pick<ContactRow, (typeof contactPageColumns)[number]>;

const blockColumns = [
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

/**
 * One keyset page of an address book, ascending by contact id. The owner's id is not selected:
 * every row would carry the same uuid, and decoding it is a sixth of the page's client work.
 *
 * `SELECT <contactPageColumns> FROM contacts WHERE user_id = $1 AND contact_user_id > $2
 *  ORDER BY contact_user_id LIMIT $3`
 */
export async function listContacts(
  db: Kysely<Database>,
  userId: UserId,
  after: UserId | undefined,
  limit: number,
  signal?: AbortSignal,
): Promise<ContactPageRow[]> {
  let query = db.selectFrom("contacts").select(contactPageColumns).where("user_id", "=", userId);
  if (after !== undefined) query = query.where("contact_user_id", ">", after);
  return query.orderBy("contact_user_id").limit(limit).execute({ signal });
}

/** One keyset page of a user's blocks, ascending by blocked id; as listContacts. */
export async function listBlocks(
  db: Kysely<Database>,
  userId: UserId,
  after: UserId | undefined,
  limit: number,
  signal?: AbortSignal,
): Promise<BlockRow[]> {
  let query = db.selectFrom("blocks").select(blockColumns).where("user_id", "=", userId);
  if (after !== undefined) query = query.where("blocked_user_id", ">", after);
  return query.orderBy("blocked_user_id").limit(limit).execute({ signal });
}

/**
 * How `userId` stands to those of `otherUserIds` it has any edge with, in one query with one
 * array parameter: four primary-key or reverse-index probes per id (or, where the planner finds
 * it cheaper, one hashed scan of the user's own edges). Ids with no edge are left out, and each
 * row names its id by its position in `otherUserIds`: most ids asked about are strangers, and a
 * row costs the client far more than the database (a hundred rows of an id and four flags took
 * twice the client CPU of the same answer without its empty rows and ids).
 *
 * ```sql
 * SELECT n, is_contact, is_contact_of_other, blocks_other, blocked_by_other FROM (
 *   SELECT o.n,
 *     EXISTS (SELECT 1 FROM contacts WHERE user_id = $1 AND contact_user_id = o.id) AS is_contact,
 *     EXISTS (SELECT 1 FROM contacts WHERE user_id = o.id AND contact_user_id = $1) AS …,
 *     EXISTS (SELECT 1 FROM blocks WHERE user_id = $1 AND blocked_user_id = o.id) AS …,
 *     EXISTS (SELECT 1 FROM blocks WHERE user_id = o.id AND blocked_user_id = $1) AS …
 *   FROM unnest($2::uuid[]) WITH ORDINALITY AS o(id, n)
 * ) r WHERE is_contact OR is_contact_of_other OR blocks_other OR blocked_by_other
 * ```
 */
export async function findRelationships(
  db: Kysely<Database>,
  userId: UserId,
  otherUserIds: readonly UserId[],
  signal?: AbortSignal,
): Promise<Relationship[]> {
  const { rows } = await sql<{
    n: number;
    is_contact: boolean;
    is_contact_of_other: boolean;
    blocks_other: boolean;
    blocked_by_other: boolean;
  }>`
    SELECT n, is_contact, is_contact_of_other, blocks_other, blocked_by_other FROM (
      SELECT o.n::int AS n,
        EXISTS (SELECT 1 FROM contacts c
          WHERE c.user_id = ${userId}::uuid AND c.contact_user_id = o.id) AS is_contact,
        EXISTS (SELECT 1 FROM contacts c
          WHERE c.user_id = o.id AND c.contact_user_id = ${userId}::uuid) AS is_contact_of_other,
        EXISTS (SELECT 1 FROM blocks b
          WHERE b.user_id = ${userId}::uuid AND b.blocked_user_id = o.id) AS blocks_other,
        EXISTS (SELECT 1 FROM blocks b
          WHERE b.user_id = o.id AND b.blocked_user_id = ${userId}::uuid) AS blocked_by_other
      FROM unnest(${sql.val(otherUserIds)}::uuid[]) WITH ORDINALITY AS o(id, n)
    ) r
    WHERE is_contact OR is_contact_of_other OR blocks_other OR blocked_by_other
  `.execute(db, { signal });
  return rows.map((row) => ({
    otherUserId: otherUserIds[row.n - 1] as UserId,
    isContact: row.is_contact,
    isContactOfOtherUser: row.is_contact_of_other,
    blocksOtherUser: row.blocks_other,
    blockedByOtherUser: row.blocked_by_other,
  }));
}
