// The dense schedule of a fine pool whose experts all share the same tokens (dense selection,
// or top-k with k = N: OmniMoE's "group" of experts with identical token lists, here the whole
// pool): the pool is ONE pair of dense GEMMs over its N·R units, and this kernel puts the routing
// weights between them:
//   hw[t, e·R + r] = w_slot · h[t, e·R + r]   for each selected slot (t, s), e = ids[slot]
// hw is cleared before the run, so units a token did not select contribute 0 (exact when k < N).

import type { StorageDtype } from "../gpu/buffers.js";
import { defineKernel, read, write } from "./define-kernel.js";
import { ROUTED_SLOTS, SLOT_UNIT_WGSL } from "./fine-gather-dot.js";
import { threadMain } from "./wgsl-common.js";

export const FINE_WEIGH_WG = 64;

/** Uniforms R, maxK and NR (= N·R, the row length of h and hw). */
export function fineWeighKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `fine_weigh[${dtype}]`,
    dtype,
    uniforms: { R: "u32", maxK: "u32", NR: "u32" },
    buffers: { ...ROUTED_SLOTS, h: read(), hw: write() },
    body: /* wgsl */ `
${threadMain(FINE_WEIGH_WG)}${SLOT_UNIT_WGSL}
  let a = t * p.NR + ids[slot] * p.R + i % p.R;
  hw[a] = st(wts[slot] * f32(h[a]));
}
`,
  });
}
