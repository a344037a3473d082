import { parseArgs } from "node:util";
import { loadOrCreateDevelopmentSecret } from "../auth/development-secret.js";
import { signHs256Token } from "../auth/token-signer.js";
import { loadConfig } from "../config/load-config.js";
import { parseUserId } from "../profile/user-id.js";

// `npm run token -- <user-id> [--scope profile:admin] [--ttl 1h]`: prints a token the service
// accepts, signed with JWT_SECRET or, in embedded development mode, the generated secret.
const usage = "usage: npm run token -- <user-id> [--scope profile:admin] [--ttl 1h]";

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        scope: { type: "string", multiple: true, default: [] },
        ttl: { type: "string", default: "1h" },
      },
    });
  } catch (error) {
    return fail(String(error instanceof Error ? error.message : error));
  }
})();
const [subject] = positionals;
if (subject === undefined || positionals.length > 1) fail("give exactly one user id");

const config = loadConfig();
let secret = config.auth.secret;
if (secret === undefined && config.auth.development && config.database.kind === "pglite") {
  secret = await loadOrCreateDevelopmentSecret(config.database.dataDir);
}
if (secret === undefined) {
  fail("only HS256 tokens can be made here: set JWT_SECRET (JWKS keys belong to the issuer)");
}
try {
  const token = await signHs256Token({
    secret,
    subject: parseUserId(subject) ?? subject,
    scopes: values.scope.flatMap((scope) => scope.split(" ")).filter((scope) => scope !== ""),
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    expiresIn: values.ttl,
  });
  process.stdout.write(`${token}\n`);
} catch (error) {
  fail(`cannot make the token: ${error instanceof Error ? error.message : String(error)}`);
}
