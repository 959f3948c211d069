// The combine of a heterogeneous pool, in slot order: null members are applied here (they have
// no GEMM rows), members with weights contribute their rows of y (gemm/hetero-gemms.ts):
//
//   out[t, d] = Σ_{s < count[t]} (identity: w_s·x[t, d]; zero: 0; else y[t·maxK + s, d])

import type { StorageDtype } from "../gpu/buffers.js";
import { defineKernel, read, write } from "./define-kernel.js";
import { MEMBER_KIND, MEMBER_WORDS } from "./gemm/gemm-kernel.js";
import { threadMain } from "./wgsl-common.js";

export const HETERO_COMBINE_WG = 256;

export function heteroCombineKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `hetero_combine[${dtype}]`,
    dtype,
    uniforms: { D: "u32", maxK: "u32" },
    buffers: { x: read(), tok_count: read("array<u32>"), ids: read("array<u32>"), wts: read("array<f32>"), table: read("array<u32>"), y: read(), out: write() },
    body: /* wgsl */ `
${threadMain(HETERO_COMBINE_WG)}
  if (i >= run.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  var acc = 0.0;
  for (var s = 0u; s < tok_count[t]; s++) {
    let slot = t * p.maxK + s;
    let kind = table[ids[slot] * ${MEMBER_WORDS}u];
    if (kind == ${MEMBER_KIND.weights}u) { acc += f32(y[slot * p.D + d]); }
    else if (kind == ${MEMBER_KIND.identity}u) { acc += wts[slot] * f32(x[i]); }
  }
  out[i] = st(acc);
}
`,
  });
}
