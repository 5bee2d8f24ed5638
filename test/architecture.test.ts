import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

/**
 * The folder map of ARCHITECTURE.md and docs/design.md, checked on the code: which folder may
 * import which, every server folder used through its one public entry file (index.ts), and no
 * circle anywhere in the import graph (type-only imports included: a circle of types is still a
 * circle for a reader).
 */

const ROOT = path.resolve(import.meta.dir, "..");

interface Edge {
  from: string;
  to: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) sourceFiles(full, out);
    else if (/\.tsx?$/.test(name)) out.push(full);
  }
  return out;
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, `${base}.tsx`, path.join(base, "index.ts"), base].find((c) => existsSync(c) && statSync(c).isFile());
}

/** Every relative import of every file under the given top-level folders. */
function importEdges(folders: string[]): Edge[] {
  const edges: Edge[] = [];
  for (const folder of folders) {
    for (const file of sourceFiles(path.join(ROOT, folder))) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^"';]*?\s+from\s+)?["'](\.{1,2}\/[^"']+)["']/gm)) {
        const target = resolveImport(file, m[3]!);
        if (target) edges.push({ from: path.relative(ROOT, file), to: path.relative(ROOT, target), typeOnly: Boolean(m[2]) });
      }
      for (const m of text.matchAll(/import\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g)) {
        const target = resolveImport(file, m[1]!);
        if (target) edges.push({ from: path.relative(ROOT, file), to: path.relative(ROOT, target), typeOnly: false });
      }
    }
  }
  return edges;
}

const top = (file: string) => file.split("/")[0]!;
/** server/<folder> (or server/pipelines/<folder>, server/http); loose files are the entry points. */
function serverFolder(file: string): string {
  const parts = file.split("/");
  if (parts[0] !== "server" || parts.length === 2) return file;
  return parts[1] === "pipelines" ? parts.slice(0, 3).join("/") : parts.slice(0, 2).join("/");
}

function findCycle(edges: Edge[]): string[] | undefined {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "open");
    stack.push(node);
    for (const to of next.get(node) ?? []) {
      const cycle = visit(to);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of next.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

const edges = importEdges(["server", "shared", "db", "clickhouse", "client"]);
const webEdges = importEdges(["web"]);

describe("the folder map holds in the code", () => {
  test("the import graph has no circle, file by file", () => {
    expect(findCycle(edges)).toBeUndefined();
  });

  test("nor folder by folder inside server/", () => {
    const folderEdges = edges
      .filter((e) => top(e.from) === "server" && top(e.to) === "server" && serverFolder(e.from) !== serverFolder(e.to))
      .map((e) => ({ ...e, from: serverFolder(e.from), to: serverFolder(e.to) }));
    expect(findCycle(folderEdges)).toBeUndefined();
  });

  test("shared/ imports nothing else; db/ and clickhouse/ only shared/; client/ server code only as types", () => {
    const bad = edges.filter((e) => {
      const [from, to] = [top(e.from), top(e.to)];
      if (from === to) return false;
      if (from === "shared") return true;
      if (from === "db" || from === "clickhouse") return to !== "shared";
      if (from === "client") return to !== "shared" && !(to === "server" && e.typeOnly);
      return false;
    });
    expect(bad.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  test("web/ (the dashboard) imports only client/ and shared/, and nothing there that brings zod into the browser", () => {
    const outside = webEdges.filter((e) => !["web", "client", "shared"].includes(top(e.to)));
    expect(outside.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
    // What the bundle runs: web's runtime imports and theirs, transitively (type-only imports are erased).
    const runtime = [...webEdges, ...edges].filter((e) => !e.typeOnly);
    const bundled = new Set(webEdges.filter((e) => !e.typeOnly).map((e) => e.to));
    for (const file of bundled) for (const e of runtime) if (e.from === file) bundled.add(e.to);
    const withZod = [...bundled].filter((file) => top(file) !== "web" && /from\s+["']zod["']/.test(readFileSync(path.join(ROOT, file), "utf8")));
    expect(withZod).toEqual([]);
  });

  test("inside server/, the platform knows no domain, domains know no pipeline or transport, pipelines no transport", () => {
    // Entry points (main, cli, start) may import anything; each layer only what is below or beside it.
    const layer = (folder: string) =>
      folder === "server/platform" ? 0 : folder.startsWith("server/pipelines/") ? 2 : folder === "server/http" ? 3 : folder.endsWith(".ts") ? 4 : 1;
    const bad = edges.filter((e) => {
      if (top(e.from) !== "server" || top(e.to) !== "server") return false;
      const [from, to] = [serverFolder(e.from), serverFolder(e.to)];
      return from !== to && layer(to) > layer(from);
    });
    expect(bad.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });

  test("a server folder is used by the others through its one public entry file", () => {
    const bad = edges.filter((e) => {
      if (top(e.from) !== "server" || top(e.to) !== "server") return false;
      const [from, to] = [serverFolder(e.from), serverFolder(e.to)];
      return from !== to && !to.endsWith(".ts") && e.to !== `${to}/index.ts`;
    });
    expect(bad.map((e) => `${e.from} → ${e.to}`)).toEqual([]);
  });
});
