// The layout docs/layout.md draws is the one the code has: every import between folders of src/
// is listed there, the domain reaches no outer layer, and no file outgrows its limit.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.join(import.meta.dirname, "..", "..");
const src = path.join(root, "src");

function filesUnder(folder: string, ending: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(ending))
    .map((file) => path.join(folder, file));
}

/**
 * The folder a file belongs to, as docs/layout.md names it: a top-level folder of src/, a layer
 * folder of a capability (`profile/sql`), or a file at src/'s root.
 */
function folderOf(file: string): string {
  const parts = path.relative(src, file).split(path.sep);
  if (parts.length === 1) return parts[0] ?? "";
  const [top = "", layer = ""] = parts;
  return parts.length > 2 && (top === "profile" || top === "graph") ? `${top}/${layer}` : top;
}

/** Every import between two folders of src/, as `from -> to`. */
function importsBetweenFolders(): Set<string> {
  const edges = new Set<string>();
  for (const file of filesUnder(src, ".ts")) {
    const code = readFileSync(file, "utf8");
    for (const [, specifier = ""] of code.matchAll(/(?:from|import)\s*\(?\s*"(\.[^"]+)"/g)) {
      const target = path.resolve(path.dirname(file), specifier).replace(/\.js$/, ".ts");
      if (!target.startsWith(src + path.sep)) continue;
      const from = folderOf(file);
      const to = folderOf(target);
      if (from !== to) edges.add(`${from} -> ${to}`);
    }
  }
  return edges;
}

/** The `from -> to` lines of docs/layout.md's "imports" block. */
function documentedImports(): Set<string> {
  const layout = readFileSync(path.join(root, "docs", "layout.md"), "utf8");
  const block = /```text imports\n([\s\S]*?)```/.exec(layout)?.[1];
  if (block === undefined) throw new Error("docs/layout.md has no ```text imports block");
  return new Set(
    block
      .split("\n")
      .map((line) => line.replace(/#.*/, "").trim())
      .filter((line) => line !== ""),
  );
}

describe("the layout", () => {
  it("docs/layout.md lists exactly the imports between folders that the code has", () => {
    const actual = importsBetweenFolders();
    const documented = documentedImports();

    expect([...actual].filter((edge) => !documented.has(edge)).sort()).toEqual([]);
    expect([...documented].filter((edge) => !actual.has(edge)).sort()).toEqual([]);
  });

  it("keeps the domain free of transport, SQL, NATS and wiring", () => {
    const outer =
      /^(transport|db|events|ops|config|cli|bin|main\.ts|compose\.ts|\w+\/(rpc|sql|live))$/;
    const domains = ["profile", "graph"];
    const reaching = [...importsBetweenFolders()].filter((edge) => {
      const [from = "", to = ""] = edge.split(" -> ");
      return domains.includes(from) && outer.test(to);
    });

    expect(reaching).toEqual([]);
  });

  it("lets only main.ts compose the service, and only the entry points start main.ts", () => {
    const edges = [...importsBetweenFolders()];

    expect(edges.filter((edge) => edge.endsWith("-> compose.ts"))).toEqual([
      "main.ts -> compose.ts",
    ]);
    expect(edges.filter((edge) => edge.endsWith("-> main.ts"))).toEqual(["bin -> main.ts"]);
  });

  it.each([
    ["src", 300],
    ["bench", 400],
  ])("has no file in %s/ over %i lines", (folder, limit) => {
    const long = filesUnder(path.join(root, folder), ".ts")
      .map((file) => [path.relative(root, file), readFileSync(file, "utf8").split("\n").length - 1])
      .filter(([, lines]) => Number(lines) > limit);

    expect(long).toEqual([]);
  });
});
