// RMS and layer norm over the last dimension (the IR's `norm`), one workgroup per row, f32
// reductions in workgroup memory. The `add` variant first sums two inputs (the residual add that
// precedes a norm in a decoder layer, `h = h + attn; rmsnorm(h)`) and writes that sum too, so the
// residual stream and its normalization cost one dispatch.
//
//   rms:   out = x / sqrt(mean(x²) + eps) · w
//   layer: out = (x − mean) / sqrt(mean((x − mean)²) + eps) · w + b

import type { StorageDtype } from "../gpu/buffers.js";
import { type BufferDecl, defineKernel, read, write } from "./define-kernel.js";
import { WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const NORM_WG = 128;
export const NORM_KIND = { rms: 0, layer: 1 } as const;

// wg_half from the host keeps the reduction loop rolled (see router-fused.ts).
const UNIFORMS = { width: "u32", wg_half: "u32", kind: "u32", eps: "f32" } as const;

export function normParams(kind: "rms" | "layer", width: number, eps: number) {
  return { width, wg_half: NORM_WG / 2, kind: NORM_KIND[kind], eps };
}

export function normKernel(dtype: StorageDtype, add: boolean) {
  const inputs: Record<string, BufferDecl> = add ? { a: read(), b: read() } : { x: read() };
  const at = add ? "f32(a[base + j]) + f32(b[base + j])" : "f32(x[base + j])";
  return defineKernel({
    name: `norm${add ? "+add" : ""}[${dtype}]`,
    dtype,
    uniforms: UNIFORMS,
    buffers: { ...inputs, w: read(), bias: read(), ...(add ? { sum: write() } : {}), out: write() } as Record<string, BufferDecl>,
    body: /* wgsl */ `
var<workgroup> red: array<f32, ${NORM_WG}>;

fn row_total(v: f32, tid: u32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = p.wg_half; s > 0u; s = s >> 1u) {
    if (tid < s) { red[tid] = red[tid] + red[tid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(${NORM_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let t = wg_linear;
  if (t >= run.T) { return; }
  let base = t * p.width;
  let n = f32(p.width);
  var s1 = 0.0;
  for (var j = tid; j < p.width; j += ${NORM_WG}u) {
    let v = ${at};
    ${add ? "sum[base + j] = st(v);" : ""}
    s1 += v;
  }
  // Layer norm centres on the mean first (two passes: the variance of centred values is exact).
  let mean = select(0.0, row_total(s1, tid) / n, p.kind == ${NORM_KIND.layer}u);
  var s2 = 0.0;
  for (var j = tid; j < p.width; j += ${NORM_WG}u) {
    let c = ${at} - mean;
    s2 += c * c;
  }
  let inv = inverseSqrt(row_total(s2, tid) / n + p.eps);
  for (var j = tid; j < p.width; j += ${NORM_WG}u) {
    let v = (${at} - mean) * inv * f32(w[j]);
    out[base + j] = st(select(v, v + f32(bias[j]), p.kind == ${NORM_KIND.layer}u));
  }
}
`,
  });
}
