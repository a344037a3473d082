import type { ColumnType, Generated, Selectable } from "kysely";

/** The `blocks` table: `user_id` blocks `blocked_user_id`. */
export interface BlocksTable {
  user_id: string;
  blocked_user_id: string;
  reason: Generated<string>;
  created_at: ColumnType<Date, never, never>;
}

export type BlockRow = Selectable<BlocksTable>;
