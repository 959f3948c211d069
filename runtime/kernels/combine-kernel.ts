// Deterministic combine: out[t, d] = Σ_{s < count[t]} y[t·maxK + s, d], summed in slot order
// in f32 (no float atomics, so every run gives the same bits). A token with no expert gets 0.

import type { StorageDtype } from "../gpu/buffers.js";
import { defineKernel, read, write } from "./define-kernel.js";
import { threadMain } from "./wgsl-common.js";

export const COMBINE_WG = 256;

export function combineKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `combine[${dtype}]`,
    dtype,
    uniforms: { D: "u32", maxK: "u32" },
    buffers: { tok_count: read("array<u32>"), y: read(), out: write() },
    body: /* wgsl */ `
${threadMain(COMBINE_WG)}
  if (i >= run.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  var acc = 0.0;
  for (var s = 0u; s < tok_count[t]; s++) { acc += f32(y[(t * p.maxK + s) * p.D + d]); }
  out[i] = st(acc);
}
`,
  });
}
