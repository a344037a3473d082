import { type Kysely, sql } from "kysely";

// Frozen in time: never import application code here, never edit once released.
//
// The social graph (issue 13): contacts (a directed address book) and blocks, each edge between
// two profiles and gone with either of them (ON DELETE CASCADE); deleted accounts' tombstones;
// and the outbox rows that announce all of it.
//
// Events are written by triggers, as for profiles, so that no code path (RPC, account deletion,
// a hand-written SQL fix) changes the graph without announcing it in the same transaction:
// - a contact inserted or deleted: contact_added / contact_removed of its owner;
// - a block inserted or deleted: user_blocked / user_unblocked of the blocker;
// - an edge removed because a profile on either side was deleted announces nothing: the
//   profile's `deleted` event says it;
// - a profile deleted: `deleted` with the final version (last + 1), and a tombstone in
//   deleted_profiles, which from then on makes every insert of that user_id into profiles do
//   nothing (a late registration or UpdateProfile does not bring the profile back).

// Never in a nickname, besides what it shares with display names' first constraint: control
// characters, zero-width characters and joiners (a joiner between emoji passes the service's
// rules; here it is allowed too), bidi marks, embeddings, overrides and isolates, BOM. A subset of
// what the service refuses (src/profile/rules.ts), as for display names.
const nicknameValid = sql.raw(`
  char_length(nickname) <= 64
  AND nickname IS NFC NORMALIZED
  AND nickname !~ '^\\s|\\s$'
  AND nickname !~ '[\\u0001-\\u001f\\u007f-\\u009f\\u200b\\u200c\\u200e\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]'
`);

// The rules of a bio: at most 500 characters, NFC, \\n the only control character, no bidi
// embeddings, overrides or isolates.
const reasonValid = sql.raw(`
  char_length(reason) <= 500
  AND reason IS NFC NORMALIZED
  AND reason !~ '[\\u0001-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069]'
`);

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE contacts (
      user_id uuid NOT NULL REFERENCES profiles (user_id) ON DELETE CASCADE,
      contact_user_id uuid NOT NULL REFERENCES profiles (user_id) ON DELETE CASCADE,
      nickname text NOT NULL DEFAULT '',
      is_favorite boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, contact_user_id),
      CONSTRAINT contacts_not_self CHECK (user_id <> contact_user_id),
      CONSTRAINT contacts_nickname_valid CHECK (${nicknameValid})
    )
  `.execute(db);
  // Who has this user as a contact: GetRelationships, and the cascade when a profile goes.
  await sql`CREATE INDEX contacts_by_contact_user ON contacts (contact_user_id, user_id)`.execute(
    db,
  );
  await sql`
    CREATE TABLE blocks (
      user_id uuid NOT NULL REFERENCES profiles (user_id) ON DELETE CASCADE,
      blocked_user_id uuid NOT NULL REFERENCES profiles (user_id) ON DELETE CASCADE,
      reason text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, blocked_user_id),
      CONSTRAINT blocks_not_self CHECK (user_id <> blocked_user_id),
      CONSTRAINT blocks_reason_valid CHECK (${reasonValid})
    )
  `.execute(db);
  await sql`CREATE INDEX blocks_by_blocked_user ON blocks (blocked_user_id, user_id)`.execute(db);
  await sql`
    CREATE TABLE deleted_profiles (
      user_id uuid PRIMARY KEY,
      -- The version announced in ProfileDeleted (1 when there was no profile to delete).
      version integer NOT NULL CHECK (version >= 1),
      deleted_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);

  await sql`
    ALTER TABLE outbox
      DROP CONSTRAINT outbox_event_type_check,
      ADD CONSTRAINT outbox_event_type_valid CHECK (event_type IN (
        'created', 'updated', 'deleted',
        'contact_added', 'contact_removed', 'user_blocked', 'user_unblocked'
      )),
      ALTER COLUMN version DROP NOT NULL,
      ALTER COLUMN profile DROP NOT NULL,
      ALTER COLUMN changed_fields SET DEFAULT '{}',
      ADD COLUMN payload jsonb,
      ADD CONSTRAINT outbox_profile_events_complete CHECK (
        event_type NOT IN ('created', 'updated') OR (profile IS NOT NULL AND version IS NOT NULL)
      ),
      ADD CONSTRAINT outbox_graph_events_complete CHECK (
        event_type IN ('created', 'updated', 'deleted') OR payload IS NOT NULL
      )
  `.execute(db);

  await sql`
    CREATE FUNCTION profiles_refuse_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM deleted_profiles WHERE user_id = NEW.user_id) THEN
        RETURN NULL;
      END IF;
      RETURN NEW;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER profiles_refuse_deleted BEFORE INSERT ON profiles
    FOR EACH ROW EXECUTE FUNCTION profiles_refuse_deleted()
  `.execute(db);
  await sql`
    CREATE FUNCTION profiles_deleted_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO deleted_profiles (user_id, version) VALUES (OLD.user_id, OLD.version + 1)
      ON CONFLICT (user_id) DO UPDATE SET version = EXCLUDED.version, deleted_at = now();
      INSERT INTO outbox (user_id, event_type, version, occurred_at)
      VALUES (OLD.user_id, 'deleted', OLD.version + 1, now());
      PERFORM pg_notify('profile_outbox', '');
      RETURN NULL;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER profiles_outbox_delete AFTER DELETE ON profiles
    FOR EACH ROW EXECUTE FUNCTION profiles_deleted_to_outbox()
  `.execute(db);

  await sql`
    CREATE FUNCTION contacts_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO outbox (user_id, event_type, payload, occurred_at)
        VALUES (NEW.user_id, 'contact_added', jsonb_build_object(
          'contact_user_id', NEW.contact_user_id,
          'nickname', NEW.nickname,
          'is_favorite', NEW.is_favorite
        ), NEW.created_at);
      ELSIF EXISTS (SELECT 1 FROM profiles WHERE user_id = OLD.user_id)
        AND EXISTS (SELECT 1 FROM profiles WHERE user_id = OLD.contact_user_id) THEN
        INSERT INTO outbox (user_id, event_type, payload, occurred_at)
        VALUES (OLD.user_id, 'contact_removed', jsonb_build_object(
          'contact_user_id', OLD.contact_user_id
        ), now());
      ELSE
        RETURN NULL;
      END IF;
      PERFORM pg_notify('profile_outbox', '');
      RETURN NULL;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER contacts_outbox AFTER INSERT OR DELETE ON contacts
    FOR EACH ROW EXECUTE FUNCTION contacts_to_outbox()
  `.execute(db);
  await sql`
    CREATE FUNCTION blocks_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        INSERT INTO outbox (user_id, event_type, payload, occurred_at)
        VALUES (NEW.user_id, 'user_blocked', jsonb_build_object(
          'blocked_user_id', NEW.blocked_user_id
        ), NEW.created_at);
      ELSIF EXISTS (SELECT 1 FROM profiles WHERE user_id = OLD.user_id)
        AND EXISTS (SELECT 1 FROM profiles WHERE user_id = OLD.blocked_user_id) THEN
        INSERT INTO outbox (user_id, event_type, payload, occurred_at)
        VALUES (OLD.user_id, 'user_unblocked', jsonb_build_object(
          'blocked_user_id', OLD.blocked_user_id
        ), now());
      ELSE
        RETURN NULL;
      END IF;
      PERFORM pg_notify('profile_outbox', '');
      RETURN NULL;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER blocks_outbox AFTER INSERT OR DELETE ON blocks
    FOR EACH ROW EXECUTE FUNCTION blocks_to_outbox()
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TRIGGER blocks_outbox ON blocks`.execute(db);
  await sql`DROP FUNCTION blocks_to_outbox()`.execute(db);
  await sql`DROP TRIGGER contacts_outbox ON contacts`.execute(db);
  await sql`DROP FUNCTION contacts_to_outbox()`.execute(db);
  await sql`DROP TRIGGER profiles_outbox_delete ON profiles`.execute(db);
  await sql`DROP FUNCTION profiles_deleted_to_outbox()`.execute(db);
  await sql`DROP TRIGGER profiles_refuse_deleted ON profiles`.execute(db);
  await sql`DROP FUNCTION profiles_refuse_deleted()`.execute(db);
  await sql`DELETE FROM outbox WHERE event_type NOT IN ('created', 'updated')`.execute(db);
  await sql`
    ALTER TABLE outbox
      DROP CONSTRAINT outbox_graph_events_complete,
      DROP CONSTRAINT outbox_profile_events_complete,
      DROP COLUMN payload,
      ALTER COLUMN changed_fields DROP DEFAULT,
      ALTER COLUMN profile SET NOT NULL,
      ALTER COLUMN version SET NOT NULL,
      DROP CONSTRAINT outbox_event_type_valid,
      ADD CONSTRAINT outbox_event_type_check CHECK (event_type IN ('created', 'updated'))
  `.execute(db);
  await sql`DROP TABLE deleted_profiles`.execute(db);
  await sql`DROP TABLE blocks`.execute(db);
  await sql`DROP TABLE contacts`.execute(db);
}
