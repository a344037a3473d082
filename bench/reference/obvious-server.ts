import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import pg from "pg";
import { serve } from "./serve.js";

// The obvious server: what a team that ignored this project would write for the same ProfileApi
// (bench/README.md). @grpc/grpc-js, the .proto loaded at run time, a pg Pool with named prepared
// statements; no auth, validation, logs or metrics. Usage: tsx this-file <port> <database-url>.
const definition = protoLoader.loadSync("realchat/profile/v1/profile_api.proto", {
  includeDirs: [path.join(import.meta.dirname, "..", "..", "proto")],
  keepCase: true,
});
const pool = new pg.Pool({ connectionString: process.argv[3], max: 10 });
type Row = { user_id: string; version: number; created_at: Date; updated_at: Date };
const columns = "user_id, display_name, avatar_url, bio, version, created_at, updated_at";
const query = async (name: string, text: string, values: unknown[]) =>
  (await pool.query<Row>({ name, text, values })).rows;
const select = (name: string, where: string, value: unknown) =>
  query(name, `select ${columns} from profiles where ${where}`, [value]);
const notFound = (userId: string) =>
  Object.assign(new Error(`no profile for user ${userId}`), { code: grpc.status.NOT_FOUND });
const timestamp = (date: Date) => {
  const seconds = Math.floor(date.getTime() / 1000);
  return { seconds, nanos: (date.getTime() - seconds * 1000) * 1_000_000 };
};
const profile = (row: Row) => ({
  ...row,
  created_at: timestamp(row.created_at),
  updated_at: timestamp(row.updated_at),
  etag: `v${row.version}`,
});
const unary =
  <Request>(handle: (request: Request) => Promise<object>) =>
  (call: grpc.ServerUnaryCall<Request, object>, callback: grpc.sendUnaryData<object>) =>
    handle(call.request).then((answer) => callback(null, answer), callback);

const server = new grpc.Server();
server.addService(definition["realchat.profile.v1.ProfileApi"] as protoLoader.ServiceDefinition, {
  GetProfile: unary(async ({ user_id }: { user_id: string }) => {
    const [row] = await select("get_profile", "user_id = $1::uuid", user_id);
    if (row !== undefined) return profile(row);
    throw notFound(user_id);
  }),
  // One named statement per set of present fields; the outbox trigger fires as on the service's.
  UpdateProfile: unary(async (request: Record<string, string | undefined>) => {
    const fields = ["display_name", "avatar_url", "bio"].filter((f) => request[f] !== undefined);
    const set = fields.map((field, i) => `${field} = $${i + 2}, `).join("");
    const [row] = await query(
      `update_profile_${fields.join("_")}`,
      `update profiles set ${set}version = version + 1, updated_at = now()
        where user_id = $1::uuid returning ${columns}`,
      [request.user_id, ...fields.map((field) => request[field])],
    );
    if (row !== undefined) return profile(row);
    throw notFound(request.user_id ?? "");
  }),
  BatchGetProfiles: unary(async ({ user_ids }: { user_ids: string[] }) => {
    const ids = [...new Set(user_ids.map((id) => id.toLowerCase()))];
    const rows = await select("batch_get_profiles", "user_id = any($1::uuid[])", ids);
    const found = new Map(rows.map((row) => [row.user_id, row]));
    return {
      profiles: ids.flatMap((id) => {
        const row = found.get(id);
        return row === undefined ? [] : [profile(row)];
      }),
      missing_user_ids: ids.filter((id) => !found.has(id)),
    };
  }),
});
serve(server, () => void pool.end());
