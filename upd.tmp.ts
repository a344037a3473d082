import { create, toBinary } from "@bufbuild/protobuf";
import { UpdateProfileRequestSchema } from "./gen/realchat/profile/v1/profile_api_pb.js";
import { grpcFrame, runLoad } from "./bench/load.js";
const [port, token] = process.argv.slice(2);
const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
const bodies = Array.from({ length: 2000 }, (_, i) => Buffer.from(grpcFrame(toBinary(UpdateProfileRequestSchema, create(UpdateProfileRequestSchema, { userId: id(1 + (i % 1000)), bio: `upd ${Date.now()} ${i}` })))));
const r = await runLoad({ origin: `http://127.0.0.1:${port}`, path: "/realchat.profile.v1.ProfileApi/UpdateProfile", headers: { authorization: `Bearer ${token}` }, bodies, connections: 4, streamsPerConnection: 4, durationMs: 6000, warmUpMs: 1000 });
console.log("updates/s", Math.round(r.requests / r.seconds), "errors", r.errors);
