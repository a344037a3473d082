import { readdir, readFile, rm } from "node:fs/promises";
import { isBuiltin } from "node:module";
import path from "node:path";
import { build } from "esbuild";
import { migrations } from "../db/migrations/index.js";

// `npm run build`: the production build, for `node dist/main.js` without a TypeScript runner.
// esbuild bundles src/, gen/ and db/migrations into one ES module per entry point; packages in
// node_modules stay imports (the image installs them with `npm ci --omit=dev`). Each entry checks
// the Node.js version, then imports the command from a chunk (dist/chunks/): bundled into the
// entry, the packages' imports would be linked and run before the check.
//
//   dist/main.js      the service             (npm start)
//   dist/migrate.js   apply pending migrations (npm run migrate)
//   dist/token.js     print a token            (npm run token)

const root = path.join(import.meta.dirname, "..");
const outdir = path.join(root, "dist");

function fail(message: string): never {
  process.stderr.write(`build: ${message}\n`);
  process.exit(1);
}

/** "@scope/name/sub/path" → "@scope/name", "name/sub" → "name". */
function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return (specifier.startsWith("@") ? parts.slice(0, 2) : parts.slice(0, 1)).join("/");
}

// The migrator no longer reads db/migrations from the disk: a file left out of the index would
// silently never run.
const migrationFiles = (await readdir(path.join(root, "db", "migrations")))
  .filter((file) => file.endsWith(".ts") && file !== "index.ts")
  .map((file) => file.slice(0, -".ts".length));
const unlisted = migrationFiles.filter((name) => !Object.hasOwn(migrations, name));
if (unlisted.length > 0) fail(`add to db/migrations/index.ts: ${unlisted.join(", ")}`);

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: {
    main: "src/bin/main.ts",
    migrate: "src/bin/migrate.ts",
    token: "src/bin/token.ts",
  },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  platform: "node",
  format: "esm",
  target: "node22",
  packages: "external",
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
});

// The image has production dependencies only: importing a devDependency would pass here and in
// CI's smoke start, then fail in the container.
const manifest = JSON.parse(await readFile(path.join(root, "package.json"), "utf8")) as {
  dependencies?: Record<string, string>;
};
const allowed = new Set(Object.keys(manifest.dependencies ?? {}));
const imported = new Set(
  Object.values(result.metafile.outputs)
    .flatMap((output) => output.imports)
    .filter((entry) => entry.external && !isBuiltin(entry.path))
    .map((entry) => packageName(entry.path)),
);
const notDependencies = [...imported].filter((name) => !allowed.has(name));
if (notDependencies.length > 0) {
  fail(`imported at run time but not in "dependencies": ${notDependencies.join(", ")}`);
}

for (const [file, output] of Object.entries(result.metafile.outputs)) {
  if (!file.endsWith(".map")) {
    process.stdout.write(`${file}  ${(output.bytes / 1024).toFixed(0)} KiB\n`);
  }
}
