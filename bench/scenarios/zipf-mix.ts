// The Zipf mix of npm run bench (issue 12; bench/README.md, "The Zipf mix"): 95 %
// BatchGetProfiles of 100 distinct ids, 5 % UpdateProfile, the ids drawn from a Zipf
// distribution, on the cache-warm instance, then the same calls in the same order on the obvious
// server and on the cache-off instance.
import {
  BatchGetProfilesRequestSchema,
  UpdateProfileRequestSchema,
} from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { seededId } from "../harness/database.js";
import { grpcMessage, runLoad } from "../harness/load.js";
import { type Bench, loadRow, record, scenarios, serviceRow, variants } from "./rows.js";
import { api, closedLoop, loadShape, settings } from "./settings.js";

/**
 * A Zipf sampler: draws ranks 1..n with P(k) ∝ 1/k^s, by inverse transform over the precomputed
 * cumulative weights (n doubles; one binary search per draw). With s = 1 and n = 100,000, rank 1
 * has probability 8.3 %, rank 10 0.83 %, and the top 1,000 ranks 62 % together.
 */
export function zipfSampler(n: number, s: number, random = Math.random): () => number {
  const cumulative = new Float64Array(n);
  let total = 0;
  for (let k = 1; k <= n; k++) {
    total += k ** -s;
    cumulative[k - 1] = total;
  }
  return () => {
    const u = random() * total;
    let low = 0;
    let high = n - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] ?? total) < u) low = middle + 1;
      else high = middle;
    }
    return low + 1;
  };
}

const mixLength = 40_000;
const isUpdate = (i: number) => i % 20 === 19;

/**
 * The mix's calls: ranks over a shuffled order of the seeded ids (the hot profiles spread over
 * the table), 100 distinct ids per batch from a pool of 1000 batches, and every 20th call an
 * update of one Zipf-drawn profile with a bio of its own, so each update changes something.
 */
export function zipfMix(profiles: number) {
  const zipfRank = zipfSampler(profiles, 1.0);
  const idOfRank = Array.from({ length: profiles }, (_, i) => seededId(i + 1));
  for (let i = idOfRank.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [idOfRank[i], idOfRank[j]] = [idOfRank[j] ?? "", idOfRank[i] ?? ""];
  }
  const zipfId = () => idOfRank[zipfRank() - 1] ?? seededId(1);
  const batches = Array.from({ length: 1000 }, () => {
    const ids = new Set<string>();
    while (ids.size < 100) ids.add(zipfId());
    return grpcMessage(BatchGetProfilesRequestSchema, { userIds: [...ids] });
  });
  const paths = Array.from({ length: mixLength }, (_, i) =>
    isUpdate(i) ? `${api}/UpdateProfile` : `${api}/BatchGetProfiles`,
  );
  return {
    /** The pool of batches: also the warm-up pass of the service's mix rows. */
    batches,
    paths,
    /** One round's mix: the same ids for every server, a bio of the server's own (`tag`). */
    bodiesOfRound: (round: number) => {
      const updated = Array.from({ length: mixLength }, (_, i) => (isUpdate(i) ? zipfId() : ""));
      return (tag: string) =>
        updated.map((userId, i) =>
          isUpdate(i)
            ? grpcMessage(UpdateProfileRequestSchema, { userId, bio: `mix ${round}.${tag}.${i}` })
            : (batches[i % batches.length] ?? Buffer.alloc(0)),
        );
    },
  };
}

export type ZipfMix = ReturnType<typeof zipfMix>;

export async function measureZipfMix(bench: Bench, mix: ZipfMix, round: number): Promise<void> {
  const bodies = mix.bodiesOfRound(round);
  const mixRow = async (
    at: string,
    headers: Readonly<Record<string, string>>,
    variant: keyof typeof variants,
  ) =>
    loadRow(
      `${scenarios.zipfMix}, ${variants[variant]}`,
      closedLoop,
      await runLoad({
        ...loadShape,
        origin: at,
        headers,
        path: "",
        paths: mix.paths,
        bodies: bodies(variant),
        streamsPerConnection: settings.streamsPerConnection,
      }),
    );
  await serviceRow(bench.warm, bench.auth, mix.batches, () =>
    mixRow(bench.warm, bench.auth, "warm"),
  );
  record(await mixRow(bench.obvious, {}, "obvious"));
  await serviceRow(bench.off, bench.auth, mix.batches, () => mixRow(bench.off, bench.auth, "off"));
}
