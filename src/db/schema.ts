import type { BlocksTable } from "./tables/blocks.js";
import type { ContactsTable } from "./tables/contacts.js";
import type { HandlesTable, ProfileSearchTermsTable, SearchWordsTable } from "./tables/handles.js";
import type { OutboxTable } from "./tables/outbox.js";
import type { PrivacySettingsTable } from "./tables/privacy-settings.js";
import type { DeletedProfilesTable, ProfilesTable } from "./tables/profiles.js";

/** Every table Kysely knows about, one file each in tables/. */
export interface Database {
  profiles: ProfilesTable;
  outbox: OutboxTable;
  contacts: ContactsTable;
  blocks: BlocksTable;
  deleted_profiles: DeletedProfilesTable;
  privacy_settings: PrivacySettingsTable;
  handles: HandlesTable;
  profile_search_terms: ProfileSearchTermsTable;
  search_words: SearchWordsTable;
}
