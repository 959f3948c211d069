// Paths of `.moe` sources, POSIX-style and without the file system: the compiler core resolves
// imports and names files with these, so it runs the same in Node and in a browser (where sources
// live in memory or behind URLs, under `/`). Node's callers hand it absolute paths already.

/** The directory relative paths resolve against: the process's working directory, or `/`. */
export function workingDirectory(): string {
  const proc = (globalThis as { process?: { cwd?: () => string } }).process;
  return typeof proc?.cwd === "function" ? proc.cwd() : "/";
}

export function isAbsolutePath(p: string): boolean {
  return p.startsWith("/");
}

/** `/a/./b/../c` → `/a/c`: `.` and `..` segments and repeated slashes removed. */
function normalize(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return "/" + out.join("/");
}

/** Resolves segments right to left until one is absolute, as Node's `path.posix.resolve`. */
export function resolvePath(...parts: string[]): string {
  let joined = "";
  for (let i = parts.length - 1; i >= 0; i--) {
    const p = parts[i]!;
    if (p === "") continue;
    joined = joined ? `${p}/${joined}` : p;
    if (isAbsolutePath(p)) return normalize(joined);
  }
  return normalize(`${workingDirectory()}/${joined}`);
}

export function dirName(p: string): string {
  const n = p.replace(/\/+$/, "");
  const i = n.lastIndexOf("/");
  if (i < 0) return p.startsWith("/") ? "/" : ".";
  return i === 0 ? "/" : n.slice(0, i);
}

export function baseName(p: string): string {
  const n = p.replace(/\/+$/, "");
  return n.slice(n.lastIndexOf("/") + 1);
}

/** The path from directory `from` to `to` (both absolute), as Node's `path.posix.relative`. */
export function relativePath(from: string, to: string): string {
  const a = normalize(from).split("/").filter(Boolean);
  const b = normalize(to).split("/").filter(Boolean);
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => ".."), ...b.slice(common)].join("/");
}
