import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";

const fileName = "dev-jwt-secret";

/**
 * The HS256 secret of embedded development mode: read from `dataDir`, or created there (random,
 * readable by the owner only) on first use, so the service and `npm run token` agree on it.
 */
export async function loadOrCreateDevelopmentSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, fileName);
  await mkdir(dataDir, { recursive: true });
  try {
    await writeFile(file, randomBytes(32).toString("base64url"), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return (await readFile(file, "utf8")).trim();
}
