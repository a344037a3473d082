import { create, toBinary } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { jetstream } from "@nats-io/jetstream";
import { connect, headers } from "@nats-io/transport-node";
import { UserRegisteredSchema } from "../gen/realchat/auth/v1/user_events_pb.js";

// `npm run events:register -- <user-id> [display name] [--protobuf]`: publishes a UserRegistered
// on `auth.user.registered` as Auth would (JSON unless --protobuf), to NATS_URL (default
// nats://127.0.0.1:4222). The AUTH stream must exist: the service creates it at start-up.
const args = process.argv.slice(2);
const binary = args.includes("--protobuf");
const [userId, displayName] = args.filter((arg) => arg !== "--protobuf");
if (userId === undefined) {
  process.stderr.write("usage: npm run events:register -- <user-id> [display name] [--protobuf]\n");
  process.exit(2);
}
const event = create(UserRegisteredSchema, {
  userId,
  displayName,
  username: `user-${userId.slice(0, 8)}`,
  registeredAt: timestampNow(),
});
const h = headers();
h.set("Content-Type", binary ? "application/protobuf" : "application/json");
const data = binary
  ? toBinary(UserRegisteredSchema, event)
  : JSON.stringify({ user_id: userId, display_name: displayName, username: event.username });
const nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
const ack = await jetstream(nc).publish("auth.user.registered", data, { headers: h });
process.stdout.write(`published to stream ${ack.stream}, sequence ${ack.seq}\n`);
await nc.close();
