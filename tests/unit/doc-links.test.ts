// Every relative link in the repository's Markdown resolves: the file (or folder) it names exists
// inside the repository, and a `#anchor` names a heading of the target, slugged as GitHub does.
// External links (http:, https:, mailto:, any other scheme) are not followed. No server needed.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The Markdown files git knows of, committed or not yet (ignored ones left out), from the root. */
function markdownFiles(): string[] {
  const out = execFileSync(
    "git",
    ["ls-files", "--cached", "--others", "--exclude-standard", "-z", "--", "*.md"],
    { cwd: root, encoding: "utf8" },
  );
  // A file deleted in the work tree but still in the index is not there to be read.
  return out
    .split("\0")
    .filter((file) => file !== "" && existsSync(join(root, file)))
    .sort();
}

/** GitHub's anchor for a heading's text (github-slugger): lowercase, punctuation dropped. */
function slug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // links and images: their text
    .replace(/<[^>]+>/g, "") // inline HTML tags
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "").replace(/ /g, "-");
}

/** Lines outside fenced code blocks, with their 1-based numbers. */
function proseLines(markdown: string): { line: string; number: number }[] {
  const lines: { line: string; number: number }[] = [];
  let fence: string | undefined;
  markdown.split("\n").forEach((line, i) => {
    const marker = /^ {0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker !== undefined) fence = marker;
    else if (fence !== undefined && marker?.startsWith(fence)) fence = undefined;
    else if (fence === undefined) lines.push({ line, number: i + 1 });
  });
  return lines;
}

/** Every anchor a Markdown file offers: its headings' slugs (duplicates get -1, -2, …), ids. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const counts = new Map<string, number>();
  for (const { line } of proseLines(markdown)) {
    const heading = /^ {0,3}#{1,6}[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      let name = base;
      let n = counts.get(base) ?? 0;
      while (found.has(name)) name = `${base}-${++n}`;
      counts.set(base, n);
      found.add(name);
    }
    for (const m of line.matchAll(/<a\s[^>]*(?:id|name)="([^"]+)"/g)) if (m[1]) found.add(m[1]);
  }
  return found;
}

/** The link targets of a Markdown file, with their line numbers; code spans are not links. */
function links(markdown: string): { target: string; line: number }[] {
  const found: { target: string; line: number }[] = [];
  for (const { line, number } of proseLines(markdown)) {
    const prose = line.replace(/(`+)[^`]*?\1/g, "");
    for (const m of prose.matchAll(/\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+"[^"]*")?\s*\)/g)) {
      if (m[1]) found.push({ target: m[1].replace(/^<|>$/g, ""), line: number });
    }
    const definition = /^ {0,3}\[[^\]]+\]:\s+(<[^>]*>|\S+)/.exec(prose)?.[1];
    if (definition) found.push({ target: definition.replace(/^<|>$/g, ""), line: number });
  }
  return found;
}

/** What is wrong with one link of `file` (a path from the root), or undefined when it resolves. */
function problem(
  file: string,
  target: string,
  read: (path: string) => string | undefined,
  isDirectory: (path: string) => boolean,
): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return undefined; // http:, https:, mailto:, …
  const hash = target.indexOf("#");
  const pathPart = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const path = pathPart === "" ? file : join(dirname(file), pathPart);
  if (relative(root, resolve(root, path)).startsWith("..")) return "points outside the repository";
  const page = isDirectory(path) ? join(path, "README.md") : path;
  const text = read(page);
  if (text === undefined && !isDirectory(path)) return `${path} does not exist`;
  if (anchor === undefined || anchor === "") return undefined;
  if (text === undefined) return `${path} has no README.md for #${anchor}`;
  if (!page.endsWith(".md")) return undefined; // an anchor into a source file: a line, not checked
  return anchors(text).has(anchor) ? undefined : `${page} has no heading #${anchor}`;
}

/** Every broken link among `files`, as "file:line: target: what is wrong". */
function brokenLinks(files: string[]): string[] {
  const cache = new Map<string, string | undefined>();
  const read = (path: string) => {
    if (!cache.has(path)) {
      const full = join(root, path);
      cache.set(
        path,
        existsSync(full) && statSync(full).isFile() ? readFileSync(full, "utf8") : undefined,
      );
    }
    return cache.get(path);
  };
  const isDirectory = (path: string) => {
    const full = join(root, path);
    return existsSync(full) && statSync(full).isDirectory();
  };
  const broken: string[] = [];
  for (const file of files) {
    for (const { target, line } of links(read(file) ?? "")) {
      const why = problem(file, target, read, isDirectory);
      if (why !== undefined) broken.push(`${file}:${line}: ${target}: ${why}`);
    }
  }
  return broken;
}

describe("links between the repository's Markdown files", () => {
  it("all resolve, anchors included", () => {
    const files = markdownFiles();
    expect(files).toContain("README.md");
    expect(files).toContain("docs/README.md");
    expect(files.filter((file) => file.startsWith("node_modules/"))).toEqual([]);
    expect(brokenLinks(files)).toEqual([]);
  });

  it("list every page of docs/ in the README and in docs/README.md", () => {
    const pages = markdownFiles().filter(
      (f) => /^docs\/[^/]+\.md$/.test(f) && f !== "docs/README.md",
    );
    const linked = (file: string, prefix: string) =>
      new Set(links(readFileSync(join(root, file), "utf8")).map((l) => prefix + l.target));
    const fromReadme = linked("README.md", "");
    const fromIndex = linked("docs/README.md", "docs/");
    expect(pages.filter((page) => !fromReadme.has(page))).toEqual([]);
    expect(pages.filter((page) => !fromIndex.has(page))).toEqual([]);
  });

  it("slugs headings as GitHub does", () => {
    expect(slug("Live profiles (WatchProfiles)")).toBe("live-profiles-watchprofiles");
    expect(slug("WatchProfiles fan-out (`npm run bench:watch`)")).toBe(
      "watchprofiles-fan-out-npm-run-benchwatch",
    );
    expect(slug("`bench/ab.ts`: alternated A/B of two builds")).toBe(
      "benchabts-alternated-ab-of-two-builds",
    );
    expect(slug("The cache rows: warm, off, hit ratio")).toBe("the-cache-rows-warm-off-hit-ratio");
    expect(slug("Über [den](x.md) Cache_1")).toBe("über-den-cache_1");
    expect([...anchors("# Kept\n## Kept\n```\n# Kept\n```\n### Kept ##\n")]).toEqual([
      "kept",
      "kept-1",
      "kept-2",
    ]);
  });

  it("reports a missing file, a missing heading and a way out of the repository", () => {
    const pages: Record<string, string> = {
      "docs/a.md": "# A page\n\n## Its part\n",
      "docs/b.md": [
        "[ok](a.md) [ok](a.md#its-part) [ok](#b) [web](https://x.test/y#z) `[code](nope.md)`",
        "[gone](c.md) [bad anchor](a.md#no-such-part) [out](../../shared/SPEC.md)",
        "```",
        "[in a code block](nope.md)",
        "```",
        "# B",
      ].join("\n"),
    };
    const read = (path: string) => pages[path];
    const found = links(pages["docs/b.md"] ?? "").map(({ target, line }) => ({
      target,
      line,
      why: problem("docs/b.md", target, read, () => false),
    }));
    expect(found).toEqual([
      { target: "a.md", line: 1, why: undefined },
      { target: "a.md#its-part", line: 1, why: undefined },
      { target: "#b", line: 1, why: undefined },
      { target: "https://x.test/y#z", line: 1, why: undefined },
      { target: "c.md", line: 2, why: "docs/c.md does not exist" },
      { target: "a.md#no-such-part", line: 2, why: "docs/a.md has no heading #no-such-part" },
      { target: "../../shared/SPEC.md", line: 2, why: "points outside the repository" },
    ]);
  });
});
