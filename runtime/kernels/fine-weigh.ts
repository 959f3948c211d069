// The dense schedule of a fine pool whose experts all share the same tokens (dense selection,
// or top-k with k = N: OmniMoE's "group" of experts with identical token lists, here the whole
// pool): the pool is ONE pair of dense GEMMs over its N·R units, and this kernel puts the routing
// weights between them:
//   hw[t, e·R + r] = w_slot · h[t, e·R + r]   for each selected slot (t, s), e = ids[slot]
// hw is cleared before the run, so units a token did not select contribute 0 (exact when k < N).

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const FINE_WEIGH_WG = 64;

/** Params: R, maxK, NR (= N·R, the row length of h and hw). */
export function fineWeighParams(R: number, maxK: number, NR: number): number[] {
  return [R, maxK, NR, 0];
}

export function fineWeighKernel(dtype: StorageDtype): KernelSpec {
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { R: u32, maxK: u32, NR: u32, _a: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> tok_count: array<u32>;
@group(0) @binding(3) var<storage, read> ids: array<u32>;
@group(0) @binding(4) var<storage, read> wts: array<f32>;
@group(0) @binding(5) var<storage, read> h: array<st>;
@group(0) @binding(6) var<storage, read_write> hw: array<st>;

@compute @workgroup_size(${FINE_WEIGH_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let i = wg_linear * ${FINE_WEIGH_WG}u + tid;
  let slot = i / p.R;
  let t = slot / p.maxK;
  if (t >= run.T || slot % p.maxK >= tok_count[t]) { return; }
  let a = t * p.NR + ids[slot] * p.R + i % p.R;
  hw[a] = st(wts[slot] * f32(h[a]));
}
`;
  return {
    name: `fine_weigh[${dtype}]`,
    code,
    entryPoint: "main",
    bindings: [
      { name: "run", kind: "uniform" },
      { name: "params", kind: "uniform" },
      { name: "tok_count", kind: "read" },
      { name: "ids", kind: "read" },
      { name: "wts", kind: "read" },
      { name: "h", kind: "read" },
      { name: "hw", kind: "storage" },
    ],
  };
}
