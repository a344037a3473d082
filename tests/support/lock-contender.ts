// A process for tests/data-dir-lock.test.ts: says "ready", takes the lock on DATA_DIR when a line
// arrives on stdin, says "won <own pid>" or "lost <holder's pid>", and holds it until stdin ends.
import { once } from "node:events";
import { DataDirLockedError, lockDataDir } from "../../src/db/lock.js";

const dir = process.env.DATA_DIR ?? "";
process.stdout.write("ready\n");
await once(process.stdin, "data");
try {
  await lockDataDir(dir);
  process.stdout.write(`won ${process.pid}\n`);
} catch (error) {
  if (!(error instanceof DataDirLockedError)) throw error;
  process.stdout.write(`lost ${error.holder.pid}\n`);
}
process.stdin.resume();
await once(process.stdin, "end");
