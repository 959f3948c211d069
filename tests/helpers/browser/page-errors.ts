// A page whose console errors, uncaught exceptions and failed requests are collected, so a test
// can fail on them (a page that logs an error has a bug even if the asserted values are right).
import type { Browser, Page } from "puppeteer-core";

export interface WatchedPage {
  page: Page;
  /** What went wrong in the page since the last take(), one line each. */
  errors: string[];
  /** Returns and clears the collected errors. */
  take(): string[];
}

export async function watchedPage(browser: Browser): Promise<WatchedPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const at = msg.location();
    errors.push(`console.error: ${msg.text()}${at.url ? ` (${at.url}:${(at.lineNumber ?? 0) + 1})` : ""}`);
  });
  page.on("pageerror", (e) => errors.push(`uncaught: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`));
  page.on("requestfailed", (req) => errors.push(`request failed: ${req.url()} (${req.failure()?.errorText ?? "?"})`));
  page.on("response", (res) => {
    if (res.status() >= 400) errors.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  return { page, errors, take: () => errors.splice(0) };
}
