// The browser module (dist/browser/moec.js) imported by URL into a page in chromium headless:
// the compiler's answers equal Node's for the same text — compile() (counts, IR), check() =
// `moec check --json` at a hand-located line and column, info() = `moec info --json` — and a layer
// run on the page's WebGPU adapter (SwiftShader here) equals the Node runtime's output (Dawn on
// lavapipe) within 1e-4 relative: seeded weights with randomInputs of the same seed, and weights
// from a safetensors file written in Node, handed over as an ArrayBuffer, a Blob and a URL.
// (tests/browser/*-node.test.ts hold the same bundle to Node without a browser.)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import type { Browser } from "puppeteer-core";
import { compile as nodeCompile } from "../../compiler/index.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { createExecutor } from "../../runtime/executor/executor.js";
import { randomWeights } from "../../runtime/weights/random-weights.js";
import { canonicalToFile } from "../../runtime/weights/canonical-to-file.js";
import { encodeSafetensors } from "../../runtime/safetensors/writer.js";
import { randomInputs } from "../../runtime/run-inputs.js";
import { chromiumNeed, describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { openModulePage, type ModulePage } from "../helpers/browser/module-page.js";
import { moec } from "../helpers/cli.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";
import { gpuNeed, releaseTestGpu, testGpu } from "../helpers/gpu-context.js";
import type { Need } from "../helpers/needs.js";

const read = (rel: string) => fs.readFileSync(path.join(REPO_ROOT, rel), "utf8");
const MIXTRAL = read("examples/mixtral.moe");
// Tiny: SwiftShader compiles each pipeline on the CPU.
const SET = { D: 16, I: 24 };
const SEED = 7, FILE_SEED = 11, T = 5;

/** max |a − b| over max |b|: the relative error of a whole output. */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return diff / scale;
}

let browser: Browser;
let mp: ModulePage;

beforeAll(async () => {
  if (!chromiumNeed.available) return;
  browser = await launchChromium();
  mp = await openModulePage(browser);
}, 120_000);
afterEach(() => {
  // Whatever a test made the page log as an error fails that test.
  if (mp) expect(mp.take()).toEqual([]);
});
afterAll(async () => {
  await mp?.server.close();
  await browser?.close();
  await releaseTestGpu();
});

describeBrowser("the compiler in the page equals Node's", () => {
  it("compile() of examples: counts, IR and diagnostics", async () => {
    for (const rel of ["examples/mixtral.moe", "examples/deepseek_v3.moe", "examples/models/olmoe_1b_7b.moe"]) {
      const source = read(rel);
      const inPage = await mp.page.evaluate((source: string, file: string) => {
        const c = (globalThis as any).moec.compile({ source, file });
        return { ok: c.ok, counts: c.info?.counts, program: JSON.stringify(c.program), codes: c.diagnostics.map((d: { code: string }) => d.code) };
      }, source, "/" + path.basename(rel));
      const inNode = nodeCompile({ file: path.join(REPO_ROOT, rel) });
      expect(inNode.ok, rel).toBe(true);
      expect(inPage.ok, rel).toBe(true);
      expect(inPage.counts, rel).toEqual(inNode.info!.counts);
      expect(inPage.program, rel).toBe(JSON.stringify(inNode.program));
      expect(inPage.codes, rel).toEqual(inNode.diagnostics.map((d) => d.code));
    }
  });

  it("check() of a broken program: `moec check --json`'s diagnostic, at the misspelt stage", async () => {
    const source = MIXTRAL.replace("router r = linear", "router r = lineer");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-btest-check-"));
    try {
      fs.writeFileSync(path.join(dir, "broken.moe"), source);
      const cli = await moec(["check", "broken.moe", "--json"], dir);
      expect(cli.code).toBe(1);
      const fromCli = JSON.parse(cli.out).diagnostics;
      const inPage = await mp.page.evaluate((source: string) => (globalThis as any).moec.check({ source, file: "/broken.moe" }), source);
      expect(inPage.ok).toBe(false);
      expect(inPage.diagnostics).toEqual(fromCli);
      // Line 7 of examples/mixtral.moe is `  router r = linear |> …`: `lineer` starts at column 14.
      const line = source.split("\n").findIndex((l) => l.includes("lineer")) + 1;
      expect(line).toBe(7);
      expect(inPage.diagnostics).toHaveLength(1);
      expect(inPage.diagnostics[0]).toMatchObject({ code: "E0242", line: 7, column: 14, endColumn: 14 + "lineer".length });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("info() is `moec info --json`, for the example as written and with --set", async () => {
    for (const set of [undefined, { D: 512, N: 16 }]) {
      const args = ["info", path.join(REPO_ROOT, "examples/mixtral.moe"), "--json", ...(set ? ["--set", ...Object.entries(set).map(([k, v]) => `${k}=${v}`)] : [])];
      const cli = await moec(args);
      expect(cli.code, cli.err).toBe(0);
      const inPage = await mp.page.evaluate((source: string, set) => (globalThis as any).moec.info({ source, file: "/mixtral.moe", set }), MIXTRAL, set);
      expect(inPage.ok).toBe(true);
      expect(inPage.json).toEqual(JSON.parse(cli.out));
      // By hand: N SwiGLU experts of three D×I matrices, top-2 active, and a D×N router.
      const { D, N, I } = { D: 4096, N: 8, I: 14336, ...set };
      expect(inPage.json.params).toEqual({ total: N * 3 * D * I + D * N, active: 2 * 3 * D * I + D * N });
    }
  });
});

// The Node runtime the page is compared with needs an adapter of its own (lavapipe).
const runNeed: Need = gpuNeed.available ? chromiumNeed : gpuNeed;

describeBrowser("a layer run in the page equals the Node runtime's", () => {
  let program: IrProgram;
  beforeAll(() => {
    program = nodeCompile({ source: MIXTRAL, set: SET }).program!;
  });

  /** The Node runtime's output (Dawn on lavapipe) for these weights and the seeded inputs. */
  async function nodeOutput(weights: Map<string, Float32Array>): Promise<{ y: Float32Array; load: number[] }> {
    const exec = await createExecutor(await testGpu(), program, weights, { stats: true });
    try {
      const y = (await exec.run(randomInputs(program, T, SEED).values, T)).get("y")!;
      return { y, load: exec.lastStats!.get([...exec.lastStats!.keys()][0]!)!.load };
    } finally {
      exec.dispose();
    }
  }

  it("with randomSeed S and randomInputs(program, T, S)", async () => {
    const expected = await nodeOutput(randomWeights(program, SEED));
    const inPage = await mp.page.evaluate(async (source: string, set, seed: number, T: number) => {
      const m = (globalThis as any).moec;
      const c = m.compile({ source, set });
      const rt = await m.createRuntime();
      try {
        const layer = await rt.load(c.program, { randomSeed: seed, stats: true });
        const inputs = m.randomInputs(c.program, T, seed);
        const out = await layer.run(inputs, T);
        const stats = [...layer.lastStats.values()][0];
        layer.dispose();
        return { x: [...inputs.get("x")], y: [...out.y], load: stats.load, adapter: rt.gpu.adapterInfo.architecture };
      } finally {
        rt.dispose();
      }
    }, MIXTRAL, SET, SEED, T);
    // The same inputs bit for bit (both are the seeded generator of runtime/run-inputs.ts)…
    expect(inPage.x).toEqual([...randomInputs(program, T, SEED).values.get("x")!]);
    // …and the same output within the two adapters' float differences.
    expect(inPage.y).toHaveLength(T * SET.D);
    expect(relativeError(inPage.y, expected.y)).toBeLessThanOrEqual(1e-4);
    expect(inPage.load).toEqual(expected.load);
    expect(inPage.load.reduce((a: number, b: number) => a + b, 0)).toBe(T * 2); // top-2 of every token
  }, 120_000);

  it("with weights from a safetensors file written in Node: as an ArrayBuffer, a Blob and a URL", async () => {
    const weights = randomWeights(program, FILE_SEED);
    const expected = await nodeOutput(weights);
    mp.server.put("/weights.safetensors", encodeSafetensors(canonicalToFile(program, weights, "stacked")));
    const inPage = await mp.page.evaluate(async (source: string, set, seed: number, T: number) => {
      const m = (globalThis as any).moec;
      const c = m.compile({ source, set });
      const bytes = await (await fetch("/weights.safetensors")).arrayBuffer();
      const rt = await m.createRuntime();
      const ys: Record<string, number[]> = {};
      try {
        const forms: [string, unknown][] = [["ArrayBuffer", bytes], ["Blob", new Blob([bytes])], ["URL", "/weights.safetensors"]];
        for (const [name, w] of forms) {
          const layer = await rt.load(c.program, { weights: w });
          ys[name] = [...(await layer.run(m.randomInputs(c.program, T, seed), T)).y];
          layer.dispose();
        }
      } finally {
        rt.dispose();
      }
      return ys;
    }, MIXTRAL, SET, SEED, T);
    expect(Object.keys(inPage)).toEqual(["ArrayBuffer", "Blob", "URL"]);
    for (const [form, y] of Object.entries(inPage)) expect(relativeError(y, expected.y), form).toBeLessThanOrEqual(1e-4);
    // The file's weights are not the seeded ones the first test used: this output is another.
    expect(relativeError(inPage.ArrayBuffer!, (await nodeOutput(randomWeights(program, SEED))).y)).toBeGreaterThan(1e-2);
  }, 120_000);
}, runNeed);
