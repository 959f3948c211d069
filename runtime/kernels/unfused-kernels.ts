// Kernels of the UNFUSED baseline (`fused: false`), written the way a straightforward port does
// it (ORT WebGPU's MoE is this shape): a one-thread-per-token selection kernel, then — after the
// host has read the selection back — per active expert a gather, the projections (gemm/linear-gemm.ts),
// an activation pass and a weighted `+=` into the output. Used to measure what fusion buys.

import type { StorageDtype } from "../gpu/buffers.js";
import { defineKernel, read, write } from "./define-kernel.js";
import type { RouterKernelOptions } from "./router-kernel.js";
import { ACT_WGSL, f32Lit, NONE, threadMain, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

const WG = 64;
export const UNFUSED_WG = WG;

/**
 * Selection + post-select, one thread per token scanning all E scores per round (O(k·E)).
 * Reads the transformed scores [T, E] (f32), writes tok_count, ids, wts like the fused router.
 */
export function naiveSelectKernel(o: RouterKernelOptions, scoreDtype: StorageDtype) {
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
  return defineKernel({
    name: `naive_select[${sel.kind}]`,
    dtype: scoreDtype,
    uniforms: { E: "u32", maxK: "u32" },
    buffers: {
      scr: read(),
      tok_count: write("array<u32>"),
      ids: write("array<u32>"),
      wts: write("array<f32>"),
      // bias(aux_free): e_bias is added to the selection scores.
      ...(o.selectionBias ? { ebias: read("array<f32>") } : {}),
    },
    body: /* wgsl */ `
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
`,
  });
}

/** n rows of D from offset `off` of the per-expert row list (gather and mix). */
const ROWS_UNIFORMS = { D: "u32", n: "u32", off: "u32" } as const;

/** Copies the rows listed in `rows[off .. off+n)` of x into a compact [n, D] buffer. */
export function gatherRowsKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `gather_rows[${dtype}]`,
    dtype,
    uniforms: ROWS_UNIFORMS,
    buffers: { x: read(), rows: read("array<u32>"), out: write() },
    body: /* wgsl */ `
${threadMain(WG)}
  if (i >= p.n * p.D) { return; }
  let r = i / p.D;
  out[i] = x[rows[p.off + r] * p.D + i % p.D];
}
`,
  });
}

/** h = act(g) ⊙ u (gated) or act(u), `count` (n·I) elements; `act` is an ACT_CODE. */
export function activationKernel(gated: boolean, dtype: StorageDtype) {
  return defineKernel({
    name: `activation[${gated ? "gated," : ""}${dtype}]`,
    dtype,
    uniforms: { count: "u32", act: "u32" },
    buffers: { u: read(), ...(gated ? { g: read() } : {}), out: write() },
    body: /* wgsl */ `${ACT_WGSL}
${threadMain(WG)}
  if (i >= p.count) { return; }
  out[i] = st(${gated ? "act_f32(p.act, f32(g[i])) * f32(u[i])" : "act_f32(p.act, f32(u[i]))"});
}
`,
  });
}

/** out[rows[off + r]] += rw[off + r] · ye[r] (the "final mix" of a naive port). */
export function weightedMixKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `weighted_mix[${dtype}]`,
    dtype,
    uniforms: ROWS_UNIFORMS,
    buffers: { ye: read(), rows: read("array<u32>"), rw: read("array<f32>"), out: write() },
    body: /* wgsl */ `
${threadMain(WG)}
  if (i >= p.n * p.D) { return; }
  let r = i / p.D;
  let o = rows[p.off + r] * p.D + i % p.D;
  out[o] = st(f32(out[o]) + rw[p.off + r] * f32(ye[i]));
}
`,
  });
}
