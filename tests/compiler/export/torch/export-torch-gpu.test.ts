// The exported PyTorch module against moec's GPU run, in float32, on the same weights and inputs:
// one layer example (mixtral.moe) and one model example (models/mixtral_8x7b.moe) at tiny sizes.
// The package is exported with --random-weights (its model.safetensors holds the f32 weights),
// `moec run` reads that same file on the GPU, and python3 + torch runs MoecModel.from_pretrained
// in float32 (run_exports.py). Two independent float32 implementations must agree to f32
// rounding; each is also held to the float64 reference, so neither can pass by matching a wrong
// other. Needs a WebGPU adapter and a python3 that imports torch.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { compile } from "../../../../compiler/index.js";
import { decodeFloats, interpretReference, randomInputs, readSafetensors, writeSafetensors } from "../../../../runtime/index.js";
import { moec } from "../../../helpers/cli.js";
import { describeGpu } from "../../../helpers/gpu-context.js";
import { describeNeeding } from "../../../helpers/needs.js";
import { torchNeed, torchPython } from "../../../helpers/torch-python.js";

const repo = path.resolve(__dirname, "../../../..");

interface Case { file: string; set: Record<string, number>; T: number }

const CASES: Case[] = [
  { file: "examples/mixtral.moe", set: { D: 32, I: 48 }, T: 9 },
  { file: "examples/models/mixtral_8x7b.moe", set: { V: 40, D: 16, L: 2, H: 4, KV: 2, N: 4, I: 8 }, T: 7 },
];

/** The largest |a − b| / (1 + |b|) over two equal-length arrays. */
function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let w = 0;
  for (let i = 0; i < b.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)));
  return w;
}

describeNeeding(torchNeed, "moec export torch: the exported module (python, float32) against moec's GPU run", () => {
  describeGpu("on the same weights and inputs", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-torch-gpu-"));
    afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
    const results: { gpu: Float32Array; torch: Float64Array; ref: Float64Array }[] = [];

    beforeAll(async () => {
      const manifest: unknown[] = [];
      const gpuOut: Float32Array[] = [];
      for (const [i, c] of CASES.entries()) {
        const out = path.join(dir, String(i));
        const sets = ["--set", ...Object.entries(c.set).map(([k, v]) => `${k}=${v}`)];
        const exp = await moec(["export", "torch", c.file, "-o", out, "--random-weights", "--seed", "4", ...sets], repo);
        if (exp.code !== 0) throw new Error(`export of ${c.file} failed: ${exp.err}`);
        const program = compile({ file: path.join(repo, c.file), set: c.set }).program!;
        const inputs = randomInputs(program, c.T, 6);
        const input = path.join(out, "in.safetensors");
        writeSafetensors(input, new Map([...inputs.values].map(([k, v]) => [k, { dtype: v instanceof Int32Array ? "I32" : "F32", shape: v instanceof Int32Array ? [c.T] : [c.T, v.length / c.T], data: v }])) as never);
        const gpuFile = path.join(out, "gpu.safetensors");
        const run = await moec(["run", c.file, "--weights", path.join(out, "model.safetensors"), "--input", input, "--output", gpuFile, ...sets], repo);
        if (run.code !== 0) throw new Error(`moec run of ${c.file} failed: ${run.err}`);
        const name = program.outputs[0]!.name;
        const t = readSafetensors(gpuFile).tensors.get(name)!;
        gpuOut.push(decodeFloats(t.dtype as "F32", t.bytes));
        // The float64 reference on the weights as the package stores them (f32).
        const W = new Map([...readSafetensors(path.join(out, "model.safetensors")).tensors].map(([n, x]) => [n, Float64Array.from(decodeFloats(x.dtype as "F32", x.bytes))]));
        const ref = interpretReference(program, W, inputs.values, c.T).get(name)!;
        results.push({ gpu: gpuOut[i]!, torch: new Float64Array(), ref });
        manifest.push({ dir: out, input, output: path.join(out, "torch.json"), inputs: program.inputs.map((x) => x.name), outputs: [name], dtype: "float32" });
      }
      fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify(manifest));
      const py = spawnSync(torchPython!, [path.join(__dirname, "run_exports.py"), path.join(dir, "manifest.json")], { encoding: "utf8", timeout: 600_000 });
      if (py.status !== 0) throw new Error(`run_exports.py failed: ${py.stderr}`);
      CASES.forEach((c, i) => {
        const file = path.join(dir, String(i), "torch.json");
        if (fs.existsSync(file + ".error.json")) throw new Error(`${c.file}: ${JSON.parse(fs.readFileSync(file + ".error.json", "utf8")).error}`);
        const outputs = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, number[]>;
        results[i]!.torch = Float64Array.from(Object.values(outputs)[0]!);
      });
    }, 600_000);

    CASES.forEach((c, i) => {
      it(`${c.file} at ${JSON.stringify(c.set)}, T = ${c.T}: python float32 = GPU float32 (both near the float64 reference)`, () => {
        const r = results[i]!;
        // f32 rounding over a few matrix products, softmaxes and norms (measured ≤ 3.5e-7).
        expect(worst(r.torch, r.gpu)).toBeLessThan(5e-6);
        expect(worst(r.torch, r.ref)).toBeLessThan(5e-6);
        expect(worst(r.gpu, r.ref)).toBeLessThan(5e-6);
      });
    });
  });
});
