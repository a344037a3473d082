import { type Kysely, sql } from "kysely";

// Frozen in time: never import application code here, never edit once released.
//
// The transactional outbox. Triggers on `profiles` write one row for every insert and every
// effective update, in the same transaction as the change, so no code path can change a profile
// without announcing it, and changed_fields comes from the real old row. The relay
// (src/events/outbox-relay.ts) publishes rows in id order per user and marks them published.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE outbox (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      event_id uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
      user_id uuid NOT NULL,
      event_type text NOT NULL CHECK (event_type IN ('created', 'updated')),
      version integer NOT NULL,
      changed_fields text[] NOT NULL,
      profile jsonb NOT NULL,
      occurred_at timestamptz NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL DEFAULT now(),
      lease_until timestamptz,
      last_error text,
      published_at timestamptz
    )
  `.execute(db);
  await sql`CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL`.execute(db);
  await sql`CREATE INDEX outbox_pending_by_user ON outbox (user_id, id) WHERE published_at IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL`.execute(
    db,
  );
  await sql`
    CREATE FUNCTION profiles_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO outbox (user_id, event_type, version, changed_fields, profile, occurred_at)
      VALUES (
        NEW.user_id,
        CASE TG_OP WHEN 'INSERT' THEN 'created' ELSE 'updated' END,
        NEW.version,
        CASE TG_OP
          WHEN 'INSERT' THEN ARRAY['display_name', 'avatar_url', 'bio']
          ELSE array_remove(ARRAY[
            CASE WHEN NEW.display_name IS DISTINCT FROM OLD.display_name THEN 'display_name' END,
            CASE WHEN NEW.avatar_url IS DISTINCT FROM OLD.avatar_url THEN 'avatar_url' END,
            CASE WHEN NEW.bio IS DISTINCT FROM OLD.bio THEN 'bio' END
          ], NULL)
        END,
        to_jsonb(NEW),
        NEW.updated_at
      );
      PERFORM pg_notify('profile_outbox', '');
      RETURN NULL;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER profiles_outbox_insert AFTER INSERT ON profiles
    FOR EACH ROW EXECUTE FUNCTION profiles_to_outbox()
  `.execute(db);
  await sql`
    CREATE TRIGGER profiles_outbox_update AFTER UPDATE ON profiles
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION profiles_to_outbox()
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER profiles_outbox_update ON profiles`.execute(db);
  await sql`DROP TRIGGER profiles_outbox_insert ON profiles`.execute(db);
  await sql`DROP FUNCTION profiles_to_outbox()`.execute(db);
  await sql`DROP TABLE outbox`.execute(db);
}
