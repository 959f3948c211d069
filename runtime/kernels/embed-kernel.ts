// Embedding gather (the IR's `embed`): out[t, d] = W[ids[t], d], one thread per element. W may be
// bound as a chunk of rows [g0, g1) when the table is above the binding limit (150k × 2048 f32 is
// 1.2 GB): a dispatch writes only the rows whose id falls in its chunk, so a table costs one
// dispatch per chunk. Ids were range-checked on the host (an id outside the vocabulary is an
// error naming the position before anything runs). With `quant` the table is Q8_0/Q4_0/FP8 blocks
// (weights/quant/gpu-blocks.ts: `weight` the values words, `weight_scale` the scales) and each
// element is dequantized as it is gathered.

import type { StorageDtype } from "../gpu/buffers.js";
import { blockLength, type GpuBlockFormat } from "../weights/quant/gpu-blocks.js";
import { blockScale, FP8_DECODE_FN } from "./block-dequant-wgsl.js";
import { defineKernel, read, write } from "./define-kernel.js";
import { threadMain } from "./wgsl-common.js";

export const EMBED_WG = 256;

/** Element e of the chunk (row-major) as f32, from its block's word and scale. */
function blockElement(f: GpuBlockFormat): string {
  const scale = blockScale(f, "weight_scale", `e / ${blockLength(f)}u`);
  if (f === "fp8_e4m3") return `fp8_e4m3(weight[e / 4u] >> (8u * (e % 4u))) * ${scale}`;
  return f === "q8_0"
    ? `f32((bitcast<i32>(weight[e / 4u]) << (24u - 8u * (e % 4u))) >> 24u) * ${scale}`
    : `(f32((weight[e / 8u] >> (4u * (e % 8u))) & 15u) - 8.0) * ${scale}`;
}

export function embedKernel(dtype: StorageDtype, quant?: GpuBlockFormat) {
  const gather = quant ? `{ let e = (id - p.g0) * p.D + d; out[i] = st(${blockElement(quant)}); }` : "{ out[i] = weight[(id - p.g0) * p.D + d]; }";
  return defineKernel({
    name: `embed[${dtype}${quant ? `,${quant}` : ""}]`,
    dtype,
    uniforms: { D: "u32", g0: "u32", g1: "u32" },
    buffers: { ids: read("array<i32>"), ...(quant ? { weight: read("array<u32>"), weight_scale: read("array<u32>") } : { weight: read() }), out: write() },
    body: /* wgsl */ `${quant === "fp8_e4m3" ? FP8_DECODE_FN : ""}
${threadMain(EMBED_WG)}
  if (i >= run.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  let id = u32(ids[t]);
  if (id >= p.g0 && id < p.g1) ${gather}
}
`,
  });
}
