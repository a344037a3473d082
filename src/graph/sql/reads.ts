import { type Kysely, sql } from "kysely";
import type { Database } from "../../db/schema.js";
import type { BlockRow } from "../../db/tables/blocks.js";
import type { UserId } from "../../profile/user-id.js";
import type { Relationship } from "../social-graph.js";
import { blockColumns, type ContactPageRow, contactPageColumns } from "./rows.js";

// The graph's list and relationship reads, outside any transaction (repository.ts has the rest).

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
