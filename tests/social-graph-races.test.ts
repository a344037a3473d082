// Races the social graph must survive: a contact and a block between the same two users at
// once, and keyset paging while the list changes.
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { adminToken } from "./support/auth.js";
import { codeOf } from "./support/clients.js";
import { createProfiles, createUsers, graphClient } from "./support/social-graph.js";
import { useTestServer } from "./support/test-server.js";

const fixture = useTestServer();
const db = () => fixture.database.db;

/** Contacts left between pairs where a block exists, in either direction. */
async function contactsBetweenBlockedPairs(): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    SELECT count(*)::text AS n FROM contacts c JOIN blocks b
      ON (b.user_id = c.user_id AND b.blocked_user_id = c.contact_user_id)
      OR (b.user_id = c.contact_user_id AND b.blocked_user_id = c.user_id)
  `.execute(db());
  return Number(rows[0]?.n);
}

describe("a concurrent AddContact and BlockUser between the same two users", () => {
  const ROUNDS = 200;
  /** Pairs raced at once: each pair's two calls are concurrent, and so are the pairs. */
  const AT_ONCE = 10;

  it.each([
    ["AddContact(B→A) against BlockUser(A→B)", "blocked adds"],
    ["AddContact(A→B) against BlockUser(A→B) (the mirror)", "blocker adds"],
  ])("%s, 200 rounds: no contact is left between a blocked pair", async (_, who) => {
    const outcomes = new Map<string, number>();
    for (let start = 0; start < ROUNDS; start += AT_ONCE) {
      const users = await createUsers(db(), fixture.server.baseUrl, 2 * AT_ONCE);
      await Promise.all(
        Array.from({ length: AT_ONCE }, async (_, index) => {
          const a = users[2 * index];
          const b = users[2 * index + 1];
          if (a === undefined || b === undefined) throw new Error("no users");
          const adder = who === "blocked adds" ? b : a;
          const added = who === "blocked adds" ? a : b;
          const [addCode, blockCode] = await Promise.all([
            codeOf(adder.client.addContact({ userId: adder.id, otherUserId: added.id })),
            codeOf(a.client.blockUser({ userId: a.id, otherUserId: b.id })),
          ]);
          expect(blockCode).toBe("OK");
          outcomes.set(addCode, (outcomes.get(addCode) ?? 0) + 1);
        }),
      );
    }

    expect(await contactsBetweenBlockedPairs()).toBe(0);
    expect([...outcomes.keys()].every((code) => ["OK", "FailedPrecondition"].includes(code))).toBe(
      true,
    );
  });
});

describe("keyset paging while contacts are added and removed", () => {
  it("returns each of 2,000 contacts present throughout exactly once, with no duplicate", async () => {
    const client = graphClient(fixture.server.baseUrl, adminToken);
    const [owner = ""] = await createProfiles(db(), 1);
    const stable = await createProfiles(db(), 2000);
    const churn = await createProfiles(db(), 400);
    await sql`INSERT INTO contacts (user_id, contact_user_id)
      SELECT ${owner}::uuid, id FROM unnest(${stable}::uuid[]) AS t(id)`.execute(db());

    let paging = true;
    let changes = 0;
    const churner = (async () => {
      // Bounded: at most 4,000 changes, and only while the paging runs.
      for (let n = 0; paging && n < 4000; n += 1) {
        const other = churn[n % churn.length] ?? "";
        const pair = { userId: owner, otherUserId: other };
        await (Math.floor(n / churn.length) % 2 === 0
          ? client.addContact(pair)
          : client.removeContact(pair));
        changes += 1;
      }
    })();
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await client.listContacts({ userId: owner, pageSize: 50, pageToken });
      seen.push(...page.contacts.map((contact) => contact.contactUserId));
      pageToken = page.nextPageToken;
      pages += 1;
    } while (pageToken !== "" && pages < 1000);
    paging = false;
    await churner;

    expect(changes).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(seen.length);
    const stableSeen = seen.filter((id) => stable.includes(id));
    expect(stableSeen).toEqual(stable);
  });
});
