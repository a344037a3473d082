// The soak's attackers: one per kind of attack in issue 10's "What broke" list that applies to a
// running PostgreSQL deployment, each at a low rate, each with the rule that makes it a breach.
// The rules describe the service once every item is fixed. One file per family, in attacks/.
import {
  type AttackContext,
  type AttackKind,
  type AttackReport,
  attackKinds,
} from "./attacks/attack.js";
import { oddClaims, scraper } from "./attacks/callers.js";
import { rapidReset, slowloris, watchFlood } from "./attacks/connections.js";
import { combiningMarkBomb, invisibleNames } from "./attacks/content.js";
import { hugeDeadlines, malformedBytes, unfinishedBodies } from "./attacks/requests.js";

export { type AttackContext, type AttackKind, type AttackReport, attackKinds };

/** Starts the attackers named in `kinds`; resolves with their reports once `ctx.stopped()`. */
export async function runAttackers(
  ctx: AttackContext,
  kinds: readonly AttackKind[],
): Promise<AttackReport[]> {
  const attackers: Record<AttackKind, () => Promise<AttackReport>> = {
    bomb: () => combiningMarkBomb(ctx),
    unfinished: () => unfinishedBodies(ctx),
    slowloris: () => slowloris(ctx),
    watch: () => watchFlood(ctx),
    reset: () => rapidReset(ctx),
    deadline: () => hugeDeadlines(ctx),
    malformed: () => malformedBytes(ctx),
    claims: () => oddClaims(ctx),
    invisible: () => invisibleNames(ctx),
    scraper: () => scraper(ctx),
  };
  return Promise.all(kinds.map((kind) => attackers[kind]()));
}
