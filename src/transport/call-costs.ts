import type { DescMethod, MessageShape } from "@bufbuild/protobuf";
import { ProfileApi } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import type { QuotaConfig } from "../config/config.js";

/** What one request message costs its caller's quota, in profiles read. */
export type CallCost = (method: DescMethod, message: unknown) => number;

type Priced = readonly [DescMethod, (message: unknown) => number];

/** One method's price; the message is that method's request (the interceptor sees no other). */
function priced<M extends DescMethod>(
  method: M,
  cost: (message: MessageShape<M["input"]>) => number,
): Priced {
  return [method, (message) => cost(message as MessageShape<M["input"]>)];
}

/**
 * The price list of the quotas (docs/limits.md "Quotas"):
 * - BatchGetProfiles: the number of ids sent, duplicates included (the work of reading and
 *   checking them is done before they collapse);
 * - WatchProfiles: the number of ids sent, like BatchGetProfiles (its snapshot reads them all;
 *   the changes pushed after it are not charged);
 * - UpdateProfile and UpdatePrivacySettings: `updateCost` (a write, its event and its fan-out cost
 *   far more than a read);
 * - anything else, and an empty batch: 1, so that floods of empty calls are bounded too.
 */
export function createCallCosts(quotas: Pick<QuotaConfig, "updateCost">): CallCost {
  const prices = new Map<DescMethod, (message: unknown) => number>([
    priced(ProfileApi.method.batchGetProfiles, (request) => Math.max(1, request.userIds.length)),
    priced(ProfileApi.method.watchProfiles, (request) => Math.max(1, request.userIds.length)),
    priced(ProfileApi.method.updateProfile, () => quotas.updateCost),
    priced(ProfileApi.method.updatePrivacySettings, () => quotas.updateCost),
  ]);
  return (method, message) => prices.get(method)?.(message) ?? 1;
}
