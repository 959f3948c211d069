// The plugin examples (examples/plugins/, with the moec.config.json there naming their plugins):
// each checks, runs on the GPU at small sizes and reports statistics; the CLI writes and plots them.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, expect, it } from "vitest";
import { compile } from "../../compiler/index.js";
import { cliPlugins } from "../../compiler/plugins/cli-plugins.js";
import type { Plugin } from "@moec/plugin-api";
import { createExecutor } from "../../runtime/executor/executor.js";
import type { GpuContext } from "../../runtime/gpu/device.js";
import { randomWeights } from "../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../helpers/gpu-context.js";
import { REPO_ROOT } from "../helpers/frontend/paths.js";

const DIR = path.join(REPO_ROOT, "examples/plugins");
let plugins: Plugin[];
let gpu: GpuContext;
beforeAllGpu(async () => {
  const pl = await cliPlugins(DIR, undefined);
  expect(pl.diagnostics).toEqual([]);
  plugins = pl.plugins.map((p) => p.plugin);
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

const examples: [string, Record<string, number>, (s: { active_k: { mean: number }; drop_rate: number }) => void][] = [
  ["hash_layer.moe", { D: 32, I: 48 }, (s) => expect(s.active_k.mean).toBe(1)],
  ["elastic_k.moe", { D: 32, I: 48 }, (s) => expect(s.active_k.mean).toBe(2)],
  ["mora.moe", { D: 32 }, (s) => expect(s.active_k.mean).toBeGreaterThan(0)],
  ["dume.moe", { D: 32, I: 48 }, (s) => expect(s.active_k.mean).toBe(1)],
];

describeGpu("examples/plugins", () => {
  for (const [file, set, expectStats] of examples) {
    it(`${file}: checks at its full size, runs small with statistics`, async () => {
      const full = compile({ file: path.join(DIR, file), plugins });
      expect(full.diagnostics, full.formatDiagnostics()).toEqual([]);
      const c = compile({ file: path.join(DIR, file), plugins, set });
      expect(c.ok, c.formatDiagnostics()).toBe(true);
      const exec = await createExecutor(gpu, c.program!, randomWeights(c.program!, 1), { stats: true });
      const D = set.D!;
      await exec.run(new Map([["x", Float32Array.from({ length: 16 * D }, (_, i) => Math.sin(0.37 * i))]]), 16);
      const s = exec.lastStats!.get("r")!;
      expect(s.load.reduce((a, b) => a + b, 0)).toBe(Math.round(s.active_k.mean * 16));
      expectStats(s);
      exec.dispose();
    });
  }

  it("the CLI (configuration from the directory): run --stats, then stats --plot", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "moec-ex-"));
    const cli = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
        const child = spawn(process.execPath, [path.join(REPO_ROOT, "bin/moec.js"), ...args], { cwd: DIR, env: { ...process.env, NO_COLOR: "1" } });
        let stderr = "", stdout = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.on("close", (code) => resolve({ code, stderr, stdout }));
      });
    const stats = path.join(out, "hash.json");
    const r = await cli(["run", "hash_layer.moe", "--random-weights", "--tokens", "64", "--set", "D=32", "I=48", "--stats", stats]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(fs.readFileSync(stats, "utf8"));
    expect(j.routers.r.load.reduce((a: number, b: number) => a + b, 0)).toBe(64);
    const svg = path.join(out, "hash.svg");
    const p = await cli(["stats", stats, "--plot", "-o", svg]);
    expect(p.code, p.stderr).toBe(0);
    const text = fs.readFileSync(svg, "utf8");
    expect(text).toMatch(/^<svg /);
    expect((text.match(/<rect x=/g) ?? []).length).toBe(16);
    const list = await cli(["plugins"]);
    expect(list.stdout).toContain("hash-routing 1.0.0");
    expect(list.stdout).toContain("elastic_topk(k: int, max: int)  select, state: elastic_k");
    fs.rmSync(out, { recursive: true, force: true });
  });
});
