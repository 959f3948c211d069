// The executor option `lastLogits`: a model's LM head computed for the last position only. Its
// logits [1, V] are held to the float64 reference's last row, the head's GEMM is checked to launch
// one row tile (workgroups per op), and the programs it cannot apply to are refused by name.
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { isCpuAdapter } from "../../../runtime/gpu/adapter-class.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { compare } from "../../helpers/numerics.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

function program(source: string, set?: Record<string, number>): IrProgram {
  const c = compile({ source, set });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

// V = 100: two 64-wide column tiles of the head; T = 37: three 16-row tiles of a full head.
const MODEL = `model m(tokens: [T], V = 100, D = 16) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat 1 as layers {
    let n1 = rmsnorm(h)
    let attn = attention(n1, heads = 4, kv_heads = 2)
    h = h + attn
  }
  let norm = rmsnorm(h)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}`;

// No attention: a run of this model can be split into token chunks, which lastLogits refuses.
const NO_ATTENTION = `model m(tokens: [T], V = 100, D = 16) {
  let e = embed(tokens, vocab = V, dim = D)
  let norm = rmsnorm(e)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}`;

const ids = (T: number, V: number) => new Map([["tokens", Int32Array.from({ length: T }, (_, t) => (t * 7 + 3) % V)]]);

describeGpu("lastLogits: the LM head of the last position only", () => {
  itGpu("logits [1, V] = the reference's last row; the head is one one-row GEMV instead of ⌈T/16⌉ row tiles", async () => {
    const p = program(MODEL);
    const w = randomWeights(p, 5);
    const T = 37, V = 100;
    const full = await createExecutor(gpu, p, w);
    const last = await createExecutor(gpu, p, w, { lastLogits: true });
    try {
      const fullOut = (await full.run(ids(T, V), T)).get("logits")!;
      const lastOut = (await last.run(ids(T, V), T)).get("logits")!;
      expect(fullOut.length).toBe(T * V);
      expect(lastOut.length).toBe(V);
      const ref = interpretReference(p, w, ids(T, V), T).get("logits")!;
      expect(compare(lastOut, ref.slice((T - 1) * V)).maxAbs).toBeLessThan(1e-5);
      expect(compare(lastOut, fullOut.slice((T - 1) * V)).maxAbs).toBeLessThan(1e-6);

      const head = p.ops.findIndex((o) => o.op === "linear");
      const op = (info: typeof full.lastRunInfo) => info!.dispatchesPerOp.find((o) => o.op === head)!;
      // The full head over 37 rows: on a GPU the tile, ⌈100 / 64⌉ = 2 column tiles × ⌈37 / 16⌉ = 3
      // row tiles; on a CPU adapter the head's weight is held [K, N] (V = 100 is a multiple of 4)
      // and runs the register tile of 8 rows × 512 columns (64 threads × 2 groups of 4),
      // 1 × ⌈37 / 8⌉ = 5. The one-row head is a GEMV: one workgroup per block of columns and none
      // for other rows (on a CPU adapter the [K, N] tile of 1 row × 512 columns; elsewhere
      // 64 / lanes × cols columns, 64 / 16 × 2 = 8; gemm-shape.ts).
      const cpu = isCpuAdapter(gpu.adapterInfo);
      expect(op(full.lastRunInfo).workgroups).toBe(cpu ? 1 * 5 : 2 * 3);
      const block = cpu ? 512 : 8;
      expect(op(last.lastRunInfo)).toMatchObject({ kind: "lm_head", dispatches: 1, workgroups: Math.ceil(V / block) });
      expect(last.lastRunInfo!.dispatches).toBe(full.lastRunInfo!.dispatches);
      expect(last.lastRunInfo!.commandBuffers).toBe(1);
      expect(last.lastRunInfo!.readbacks).toBe(1);

      // A shorter run on the same plan reads its own last row (T is only known when recording).
      const short = (await last.run(ids(5, V), 5)).get("logits")!;
      const ref5 = interpretReference(p, w, ids(5, V), 5).get("logits")!;
      expect(compare(short, ref5.slice(4 * V)).maxAbs).toBeLessThan(1e-5);
    } finally {
      full.dispose();
      last.dispose();
    }
  });

  itGpu("rt.load(model, { lastLogits }).forward(ids) returns [1, V]", async () => {
    const { createRuntime } = await import("../../../runtime/index.js");
    const rt = await createRuntime();
    try {
      const p = program(MODEL);
      const m = await rt.load(p, { randomSeed: 2, lastLogits: true });
      const logits = await m.forward([3, 1, 4, 1, 5]);
      const ref = interpretReference(p, m.weights, new Map([["tokens", Int32Array.of(3, 1, 4, 1, 5)]]), 5).get("logits")!;
      expect(compare(logits, ref.slice(4 * 100)).maxAbs).toBeLessThan(1e-5);
      m.dispose();
    } finally {
      rt.dispose();
    }
  });

  itGpu("is refused for a layer, and for a run that would need token chunks", async () => {
    const layer = program("layer l(x: [T, D], D = 16) {\n  let y = linear(x, out = 8)\n  return y\n}\n");
    await expect(createExecutor(gpu, layer, randomWeights(layer, 1), { lastLogits: true })).rejects.toThrow("lastLogits applies to a model; `l` is a layer or graph");
    const p = program(NO_ATTENTION);
    // 32 values × 4 bytes per [T, 16]… buffer: activations of 8 tokens fit 512 bytes, 20 do not.
    const exec = await createExecutor(gpu, p, randomWeights(p, 1), { lastLogits: true, maxActivationBytes: 512 });
    try {
      await expect(exec.run(ids(20, 100), 20)).rejects.toThrow(/lm_head 'lm_head' cannot be split into token chunks: with lastLogits \(--last-logits\) the LM head reads the run's last position/);
    } finally {
      exec.dispose();
    }
  });
});
