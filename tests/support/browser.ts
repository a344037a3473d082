import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** Debian's Chromium; `CHROMIUM_PATH` points elsewhere. */
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Flags for a quiet, reproducible headless run: no GPU, no QUIC (loopback HTTP only), no first-run
 * dialogs, no background downloads or sync. `--no-sandbox`: containers and CI run as root.
 */
const chromiumFlags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where browser tests keep what a person may want to look at after a run (git-ignored). */
export const testArtifactsDir = path.resolve("test-artifacts");

export interface TestBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Headless Chromium with a fresh profile directory, removed on close. A missing browser fails the
 * test with how to install it: the browser tests never skip.
 */
export async function launchChromium(): Promise<TestBrowser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `the browser tests need Chromium at ${chromiumPath}: install it with ` +
        "`apt-get install -y chromium` (Debian; CI does), or set CHROMIUM_PATH",
    );
  }
  const userDataDir = await mkdtemp(path.join(tmpdir(), "chromium-profile-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumFlags,
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A path for `name` under the artifacts directory (`test-artifacts/browser`, or
 * `test-artifacts/<folder>`), with its directory created.
 */
export async function browserArtifact(name: string, folder = "browser"): Promise<string> {
  const directory = path.join(testArtifactsDir, folder);
  await mkdir(directory, { recursive: true });
  return path.join(directory, name);
}
