// `npm run example:web`: the example web client on http://127.0.0.1:8081, against `npm start`.
import { loadOrCreateDevelopmentSecret } from "../../src/auth/development-secret.js";
import { signHs256Token } from "../../src/auth/token-signer.js";
import { EXAMPLE_WEB_PORT } from "../../src/config/config.js";
import { loadConfig } from "../../src/config/load-config.js";
import { parseUserId } from "../../src/profile/user-id.js";
import { startExampleServer } from "./server.js";

const config = loadConfig();
const { database, auth } = config;

/**
 * Tokens only for a service in development mode, signed with the secret `npm start` generated in
 * the same DATA_DIR (what `npm run token` does). Any other service: paste a token instead.
 */
async function mintDevelopmentToken(userId: string): Promise<string> {
  if (!auth.development || database.kind !== "pglite") {
    throw new Error("the service is not in development mode: paste a token from your issuer");
  }
  const subject = parseUserId(userId);
  if (subject === undefined) throw new Error("the user id must be a UUID");
  return signHs256Token({
    secret: await loadOrCreateDevelopmentSecret(database.dataDir),
    subject,
    scopes: [],
    issuer: auth.issuer,
    audience: auth.audience,
    expiresIn: "1h",
  });
}

const server = await startExampleServer({
  port: Number(process.env.EXAMPLE_WEB_PORT ?? EXAMPLE_WEB_PORT),
  host: "127.0.0.1",
  mintToken: mintDevelopmentToken,
});
process.stdout.write(
  `example web client on ${server.origin}/ (service: http://127.0.0.1:${config.port}; npm start)\n`,
);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void server.close().then(() => process.exit(0)));
}
