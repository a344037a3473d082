import { toJson } from "@bufbuild/protobuf";
import { connect } from "@nats-io/transport-node";
import {
  ProfileCreatedSchema,
  ProfileUpdatedSchema,
} from "../gen/realchat/profile/v1/profile_events_pb.js";
import { decodeProfileEvent } from "../src/events/outbox/profile-events.js";

// `npm run events:watch [-- <subject>]`: prints every profile event on NATS_URL (default
// nats://127.0.0.1:4222) as one JSON line, until Ctrl-C. Subject defaults to `profile.>`.
const nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
const subject = process.argv[2] ?? "profile.>";
process.stderr.write(`watching ${subject} on ${nc.getServer()}\n`);
process.once("SIGINT", () => void nc.drain());
for await (const message of nc.subscribe(subject)) {
  const type = message.headers?.get("Realchat-Event-Type") ?? "";
  const contentType = message.headers?.get("Content-Type") ?? "";
  try {
    const event = decodeProfileEvent(type, contentType, message.data);
    const line = {
      subject: message.subject,
      type,
      msgId: message.headers?.get("Nats-Msg-Id"),
      event:
        event.$typeName === ProfileCreatedSchema.typeName
          ? toJson(ProfileCreatedSchema, event)
          : toJson(ProfileUpdatedSchema, event),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } catch (error) {
    process.stdout.write(`${JSON.stringify({ subject: message.subject, error: String(error) })}\n`);
  }
}
