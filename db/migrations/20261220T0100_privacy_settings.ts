import { type Kysely, sql } from "kysely";

// Frozen in time: never import application code here, never edit once released.
//
// Who sees what (issue 20): each user's audiences for their avatar and bio. A user without a row
// has the defaults (everyone sees both) at version 1; the first change inserts the row at version
// 2, and every effective change after it adds one. The row goes with its profile (ON DELETE
// CASCADE: ProfileDeleted says it).
//
// A trigger writes `privacy_changed` to the outbox for every insert and every effective update, in
// the transaction of the change, as for profiles: other instances' caches and watchers learn of
// it from its event (PrivacySettingsChanged on `profile.privacy.<user_id>`).

const audience = (column: string) =>
  sql.raw(`${column} text NOT NULL DEFAULT 'everyone'
    CONSTRAINT privacy_settings_${column}_valid CHECK (${column} IN ('everyone', 'contacts', 'nobody'))`);

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE privacy_settings (
      user_id uuid PRIMARY KEY REFERENCES profiles (user_id) ON DELETE CASCADE,
      ${audience("avatar_audience")},
      ${audience("bio_audience")},
      version integer NOT NULL CONSTRAINT privacy_settings_version_changed CHECK (version >= 2),
      updated_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);

  await sql`
    ALTER TABLE outbox
      DROP CONSTRAINT outbox_event_type_valid,
      ADD CONSTRAINT outbox_event_type_valid CHECK (event_type IN (
        'created', 'updated', 'deleted',
        'contact_added', 'contact_removed', 'user_blocked', 'user_unblocked',
        'privacy_changed'
      )),
      ADD CONSTRAINT outbox_privacy_events_complete CHECK (
        event_type <> 'privacy_changed' OR version IS NOT NULL
      )
  `.execute(db);

  await sql`
    CREATE FUNCTION privacy_settings_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO outbox (user_id, event_type, version, payload, occurred_at)
      VALUES (NEW.user_id, 'privacy_changed', NEW.version, jsonb_build_object(
        'avatar_audience', NEW.avatar_audience,
        'bio_audience', NEW.bio_audience
      ), NEW.updated_at);
      PERFORM pg_notify('profile_outbox', '');
      RETURN NULL;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER privacy_settings_outbox_insert AFTER INSERT ON privacy_settings
    FOR EACH ROW EXECUTE FUNCTION privacy_settings_to_outbox()
  `.execute(db);
  await sql`
    CREATE TRIGGER privacy_settings_outbox_update AFTER UPDATE ON privacy_settings
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION privacy_settings_to_outbox()
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER privacy_settings_outbox_update ON privacy_settings`.execute(db);
  await sql`DROP TRIGGER privacy_settings_outbox_insert ON privacy_settings`.execute(db);
  await sql`DROP FUNCTION privacy_settings_to_outbox()`.execute(db);
  await sql`DELETE FROM outbox WHERE event_type = 'privacy_changed'`.execute(db);
  await sql`
    ALTER TABLE outbox
      DROP CONSTRAINT outbox_privacy_events_complete,
      DROP CONSTRAINT outbox_event_type_valid,
      ADD CONSTRAINT outbox_event_type_valid CHECK (event_type IN (
        'created', 'updated', 'deleted',
        'contact_added', 'contact_removed', 'user_blocked', 'user_unblocked'
      ))
  `.execute(db);
  await sql`DROP TABLE privacy_settings`.execute(db);
}
