// A tiny Mixtral FP8 checkpoint directory as DeepSeek-V3 writes its weights (F8_E4M3 [out, in]
// with `weight_scale_inv` block scales, quantization_config fp8): attention and expert weights
// FP8, scale amax/448 per block and the nearest byte by search (quant-packers.ts, from the
// format's definition); the router gate, norms, embedding and LM head F32. With the weights'
// dequantized values under moec names, computed here from the bytes and scales chosen.
import { mkdirSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { compile } from "../../compiler/index.js";
import { hfCheckpointNames } from "../../compiler/hf/checkpoint-names.js";
import type { CheckpointNames } from "../../compiler/ir/checkpoint-names.js";
import type { IrProgram } from "../../compiler/ir/ir.js";
import { type TensorData, writeSafetensors } from "../../runtime/safetensors/writer.js";
import { hfWeights, type HfWeights } from "./hf-layout.js";
import { canonicalFromHf } from "./hf-to-moec.js";
import { e4m3, nearestE4m3 } from "./quant-packers.js";
import { FAMILIES } from "./tiny-families.js";

export interface Fp8Checkpoint {
  program: IrProgram;
  names: CheckpointNames;
  /** The --set values of examples/models/mixtral_8x7b.moe that match the checkpoint. */
  set: Record<string, number>;
  vocab: number;
  /** The files' tensors by HF name (FP8 ones as bytes). */
  tensors: Map<string, TensorData>;
  /** Block scales [⌈out/br⌉, ⌈in/bc⌉] of each FP8 weight, by HF name. */
  scales: Map<string, Float32Array>;
  /** Every canonical weight at its value: FP8 weights dequantized, the others as written. */
  dequantized: Map<string, Float32Array>;
}

const FP8 = /self_attn\.[qkvo]_proj\.weight$|experts\.\d+\.w[123]\.weight$/;

/** Writes `dir` (D = I = 128, 4 experts, 2 layers) with block scales of `block` = [br, bc]. */
export function writeFp8Mixtral(dir: string, seed: number, block: [number, number]): Fp8Checkpoint {
  const family = FAMILIES.find((f) => f.hf.model_type === "mixtral")!;
  const hf = { ...family.hf, hidden_size: 128, intermediate_size: 128 };
  const set = { ...family.moec.set!, D: 128, I: 128 };
  const c = compile({ ...family.moec, set });
  if (!c.ok) throw new Error(c.formatDiagnostics());
  const names = hfCheckpointNames(c.info!.instance, c.info!.name, { family: "mixtral" });
  const [BR, BC] = block;
  const w = hfWeights(hf, seed);
  const tensors = new Map<string, TensorData>();
  const values: HfWeights = new Map();
  const scalesOf = new Map<string, Float32Array>();
  for (const [name, t] of w) {
    if (!FP8.test(name)) {
      tensors.set(name, { dtype: "F32", shape: t.shape, data: t.data });
      values.set(name, t);
      continue;
    }
    const [N, K] = t.shape as [number, number];
    const sr = Math.ceil(N / BR), sc = Math.ceil(K / BC);
    const blockOf = (r: number, k: number) => Math.floor(r / BR) * sc + Math.floor(k / BC);
    const scales = new Float32Array(sr * sc), bytes = new Uint8Array(N * K), deq = new Float32Array(N * K);
    for (let r = 0; r < N; r++) for (let k = 0; k < K; k++) scales[blockOf(r, k)] = Math.max(scales[blockOf(r, k)]!, Math.abs(t.data[r * K + k]!) / 448);
    for (let i = 0; i < scales.length; i++) scales[i] = Math.fround(scales[i]!);
    for (let r = 0; r < N; r++) for (let k = 0; k < K; k++) {
      const s = scales[blockOf(r, k)]!;
      bytes[r * K + k] = nearestE4m3(Math.max(-448, Math.min(448, t.data[r * K + k]! / s)));
      deq[r * K + k] = Math.fround(e4m3(bytes[r * K + k]!) * s);
    }
    tensors.set(name, { dtype: "F8_E4M3", shape: [N, K], bytes });
    tensors.set(`${name}_scale_inv`, { dtype: "F32", shape: [sr, sc], data: scales });
    scalesOf.set(name, scales);
    values.set(name, { shape: t.shape, data: deq });
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "config.json"), JSON.stringify({ ...hf, quantization_config: { quant_method: "fp8", fmt: "e4m3", activation_scheme: "dynamic", weight_block_size: block } }));
  writeSafetensors(path.join(dir, "model.safetensors"), tensors);
  return { program: c.program!, names, set, vocab: hf.vocab_size, tensors, scales: scalesOf, dequantized: canonicalFromHf(c.program!, c.info!.instance, "mixtral", values) };
}
