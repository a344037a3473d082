// SearchProfiles through the real server on PostgreSQL, over gRPC and over Connect JSON: the
// whole suite of tests/support/search-suite.ts. In memory on PGlite:
// tests/unit/profile-search.test.ts.
import { createClient, type Transport } from "@connectrpc/connect";
import { describe } from "vitest";
import { ProfileApi } from "../gen/realchat/profile/v1/profile_api_pb.js";
import { SocialGraphApi } from "../gen/realchat/profile/v1/social_graph_api_pb.js";
import { transportsFor } from "./support/clients.js";
import { searchSuite } from "./support/search-suite.js";
import { useTestServer } from "./support/test-server.js";

const fixture = useTestServer();

describe.each(["gRPC over h2c", "Connect JSON over HTTP/1.1"])("over %s", (protocol) => {
  const transport = (token: string): Transport => {
    const found = transportsFor(fixture.server.baseUrl, token)[protocol];
    if (found === undefined) throw new Error(`no transport ${protocol}`);
    return found;
  };
  searchSuite({
    db: () => fixture.database.db,
    provision: (userId, displayName, username) =>
      fixture.server.service.profiles.provisionProfile(userId, [displayName], username),
    profiles: (token) => createClient(ProfileApi, transport(token)),
    graph: (token) => createClient(SocialGraphApi, transport(token)),
  });
});
