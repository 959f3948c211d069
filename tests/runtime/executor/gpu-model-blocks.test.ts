// Whole-model ops on the GPU against the float64 reference (runtime/reference/ref-blocks.ts and
// ref-attention.ts, themselves held to hand arithmetic and to PyTorch): attention under every
// §13.0 option, MLA with and without q compression, norms, embedding (also split across bindings),
// the residual fusions, and whole models, with the dispatch counts per decoder layer.
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { checkProgram } from "../../helpers/moe-check.js";
import { compare } from "../../helpers/numerics.js";
import { normals, rng } from "../../helpers/random.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
afterAll(() => releaseTestGpu());

function program(source: string, set?: Record<string, number>): IrProgram {
  const c = compile({ source, set });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  return c.program!;
}

const layer = (block: string, D = 16) => `layer l(x: [T, D], D = ${D}) {\n  let a = ${block}\n  return a\n}\n`;

/** GPU output vs the reference on the same weights and inputs: max |Δ| and the run's dispatches. */
async function versus(p: IrProgram, T: number, opts: { dtype?: "f32" | "f16"; maxBindingBytes?: number; seed?: number } = {}) {
  const w = randomWeights(p, opts.seed ?? 7);
  const inputs = new Map<string, Float32Array | Int32Array>();
  const embed = p.ops.find((o) => o.op === "embed");
  const vocab = embed?.op === "embed" ? embed.vocab : 1;
  for (const i of p.inputs) {
    const v = p.values[i.value]!;
    inputs.set(i.name, v.dtype === "i32" ? Int32Array.from({ length: T }, (_, t) => (t * 7 + 3) % vocab) : Float32Array.from(normals(rng(opts.seed ?? 11), T * v.width)));
  }
  const exec = await createExecutor(gpu, p, w, { dtype: opts.dtype, maxBindingBytes: opts.maxBindingBytes });
  try {
    const out = await exec.run(inputs, T);
    const ref = interpretReference(p, w, inputs, T);
    const o = p.outputs[0]!.name;
    return { err: compare(out.get(o)!, ref.get(o)!), info: exec.lastRunInfo! };
  } finally {
    exec.dispose();
  }
}

describeGpu("attention on the GPU = the reference", () => {
  const cases: [string, string][] = [
    ["GQA (8 heads over 2), rotate-half", "attention(x, heads = 4, kv_heads = 2)"],
    ["q/k/v bias, per-head q/k norm (Qwen3)", "attention(x, heads = 4, kv_heads = 2, bias = true, qk_norm = head)"],
    ["full q/k norm (OLMoE), interleaved partial rope", "attention(x, heads = 4, qk_norm = full, rope = interleaved, rope_dim = 2)"],
    ["sliding window of 5, one kv head", "attention(x, heads = 4, kv_heads = 1, window = 5)"],
    ["no rotary", "attention(x, heads = 4, rope = none)"],
    ["YaRN (factor 4 over 8 positions)", "attention(x, heads = 4, rope_theta = 500.0, rope_scaling = yarn, rope_factor = 4.0, rope_original = 8)"],
  ];
  for (const [what, block] of cases) {
    // Without q/k norm or rotary there is nothing to prepare: 3 dispatches.
    const dispatches = block.includes("rope = none") ? 3 : 4;
    itGpu(`${what}: ${dispatches} dispatches, |Δ| < 1e-5 at T = 37 (three key tiles, ragged last)`, async () => {
      const r = await versus(program(layer(block)), 37);
      expect(r.err.maxAbs).toBeLessThan(1e-5);
      expect(r.info.dispatches).toBe(dispatches);
    });
  }
  itGpu("one position, and f16 storage within 4e-3 + 2e-3·|ref|", async () => {
    const p = program(layer("attention(x, heads = 4, kv_heads = 2, qk_norm = head)"));
    expect((await versus(p, 1)).err.maxAbs).toBeLessThan(1e-5);
    const f16 = await versus(p, 23, { dtype: "f16" });
    expect(f16.err.excess).toBeLessThan(4e-3);
  });
  itGpu("projections above the binding limit: a GEMM per tensor and row chunk, same result", async () => {
    const p = program(layer("attention(x, heads = 4, kv_heads = 2, bias = true)"));
    const r = await versus(p, 19, { maxBindingBytes: 512 });
    expect(r.err.maxAbs).toBeLessThan(1e-5);
    expect(r.info.dispatches).toBeGreaterThan(4);
  });
});

describeGpu("mla on the GPU = the reference", () => {
  itGpu("with q compression and YaRN (DeepSeek-V3's mscale²), 7 dispatches", async () => {
    const p = program(layer("mla(x, heads = 2, q_rank = 8, kv_rank = 8, nope_dim = 4, rope_dim = 4, v_dim = 4, rope_scaling = yarn, rope_factor = 8.0, rope_original = 4, yarn_mscale_all_dim = 1.0)"));
    const r = await versus(p, 21);
    expect(r.err.maxAbs).toBeLessThan(1e-5);
    expect(r.info.dispatches).toBe(7);
  });
  itGpu("without q compression, rotate-half, v_dim ≠ nope_dim", async () => {
    const r = await versus(program(layer("mla(x, heads = 3, q_rank = 0, kv_rank = 6, nope_dim = 2, rope_dim = 4, v_dim = 3, rope = half)")), 18);
    expect(r.err.maxAbs).toBeLessThan(1e-5);
  });
});

const TINY = `model tiny(tokens: [T], V = 40, D = 16, L = 2) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat L as layers {
    let input_layernorm = rmsnorm(h, eps = 1e-5)
    let self_attn = attention(input_layernorm, heads = 4, kv_heads = 2)
    h = h + self_attn
    let post_attention_layernorm = layernorm(h)
    let mlp = ffn(post_attention_layernorm, hidden = 24)
    h = h + mlp
  }
  let norm = rmsnorm(h, eps = 1e-5)
  let lm_head = lm_head(norm, tied = embed_tokens)
  return lm_head
}`;

describeGpu("whole models on the GPU = the reference", () => {
  itGpu("a dense model: embed, rms and layer norms (fused with the residual adds), attention, tied lm_head", async () => {
    const p = program(TINY);
    const r = await versus(p, 13);
    expect(r.err.maxAbs).toBeLessThan(1e-5);
    // embed 1; per layer: norm 1 (layer 0) or add+norm 1, attention 4 (residual in its output GEMM),
    // layernorm 1, ffn 2; final add+norm 1; lm_head 1.
    expect(r.info.dispatches).toBe(1 + 2 * (1 + 4 + 1 + 2) + 1 + 1);
  });
  itGpu("an embedding split across bindings (a dispatch per row chunk), same logits", async () => {
    const p = program(TINY, { V: 64 });
    const whole = await versus(p, 9);
    const split = await versus(p, 9, { maxBindingBytes: 1024 });
    expect(split.err.maxAbs).toBeLessThan(1e-5);
    expect(split.info.dispatches).toBeGreaterThan(whole.info.dispatches);
  });
  itGpu("a token id outside the vocabulary is an error naming the position, before anything runs", async () => {
    const p = program(TINY);
    const exec = await createExecutor(gpu, p, randomWeights(p, 1));
    try {
      await expect(exec.run(new Map([["tokens", Int32Array.of(1, 2, 40)]]), 3)).rejects.toThrow("input 'tokens': token 2 is id 40, outside the vocabulary 0…39 of 'embed_tokens'");
      await expect(exec.run(new Map([["tokens", Int32Array.of(-1)]]), 1)).rejects.toThrow("token 0 is id -1");
    } finally {
      exec.dispose();
    }
  });
});

// Dispatches of a middle MoE decoder layer: attention 4 (or mla 7) with the residual in its output
// GEMM, the norm before the pool 1, the routed pool 5, shared experts 2 (+ their add), Qwen's
// shared-expert gate (linear, sigmoid, multiply), and the residual add fused with the next norm 1.
// Router state is read-only in a model: DeepSeek-V3's aux-free bias runs no update pass.
const EXAMPLE_SETS: [string, Record<string, number>, number][] = [
  ["examples/models/mixtral_8x7b.moe", { V: 48, D: 32, L: 2, H: 4, KV: 2, N: 4, I: 16 }, 4 + 1 + 5 + 1],
  ["examples/models/olmoe_1b_7b.moe", { V: 48, D: 32, L: 2, H: 4, N: 8, I: 8, K: 2 }, 4 + 1 + 5 + 1],
  ["examples/models/qwen1_5_moe_a2_7b.moe", { V: 48, D: 32, L: 2, H: 4, N: 8, I: 8, SI: 16 }, 4 + 1 + 5 + 2 + 3 + 1 + 1],
  ["examples/models/deepseek_moe_16b.moe", { V: 48, D: 32, L: 3, H: 4, DI: 24, N: 8, I: 8, SI: 8 }, 4 + 1 + 5 + 2 + 1 + 1],
  ["examples/models/deepseek_v3.moe", { V: 48, D: 32, L: 2, DENSE: 1, H: 2, QR: 8, KVR: 8, NOPE: 4, ROPE: 4, VD: 4, DI: 24, N: 16, I: 8 }, 7 + 1 + 5 + 2 + 1 + 1],
];

describeGpu("every examples/models/*.moe runs at small sizes and matches the reference", () => {
  for (const [file, set, perLayer] of EXAMPLE_SETS) {
    itGpu(`${file.split("/").pop()} ${Object.entries(set).map(([k, v]) => `${k}=${v}`).join(" ")}`, async () => {
      const c = compile({ file, set });
      expect(c.ok, c.formatDiagnostics()).toBe(true);
      const p = c.program!;
      const T = 11;
      const vocab = set.V!;
      const r = await checkProgram(gpu, p, randomWeights(p, 3), new Map([["tokens", Int32Array.from({ length: T }, (_, t) => (5 * t + 1) % vocab) as unknown as Float32Array]]), T);
      expect(r.selection.mismatches).toEqual([]);
      expect(r.outputs.get("logits")!.err.maxAbs).toBeLessThan(2e-5);
      expect(layerDispatches(p, r.info.dispatchesPerOp, "layers.1.")).toBe(perLayer);
    });
  }
});

describeGpu("router state in a model", () => {
  itGpu("is read-only while the model runs (§13.0), and updated when asked (updateState)", async () => {
    const set = { V: 48, D: 32, L: 2, DENSE: 1, H: 2, QR: 8, KVR: 8, NOPE: 4, ROPE: 4, VD: 4, DI: 24, N: 16, I: 8 };
    const p = compile({ file: "examples/models/deepseek_v3.moe", set }).program!;
    const w = randomWeights(p, 3);
    const ids = new Map([["tokens", Int32Array.from({ length: 9 }, (_, t) => (3 * t) % 48)]]);
    const bias = "layers.1.mlp.r.e_bias";
    for (const updateState of [undefined, true]) {
      const exec = await createExecutor(gpu, p, w, updateState === undefined ? {} : { updateState });
      try {
        const before = (await exec.readState()).get(bias)!;
        await exec.run(ids, 9);
        const after = (await exec.readState()).get(bias)!;
        if (updateState) expect(compare(after, Float64Array.from(before)).maxAbs).toBeGreaterThan(0);
        else expect(Array.from(after)).toEqual(Array.from(before));
      } finally {
        exec.dispose();
      }
    }
  });
});

/**
 * Dispatches of one decoder layer: the ops from its first to the last before the next block's
 * (adds and other ops without weights belong to the layer they sit in; the residual add at its
 * end carries the next norm, fused).
 */
function layerDispatches(p: IrProgram, perOp: { op: number; dispatches: number }[], prefix: string): number {
  const keys = p.ops.map((_, i) => opKey(p, i));
  const first = keys.findIndex((k) => k.startsWith(prefix));
  let end = keys.findIndex((k, i) => i > first && k !== "" && !k.startsWith(prefix));
  if (end < 0) end = keys.length;
  return perOp.filter((o) => o.op >= first && o.op < end).reduce((n, o) => n + o.dispatches, 0);
}

/** The weight prefix an op works under (for attributing dispatches to decoder layers). */
function opKey(p: IrProgram, i: number): string {
  const op = p.ops[i]!;
  switch (op.op) {
    case "attention": case "mla": return op.attn.key;
    case "norm": case "embed": case "linear": return op.weight;
    case "moe": case "shared": return op.pool.key;
    default: return "";
  }
}

describeGpu("the library", () => {
  itGpu("rt.load(model).forward(ids) gives the logits [T, V]; run() names them `logits`", async () => {
    const { createRuntime } = await import("../../../runtime/index.js");
    const rt = await createRuntime();
    try {
      const p = program(TINY);
      const m = await rt.load(p, { randomSeed: 2 });
      const logits = await m.forward([3, 1, 4, 1, 5]);
      expect(logits.length).toBe(5 * 40);
      const same = await m.run({ tokens: Int32Array.of(3, 1, 4, 1, 5) });
      expect(Array.from(same.logits!)).toEqual(Array.from(logits));
      const ref = interpretReference(p, m.weights, new Map([["tokens", Int32Array.of(3, 1, 4, 1, 5)]]), 5).get("logits")!;
      expect(compare(logits, ref).maxAbs).toBeLessThan(1e-5);
      await expect(m.forward([99])).rejects.toThrow("token 0 is id 99");
      m.dispose();
    } finally {
      rt.dispose();
    }
  });
});
