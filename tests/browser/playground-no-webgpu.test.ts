// The playground in a chromium without WebGPU (launched without --enable-unsafe-webgpu: there
// navigator.gpu exists but offers no adapter) still checks programs, and #status says why the
// page cannot run them.
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Browser } from "puppeteer-core";
import { chromiumNeed, describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import type { WatchedPage } from "../helpers/browser/page-errors.js";
import { playgroundNeed, servePlayground, type ServedPlayground } from "../helpers/browser/playground.js";
import { openPlayground, setSourceAndSettle } from "../helpers/browser/playground-page.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";
import type { Need } from "../helpers/needs.js";

const OUTPUT = path.join(REPO_ROOT, "tests/.output/browser");
const pageNeed: Need = playgroundNeed.available ? chromiumNeed : playgroundNeed;

let browser: Browser;
let served: ServedPlayground;
let w: WatchedPage;

beforeAll(async () => {
  if (!pageNeed.available) return;
  served = await servePlayground();
  browser = await launchChromium({ webgpu: false });
  w = await openPlayground(browser, `${served.origin}/`);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await served?.close();
});

describeBrowser("the playground without WebGPU", () => {
  it("says so in #status, and still shows diagnostics", async () => {
    const { page } = w;
    expect(await page.evaluate(async () => (navigator.gpu ? await navigator.gpu.requestAdapter() : null) === null)).toBe(true);
    await page.waitForFunction(() => /WebGPU/i.test(document.querySelector("#status")?.textContent ?? ""), { timeout: 30_000 });
    const status = await page.$eval("#status", (e) => e.textContent ?? "");
    expect(status).toMatch(/no WebGPU|WebGPU.*(unavailable|not available|no adapter)|no (WebGPU )?adapter/i);
    // The compiler needs no GPU: a broken program's diagnostic still appears.
    await setSourceAndSettle(w, "layer broken(x: [T, D], D = 8) {\n  return y\n}\n");
    const diags = await page.evaluate(() => (globalThis as any).moecPlayground.lastDiagnostics);
    expect(diags.length).toBeGreaterThan(0);
    expect(diags[0]).toMatchObject({ line: 2, column: 10 });
    fs.mkdirSync(OUTPUT, { recursive: true });
    await (await page.$("#status"))!.screenshot({ path: path.join(OUTPUT, "playground-no-webgpu-status.png") });
    expect(w.take()).toEqual([]);
  }, 60_000);
}, pageNeed);
