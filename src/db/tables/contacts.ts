import type { ColumnType, Generated, Selectable } from "kysely";

/** The `contacts` table: `user_id`'s address book entry for `contact_user_id`. */
export interface ContactsTable {
  user_id: string;
  contact_user_id: string;
  nickname: Generated<string>;
  is_favorite: Generated<boolean>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, never, Date>;
}

export type ContactRow = Selectable<ContactsTable>;
