// Deterministic combine: out[t, d] = Σ_{s < count[t]} y[t·maxK + s, d], summed in slot order
// in f32 (no float atomics, so every run gives the same bits). A token with no expert gets 0.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const COMBINE_WG = 256;

export function combineKernel(dtype: StorageDtype): KernelSpec {
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { D: u32, maxK: u32, _a: u32, _b: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> tok_count: array<u32>;
@group(0) @binding(3) var<storage, read> y: array<st>;
@group(0) @binding(4) var<storage, read_write> out: array<st>;

@compute @workgroup_size(${COMBINE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let i = wg_linear * ${COMBINE_WG}u + tid;
  if (i >= run.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  var acc = 0.0;
  for (var s = 0u; s < tok_count[t]; s++) { acc += f32(y[(t * p.maxK + s) * p.D + d]); }
  out[i] = st(acc);
}
`;
  return {
    name: `combine[${dtype}]`,
    code,
    entryPoint: "main",
    bindings: [
      { name: "run", kind: "uniform" },
      { name: "params", kind: "uniform" },
      { name: "tok_count", kind: "read" },
      { name: "y", kind: "read" },
      { name: "out", kind: "storage" },
    ],
  };
}
