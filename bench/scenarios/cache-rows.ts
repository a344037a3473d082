// The service's own rows of npm run bench: GetProfile, BatchGetProfiles and UpdateProfile on the
// cache-warm instance, the obvious server and the cache-off instance, minutes apart at most
// (bench/README.md, "The cache rows"); then the three at a fixed moderate rate.
import { BatchGetProfilesRequestSchema } from "../../gen/realchat/profile/v1/profile_api_pb.js";
import { grpcMessage, runLoad } from "../harness/load.js";
import { type Bench, h2loadRow, loadRow, record, scenarios, serviceRow, variants } from "./rows.js";
import { api, closedLoop, loadShape, settings } from "./settings.js";

/** GetProfile and BatchGetProfiles with h2load: cache warm, the obvious server, cache off. */
export async function measureReads(bench: Bench): Promise<void> {
  const { bodies } = bench;
  for (const [scenario, procedure, body, readIds] of [
    [scenarios.get, "GetProfile", bodies.getBody, [bodies.getId]],
    [scenarios.batch, "BatchGetProfiles", bodies.batchBody, bodies.batchIds],
  ] as const) {
    const warmUp = [grpcMessage(BatchGetProfilesRequestSchema, { userIds: [...readIds] })];
    const ours = (at: string, variant: string) =>
      serviceRow(at, bench.auth, warmUp, () =>
        h2loadRow(`${scenario}, ${variant}`, `${at}${api}/${procedure}`, body, bench.auth),
      );
    await ours(bench.warm, variants.warm);
    // The same h2load row against the obvious server. It has no metrics: its errors are
    // h2load's failed requests (requireSameAnswers checked its answers).
    const url = `${bench.obvious}${api}/${procedure}`;
    record(await h2loadRow(`${scenario}, ${variants.obvious}`, url, body, {}));
    await ours(bench.off, variants.off);
  }
}

/**
 * UpdateProfile, closed loop, with the Node load generator (h2load cannot vary the body, and a
 * repeated update would change nothing): cache warm, then cache off.
 */
export async function measureUpdates(bench: Bench, round: number): Promise<void> {
  for (const { variant, at } of [
    { variant: variants.warm, at: bench.warm },
    { variant: variants.off, at: bench.off },
  ]) {
    await serviceRow(at, bench.auth, bench.bodies.batchesOver(1, 1000), async () =>
      loadRow(
        `${scenarios.update}, ${variant}`,
        closedLoop,
        await runLoad({
          ...loadShape,
          origin: at,
          headers: bench.auth,
          path: `${api}/UpdateProfile`,
          bodies: bench.bodies.updateBodies(`${round}.${variant}`),
          streamsPerConnection: settings.streamsPerConnection,
        }),
      ),
    );
  }
}

/** Latency of the three calls at a fixed moderate rate (open loop), on the cache-warm instance. */
export async function measureFixedRate(bench: Bench, round: number): Promise<void> {
  const { bodies } = bench;
  for (const [scenario, procedure, sent] of [
    [scenarios.get, "GetProfile", [bodies.getBody]],
    [scenarios.batch, "BatchGetProfiles", [bodies.batchBody]],
    [scenarios.update, "UpdateProfile", bodies.updateBodies(`${round}.rate`)],
  ] as const) {
    const result = await runLoad({
      ...loadShape,
      origin: bench.warm,
      headers: bench.auth,
      path: `${api}/${procedure}`,
      bodies: sent,
      ratePerSecond: settings.ratePerSecond,
    });
    record(loadRow(`${scenario}, ${variants.warm}`, `${settings.ratePerSecond} req/s`, result));
  }
}
