// Token-centric kernels for fine experts (atom, lowrank; OmniMoE's "tail" path, PEER):
// gather–dot–axpy over the router's (token, slot) list, with no per-expert work and no sort.
//
//   fine_dot  (this file): one thread per (token, slot, unit r):
//       h[slot, r] = w_slot · act(a[e·R + r] · x_t)             (gated: act(g·x_t) · (a·x_t))
//   fine_axpy (fine-axpy.ts): one thread per (token, slot chunk, d):
//       out[t, d] = Σ_{slot in chunk, slot < count[t]} Σ_r h[slot, r] · b[e, d, r]
//
// Units are the R rows of a lowrank expert (act = identity), the single row of an atom (R = 1) or
// the I hidden units of an ffn expert (with b_up/b_gate when it has biases): the stacked layouts
// a [N, R, D] / u [N, D] / w_up [N, I, D] and b [N, D, R] / v [N, D] / w_down [N, D, I] are read
// in place.
// Each thread computes a whole dot product with 4 independent accumulators: no barrier, no
// workgroup memory (lavapipe pays ~5 µs per barrier), and the x row is shared through the cache.
//
// Weight chunking: `a` (and `a_gate`) may be bound as row chunks [g0, g1) of [N·R, D]; one
// dispatch per chunk, each computing the units whose row it holds.

import type { StorageDtype } from "../gpu/buffers.js";
import type { GpuBlockFormat } from "../weights/quant/gpu-blocks.js";
import { blockRowDot, blockWordFns } from "./block-dequant-wgsl.js";
import { type BufferDecl, defineKernel, type ParamValues, read, write } from "./define-kernel.js";
import { ACT_WGSL, threadMain } from "./wgsl-common.js";

export const FINE_WG = 64;

/** The router's (token, slot) lists, read-only: slots per token, expert id and weight per slot. */
export const ROUTED_SLOTS = { tok_count: read("array<u32>"), ids: read("array<u32>"), wts: read("array<f32>") } as const;

/** Thread i → unit i % R of `slot` (token t): threads past the run or the token's slots exit (uniforms R, maxK). */
export const SLOT_UNIT_WGSL = /* wgsl */ `
  let slot = i / p.R;
  let t = slot / p.maxK;
  if (t >= run.T || slot % p.maxK >= tok_count[t]) { return; }`;

export interface FineDotParams {
  D: number;
  /** Units (rank) per expert. */
  R: number;
  maxK: number;
  /** act_f32 code applied to the (gate) dot product. */
  act: number;
  gated: boolean;
  /** Rows [g0, g1) of [N·R, D] held by the bound chunk. */
  g0: number;
  g1: number;
  /** Add b_up (and b_gate) [N·R] before the activation (ffn(…, bias = true)). */
  bias?: boolean;
}

const FINE_DOT_UNIFORMS = { D: "u32", R: "u32", maxK: "u32", act: "u32", gated: "u32", g0: "u32", g1: "u32", bias: "u32" } as const;

export function fineDotParams(o: FineDotParams): ParamValues<typeof FINE_DOT_UNIFORMS> {
  return { D: o.D, R: o.R, maxK: o.maxK, act: o.act, gated: o.gated ? 1 : 0, g0: o.g0, g1: o.g1, bias: o.bias ? 1 : 0 };
}

/** Dot of `D` elements of array `arr` from `a0` with x from `x0`, 4 accumulators. */
function dotLoop(arr: string, acc: string): string {
  return `
    var ${acc}0 = 0.0; var ${acc}1 = 0.0; var ${acc}2 = 0.0; var ${acc}3 = 0.0;
    var d = 0u;
    for (; d + 4u <= p.D; d += 4u) {
      ${acc}0 = fma(f32(${arr}[a0 + d]), f32(x[x0 + d]), ${acc}0);
      ${acc}1 = fma(f32(${arr}[a0 + d + 1u]), f32(x[x0 + d + 1u]), ${acc}1);
      ${acc}2 = fma(f32(${arr}[a0 + d + 2u]), f32(x[x0 + d + 2u]), ${acc}2);
      ${acc}3 = fma(f32(${arr}[a0 + d + 3u]), f32(x[x0 + d + 3u]), ${acc}3);
    }
    for (; d < p.D; d++) { ${acc}0 = fma(f32(${arr}[a0 + d]), f32(x[x0 + d]), ${acc}0); }
    let ${acc} = (${acc}0 + ${acc}1) + (${acc}2 + ${acc}3);`;
}

/** The same dot with A and x read as vec4 words (D, and so every row offset, a multiple of 4):
 *  a quarter of the loads, each of four elements — on a CPU adapter, where neighbouring threads
 *  read different rows, a quarter of the gathers. */
function dotLoop4(arr: string, acc: string): string {
  return `
    var ${acc}4 = vec4<f32>(0.0);
    for (var d4 = 0u; d4 < p.D / 4u; d4++) { ${acc}4 = fma(vec4<f32>(${arr}[a0 / 4u + d4]), vec4<f32>(x[x0 / 4u + d4]), ${acc}4); }
    let ${acc} = (${acc}4.x + ${acc}4.y) + (${acc}4.z + ${acc}4.w);`;
}

/** The dot over Q8_0/Q4_0/FP8 blocks (weights/quant/gpu-blocks.ts; `arr` the values words, `arr_scale`
 *  the scales), x as vec4 words: dequantized in registers, f32 accumulation. */
const blockDotLoop = (f: GpuBlockFormat) => (arr: string, acc: string): string =>
  blockRowDot(f, { values: arr, scales: `${arr}_scale`, lr: "row - p.g0", len: "p.D", vec: (e) => `vec4<f32>(x[(x0 + ${e}) / 4u])`, out: acc });

/** `vec4`: x, a_up and a_gate as vec4 words (the caller checks D % 4 = 0). `quant`: a_up and
 *  a_gate as Q8_0/Q4_0/FP8 blocks (with `a_up_scale`, `a_gate_scale`; D whole blocks, vec4 x). */
export function fineDotKernel(dtype: StorageDtype, vec4 = false, quant?: GpuBlockFormat) {
  if (quant && !vec4) throw new Error(`internal: fine_dot over ${quant} blocks needs vec4 loads of x`);
  const words = vec4 ? "array<vec4<st>>" : "array<st>";
  const dot = quant ? blockDotLoop(quant) : vec4 ? dotLoop4 : dotLoop;
  const weights: Record<string, BufferDecl> = quant
    ? { a_up: read("array<u32>"), a_up_scale: read("array<u32>"), a_gate: read("array<u32>"), a_gate_scale: read("array<u32>") }
    : { a_up: read(words), a_gate: read(words) };
  return defineKernel({
    name: `fine_dot[${dtype}${vec4 ? ",v4" : ""}${quant ? `,${quant}` : ""}]`,
    dtype,
    uniforms: FINE_DOT_UNIFORMS,
    buffers: {
      x: read(words),
      ...ROUTED_SLOTS,
      ...weights,
      b_up: read(),
      b_gate: read(),
      h: write("array<f32>"),
    },
    body: /* wgsl */ `${ACT_WGSL}
${quant ? blockWordFns(quant) : ""}

${threadMain(FINE_WG)}${SLOT_UNIT_WGSL}
  let row = ids[slot] * p.R + i % p.R;
  if (row < p.g0 || row >= p.g1) { return; }
  let a0 = (row - p.g0) * p.D;
  let x0 = t * p.D;
  ${dot("a_up", "z0s")}
  var z = z0s;
  if (p.bias != 0u) { z += f32(b_up[row]); }
  var v = 0.0;
  if (p.gated != 0u) {
    ${dot("a_gate", "zg0")}
    var zg = zg0;
    if (p.bias != 0u) { zg += f32(b_gate[row]); }
    v = act_f32(p.act, zg) * z;
  } else {
    v = act_f32(p.act, z);
  }
  h[i] = wts[slot] * v;
}
`,
  });
}
