// ExecutorOptions.weightFormat "fp8_e4m3": FP8 E4M3 blocks (a scale per row and 128 columns)
// dequantized in the kernels' loads. D = 128, so every attention, LM-head, embedding and expert
// row is one block.
//   1. A tiny Llama-style model with random f32 weights (quantized at upload), prefilled over 10
//      tokens and decoded for 2 steps. Tight: against the float64 reference on exactly those
//      tensors decoded by the format's definition (tests/helpers/quant-packers.ts e4m3) times
//      their row scale; loose: against the reference on the unquantized weights; and the device
//      bytes by hand arithmetic (1 byte a weight plus 4 per 128).
//   2. A Mixtral FP8 checkpoint written here (attention and experts F8_E4M3 with 64×128 block
//      scales, DeepSeek-V3's layout at half the row block): the store uploads the checkpoint's own
//      bytes and scales (read back from the device and compared with the file's), and the logits
//      equal the float64 reference on the checkpoint's dequantized weights (computed here from
//      the bytes and scales the test chose), the routed experts read by fine_dot / fine_axpy.
import { tmpdir } from "node:os";
import { mkdtempSync, rmSync } from "node:fs";
import * as path from "node:path";
import { afterAll, expect } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { WeightStore } from "../../../runtime/executor/weight-store.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { loadCheckpointDir } from "../../../runtime/weights/load-checkpoint.js";
import { quantizeForGpu } from "../../../runtime/weights/quant/gpu-blocks.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { compare } from "../../helpers/numerics.js";
import { writeFp8Mixtral } from "../../helpers/fp8-checkpoint.js";
import { e4m3 } from "../../helpers/quant-packers.js";

let gpu: Awaited<ReturnType<typeof testGpu>>;
beforeAllGpu(async () => (gpu = await testGpu()));
const root = mkdtempSync(path.join(tmpdir(), "moec-fp8-ckpt-"));
afterAll(async () => {
  rmSync(root, { recursive: true, force: true });
  await releaseTestGpu();
});

const LLAMA = `model tiny(tokens: [T], V = 40, D = 128, L = 2) {
  let embed_tokens = embed(tokens, vocab = V, dim = D)
  let h = embed_tokens
  repeat L as layers {
    let input_layernorm = rmsnorm(h, eps = 1e-5)
    let self_attn = attention(input_layernorm, heads = 4, kv_heads = 2)
    h = h + self_attn
    let post_attention_layernorm = rmsnorm(h, eps = 1e-5)
    let mlp = ffn(post_attention_layernorm, hidden = 64)
    h = h + mlp
  }
  let norm = rmsnorm(h, eps = 1e-5)
  let lm_head = lm_head(norm, vocab = V)
  return lm_head
}`;

/** The tensors kept as blocks: attention's q/k/v/o, the LM head, the embedding (the dense FFN is a shared pool: f32). */
const QUANTIZED = /^(layers\.\d+\.self_attn\.w[qkvo]|lm_head\.weight|embed_tokens\.weight)$/;

/** A [rows, 128·n] matrix as the upload quantizes it, decoded by the format's definition. */
function fp8RoundTrip(x: Float32Array, K: number, name: string): Float32Array {
  const g = quantizeForGpu("fp8_e4m3", x, x.length / K, K, name);
  const scales = new Float32Array(g.scales.buffer);
  return Float32Array.from(x, (_, i) => Math.fround(e4m3((g.values[i >> 2]! >>> (8 * (i & 3))) & 0xff) * scales[Math.floor(i / 128)]!));
}

const IDS = [3, 17, 5, 29, 11, 2, 38, 7, 21, 14, 33, 8];
const P = 10;

interface Steps {
  /** max |Δ| / max |logit| per step against each reference. */
  tight: number[];
  loose: number[];
}

/** Prefill P tokens then decode to IDS' end; each step's last logits against the references' (weights `tight`, `loose`). */
async function decodeErrors(p: IrProgram, weights: Parameters<typeof createExecutor>[2], tightW: Map<string, Float32Array>, looseW: Map<string, Float32Array> | undefined, V: number, check?: (e: Awaited<ReturnType<typeof createExecutor>>) => void): Promise<Steps> {
  const exec = await createExecutor(gpu, p, weights, { weightFormat: "fp8_e4m3", decode: { context: IDS.length } });
  try {
    expect(exec.weightFormat).toBe("fp8_e4m3");
    const out: Steps = { tight: [], loose: [] };
    const at = (w: Map<string, Float32Array>, n: number) =>
      interpretReference(p, w, new Map([["tokens", Int32Array.from(IDS.slice(0, n))]]), n).get(p.outputs[0]!.name)!.subarray((n - 1) * V, n * V);
    const rel = (got: Float32Array, ref: Float32Array) => compare(got, ref).maxAbs / Math.max(...Array.from(ref, Math.abs));
    const step = (logits: Float32Array, n: number) => {
      out.tight.push(rel(logits, at(tightW, n)));
      if (looseW) out.loose.push(rel(logits, at(looseW, n)));
    };
    step(await exec.prefill(Int32Array.from(IDS.slice(0, P))), P);
    for (let n = P + 1; n <= IDS.length; n++) step(await exec.decodeStep(IDS[n - 1]!), n);
    check?.(exec);
    return out;
  } finally {
    exec.dispose();
  }
}

/** f32 bytes less FP8 bytes of a [rows, 128] matrix: 4·128 − (128 + 4) a row. */
const saved = (rows: number) => rows * (4 * 128 - (128 + 4));

describeGpu("weightFormat fp8_e4m3", () => {
  itGpu("random weights quantized at upload: = float64 on the dequantized weights (1e-5 of the largest logit); within 8% of the f32 model's (measured 3.2–3.9%); device bytes", async () => {
    const c = compile({ source: LLAMA });
    if (!c.ok) throw new Error(c.formatDiagnostics());
    const p = c.program!;
    const w = randomWeights(p, 5);
    const dequantized = new Map([...w].map(([k, v]) => [k, QUANTIZED.test(k) ? fp8RoundTrip(v, 128, k) : v]));
    let bytes: { saved: { whole: number; routed: number; gathered: number } } | undefined;
    const e = await decodeErrors(p, w, dequantized, w, 40, (exec) => (bytes = { saved: exec.blockBytesSaved }));
    expect(e.tight.length).toBe(3);
    for (const t of e.tight) expect(t).toBeLessThan(1e-5);
    for (const r of e.loose) expect(r).toBeLessThan(0.08);
    expect(Math.max(...e.loose)).toBeGreaterThan(0); // the weights did change
    // Per layer wq, wo [128, 128], wk, wv [64, 128] (2 KV heads of 32); the LM head [40, 128]; the embedding [40, 128] gathered.
    expect(bytes!.saved).toEqual({ whole: 2 * (2 * saved(128) + 2 * saved(64)) + saved(40), routed: 0, gathered: saved(40) });
  }, 600_000);

  itGpu("an FP8 Mixtral checkpoint: its own bytes and scales on the device (read back), logits = float64 on its dequantized weights", async () => {
    const BR = 64;
    const dir = path.join(root, "mixtral-fp8");
    const ck = writeFp8Mixtral(dir, 41, [BR, 128]);
    const { program: p, names, tensors } = ck;
    const fileScales = ck.scales;
    const loaded = loadCheckpointDir(p, dir, { names, forceNames: true });
    if (!loaded.ok) throw new Error(loaded.errors.map((e) => e.message).join("\n"));

    // The store's device words of layer 0's q_proj [128, 128] (two row blocks) and of the stacked
    // experts' down projections [4·128, 128]: the file's bytes, four to a word, and its block scales a row each.
    const store = new WeightStore(gpu.device, loaded.weights, "f32", 1 << 30, "fp8_e4m3");
    try {
      const q = store.blocks("layers.0.self_attn.wq", 128, 128, "q");
      const down = store.blocks("layers.0.block_sparse_moe.E.w_down", 4 * 128, 128, "down", "routed");
      expect(store.fp8AsReadTensors).toEqual(["layers.0.self_attn.wq", "layers.0.block_sparse_moe.E.w_down"]);
      const qBytes = tensors.get("model.layers.0.self_attn.q_proj.weight")!.bytes!;
      const downBytes = Uint8Array.from([0, 1, 2, 3].flatMap((j) => Array.from(tensors.get(`model.layers.0.block_sparse_moe.experts.${j}.w2.weight`)!.bytes!)));
      const qScales = fileScales.get("model.layers.0.self_attn.q_proj.weight")!;
      const downScales = [0, 1, 2, 3].flatMap((j) => Array.from({ length: 128 }, (_, r) => fileScales.get(`model.layers.0.block_sparse_moe.experts.${j}.w2.weight`)![Math.floor(r / BR)]!));
      expect(Array.from(new Uint8Array(await readBack(q.chunks[0]!.values)))).toEqual(Array.from(qBytes));
      expect(Array.from(new Float32Array(await readBack(q.chunks[0]!.scales)))).toEqual(Array.from({ length: 128 }, (_, r) => qScales[Math.floor(r / BR)]));
      expect(Array.from(new Uint8Array(await readBack(down.chunks[0]!.values)))).toEqual(Array.from(downBytes));
      expect(Array.from(new Float32Array(await readBack(down.chunks[0]!.scales)))).toEqual(downScales);
      // 1 byte a weight and 4 per row-block scale: [128, 128] and [512, 128].
      expect(store.bytes).toBe(128 * 128 + 128 * 4 + 512 * 128 + 512 * 4);
    } finally {
      store.dispose();
    }

    // The reference: the checkpoint's dequantized weights; the embedding and LM head, F32 in the
    // file, as the upload quantizes them.
    const want = new Map(ck.dequantized);
    for (const k of ["embed_tokens.weight", "lm_head.weight"]) want.set(k, fp8RoundTrip(want.get(k)!, 128, k));
    const e = await decodeErrors(p, loaded.weights, want, undefined, ck.vocab);
    for (const t of e.tight) expect(t).toBeLessThan(1e-5);
  }, 600_000);
});

async function readBack(buf: GPUBuffer): Promise<ArrayBuffer> {
  const staging = gpu.device.createBuffer({ size: buf.size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = gpu.device.createCommandEncoder();
  enc.copyBufferToBuffer(buf, 0, staging, 0, buf.size);
  gpu.device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0);
  staging.unmap();
  staging.destroy();
  return out;
}
