// Entry of npm run migrate and dist/migrate.js: checks the Node.js version before loading anything else.
import { runOnSupportedNode } from "../ops/supported-node.js";

await runOnSupportedNode(() => import("../cli/migrate.js"));
