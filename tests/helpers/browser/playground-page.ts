// Driving the playground page through its DOM contract (issue 14): window.moecPlayground, the
// CodeMirror editor in #editor, #diagnostics, #info, #diagram, #run, #examples, #status.
import type { Browser } from "puppeteer-core";
import { watchedPage, type WatchedPage } from "./page-errors.js";

/** The page's diagnostics as `moec check --json` gives them (only the fields the tests read). */
export interface PageDiagnostic { line: number; column: number; code: string; message: string }

/** Opens `url` (the playground, maybe with a #src= hash) and waits for moecPlayground.ready. */
export async function openPlayground(browser: Browser, url: string): Promise<WatchedPage> {
  const w = await watchedPage(browser);
  await w.page.setViewport({ width: 1400, height: 1000 });
  await w.page.goto(url);
  await w.page.waitForFunction(() => (globalThis as any).moecPlayground !== undefined, { timeout: 60_000 });
  await w.page.evaluate(() => (globalThis as any).moecPlayground.ready);
  return w;
}

/** Replaces the program and waits until its diagnostics have been applied. */
export async function setSourceAndSettle(w: WatchedPage, source: string): Promise<void> {
  const before = await w.page.evaluate(() => (globalThis as any).moecPlayground.diagnosticsAt as number);
  await w.page.evaluate((s: string) => (globalThis as any).moecPlayground.setSource(s), source);
  await w.page.waitForFunction((t: number) => (globalThis as any).moecPlayground.diagnosticsAt > t, { timeout: 30_000 }, before);
}
