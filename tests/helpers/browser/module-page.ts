// A page at http://127.0.0.1 that imports the browser module (dist/browser/moec.js) by URL, as a
// user's page would, and leaves it on `window.moec` for page.evaluate. Builds the bundle first
// when a run starts from a bare `tsc -b` (npm test builds it).
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import type { Browser } from "puppeteer-core";
import { REPO_ROOT } from "../frontend/paths.js";
import { serveStatic, type StaticServer } from "./static-server.js";
import { watchedPage, type WatchedPage } from "./page-errors.js";

export const BUNDLE = path.join(REPO_ROOT, "dist/browser/moec.js");

export function ensureBundle(): void {
  if (fs.existsSync(BUNDLE)) return;
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, "scripts/build-browser.mjs"), "--quiet"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`scripts/build-browser.mjs failed:\n${r.stderr}`);
}

const INDEX = `<!doctype html><meta charset="utf-8"><title>moec module test</title>
<script type="module">window.moec = await import("/moec.js"); document.title = "ready";</script>`;

export interface ModulePage extends WatchedPage {
  server: StaticServer;
}

/** Serves the bundle (and whatever else the test put()s) and opens a page that imported it. */
export async function openModulePage(browser: Browser): Promise<ModulePage> {
  ensureBundle();
  const server = await serveStatic({ "/": INDEX, "/moec.js": { file: BUNDLE }, "/moec.js.map": { file: `${BUNDLE}.map` } });
  const watched = await watchedPage(browser);
  await watched.page.goto(`${server.origin}/`);
  await watched.page.waitForFunction(() => document.title === "ready" || (globalThis as { moec?: unknown }).moec !== undefined, { timeout: 60_000 });
  return { ...watched, server };
}
