// The playground page (served by `moec playground`) in chromium headless, through its DOM
// contract: a misspelt router stage typed into the editor shows `moec check --json`'s diagnostic
// at its line and column, in the list and as a lint mark; the info panel holds `moec info
// --json`'s document for the example chosen from the menu; the diagram is `moec draw`'s; a run
// with random weights on the page's adapter equals the Node runtime on the same seed within 1e-4
// relative, with one heatmap per router; the program travels in the URL. Each panel's screenshot
// is saved under tests/.output/browser/ for a person to look at.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { Browser } from "puppeteer-core";
import { compile as nodeCompile } from "../../compiler/index.js";
import { createExecutor } from "../../runtime/executor/executor.js";
import { randomWeights } from "../../runtime/weights/random-weights.js";
import { randomInputs } from "../../runtime/run-inputs.js";
import { chromiumNeed, describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import type { WatchedPage } from "../helpers/browser/page-errors.js";
import { playgroundNeed, servePlayground, type ServedPlayground } from "../helpers/browser/playground.js";
import { openPlayground, setSourceAndSettle, type PageDiagnostic } from "../helpers/browser/playground-page.js";
import { moec } from "../helpers/cli.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";
import { gpuNeed, releaseTestGpu, testGpu } from "../helpers/gpu-context.js";
import { itNeeding, type Need } from "../helpers/needs.js";

const OUTPUT = path.join(REPO_ROOT, "tests/.output/browser");
const MIXTRAL = fs.readFileSync(path.join(REPO_ROOT, "examples/mixtral.moe"), "utf8");
// The same layer at a size SwiftShader runs in a second: its defaults changed in the source.
const TINY = MIXTRAL.replace("D = 4096, N = 8, I = 14336", "D = 16, N = 8, I = 24");
const pageNeed: Need = playgroundNeed.available ? chromiumNeed : playgroundNeed;
// The run is compared with the Node runtime, which needs an adapter of its own (lavapipe).
const runNeed: Need = pageNeed.available ? gpuNeed : pageNeed;

let browser: Browser;
let served: ServedPlayground;
let w: WatchedPage;

beforeAll(async () => {
  if (!pageNeed.available) return;
  fs.mkdirSync(OUTPUT, { recursive: true });
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
  await releaseTestGpu();
});

/** `moec check --json`'s diagnostics of `source` saved as a file. */
async function cliCheck(source: string): Promise<PageDiagnostic[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-btest-play-"));
  try {
    fs.writeFileSync(path.join(dir, "layer.moe"), source);
    return JSON.parse((await moec(["check", "layer.moe", "--json"], dir)).out).diagnostics;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describeBrowser("the playground", () => {
  it("shows the diagnostic of a misspelt stage typed in the editor at its line and column", async () => {
    const { page } = w;
    await setSourceAndSettle(w, MIXTRAL);
    expect(await page.evaluate(() => (globalThis as any).moecPlayground.lastDiagnostics)).toEqual([]);
    // Type at the end of line 7 (`  router r = linear |> softmax |> topk(2) |> renorm`, 51 characters).
    await page.click("#editor .cm-content");
    await page.keyboard.down("Control");
    await page.keyboard.press("Home");
    await page.keyboard.up("Control");
    for (let i = 0; i < 6; i++) await page.keyboard.press("ArrowDown");
    await page.keyboard.press("End");
    await page.keyboard.type(" |> lineer");
    const typed = MIXTRAL.replace("|> renorm\n", "|> renorm |> lineer\n");
    expect(await page.evaluate(() => (globalThis as any).moecPlayground.getSource())).toBe(typed);
    await page.waitForSelector('#diagnostics li[data-code="E0242"]', { timeout: 30_000 });
    // By hand: `lineer` starts at column 51 + 5 = 56 of line 7; and it is what the CLI says.
    const fromCli = await cliCheck(typed);
    expect(fromCli.map(({ line, column, code }) => ({ line, column, code }))).toEqual([{ line: 7, column: 56, code: "E0242" }]);
    const listed = await page.$$eval("#diagnostics li", (lis) => lis.map((li) => ({ line: Number(li.dataset.line), column: Number(li.dataset.column), code: li.dataset.code, text: li.textContent })));
    expect(listed.map(({ line, column, code }) => ({ line, column, code }))).toEqual([{ line: 7, column: 56, code: "E0242" }]);
    expect(listed[0]!.text).toContain("unknown router stage `lineer`");
    const lastDiagnostics = await page.evaluate(() => (globalThis as any).moecPlayground.lastDiagnostics);
    expect(lastDiagnostics.map((d: PageDiagnostic & { file?: string }) => ({ ...d, file: undefined }))).toEqual(fromCli.map((d) => ({ ...d, file: undefined })));
    // The lint mark underlines exactly the misspelt word.
    await page.waitForSelector("#editor .cm-lintRange-error", { timeout: 30_000 });
    expect(await page.$$eval("#editor .cm-lintRange-error", (els) => els.map((e) => e.textContent).join(""))).toBe("lineer");
    await (await page.$("#editor"))!.screenshot({ path: path.join(OUTPUT, "playground-editor.png") });
    await (await page.$("#diagnostics"))!.screenshot({ path: path.join(OUTPUT, "playground-diagnostics.png") });
  }, 60_000);

  it("shows `moec info --json` and `moec draw` of the example chosen from the menu", async () => {
    const { page } = w;
    const value = await page.$$eval("#examples option", (os) => (os as HTMLOptionElement[]).map((o) => o.value).find((v) => /(^|\/)mixtral\.moe$/.test(v)));
    expect(value, "examples/mixtral.moe in the #examples menu").toBeDefined();
    await page.select("#examples", value!);
    await page.waitForFunction(() => (globalThis as any).moecPlayground.lastInfo?.entry === "mixtral_moe", { timeout: 30_000 });
    expect(await page.evaluate(() => (globalThis as any).moecPlayground.getSource())).toBe(MIXTRAL);
    const cli = await moec(["info", path.join(REPO_ROOT, "examples/mixtral.moe"), "--json"]);
    expect(cli.code, cli.err).toBe(0);
    const fromCli = JSON.parse(cli.out);
    expect(await page.evaluate(() => (globalThis as any).moecPlayground.lastInfo)).toEqual(fromCli);
    // The table shows them: every hyper-parameter, and the parameter total counted by hand
    // (8 SwiGLU experts of three 4096×14336 matrices and a 4096×8 router), in some grouping.
    const table = await page.$eval("#info-table", (t) => t.textContent ?? "");
    const digits = table.replace(/[\s,_'\u00a0\u202f]/g, "");
    for (const [k, v] of Object.entries(fromCli.hyper_parameters as Record<string, number>)) {
      expect(table, `hyper-parameter ${k}`).toContain(k);
      expect(digits, `hyper-parameter ${k} = ${v}`).toContain(String(v));
    }
    expect(fromCli.params.total).toBe(8 * 3 * 4096 * 14336 + 4096 * 8);
    expect(digits).toContain(String(fromCli.params.total));
    await (await page.$("#info"))!.screenshot({ path: path.join(OUTPUT, "playground-info.png") });

    // The diagram: an <svg> with as many labels as `moec draw` writes for the file.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-btest-draw-"));
    try {
      const drawn = await moec(["draw", path.join(REPO_ROOT, "examples/mixtral.moe"), "-o", path.join(dir, "m.svg")]);
      expect(drawn.code, drawn.err).toBe(0);
      const cliSvg = fs.readFileSync(path.join(dir, "m.svg"), "utf8");
      const labels = [...cliSvg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#39;/g, "'"));
      await page.waitForSelector("#diagram svg text", { timeout: 30_000 });
      const inPage = await page.$$eval("#diagram svg text", (ts) => ts.map((t) => t.textContent ?? ""));
      expect(inPage.length).toBe(labels.length);
      // The caption names the file (on disk for the CLI); every other label is the same.
      expect(inPage.filter((t) => !t.includes("mixtral.moe"))).toEqual(labels.filter((t) => !t.includes("mixtral.moe")));
      expect(await page.$$eval("#diagram svg rect", (rs) => rs.length)).toBeGreaterThan(3);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await (await page.$("#diagram"))!.screenshot({ path: path.join(OUTPUT, "playground-diagram.png") });
  }, 60_000);

  itNeeding(runNeed, "runs the layer on the page's adapter as the Node runtime does for the same seed", async () => {
    const { page } = w;
    const T = 6, SEED = 3;
    await setSourceAndSettle(w, TINY);
    await page.evaluate((T: number, seed: number) => {
      // A page may offer more run fields than the contract's (a --set filled from an example's
      // `Runs small:` line): left empty, the source's own defaults apply, as in the Node run below.
      const fields: [string, number | string][] = [["#run-tokens", T], ["#run-seed", seed]];
      if (document.querySelector("#run-set")) fields.push(["#run-set", ""]);
      for (const [id, v] of fields) {
        const el = document.querySelector(id) as HTMLInputElement;
        el.value = String(v);
        el.dispatchEvent(new Event("input", { bubbles: true }));
        el.dispatchEvent(new Event("change", { bubbles: true }));
      }
    }, T, SEED);
    await page.click("#run-button");
    await page.waitForFunction((T: number, seed: number) => {
      const r = (globalThis as any).moecPlayground.lastRun;
      return r && r.tokens === T && r.seed === seed;
    }, { timeout: 120_000 }, T, SEED);
    const lastRun = await page.evaluate(() => (globalThis as any).moecPlayground.lastRun);

    const program = nodeCompile({ source: TINY }).program!;
    const exec = await createExecutor(await testGpu(), program, randomWeights(program, SEED), { stats: true });
    let expected: Float32Array, routers: string[], loads: number[][];
    try {
      expected = (await exec.run(randomInputs(program, T, SEED).values, T)).get("y")!;
      routers = [...exec.lastStats!.keys()];
      loads = [...exec.lastStats!.values()].map((st) => st.load);
    } finally {
      exec.dispose();
    }
    const y = lastRun.outputs.y as number[];
    expect(y).toHaveLength(T * 16);
    let diff = 0, scale = 0;
    y.forEach((v, i) => ((diff = Math.max(diff, Math.abs(v - expected[i]!))), (scale = Math.max(scale, Math.abs(expected[i]!)))));
    expect(diff / scale).toBeLessThanOrEqual(1e-4);
    // The run's statistics are the Node run's: tokens per expert, top-2 of every token…
    expect(Object.keys(lastRun.stats ?? {})).toEqual(routers);
    expect(routers.map((k) => lastRun.stats[k].load)).toEqual(loads);
    expect(loads[0]!.reduce((a, b) => a + b, 0)).toBe(2 * T);
    // …and there is one heatmap per router, named by its key.
    await page.waitForSelector("#heatmap [data-router]", { timeout: 30_000 });
    expect(await page.$$eval("#heatmap [data-router]", (es) => es.map((e) => (e as HTMLElement).dataset.router))).toEqual(routers);
    expect(await page.$eval("#run-output", (e) => e.textContent?.trim().length ?? 0)).toBeGreaterThan(0);
    await (await page.$("#run"))!.screenshot({ path: path.join(OUTPUT, "playground-run.png") });
    await page.screenshot({ path: path.join(OUTPUT, "playground.png"), fullPage: true });
  }, 180_000);

  it("keeps the program in the URL: the link opens the same source", async () => {
    const { page } = w;
    const source = TINY.replace("report load, entropy", "report load");
    const before = await page.evaluate(() => location.hash);
    await setSourceAndSettle(w, source);
    await page.waitForFunction((before: string) => location.hash.startsWith("#src=") && location.hash !== before, { timeout: 30_000 }, before);
    const url = await page.evaluate(() => location.href);
    const other = await openPlayground(browser, url);
    try {
      expect(await other.page.evaluate(() => (globalThis as any).moecPlayground.getSource())).toBe(source);
      expect(other.take()).toEqual([]);
    } finally {
      await other.page.close();
    }
  }, 60_000);
}, pageNeed);
