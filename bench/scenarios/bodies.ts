// The requests npm run bench sends, encoded once before the rows: the client's per-call work is
// then a stream and a buffer write.
import {
  BatchGetProfilesRequestSchema,
  GetProfileRequestSchema,
  UpdateProfileRequestSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { seededId } from "../harness/database.js";
import { grpcMessage } from "../harness/load.js";

/** The bodies of the rows over profiles 1..`profiles` (seeded), ids drawn at random once. */
export function requestBodies(profiles: number) {
  const randomId = () => seededId(1 + Math.floor(Math.random() * profiles));
  const getId = randomId();
  const batch = new Set<string>();
  while (batch.size < 100) batch.add(randomId());
  const batchIds = [...batch];
  return {
    /** The one id of the GetProfile rows (h2load sends one body). */
    getId,
    getBody: grpcMessage(GetProfileRequestSchema, { userId: getId }),
    /** The 100 ids of the BatchGetProfiles rows. */
    batchIds,
    batchBody: grpcMessage(BatchGetProfilesRequestSchema, { userIds: batchIds }),
    /** An id no profile has. */
    missingId: seededId(profiles + 1),
    /** BatchGetProfiles of 100 consecutive ids each, from `first` on: a pass over those ids. */
    batchesOver: (first: number, count: number) =>
      Array.from({ length: Math.ceil(count / 100) }, (_, b) =>
        grpcMessage(BatchGetProfilesRequestSchema, {
          userIds: Array.from({ length: Math.min(100, count - b * 100) }, (_, i) =>
            seededId(first + b * 100 + i),
          ),
        }),
      ),
    /**
     * UpdateProfile of users 1..1000, twice each: every body changes its profile, since the bio
     * carries the row's tag and consecutive updates of a user (1000 calls apart) differ.
     */
    updateBodies: (tag: string) =>
      Array.from({ length: 2000 }, (_, i) =>
        grpcMessage(UpdateProfileRequestSchema, {
          userId: seededId(1 + (i % 1000)),
          bio: `bench ${tag} ${i}`,
        }),
      ),
  };
}

export type RequestBodies = ReturnType<typeof requestBodies>;
