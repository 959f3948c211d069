// Generation's cached decode on the GPU (docs/generation.md): prefill P tokens, then decode steps
// feeding given ids; at every step the decode logits must equal the last row of the float64
// reference (runtime/reference/interpret.ts) run over the whole sequence so far, for llama-style
// GQA (rotate-half with per-head q/k norm; interleaved partial rope with full q/k norm), a sliding
// window shorter than the sequence, a Mixtral-style MoE model and DeepSeek-V3's MLA with YaRN
// (absorbed decode form), with an f32 and an f16 KV cache. Also: no buffer is created by a decode
// step, decode works at position C − 1 and position C is a ContextFullError.
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { ContextFullError, createExecutor } from "../../../runtime/executor/executor.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { compare } from "../../helpers/numerics.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

const model = (attention: string) => `model tiny(tokens: [T], V = 40, D = 16, L = 2) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat L as layers {
    let input_layernorm = rmsnorm(h, eps = 1e-5)
    let self_attn = ${attention}
    h = h + self_attn
    let post_attention_layernorm = rmsnorm(h, eps = 1e-5)
    let mlp = ffn(post_attention_layernorm, hidden = 24)
    h = h + mlp
  }
  let norm = rmsnorm(h, eps = 1e-5)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}`;

function fromSource(source: string): IrProgram {
  const c = compile({ source });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

function fromFile(file: string, set: Record<string, number>): IrProgram {
  const c = compile({ file, set });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

interface DecodeRun {
  /** max |Δ| per step (prefill first) against the reference's last row. */
  errors: number[];
  /** createBuffer calls made during the decode steps. */
  buffersInSteps: number;
  /** Dispatches of the last decode step per op kind. */
  stepDispatches: Map<string, number>;
}

/** Prefill `P` ids, decode the rest one by one; each step against the reference over the prefix. */
async function decodeVersusReference(p: IrProgram, ids: number[], P: number, opts: { kvDtype?: "f32" | "f16"; dtype?: "f32" | "f16"; context?: number; lastLogits?: boolean } = {}): Promise<DecodeRun> {
  const w = randomWeights(p, 5);
  const V = p.values[p.outputs[0]!.value]!.width;
  const exec = await createExecutor(gpu, p, w, { dtype: opts.dtype, decode: { context: opts.context ?? ids.length, kvDtype: opts.kvDtype }, lastLogits: opts.lastLogits });
  const device = gpu.device;
  const create = device.createBuffer.bind(device);
  let counting = false;
  let buffersInSteps = 0;
  device.createBuffer = (d: GPUBufferDescriptor) => {
    if (counting) buffersInSteps++;
    return create(d);
  };
  try {
    const errors: number[] = [];
    const check = (logits: Float32Array, n: number) => {
      const ref = interpretReference(p, w, new Map([["tokens", Int32Array.from(ids.slice(0, n))]]), n).get(p.outputs[0]!.name)!;
      expect(logits.length).toBe(V);
      errors.push(compare(logits, ref.subarray((n - 1) * V, n * V)).maxAbs);
    };
    check(await exec.prefill(Int32Array.from(ids.slice(0, P))), P);
    expect(exec.position).toBe(P);
    for (let n = P + 1; n <= ids.length; n++) {
      counting = true;
      const logits = await exec.decodeStep(ids[n - 1]!);
      counting = false;
      check(logits, n);
    }
    const stepDispatches = new Map<string, number>();
    for (const o of exec.lastRunInfo!.dispatchesPerOp) stepDispatches.set(o.kind, (stepDispatches.get(o.kind) ?? 0) + o.dispatches);
    return { errors, buffersInSteps, stepDispatches };
  } finally {
    device.createBuffer = create;
    exec.dispose();
  }
}

const IDS = [3, 17, 5, 29, 11, 2, 38, 7, 21];

describeGpu("cached decode = a full forward over the sequence so far", () => {
  itGpu("GQA, rotate-half, per-head q/k norm: f32 cache |Δ| < 1e-4 at every step; no buffer per step; 6 dispatches per attention block", async () => {
    const r = await decodeVersusReference(fromSource(model("attention(input_layernorm, heads = 4, kv_heads = 2, qk_norm = head)")), IDS, 5);
    expect(r.errors.length).toBe(5);
    for (const e of r.errors) expect(e).toBeLessThan(1e-4);
    expect(r.buffersInSteps).toBe(0);
    // QKV GEMM, prepare, cache append, partials, merge, output GEMM; two layers.
    expect(r.stepDispatches.get("attention")).toBe(2 * 6);
  });
  itGpu("the same with an f16 KV cache: within 1e-3 (measured 7e-5)", async () => {
    const r = await decodeVersusReference(fromSource(model("attention(input_layernorm, heads = 4, kv_heads = 2, qk_norm = head)")), IDS, 5, { kvDtype: "f16" });
    for (const e of r.errors) expect(e).toBeLessThan(1e-3);
    expect(Math.max(...r.errors)).toBeGreaterThan(0);
  });
  itGpu("f16 activations and cache, an odd vocabulary (V = 41: the prompt's last f16 row starts at 2 mod 4 bytes): within 2e-2", async () => {
    const p = fromSource(model("attention(input_layernorm, heads = 4, kv_heads = 2, qk_norm = head)").replace("V = 40", "V = 41"));
    const r = await decodeVersusReference(p, IDS, 6, { dtype: "f16", kvDtype: "f16" });
    for (const e of r.errors) expect(e).toBeLessThan(2e-2);
  });
  itGpu("interleaved partial rope, full q/k norm, lastLogits prefill", async () => {
    const r = await decodeVersusReference(fromSource(model("attention(input_layernorm, heads = 4, qk_norm = full, rope = interleaved, rope_dim = 2)")), IDS, 4, { lastLogits: true });
    for (const e of r.errors) expect(e).toBeLessThan(1e-4);
  });
  itGpu("a sliding window of 3 (< the prompt): the cache is a ring of 3 rows", async () => {
    const r = await decodeVersusReference(fromSource(model("attention(input_layernorm, heads = 4, kv_heads = 1, window = 3)")), IDS, 5);
    for (const e of r.errors) expect(e).toBeLessThan(1e-4);
  });
  itGpu("across flash-decoding chunks: positions 66…69 read two chunks of 64, merged", async () => {
    const ids = Array.from({ length: 70 }, (_, t) => (t * 13 + 5) % 40);
    const r = await decodeVersusReference(fromSource(model("attention(input_layernorm, heads = 4, kv_heads = 2, qk_norm = head)")), ids, 66);
    for (const e of r.errors) expect(e).toBeLessThan(1e-4);
  });
  itGpu("Mixtral (MoE layers at T = 1)", async () => {
    const p = fromFile("examples/models/mixtral_8x7b.moe", { V: 40, D: 16, L: 2, H: 4, KV: 2, N: 4, I: 16 });
    const r = await decodeVersusReference(p, IDS, 5);
    for (const e of r.errors) expect(e).toBeLessThan(1e-4);
  });
  itGpu("DeepSeek-V3 MLA with YaRN, absorbed form (cache Rkv + Dr per token): f32 and f16 caches; 9 dispatches per MLA block", async () => {
    const p = fromFile("examples/models/deepseek_v3.moe", { V: 40, D: 32, L: 2, DENSE: 1, H: 2, QR: 8, KVR: 8, NOPE: 4, ROPE: 4, VD: 4, DI: 24, N: 16, I: 8 });
    const r = await decodeVersusReference(p, IDS, 5);
    for (const e of r.errors) expect(e).toBeLessThan(1e-4);
    expect(r.buffersInSteps).toBe(0);
    expect(r.stepDispatches.get("mla")).toBe(2 * 9);
    const h = await decodeVersusReference(p, IDS, 5, { kvDtype: "f16" });
    for (const e of h.errors) expect(e).toBeLessThan(1e-3);
  });
});

describeGpu("the decode API", () => {
  itGpu("decode at position C − 1 works; position C is a ContextFullError; bad calls are named errors", async () => {
    const p = fromSource(model("attention(input_layernorm, heads = 4, kv_heads = 2)"));
    const exec = await createExecutor(gpu, p, randomWeights(p, 1), { decode: { context: 4 } });
    try {
      await expect(exec.decodeStep(1)).rejects.toThrow("decodeStep: no prompt in the KV cache; call prefill first");
      await expect(exec.prefill(Int32Array.of(1, 2, 3, 4, 5))).rejects.toThrow(ContextFullError);
      await exec.prefill(Int32Array.of(1, 2, 3));
      expect(exec.position).toBe(3);
      await exec.decodeStep(4);
      expect(exec.position).toBe(4);
      await expect(exec.decodeStep(5)).rejects.toThrow("context full: position 4 is past the KV cache's last position 3");
      await expect(exec.prefill(Int32Array.of(1, 40))).rejects.toThrow("token 1 is id 40, outside the vocabulary");
      // A new prefill starts over.
      await exec.prefill(Int32Array.of(1));
      expect(exec.position).toBe(1);
      expect(exec.decodeTokenBuffer!.size).toBeGreaterThanOrEqual(4);
    } finally {
      exec.dispose();
    }
    const plain = await createExecutor(gpu, p, randomWeights(p, 1));
    try {
      await expect(plain.prefill(Int32Array.of(1))).rejects.toThrow("prefill needs an executor created with the option decode: { context }");
    } finally {
      plain.dispose();
    }
  });
});
