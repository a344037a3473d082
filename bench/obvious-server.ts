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
const columns = "user_id, display_name, avatar_url, bio, version, created_at, updated_at";
interface Row {
  user_id: string;
  version: number;
  created_at: Date;
  updated_at: Date;
}
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
type Reply = grpc.sendUnaryData<object>;

const server = new grpc.Server();
server.addService(definition["realchat.profile.v1.ProfileApi"] as protoLoader.ServiceDefinition, {
  GetProfile: ({ request }: { request: { user_id: string } }, callback: Reply) =>
    pool
      .query<Row>({
        name: "get_profile",
        text: `select ${columns} from profiles where user_id = $1::uuid`,
        values: [request.user_id],
      })
      .then(({ rows: [row] }) =>
        row === undefined
          ? callback({
              code: grpc.status.NOT_FOUND,
              details: `no profile for user ${request.user_id}`,
            })
          : callback(null, profile(row)),
      )
      .catch((error: Error) => callback(error)),
  BatchGetProfiles: ({ request }: { request: { user_ids: string[] } }, callback: Reply) => {
    const ids = [...new Set(request.user_ids.map((id) => id.toLowerCase()))];
    pool
      .query<Row>({
        name: "batch_get_profiles",
        text: `select ${columns} from profiles where user_id = any($1::uuid[])`,
        values: [ids],
      })
      .then(({ rows }) => {
        const found = new Map(rows.map((row) => [row.user_id, row]));
        callback(null, {
          profiles: ids.flatMap((id) => {
            const row = found.get(id);
            return row === undefined ? [] : [profile(row)];
          }),
          missing_user_ids: ids.filter((id) => !found.has(id)),
        });
      })
      .catch((error: Error) => callback(error));
  },
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
