import path from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import pg from "pg";

// The obvious server: what a team that ignored this project would write for the same ProfileApi
// (bench/README.md). @grpc/grpc-js, the .proto loaded at run time, a pg Pool with named prepared
// statements; no auth, validation, logs or metrics. Usage: tsx this-file <port> <database-url>.
const definition = protoLoader.loadSync("realchat/profile/v1/profile_api.proto", {
  includeDirs: [path.join(import.meta.dirname, "..", "proto")],
  keepCase: true,
});
const pool = new pg.Pool({ connectionString: process.argv[3], max: 10 });
type Row = { user_id: string; version: number; created_at: Date; updated_at: Date };
const select = async (name: string, where: string, value: unknown) => {
  const text = `select user_id, display_name, avatar_url, bio, version, created_at, updated_at
    from profiles where ${where}`;
  return (await pool.query<Row>({ name, text, values: [value] })).rows;
};
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
    throw Object.assign(new Error(`no profile for user ${user_id}`), {
      code: grpc.status.NOT_FOUND,
    });
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
server.bindAsync(
  `127.0.0.1:${process.argv[2] ?? "50051"}`,
  grpc.ServerCredentials.createInsecure(),
  (error) => {
    if (error !== null) throw error;
    process.stdout.write("ready\n");
  },
);
process.once("SIGTERM", () => {
  server.forceShutdown();
  void pool.end();
});
