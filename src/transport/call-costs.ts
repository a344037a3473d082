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
 * - UpdateProfile, UpdatePrivacySettings and SetHandle: `updateCost` (a write, its event and its
 *   fan-out cost far more than a read);
 * - SearchProfiles: `searchCost`, whatever the page size: what bounds a scraper is queries;
 * - ResolveHandle and CheckHandle: `handleLookupCost`, so that handles cannot be probed at the
 *   rate of reads;
 * - anything else, and an empty batch: 1, so that floods of empty calls are bounded too.
 */
export function createCallCosts(
  quotas: Pick<QuotaConfig, "updateCost" | "searchCost" | "handleLookupCost">,
): CallCost {
  const prices = new Map<DescMethod, (message: unknown) => number>([
    priced(ProfileApi.method.batchGetProfiles, (request) => Math.max(1, request.userIds.length)),
    priced(ProfileApi.method.watchProfiles, (request) => Math.max(1, request.userIds.length)),
    priced(ProfileApi.method.updateProfile, () => quotas.updateCost),
    priced(ProfileApi.method.updatePrivacySettings, () => quotas.updateCost),
    priced(ProfileApi.method.setHandle, () => quotas.updateCost),
    priced(ProfileApi.method.searchProfiles, () => quotas.searchCost),
    priced(ProfileApi.method.resolveHandle, () => quotas.handleLookupCost),
    priced(ProfileApi.method.checkHandle, () => quotas.handleLookupCost),
  ]);
  return (method, message) => prices.get(method)?.(message) ?? 1;
}
