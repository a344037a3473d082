import pg from "pg";

/**
 * Holds a row lock on a user's profile from another session until the returned function is
 * called, so that updates of it block: a call that is reliably slow, without timing tricks.
 */
export async function holdProfileLock(
  databaseUrl: string,
  userId: string,
): Promise<() => Promise<void>> {
  const locker = new pg.Client({ connectionString: databaseUrl });
  await locker.connect();
  await locker.query("BEGIN");
  await locker.query("SELECT 1 FROM profiles WHERE user_id = $1 FOR UPDATE", [userId]);
  return async () => {
    await locker.query("ROLLBACK");
    await locker.end();
  };
}
