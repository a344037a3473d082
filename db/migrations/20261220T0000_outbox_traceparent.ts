import { type Kysely, sql } from "kysely";

// Frozen in time: never import application code here, never edit once released.
//
// The W3C traceparent of the call that caused each outbox row, passed on as the published
// event's `traceparent` header. The repository sets `realchat.traceparent` for the write's
// transaction only (`set_config(…, true)`); the column's default reads it when the triggers insert
// the row, so no trigger changes, and a write made without a trace leaves it null. The column
// comes first and the default after, so existing rows are not rewritten.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE outbox ADD COLUMN traceparent text`.execute(db);
  // Once set in a session, a custom setting reads '' outside the transaction that set it.
  await sql`
    ALTER TABLE outbox ALTER COLUMN traceparent
    SET DEFAULT nullif(current_setting('realchat.traceparent', true), '')
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE outbox DROP COLUMN traceparent`.execute(db);
}
