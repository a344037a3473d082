import type { Migration } from "kysely/migration";
import * as createProfiles from "./20261124T0000_create_profiles.js";
import * as createOutbox from "./20261124T0100_create_outbox.js";
import * as visibleDisplayNames from "./20261201T0000_visible_display_names.js";
import * as socialGraph from "./20261210T0000_social_graph.js";
import * as outboxTraceparent from "./20261220T0000_outbox_traceparent.js";
import * as privacySettings from "./20261220T0100_privacy_settings.js";
import * as handlesAndSearch from "./20261230T0000_handles_and_search.js";

/**
 * Every migration, by name. The names are the file names without extension, as Kysely's
 * FileMigrationProvider used to give them: they are recorded in `kysely_migration`, so never
 * rename one. A new migration is a new file plus one line here (`npm run build` fails when a
 * file is missing from this list). Static imports, so the migrations travel inside the bundle.
 */
export const migrations: Readonly<Record<string, Migration>> = {
  "20261124T0000_create_profiles": createProfiles,
  "20261124T0100_create_outbox": createOutbox,
  "20261201T0000_visible_display_names": visibleDisplayNames,
  "20261210T0000_social_graph": socialGraph,
  "20261220T0000_outbox_traceparent": outboxTraceparent,
  "20261220T0100_privacy_settings": privacySettings,
  "20261230T0000_handles_and_search": handlesAndSearch,
};
