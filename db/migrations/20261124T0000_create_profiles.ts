import { type Kysely, sql } from "kysely";

// Frozen in time: never import application code here, never edit once released.
//
// The CHECK constraints are a backstop for the service's field rules (src/profile/rules.ts):
// the service is stricter (it also refuses other invisible characters), the database refuses
// whatever would break the rules outright.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE profiles (
      user_id uuid PRIMARY KEY,
      display_name text NOT NULL DEFAULT '',
      avatar_url text NOT NULL DEFAULT '',
      bio text NOT NULL DEFAULT '',
      version integer NOT NULL DEFAULT 1,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT profiles_display_name_valid CHECK (
        char_length(display_name) <= 64
        AND display_name IS NFC NORMALIZED
        AND display_name !~ '^\\s|\\s$'
        AND display_name !~ '[\\u0001-\\u001f\\u007f-\\u009f\\u200b\\u200c\\u200e\\u200f\\u202a-\\u202e\\u2060-\\u2069\\ufeff]'
      ),
      CONSTRAINT profiles_avatar_url_valid CHECK (
        avatar_url = ''
        OR (char_length(avatar_url) <= 2048 AND avatar_url ~* '^https?://[^/?#\\s]+' AND avatar_url !~ '[\\s\\u0001-\\u001f\\u007f-\\u009f]')
      ),
      CONSTRAINT profiles_bio_valid CHECK (
        char_length(bio) <= 500
        AND bio IS NFC NORMALIZED
        AND bio !~ '[\\u0001-\\u0009\\u000b-\\u001f\\u007f-\\u009f]'
      ),
      CONSTRAINT profiles_version_positive CHECK (version >= 1)
    )
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE profiles`.execute(db);
}
