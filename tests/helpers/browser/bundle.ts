// The built browser module, dist/browser/moec.js: built first when a run starts from a bare
// `tsc -b` (npm test builds it), and imported as a page would import it — for tests that hold the
// bundle itself (not the sources) to Node's compiler and runtime.
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { REPO_ROOT } from "../frontend/paths.js";

export const BUNDLE = path.join(REPO_ROOT, "dist/browser/moec.js");

export type BrowserModule = typeof import("../../../browser/index.js");

export function ensureBundle(): void {
  if (fs.existsSync(BUNDLE)) return;
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, "scripts/build-browser.mjs"), "--quiet"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`scripts/build-browser.mjs failed:\n${r.stderr}`);
}

/** The bundle's exports, built if needed. */
export async function importBundle(): Promise<BrowserModule> {
  ensureBundle();
  return (await import(BUNDLE)) as BrowserModule;
}
