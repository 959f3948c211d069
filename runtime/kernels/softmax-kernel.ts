// Row softmax over the last dimension (the IR's `unary softmax`): one workgroup per row,
// max and sum by tree reduction in workgroup memory, f32 throughout.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

const WG = 128;

/** Uniform words of the softmax kernel's Params. */
export function softmaxParams(width: number): number[] {
  return [width, WG / 2, 0, 0];
}

export function softmaxKernel(dtype: StorageDtype): KernelSpec {
  const code = `${header(dtype)}
${RUN_STRUCT}
// wg_half from the host keeps the reductions rolled (see router-kernel).
struct Params { width: u32, wg_half: u32, _b: u32, _c: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> x: array<st>;
@group(0) @binding(3) var<storage, read_write> out: array<st>;
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
`;
  return {
    name: `softmax_rows[${dtype}]`,
    code,
    entryPoint: "main",
    bindings: [
      { name: "run", kind: "uniform" },
      { name: "params", kind: "uniform" },
      { name: "x", kind: "read" },
      { name: "out", kind: "storage" },
    ],
  };
}
