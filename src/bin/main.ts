// Entry of the service (npm start) and dist/main.js: checks the Node.js version before loading anything else.
import { runOnSupportedNode } from "../ops/supported-node.js";

await runOnSupportedNode(() => import("../main.js"));
