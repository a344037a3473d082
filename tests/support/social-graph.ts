import { type Client, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { type Kysely, sql } from "kysely";
import { SocialGraphApi } from "../../gen/realchat/profile/v1/social_graph_api_pb.js";
import type { Database } from "../../src/db/schema.js";
import { tokenFor } from "./auth.js";
import { bearer, type TestToken } from "./clients.js";

export type SocialGraphClient = Client<typeof SocialGraphApi>;

/** The two ways the graph's tests call it: what backends send, and what curl sends. */
export const graphProtocols = ["gRPC", "Connect JSON"] as const;
export type GraphProtocol = (typeof graphProtocols)[number];

/** A SocialGraphApi client over `protocol`, sending `token`. */
export function graphClient(
  baseUrl: string,
  token: TestToken,
  protocol: GraphProtocol = "gRPC",
): SocialGraphClient {
  const interceptors = bearer(token);
  const transport =
    protocol === "gRPC"
      ? createGrpcTransport({ baseUrl, interceptors })
      : createConnectTransport({ baseUrl, httpVersion: "1.1", interceptors });
  return createClient(SocialGraphApi, transport);
}

/** A user with a profile, and a client acting as that user. */
export interface GraphUser {
  readonly id: string;
  readonly client: SocialGraphClient;
}

/** Creates `count` profiles in one statement; returns their ids, ascending. */
export async function createProfiles(db: Kysely<Database>, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => crypto.randomUUID()).sort();
  await sql`
    INSERT INTO profiles (user_id, display_name)
    SELECT id, 'user ' || ordinality FROM unnest(${ids}::uuid[]) WITH ORDINALITY AS t(id)
  `.execute(db);
  return ids;
}

/** New users with profiles, each with a client over `protocol` holding their own token. */
export async function createUsers(
  db: Kysely<Database>,
  baseUrl: string,
  count: number,
  protocol: GraphProtocol = "gRPC",
): Promise<GraphUser[]> {
  const ids = await createProfiles(db, count);
  return Promise.all(
    ids.map(async (id) => ({ id, client: graphClient(baseUrl, await tokenFor(id), protocol) })),
  );
}

/** The contacts between two users, in both directions, as stored. */
export async function contactsBetween(db: Kysely<Database>, a: string, b: string) {
  return db
    .selectFrom("contacts")
    .selectAll()
    .where((eb) =>
      eb.or([
        eb.and([eb("user_id", "=", a), eb("contact_user_id", "=", b)]),
        eb.and([eb("user_id", "=", b), eb("contact_user_id", "=", a)]),
      ]),
    )
    .execute();
}
