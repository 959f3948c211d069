// Where the repository and the front-end fixtures are, for tests that read and write goldens.
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const FIXTURES = path.join(REPO_ROOT, "tests/fixtures");

/** A path relative to the repository root, with `/` separators (stable across machines). */
export function rel(file: string): string {
  return path.relative(REPO_ROOT, file).split(path.sep).join("/");
}


/** Every `.moe` file under a directory, recursively, sorted. */
export function moeFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...moeFilesUnder(p));
    else if (e.name.endsWith(".moe")) out.push(p);
  }
  return out.sort();
}
