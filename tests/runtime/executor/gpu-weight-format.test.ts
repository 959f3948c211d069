// ExecutorOptions.weightFormat: a tiny Llama-style model (D = 32, so every attention and LM-head
// row is one block) whose attention projections and LM head the executor keeps as Q8_0 / Q4_0
// blocks, prefilled over 10 tokens (more than 8 rows: the register tile) and decoded for 2 steps.
// Tight: against the float64 reference run on the same weights quantized and dequantized by the
// CPU codec (encodeQ8_0 → decodeQ8_0, …) for exactly those tensors, every other weight as drawn.
// Loose: against the reference on the unquantized weights (what an f32 run gives, to 1e-4:
// gpu-decode.test.ts), within the error docs/quantization.md states for these tiny random models.
// And the device memory those weights take. Then a Mixtral-style model (D = I = 64: two blocks a
// row) whose routed experts are blocks too, read by the token-centric fine_dot / fine_axpy.

import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { decodeQ4_0, encodeQ4_0 } from "../../../runtime/weights/quant/q4_0.js";
import { decodeQ8_0, encodeQ8_0 } from "../../../runtime/weights/quant/q8_0.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { compare } from "../../helpers/numerics.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

const SOURCE = `model tiny(tokens: [T], V = 40, D = 32, L = 2) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat L as layers {
    let input_layernorm = rmsnorm(h, eps = 1e-5)
    let self_attn = attention(input_layernorm, heads = 4, kv_heads = 2, qk_norm = head)
    h = h + self_attn
    let post_attention_layernorm = rmsnorm(h, eps = 1e-5)
    let mlp = ffn(post_attention_layernorm, hidden = 64)
    h = h + mlp
  }
  let norm = rmsnorm(h, eps = 1e-5)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}`;

function program(mixtral = false): IrProgram {
  // Mixtral-style: D = I = 64, so the experts' up/gate rows (D) and down rows (I) are two blocks each.
  const c = mixtral ? compile({ file: "examples/models/mixtral_8x7b.moe", set: { V: 40, D: 64, L: 2, H: 4, KV: 2, N: 4, I: 64 } }) : compile({ source: SOURCE });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

/** The tensors kept as blocks: attention's q/k/v/o, the LM head, the embedding and (Mixtral) the routed experts (the llama's dense FFN is a shared pool: f32). */
const QUANTIZED = /^(layers\.\d+\.self_attn\.w[qkvo]|lm_head\.weight|embed_tokens\.weight|layers\.\d+\.block_sparse_moe\.E\.w_(gate|up|down))$/;

const IDS = [3, 17, 5, 29, 11, 2, 38, 7, 21, 14, 33, 8];
const P = 10;

interface Errors {
  /** max |Δ| per step (prefill's last row, then each decode step) against the reference on the dequantized weights. */
  tight: number[];
  /** max |Δ| / max |logit| per step against the reference on the unquantized weights. */
  relative: number[];
  weightBytes: number;
  /** Executor.blockBytesSaved. */
  saved: { whole: number; routed: number; gathered: number };
  /** Dispatches of the first moe op in the last decode step. */
  moeDispatches: number;
}

async function run(format: "q8_0" | "q4_0", mixtral = false, maxBindingBytes?: number): Promise<Errors> {
  const p = program(mixtral);
  const w = randomWeights(p, 5);
  const roundTrip = format === "q8_0" ? (x: Float32Array) => decodeQ8_0(encodeQ8_0(x), x.length) : (x: Float32Array) => decodeQ4_0(encodeQ4_0(x), x.length);
  const dequantized = new Map([...w].map(([k, v]) => [k, QUANTIZED.test(k) ? roundTrip(v) : v]));
  const V = 40;
  const exec = await createExecutor(gpu, p, w, { weightFormat: format, decode: { context: IDS.length }, ...(maxBindingBytes ? { maxBindingBytes } : {}) });
  try {
    expect(exec.weightFormat).toBe(format);
    const tight: number[] = [];
    const relative: number[] = [];
    const check = (logits: Float32Array, n: number) => {
      const inputs = new Map([["tokens", Int32Array.from(IDS.slice(0, n))]]);
      const refQ = interpretReference(p, dequantized, inputs, n).get(p.outputs[0]!.name)!.subarray((n - 1) * V, n * V);
      const ref = interpretReference(p, w, inputs, n).get(p.outputs[0]!.name)!.subarray((n - 1) * V, n * V);
      tight.push(compare(logits, refQ).maxAbs);
      relative.push(compare(logits, ref).maxAbs / Math.max(...Array.from(ref, Math.abs)));
    };
    check(await exec.prefill(Int32Array.from(IDS.slice(0, P))), P);
    for (let n = P + 1; n <= IDS.length; n++) check(await exec.decodeStep(IDS[n - 1]!), n);
    const moe = exec.lastRunInfo!.dispatchesPerOp.find((o) => o.kind === "moe");
    return { tight, relative, weightBytes: exec.weightBytes, saved: exec.blockBytesSaved, moeDispatches: moe?.dispatches ?? 0 };
  } finally {
    exec.dispose();
  }
}

// Device bytes of every tensor in f32 (these sizes need no padding) plus each layer's rotary
// inverse frequencies (head dim 8: 4 values), derived at upload. With blocks the q/k/v parts are
// uploaded one by one (no concatenated q|k|v copy, which the f32 path would make instead).
const F32_BYTES = 4 * (1280 + 2 * (32 + 1024 + 512 + 512 + 1024 + 8 + 8 + 32 + 3 * 2048 + 4) + 32 + 1280);

/** Block bytes of a [rows, K] matrix: rows·K/32 blocks of 32 values (8 or 4 words), two f16 scales to a word. */
const blockBytes = (format: "q8_0" | "q4_0", rows: number, K = 32) => (rows * K / 32) * (format === "q8_0" ? 32 : 16) + Math.ceil(rows * K / 64) * 4;

describeGpu("weightFormat: attention projections and the LM head as blocks, dequantized in the GEMM", () => {
  itGpu("Q8_0: = float64 on the dequantized weights (|Δ| < 1e-4); within 2% of the f32 model's largest logit (measured 0.5–0.7%)", async () => {
    const e = await run("q8_0");
    expect(e.tight.length).toBe(3);
    for (const t of e.tight) expect(t).toBeLessThan(1e-4);
    for (const r of e.relative) expect(r).toBeLessThan(0.02);
    expect(Math.max(...e.relative)).toBeGreaterThan(0); // the weights did change
    const quantizedF32 = 4 * (2 * (1024 + 512 + 512 + 1024) + 2 * 1280); // attention, LM head, embedding
    const quantizedBlocks = 2 * (blockBytes("q8_0", 32) + 2 * blockBytes("q8_0", 16) + blockBytes("q8_0", 32)) + 2 * blockBytes("q8_0", 40);
    expect(e.weightBytes).toBe(F32_BYTES - quantizedF32 + quantizedBlocks);
  }, 300_000);

  itGpu("Q4_0: = float64 on the dequantized weights (|Δ| < 1e-4); within 25% of the f32 model's largest logit (measured 8–13%)", async () => {
    const e = await run("q4_0");
    for (const t of e.tight) expect(t).toBeLessThan(1e-4);
    for (const r of e.relative) expect(r).toBeLessThan(0.25);
    const quantizedF32 = 4 * (2 * (1024 + 512 + 512 + 1024) + 2 * 1280);
    const quantizedBlocks = 2 * (blockBytes("q4_0", 32) + 2 * blockBytes("q4_0", 16) + blockBytes("q4_0", 32)) + 2 * blockBytes("q4_0", 40);
    expect(e.weightBytes).toBe(F32_BYTES - quantizedF32 + quantizedBlocks);
  }, 300_000);

  itGpu("Mixtral-style: the routed experts too (token-centric kernels over blocks): float64 on the dequantized weights (|Δ| < 1e-4), the f32 model within 2% / 25% (measured 0.5–0.6% / 6–7%)", async () => {
    for (const f of ["q8_0", "q4_0"] as const) {
      const e = await run(f, true);
      for (const t of e.tight) expect(t).toBeLessThan(1e-4);
      for (const r of e.relative) expect(r).toBeLessThan(f === "q8_0" ? 0.02 : 0.25);
      // Per layer: wq, wo [64, 64], wk, wv [32, 64] (2 kv heads of 16), w_gate, w_up [4·64, 64] and w_down [4·64, 64]; then the LM head [40, 64].
      const attention = 4 * 12288 - (2 * blockBytes(f, 64, 64) + 2 * blockBytes(f, 32, 64));
      const experts = 3 * (4 * 16384 - blockBytes(f, 256, 64));
      const table = 4 * 2560 - blockBytes(f, 40, 64); // the LM head [40, 64], and the embedding of the same shape
      expect(e.saved).toEqual({ whole: 2 * attention + table, routed: 2 * experts, gathered: table });
    }
  }, 300_000);

  itGpu("Mixtral-style with a 2 KiB binding limit: every block matrix in row chunks (experts 8 / 4 chunks, the head 2 / 1), one dispatch each", async () => {
    for (const f of ["q8_0", "q4_0"] as const) {
      const e = await run(f, true, 2048);
      for (const t of e.tight) expect(t).toBeLessThan(1e-4);
      // [256, 64] up/gate and down matrices: 64 (Q8_0) or 32 (Q4_0) bytes a row, 32 or 64 rows a chunk:
      // router, fine_dot per chunk, fine_axpy per chunk (into partial sums), the reduce.
      const chunks = f === "q8_0" ? 8 : 4;
      expect(e.moeDispatches).toBe(1 + chunks + chunks + 1);
    }
  }, 300_000);
});
