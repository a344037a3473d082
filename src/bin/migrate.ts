// Entry of npm run migrate and dist/migrate.js: checks the Node.js version before loading anything else.
import { runOnSupportedNode } from "../supported-node.js";

await runOnSupportedNode(() => import("../migrate-cli.js"));
