// Row softmax over the last dimension (the IR's `unary softmax`): one workgroup per row,
// max and sum by tree reduction in workgroup memory, f32 throughout.

import type { StorageDtype } from "../gpu/buffers.js";
import { defineKernel, type ParamValues, read, write } from "./define-kernel.js";
import { WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

const WG = 128;

// wg_half from the host keeps the reductions rolled (see router-fused.ts).
const SOFTMAX_UNIFORMS = { width: "u32", wg_half: "u32" } as const;

export function softmaxParams(width: number): ParamValues<typeof SOFTMAX_UNIFORMS> {
  return { width, wg_half: WG / 2 };
}

export function softmaxKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `softmax_rows[${dtype}]`,
    dtype,
    uniforms: SOFTMAX_UNIFORMS,
    buffers: { x: read(), out: write() },
    body: /* wgsl */ `
var<workgroup> red: array<f32, ${WG}>;

@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let t = wg_linear;
  if (t >= run.T) { return; }
  let base = t * p.width;
  var m = -3.402823e38;
  for (var j = tid; j < p.width; j += ${WG}u) { m = max(m, f32(x[base + j])); }
  red[tid] = m;
  workgroupBarrier();
  for (var s = p.wg_half; s > 0u; s = s >> 1u) {
    if (tid < s) { red[tid] = max(red[tid], red[tid + s]); }
    workgroupBarrier();
  }
  let mx = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var j = tid; j < p.width; j += ${WG}u) { sum += exp(f32(x[base + j]) - mx); }
  red[tid] = sum;
  workgroupBarrier();
  for (var s = p.wg_half; s > 0u; s = s >> 1u) {
    if (tid < s) { red[tid] = red[tid] + red[tid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  for (var j = tid; j < p.width; j += ${WG}u) { out[base + j] = st(exp(f32(x[base + j]) - mx) / total); }
}
`,
  });
}
