// The §12 programs within the kernels' scope, compiled from their example files at small --set
// sizes, run on the GPU (f32 and f16) and compared with the float64 reference interpreter of the
// same IR; plus the CLI path (moec run with weights and inputs files) and malformed weight files.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compile } from "../../compiler/index.js";
import { main } from "../../cli/main.js";
import { describeGpu, itGpu } from "../helpers/gpu-context.js";
import { acquireGpu, createExecutor, interpretReference, randomWeights, randomInputs, writeSafetensors, readSafetensors, canonicalToFile, type GpuContext } from "../../runtime/index.js";

const repo = path.resolve(__dirname, "../..");
const ex = (f: string) => path.join(repo, "examples", f);

const CASES: { file: string; set: Record<string, number>; tokens: number }[] = [
  { file: "mixtral.moe", set: { D: 32, I: 48 }, tokens: 13 },
  { file: "deepseek_moe.moe", set: { D: 32, N: 4, I: 64, SI: 16 }, tokens: 9 },
  { file: "qwen_moe.moe", set: { D: 32, N: 12, I: 16, SI: 24 }, tokens: 1 },
  { file: "dynamic_topp.moe", set: { D: 32, N: 8, I: 16 }, tokens: 7 },
  { file: "mmoe.moe", set: { D: 16, N: 4, I: 8 }, tokens: 5 },
];

function maxRelErr(got: Float32Array, ref: Float64Array): number {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(got[i]! - ref[i]!) / (2e-4 + 1e-4 * Math.abs(ref[i]!)));
  return worst; // ≤ 1 means within 2e-4 absolute + 1e-4 relative
}

describeGpu("§12 examples on the GPU vs the float64 reference", () => {
  let gpu: GpuContext;
  beforeAll(async () => { gpu = await acquireGpu(); });
  afterAll(() => gpu?.dispose());

  for (const c of CASES) {
    it(`${c.file} at ${JSON.stringify(c.set)}, T = ${c.tokens}`, async () => {
      const comp = compile({ file: ex(c.file), set: c.set });
      expect(comp.formatDiagnostics()).toBe("");
      const program = comp.program!;
      const weights = randomWeights(program, 3);
      const inputs = randomInputs(program, c.tokens, 5);
      const exec = await createExecutor(gpu, program, weights);
      const out = await exec.run(inputs.values, c.tokens, { returnRouting: true });
      // Evaluate the reference with the GPU's own selection where routing weights are near-tied.
      const forced = new Map<string, number[][]>();
      for (const [key, r] of exec.lastRouting ?? []) {
        forced.set(key, Array.from({ length: c.tokens }, (_, t) => Array.from(r.ids.slice(t * r.maxPerToken, t * r.maxPerToken + r.counts[t]!))));
      }
      const ref = interpretReference(program, weights, inputs.values, c.tokens, { forcedSelection: forced });
      const free = interpretReference(program, weights, inputs.values, c.tokens);
      for (const o of program.outputs) {
        expect(maxRelErr(out.get(o.name)!, ref.get(o.name)!)).toBeLessThanOrEqual(1);
        // Away from near-ties the GPU's selection is the reference's own.
        const sameSelection = [...free.get(o.name)!].every((v, i) => Math.abs(v - ref.get(o.name)![i]!) < 1e-9);
        if (!sameSelection) console.warn(`${c.file}: a near-tie made the GPU pick other experts than float64; compared on its selection`);
      }
      expect(exec.lastRunInfo!.commandBuffers).toBe(1);
      expect(exec.lastRunInfo!.readbacks).toBe(1);
      exec.dispose();
      if (gpu.features.f16) {
        const half = await createExecutor(gpu, program, weights, { dtype: "f16" });
        const h = await half.run(inputs.values, c.tokens, { returnRouting: true });
        // f16 scores may break a near-tie the other way: compare on f16's own selection.
        const forced16 = new Map<string, number[][]>();
        for (const [key, r] of half.lastRouting ?? []) {
          forced16.set(key, Array.from({ length: c.tokens }, (_, t) => Array.from(r.ids.slice(t * r.maxPerToken, t * r.maxPerToken + r.counts[t]!))));
        }
        const ref16 = interpretReference(program, weights, inputs.values, c.tokens, { forcedSelection: forced16 });
        for (const o of program.outputs) {
          const r = ref16.get(o.name)!;
          for (let i = 0; i < r.length; i++) expect(Math.abs(h.get(o.name)![i]! - r[i]!)).toBeLessThan(4e-3 + 2e-3 * Math.abs(r[i]!)); // the bound docs/kernels.md documents
        }
        half.dispose();
      }
    });
  }
});

describe("moec run from files", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "moec-run-"));
  const io = () => {
    const out: string[] = [], err: string[] = [];
    return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), color: false, cwd: dir } };
  };
  const set = ["--set", "D=32", "I=48"];
  const program = compile({ file: ex("mixtral.moe"), set: { D: 32, I: 48 } }).program!;
  const weights = randomWeights(program, 11);
  const inputs = randomInputs(program, 6, 2);
  // Written here, not in the GPU test: the weight-file errors below truncate w.safetensors.
  beforeAll(() => {
    writeSafetensors(path.join(dir, "w.safetensors"), canonicalToFile(program, weights, "stacked", { dtype: "BF16" }));
    writeSafetensors(path.join(dir, "x.safetensors"), { x: { dtype: "F32", shape: [6, 32], data: inputs.values.get("x")! } });
  });

  itGpu("reads weights (bf16, coarse form) and inputs, writes y, and matches the reference", async () => {
    const c = io();
    const code = await main(["run", ex("mixtral.moe"), ...set, "--weights", "w.safetensors", "--input", "x.safetensors", "--output", "y.safetensors"], c.io);
    expect(code, c.err.join("\n")).toBe(0);
    const y = readSafetensors(path.join(dir, "y.safetensors"));
    expect(y.tensors.get("y")!.shape).toEqual([6, 32]);
    // The reference runs on the weights as the file holds them (rounded to bf16).
    const bf16 = new Map([...weights].map(([k, v]) => [k, v.map((x) => { const b = new Float32Array([x]); const u = new Uint32Array(b.buffer); u[0] = ((u[0]! + 0x7fff + ((u[0]! >> 16) & 1)) >>> 16) << 16; return b[0]!; })]));
    const ref = interpretReference(program, bf16, inputs.values, 6).get("y")!;
    expect(maxRelErr(y.getF32("y"), ref)).toBeLessThanOrEqual(1);
  });

  it("names the tensor in every weight-file error: missing, mis-shaped, wrong dtype, truncated", async () => {
    const good = canonicalToFile(program, weights, "per-member");
    const variants: [string, Map<string, unknown> | Buffer, RegExp][] = [];
    const missing = new Map(good); missing.delete("E.3.w_up");
    variants.push(["missing", missing as Map<string, unknown>, /E\.3\.w_up/]);
    const shaped = new Map(good); shaped.set("r.weight", { dtype: "F32", shape: [8, 31], data: new Float32Array(8 * 31) });
    variants.push(["mis-shaped", shaped as Map<string, unknown>, /r\.weight.*\[8, 32\].*\[8, 31\]|r\.weight.*\[8, 31\]/s]);
    const typed = new Map(good); typed.set("r.weight", { dtype: "I32", shape: [8, 32], data: new Int32Array(8 * 32) });
    variants.push(["wrong dtype", typed as Map<string, unknown>, /r\.weight.*I32/s]);
    for (const [label, entries, pattern] of variants) {
      writeSafetensors(path.join(dir, `${label}.safetensors`), entries as Parameters<typeof writeSafetensors>[1]);
      const c = io();
      expect(await main(["run", ex("mixtral.moe"), ...set, "--weights", `${label}.safetensors`, "--tokens", "2"], c.io), label).toBe(1);
      expect(c.err.join("\n"), label).toMatch(pattern);
      expect(c.err.join("\n"), label).not.toMatch(/\n\s+at /); // no stack trace
    }
    const bytes = fs.readFileSync(path.join(dir, "w.safetensors"));
    fs.writeFileSync(path.join(dir, "truncated.safetensors"), bytes.subarray(0, bytes.length - 100));
    const c = io();
    expect(await main(["run", ex("mixtral.moe"), ...set, "--weights", "truncated.safetensors", "--tokens", "2"], c.io)).toBe(1);
    expect(c.err.join("\n")).toMatch(/truncated\.safetensors/);
    expect(c.err.join("\n")).not.toMatch(/\n\s+at /);
  });

  it("explains a missing input tensor and a wrong input shape", async () => {
    writeSafetensors(path.join(dir, "bad-x.safetensors"), { h: { dtype: "F32", shape: [6, 32], data: new Float32Array(6 * 32) } });
    let c = io();
    expect(await main(["run", ex("mixtral.moe"), ...set, "--random-weights", "--input", "bad-x.safetensors"], c.io)).toBe(1);
    expect(c.err.join("\n")).toMatch(/takes an input `x` of shape \[T, 32\].*it has: h/s);
    writeSafetensors(path.join(dir, "bad-shape.safetensors"), { x: { dtype: "F32", shape: [6, 16], data: new Float32Array(6 * 16) } });
    c = io();
    expect(await main(["run", ex("mixtral.moe"), ...set, "--random-weights", "--input", "bad-shape.safetensors"], c.io)).toBe(1);
    expect(c.err.join("\n")).toMatch(/must have shape \[T, 32\], found \[6, 16\]/);
  });
});
