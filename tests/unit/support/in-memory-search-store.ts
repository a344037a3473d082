import type { SearchHit, SearchPlan, SearchStore } from "../../../src/profile/search.js";

/** A SearchStore whose ranked results the test gives, with the plans it was asked recorded. */
export interface InMemorySearchStore extends SearchStore {
  /** Every result in rank order, whatever the plan (the matching is the SQL's, tested there). */
  readonly results: SearchHit[];
  readonly plans: SearchPlan[];
}

export function createInMemorySearchStore(results: SearchHit[] = []): InMemorySearchStore {
  const plans: SearchPlan[] = [];
  return {
    results,
    plans,
    async search(plan, signal) {
      signal?.throwIfAborted();
      plans.push(plan);
      return results.slice(plan.offset, plan.offset + plan.limit);
    },
  };
}
