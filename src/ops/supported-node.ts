// Loaded before anything else by every command (src/bin/) and by the test runner, so it uses
// nothing an old Node.js lacks.

/**
 * The oldest Node.js the service runs on: package.json's `engines.node`
 * (tests/node-version.test.ts keeps the two equal).
 */
export const minimumNodeVersion = "22.12.0";

/**
 * The one line to print when `version` (as `process.version` gives it) is older than
 * `minimumNodeVersion`; undefined when it is supported.
 */
export function unsupportedNodeMessage(version: string): string | undefined {
  if (atLeast(numbers(version), numbers(minimumNodeVersion))) return undefined;
  return (
    `RealChat Profile needs Node.js ${minimumNodeVersion} or later, and this is Node.js ` +
    `${version}: install Node.js 24 LTS (for example \`nvm install 24\`) and run again.`
  );
}

function atLeast(have: number[], need: number[]): boolean {
  for (const [i, wanted] of need.entries()) {
    const part = have[i] ?? Number.NaN;
    if (Number.isNaN(part)) return false;
    if (part !== wanted) return part > wanted;
  }
  return true;
}

/** "v22.12.0-pre" → [22, 12, 0]. */
function numbers(version: string): number[] {
  return version.replace(/^v/, "").split(/[.-]/).slice(0, 3).map(Number);
}

/** Prints the line and exits 1 when this Node.js is not supported. */
export function exitOnUnsupportedNode(): void {
  const message = unsupportedNodeMessage(process.version);
  if (message === undefined) return;
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

/**
 * Runs a command on a supported Node.js only. `load` imports the command's module, so none of its
 * imports is even linked before the check: an old Node.js cannot fail first with an obscure error.
 */
export async function runOnSupportedNode(load: () => Promise<unknown>): Promise<void> {
  exitOnUnsupportedNode();
  await load();
}
