// Entry of npm run token and dist/token.js: checks the Node.js version before loading anything else.
import { runOnSupportedNode } from "../ops/supported-node.js";

await runOnSupportedNode(() => import("../cli/token.js"));
