import { fromBinary, fromJsonString, toJson } from "@bufbuild/protobuf";
import { connect } from "@nats-io/transport-node";
import { file_realchat_profile_v1_profile_events } from "../gen/realchat/profile/v1/profile_events_pb.js";
import { file_realchat_profile_v1_social_graph_events } from "../gen/realchat/profile/v1/social_graph_events_pb.js";

// `npm run events:watch [-- <subject>]`: prints every profile and social graph event on NATS_URL
// (default nats://127.0.0.1:4222) as one JSON line, until Ctrl-C. Subject defaults to
// `profile.>`; `social.>` shows the contacts and blocks.
const schemas = [
  ...file_realchat_profile_v1_profile_events.messages,
  ...file_realchat_profile_v1_social_graph_events.messages,
];
const nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
const subject = process.argv[2] ?? "profile.>";
process.stderr.write(`watching ${subject} on ${nc.getServer()}\n`);
process.once("SIGINT", () => void nc.drain());
for await (const message of nc.subscribe(subject)) {
  const type = message.headers?.get("Realchat-Event-Type") ?? "";
  const contentType = message.headers?.get("Content-Type") ?? "";
  try {
    const schema = schemas.find((candidate) => candidate.typeName === type);
    if (schema === undefined) throw new Error(`unknown event type ${JSON.stringify(type)}`);
    const event =
      contentType === "application/json"
        ? fromJsonString(schema, new TextDecoder().decode(message.data))
        : fromBinary(schema, message.data);
    const line = {
      subject: message.subject,
      type,
      msgId: message.headers?.get("Nats-Msg-Id"),
      event: toJson(schema, event),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ subject: message.subject, error: String(error) })}\n`);
  }
}
