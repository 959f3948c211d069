// WGSL from a plugin that does not compile is reported against the plugin and the stage that
// wrote it (E0904) — by `moec run` and by the library — never as a crash or as a failure of a
// generated kernel.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Plugin } from "@moec/plugin-api";
import { compile } from "../../../compiler/index.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { REPO_ROOT } from "../../helpers/frontend/paths.js";

const BIN = path.join(REPO_ROOT, "bin/moec.js");
let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-plugin-wgsl-"));
});
afterAll(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await releaseTestGpu();
});

const badTransform = (expr: string, state = ""): Plugin =>
  ({
    apiVersion: 1, name: "broken", version: "0.2.0",
    stages: [
      { name: "fine", kind: "transform", doc: "", reference: { transform: (z: Float64Array) => z }, wgsl: { transform: { expr: "z" } } },
      { name: "oops", kind: "transform", doc: "", reference: { transform: (z: Float64Array) => z }, wgsl: { transform: { expr } }, ...(state ? { state: [{ name: "s", init: 0, update: { wgsl: state, reference: (c: { old: Float64Array }) => c.old } }] } : {}) },
    ],
  }) as unknown as Plugin;

const SOURCE = "layer l(x: [T, D], D = 8) {\n  experts E[4] = ffn(hidden = 4)\n  router r = linear |> fine |> oops |> topk(2)\n  return moe(x, r, E)\n}";

describeGpu("plugin WGSL that does not compile", () => {
  it("library: PluginWgslError naming plugin and stage", async () => {
    const c = compile({ source: SOURCE, plugins: [badTransform("z * not_a_function(2.0)")] });
    expect(c.ok, c.formatDiagnostics()).toBe(true);
    const gpu = await testGpu();
    await expect(createExecutor(gpu, c.program!, randomWeights(c.program!, 1))).rejects.toThrow(
      /^plugin broken@0\.2\.0, stage 'oops': its WGSL does not compile \(E0904\): .*not_a_function/,
    );
    const s = compile({ source: SOURCE, plugins: [badTransform("z", "old + bogus")] });
    await expect(createExecutor(gpu, s.program!, randomWeights(s.program!, 1))).rejects.toThrow(
      /^plugin broken@0\.2\.0, stage 'oops': the WGSL update rule of its state 's' does not compile \(E0904\): .*bogus/,
    );
  });

  it("moec run: exit 1 with that message, no stack trace", async () => {
    const p = path.join(dir, "broken.mjs");
    fs.writeFileSync(p, `export default ${JSON.stringify({ apiVersion: 1, name: "broken", version: "0.2.0" }).slice(0, -1)}, stages: [
      { name: "fine", kind: "transform", doc: "", reference: { transform: (z) => z }, wgsl: { transform: { expr: "z" } } },
      { name: "oops", kind: "transform", doc: "", reference: { transform: (z) => z }, wgsl: { transform: { expr: "z * vec2<f32>(1.0)" } } },
    ] };`);
    fs.writeFileSync(path.join(dir, "l.moe"), SOURCE);
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, "run", "l.moe", "--plugin", "./broken.mjs", "--random-weights", "--tokens", "4"], { cwd: dir, env: { ...process.env, NO_COLOR: "1" } });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("close", (code) => resolve({ code, stderr }));
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/moec run: plugin broken@0\.2\.0, stage 'oops': its WGSL does not compile \(E0904\)/);
    expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });
});
