// Kernels of the UNFUSED baseline (`fused: false`), written the way a straightforward port does
// it (ORT WebGPU's MoE is this shape): a one-thread-per-token selection kernel, then — after the
// host has read the selection back — per active expert a gather, the projections (linear-kernel),
// an activation pass and a weighted `+=` into the output. Used to measure what fusion buys.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import type { RouterKernelOptions } from "./router-kernel.js";
import { ACT_WGSL, f32Lit, header, NONE, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

const WG = 64;
export const UNFUSED_WG = WG;

const spec = (name: string, code: string, bindings: KernelSpec["bindings"]): KernelSpec => ({ name, code, entryPoint: "main", bindings });

/**
 * Selection + post-select, one thread per token scanning all E scores per round (O(k·E)).
 * Reads the transformed scores [T, E] (f32), writes tok_count, ids, wts like the fused router.
 */
export function naiveSelectKernel(o: RouterKernelOptions, scoreDtype: StorageDtype): KernelSpec {
  const sel = o.select;
  const selv = (e: string): string => `(f32(scr[row + ${e}])${o.selectionBias ? ` + ebias[${e}]` : ""})`;
  let body: string;
  if (sel.kind === "dense") {
    body = `for (var e = 0u; e < E; e++) { ids[slot0 + e] = e; wts[slot0 + e] = f32(scr[row + e]); }\n  cnt = E;`;
  } else {
    const rounds = sel.kind === "topk" ? sel.k : sel.max;
    body = `var cum = 0.0;
  for (var r = 0u; r < ${rounds}u; r++) {
    var bi = NONE; var bv = 0.0;
    for (var e = 0u; e < E; e++) {
      var taken = false;
      for (var q = 0u; q < cnt; q++) { if (ids[slot0 + q] == e) { taken = true; } }
      let v = ${selv("e")};
      if (!taken && (bi == NONE || v > bv)) { bi = e; bv = v; }
    }
    if (bi == NONE) { break; }
    ${sel.kind === "threshold" ? `if (bv < ${f32Lit(sel.delta)}) { break; }` : ""}
    let w = f32(scr[row + bi]);
    ids[slot0 + cnt] = bi; wts[slot0 + cnt] = w; cnt += 1u;
    ${sel.kind === "topp" ? `cum += w; if (cum > ${f32Lit(sel.p)}) { break; }` : ""}
  }`;
  }
  const post = o.post
    .map((p) => {
      const each = (b: string): string => `for (var s = 0u; s < cnt; s++) { let q = slot0 + s; ${b} }`;
      switch (p.kind) {
        case "renorm":
          return `{ var sum = 0.0; ${each("sum += wts[q];")} if (sum != 0.0) { ${each("wts[q] = wts[q] / sum;")} } }`;
        case "softmax":
          return `{ var m = -3.402823e38; ${each("m = max(m, wts[q]);")} var sum = 0.0; ${each("let v = exp(wts[q] - m); wts[q] = v; sum += v;")} ${each("wts[q] = wts[q] / sum;")} }`;
        case "exp":
          return each("wts[q] = exp(wts[q]);");
        case "scale":
          return each(`wts[q] = wts[q] * ${f32Lit(p.s)};`);
      }
    })
    .join("\n  ");
  const code = `${header(scoreDtype)}
${RUN_STRUCT}
struct Params { E: u32, maxK: u32, _a: u32, _b: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> scr: array<st>;
@group(0) @binding(3) var<storage, read_write> tok_count: array<u32>;
@group(0) @binding(4) var<storage, read_write> ids: array<u32>;
@group(0) @binding(5) var<storage, read_write> wts: array<f32>;
${o.selectionBias ? "@group(0) @binding(6) var<storage, read> ebias: array<f32>;" : ""}
const NONE = ${NONE}u;
@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let t = wg_linear * ${WG}u + tid;
  if (t >= run.T) { return; }
  let E = p.E;
  let row = t * E;
  let slot0 = t * p.maxK;
  var cnt = 0u;
  ${body}
  ${post}
  tok_count[t] = cnt;
}
`;
  const bindings: KernelSpec["bindings"] = [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
    { name: "scr", kind: "read" },
    { name: "tok_count", kind: "storage" },
    { name: "ids", kind: "storage" },
    { name: "wts", kind: "storage" },
  ];
  if (o.selectionBias) bindings.push({ name: "ebias", kind: "read" });
  return spec(`naive_select[${sel.kind}]`, code, bindings);
}

/** Copies the rows listed in `rows[off .. off+n)` of x into a compact [n, D] buffer. Params: D, n, off. */
export function gatherRowsKernel(dtype: StorageDtype): KernelSpec {
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { D: u32, n: u32, off: u32, _a: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> x: array<st>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read_write> out: array<st>;
@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let i = wg_linear * ${WG}u + tid;
  if (i >= p.n * p.D) { return; }
  let r = i / p.D;
  out[i] = x[rows[p.off + r] * p.D + i % p.D];
}
`;
  return spec(`gather_rows[${dtype}]`, code, [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
    { name: "x", kind: "read" },
    { name: "rows", kind: "read" },
    { name: "out", kind: "storage" },
  ]);
}

/** h = act(g) ⊙ u (gated) or act(u), n·I elements. Params: count, act code (ACT_CODE). */
export function activationKernel(gated: boolean, dtype: StorageDtype): KernelSpec {
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { count: u32, act: u32, _b: u32, _c: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> u: array<st>;
${gated ? "@group(0) @binding(3) var<storage, read> g: array<st>;\n" : ""}@group(0) @binding(${gated ? 4 : 3}) var<storage, read_write> out: array<st>;
${ACT_WGSL}
@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let i = wg_linear * ${WG}u + tid;
  if (i >= p.count) { return; }
  out[i] = st(${gated ? "act_f32(p.act, f32(g[i])) * f32(u[i])" : "act_f32(p.act, f32(u[i]))"});
}
`;
  const bindings: KernelSpec["bindings"] = [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
    { name: "u", kind: "read" },
  ];
  if (gated) bindings.push({ name: "g", kind: "read" });
  bindings.push({ name: "out", kind: "storage" });
  return spec(`activation[${gated ? "gated," : ""}${dtype}]`, code, bindings);
}

/** out[rows[off + r]] += rw[off + r] · ye[r] (the "final mix" of a naive port). Params: D, n, off. */
export function weightedMixKernel(dtype: StorageDtype): KernelSpec {
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { D: u32, n: u32, off: u32, _a: u32 }
@group(0) @binding(1) var<uniform> p: Params;
@group(0) @binding(2) var<storage, read> ye: array<st>;
@group(0) @binding(3) var<storage, read> rows: array<u32>;
@group(0) @binding(4) var<storage, read> rw: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<st>;
@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let i = wg_linear * ${WG}u + tid;
  if (i >= p.n * p.D) { return; }
  let r = i / p.D;
  let o = rows[p.off + r] * p.D + i % p.D;
  out[o] = st(f32(out[o]) + rw[p.off + r] * f32(ye[i]));
}
`;
  return spec(`weighted_mix[${dtype}]`, code, [
    { name: "run", kind: "uniform" },
    { name: "params", kind: "uniform" },
    { name: "ye", kind: "read" },
    { name: "rows", kind: "read" },
    { name: "rw", kind: "read" },
    { name: "out", kind: "storage" },
  ]);
}
