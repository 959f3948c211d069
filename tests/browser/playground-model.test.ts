// The playground's Model panel in chromium headless: a tiny Mixtral checkpoint directory (Hugging
// Face layout, the hand-written tiny tokenizer) picked through the directory input is imported —
// its program, `moec import`'s, goes into the editor — loaded on SwiftShader, and a greedy
// continuation of a text prompt streams into #generated: the same ids and text as `moec generate
// DIR` on lavapipe. A screenshot of the panel is saved under tests/.output/browser/.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { Browser } from "puppeteer-core";
import { chromiumNeed, describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import type { WatchedPage } from "../helpers/browser/page-errors.js";
import { playgroundNeed, servePlayground, type ServedPlayground } from "../helpers/browser/playground.js";
import { openPlayground } from "../helpers/browser/playground-page.js";
import { moec } from "../helpers/cli.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";
import { gpuNeed } from "../helpers/gpu-context.js";
import { hfWeights, writeHfCheckpoint } from "../helpers/hf-layout.js";
import { FAMILIES } from "../helpers/tiny-families.js";
import { itNeeding, type Need } from "../helpers/needs.js";

const OUTPUT = path.join(REPO_ROOT, "tests/.output/browser");
const pageNeed: Need = playgroundNeed.available ? chromiumNeed : playgroundNeed;
// `moec generate` in Node is the answer, and it needs an adapter of its own (lavapipe).
const generateNeed: Need = pageNeed.available ? gpuNeed : pageNeed;

const root = mkdtempSync(path.join(os.tmpdir(), "moec-btest-model-"));
const dir = path.join(root, "tiny-mixtral");
let browser: Browser;
let served: ServedPlayground;
let w: WatchedPage;

beforeAll(async () => {
  const mixtral = FAMILIES.find((f) => f.hf.model_type === "mixtral")!;
  const hf = hfWeights(mixtral.hf, 21);
  for (const v of hf.get("lm_head.weight")!.data.keys()) hf.get("lm_head.weight")!.data[v]! *= 8; // greedy's argmax well apart
  mkdirSync(dir, { recursive: true });
  writeHfCheckpoint(dir, mixtral.hf, hf);
  const tiny = path.join(REPO_ROOT, "tests/fixtures/tokenizers/tiny");
  for (const f of ["tokenizer.json", "tokenizer_config.json", "generation_config.json"]) copyFileSync(path.join(tiny, f), path.join(dir, f));
  if (!generateNeed.available) return;
  mkdirSync(OUTPUT, { recursive: true });
  served = await servePlayground();
  browser = await launchChromium();
  w = await openPlayground(browser, `${served.origin}/`);
}, 120_000);
afterEach(() => {
  if (w) expect(w.take()).toEqual([]);
});
afterAll(async () => {
  await browser?.close();
  await served?.close();
  rmSync(root, { recursive: true, force: true });
});

describeBrowser("the playground's Model panel", () => {
  itNeeding(generateNeed, "loads a checkpoint directory and streams `moec generate DIR`'s greedy continuation", async () => {
    const cli = await moec(["generate", dir, "--prompt", "hello world", "--max-new-tokens", "6", "--json"]);
    expect(cli.code, cli.err).toBe(0);
    const want = JSON.parse(cli.out);
    const imported = await moec(["import", dir, "-o", "-"]);
    const { page } = w;
    await (await page.$("#model-dir"))!.uploadFile(dir);
    await page.click("#model-load");
    await page.waitForFunction(() => (globalThis as any).moecPlayground.lastCheckpoint || document.querySelector("#status.error")?.textContent, { timeout: 120_000 });
    expect(await page.$eval("#status", (e) => e.textContent)).toBe("");
    const loaded = await page.evaluate(() => (globalThis as any).moecPlayground.lastCheckpoint);
    expect(loaded).toMatchObject({ label: "tiny-mixtral", convention: "hf:mixtral", tokenizer: true, eos: [4, 2] });
    // The editor holds the imported program (the CLI's header names the config by its path).
    const body = (t: string) => t.split("\n").filter((l) => !l.startsWith("//")).join("\n").trim();
    expect(body(await page.evaluate(() => (globalThis as any).moecPlayground.getSource()))).toBe(body(imported.out));
    await page.type("#prompt", "hello world");
    await page.$eval("#max-new-tokens", (e) => ((e as HTMLInputElement).value = "6"));
    await page.click("#generate-button");
    await page.waitForFunction(() => (globalThis as any).moecPlayground.lastGeneration || document.querySelector("#status.error")?.textContent, { timeout: 120_000 });
    const got = await page.evaluate(() => (globalThis as any).moecPlayground.lastGeneration);
    expect(got.ids).toEqual(want.tokens);
    expect(got.text).toBe(want.text);
    expect(await page.$eval("#generated", (e) => e.textContent)).toBe(`hello world${want.text}`);
    await (await page.$("#model"))!.screenshot({ path: path.join(OUTPUT, "playground-model.png") });
  }, 240_000);
});
