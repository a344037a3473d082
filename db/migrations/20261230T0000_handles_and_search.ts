import { type Kysely, sql } from "kysely";

// Frozen in time: never import application code here, never edit once released.
//
// Find people (issue 21): unique handles, search, and who may find whom.
//
// - `handles` holds every handle ever claimed: by whom, since when, and when it was released
//   (NULL: in use). Its primary key makes a handle unique across users, whether in use or held
//   after a release; `profiles.handle` is the copy reads use, written in the same transaction,
//   and unique too. The times are the service's clock (a port, so tests need not sleep), except
//   an account deletion's, which releases the handle at the database's `now()`. `by_registration`
//   marks a claim made by provisioning (the username), which starts no claim cooldown.
// - `profiles.search_name` is the display name folded for search (lower case, accents off, one
//   space between words), written by the service with the name. A trigger keeps
//   `profile_search_terms` (one row per word) in step with it, so that a word prefix is one index
//   range in order; `search_words` holds every distinct word, with a trigram index, for fuzzy
//   matches. Rows written before this migration get a close SQL approximation here.
// - `privacy_settings.discoverable_by` says who finds the user in search.

const HANDLE_RULE = `'^[a-z][a-z0-9_]{2,31}$'`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS pg_trgm`.execute(db);

  await sql`
    CREATE TABLE handles (
      handle text COLLATE "C" PRIMARY KEY
        CONSTRAINT handles_handle_valid CHECK (handle ~ ${sql.raw(HANDLE_RULE)}),
      user_id uuid NOT NULL,
      claimed_at timestamptz NOT NULL,
      released_at timestamptz,
      by_registration boolean NOT NULL DEFAULT false,
      CONSTRAINT handles_released_after_claim CHECK (released_at IS NULL OR released_at >= claimed_at)
    )
  `.execute(db);
  await sql`CREATE UNIQUE INDEX handles_one_in_use_per_user ON handles (user_id) WHERE released_at IS NULL`.execute(
    db,
  );
  await sql`CREATE INDEX handles_claims_by_user ON handles (user_id, claimed_at)`.execute(db);

  await sql`
    ALTER TABLE profiles
      ADD COLUMN handle text COLLATE "C" CONSTRAINT profiles_handle_unique UNIQUE
        CONSTRAINT profiles_handle_valid CHECK (handle ~ ${sql.raw(HANDLE_RULE)}),
      ADD COLUMN search_name text NOT NULL DEFAULT ''
  `.execute(db);
  // A column the service derives, not a change of the profile: no ProfileUpdated for it.
  await sql`ALTER TABLE profiles DISABLE TRIGGER profiles_outbox_update`.execute(db);
  await sql`
    UPDATE profiles SET search_name = trim(regexp_replace(lower(display_name), '[[:space:][:punct:]]+', ' ', 'g'))
  `.execute(db);
  await sql`ALTER TABLE profiles ENABLE TRIGGER profiles_outbox_update`.execute(db);

  await sql`
    CREATE TABLE profile_search_terms (
      term text COLLATE "C" NOT NULL,
      user_id uuid NOT NULL REFERENCES profiles (user_id) ON DELETE CASCADE,
      -- The whole folded name beside each word, so that a walk of a word's range checks the
      -- query's other words in the index, without a visit to the profile.
      search_name text NOT NULL,
      PRIMARY KEY (term, user_id) INCLUDE (search_name)
    )
  `.execute(db);
  await sql`CREATE INDEX profile_search_terms_by_user ON profile_search_terms (user_id)`.execute(
    db,
  );
  // Every word ever in a name, for fuzzy matches: a typo is looked up among the distinct words
  // (tens of thousands), not among the names (millions). Words are never removed: one no name
  // holds any more matches no profile, which costs a probe.
  await sql`CREATE TABLE search_words (word text COLLATE "C" PRIMARY KEY)`.execute(db);
  await sql`
    CREATE FUNCTION profiles_to_search_terms() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' THEN
        DELETE FROM profile_search_terms WHERE user_id = NEW.user_id;
      END IF;
      INSERT INTO profile_search_terms (term, user_id, search_name)
      SELECT DISTINCT term, NEW.user_id, NEW.search_name
      FROM unnest(string_to_array(NEW.search_name, ' ')) AS term
      WHERE term <> ''
      ON CONFLICT DO NOTHING;
      INSERT INTO search_words (word)
      SELECT DISTINCT term FROM unnest(string_to_array(NEW.search_name, ' ')) AS term
      WHERE term <> ''
      ON CONFLICT DO NOTHING;
      RETURN NULL;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER profiles_search_terms_insert AFTER INSERT ON profiles
    FOR EACH ROW EXECUTE FUNCTION profiles_to_search_terms()
  `.execute(db);
  await sql`
    CREATE TRIGGER profiles_search_terms_update AFTER UPDATE OF search_name ON profiles
    FOR EACH ROW WHEN (OLD.search_name IS DISTINCT FROM NEW.search_name)
    EXECUTE FUNCTION profiles_to_search_terms()
  `.execute(db);
  await sql`
    INSERT INTO profile_search_terms (term, user_id, search_name)
    SELECT DISTINCT term, user_id, search_name
    FROM profiles, unnest(string_to_array(search_name, ' ')) AS term
    WHERE term <> ''
  `.execute(db);
  await sql`INSERT INTO search_words (word) SELECT DISTINCT term FROM profile_search_terms`.execute(
    db,
  );
  await sql`CREATE INDEX search_words_trigrams ON search_words USING gin (word gin_trgm_ops)`.execute(
    db,
  );

  // ProfileUpdated names "handle" among the changed fields.
  await sql`
    CREATE OR REPLACE FUNCTION profiles_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO outbox (user_id, event_type, version, changed_fields, profile, occurred_at)
      VALUES (
        NEW.user_id,
        CASE TG_OP WHEN 'INSERT' THEN 'created' ELSE 'updated' END,
        NEW.version,
        CASE TG_OP
          WHEN 'INSERT' THEN array_remove(ARRAY[
            'display_name', 'avatar_url', 'bio',
            CASE WHEN NEW.handle IS NOT NULL THEN 'handle' END
          ], NULL)
          ELSE array_remove(ARRAY[
            CASE WHEN NEW.display_name IS DISTINCT FROM OLD.display_name THEN 'display_name' END,
            CASE WHEN NEW.avatar_url IS DISTINCT FROM OLD.avatar_url THEN 'avatar_url' END,
            CASE WHEN NEW.bio IS DISTINCT FROM OLD.bio THEN 'bio' END,
            CASE WHEN NEW.handle IS DISTINCT FROM OLD.handle THEN 'handle' END
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

  // An account's deletion releases its handle, which is then held as any released one.
  await sql`
    CREATE FUNCTION profiles_release_handle() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE handles SET released_at = greatest(now(), claimed_at)
      WHERE user_id = OLD.user_id AND released_at IS NULL;
      RETURN NULL;
    END
    $$
  `.execute(db);
  await sql`
    CREATE TRIGGER profiles_release_handle AFTER DELETE ON profiles
    FOR EACH ROW EXECUTE FUNCTION profiles_release_handle()
  `.execute(db);

  await sql`
    ALTER TABLE privacy_settings ADD COLUMN discoverable_by text NOT NULL DEFAULT 'everyone'
      CONSTRAINT privacy_settings_discoverable_by_valid
        CHECK (discoverable_by IN ('everyone', 'contacts', 'nobody'))
  `.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION privacy_settings_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO outbox (user_id, event_type, version, payload, occurred_at)
      VALUES (NEW.user_id, 'privacy_changed', NEW.version, jsonb_build_object(
        'avatar_audience', NEW.avatar_audience,
        'bio_audience', NEW.bio_audience,
        'discoverable_by', NEW.discoverable_by
      ), NEW.updated_at);
      PERFORM pg_notify('profile_outbox', '');
      RETURN NULL;
    END
    $$
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION privacy_settings_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
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
  await sql`ALTER TABLE privacy_settings DROP COLUMN discoverable_by`.execute(db);
  await sql`DROP TRIGGER profiles_release_handle ON profiles`.execute(db);
  await sql`DROP FUNCTION profiles_release_handle()`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION profiles_to_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
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
  await sql`DROP TRIGGER profiles_search_terms_update ON profiles`.execute(db);
  await sql`DROP TRIGGER profiles_search_terms_insert ON profiles`.execute(db);
  await sql`DROP FUNCTION profiles_to_search_terms()`.execute(db);
  await sql`DROP TABLE search_words`.execute(db);
  await sql`DROP TABLE profile_search_terms`.execute(db);
  await sql`
    ALTER TABLE profiles DROP COLUMN search_name, DROP COLUMN handle
  `.execute(db);
  await sql`DROP TABLE handles`.execute(db);
}
