// A page at http://127.0.0.1 that imports the browser module (dist/browser/moec.js) by URL, as a
// user's page would, and leaves it on `window.moec` for page.evaluate. Builds the bundle first
// when a run starts from a bare `tsc -b` (npm test builds it).
import type { Browser } from "puppeteer-core";
import { serveStatic, type StaticServer } from "./static-server.js";
import { BUNDLE, ensureBundle } from "./bundle.js";
import { watchedPage, type WatchedPage } from "./page-errors.js";

export { BUNDLE, ensureBundle } from "./bundle.js";

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
