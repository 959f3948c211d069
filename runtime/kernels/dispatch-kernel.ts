// Dispatch (vLLM's moe_align_block_size, in one WGSL dispatch): turns the router's per-token
// selection into an expert-sorted list of slot indices, each expert's segment padded to the GEMM
// row tile BM. Indices are sorted, never activations (ScatterMoE).
//
// Every workgroup redundantly scans the E padded counts (≤ 16 per thread for E ≤ 4096, plus a
// 256-wide Hillis–Steele scan), so no second dispatch is needed to publish the offsets; then
// each workgroup scatters its share of the T·maxK slots with one atomic per slot on a cleared
// cursor array. Workgroup 0 also writes the tile→expert map, the padding entries (NONE) and the
// tile count. The order of slots inside an expert's segment depends on atomic timing, but each
// GEMM row is computed independently of its neighbours, so results are bitwise deterministic.
//
// Outputs: sorted [tilesMax·BM] (slot index t·maxK + s, or NONE), tile_expert [tilesMax],
// tile_info[0] = number of row tiles used.

import { defineKernel, read, write } from "./define-kernel.js";
import { NONE, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

const WG = 256;
/** Slots scattered per thread. */
const ITEMS = 4;
export const DISPATCH_SLOTS_PER_WORKGROUP = WG * ITEMS;

/** Upper bound of row tiles for `slots` selected (token, expert) pairs over E experts. */
export function maxRowTiles(slots: number, numExperts: number, bm: number): number {
  return Math.ceil(slots / bm) + Math.min(numExperts, slots);
}

/** Uniforms of the dispatch kernel: E experts, maxK slots per token, the row tile BM. */
export function dispatchParams(E: number, maxK: number, bm: number) {
  return { E, maxK, BM: bm, wg: WG };
}

export function dispatchKernel() {
  return defineKernel({
    name: "dispatch",
    // wg = the workgroup size, from the host so the scan loop stays rolled (see router-kernel).
    uniforms: { E: "u32", maxK: "u32", BM: "u32", wg: "u32" },
    buffers: {
      expert_count: read("array<u32>"),
      tok_count: read("array<u32>"),
      ids: read("array<u32>"),
      cursor: write("array<atomic<u32>>"),
      sorted: write("array<u32>"),
      tile_expert: write("array<u32>"),
      tile_info: write("array<u32>"),
    },
    body: /* wgsl */ `
const WG = ${WG}u;
const ITEMS = ${ITEMS}u;
const NONE = ${NONE}u;
var<workgroup> part: array<u32, WG>;

fn padded(c: u32) -> u32 { return (c + p.BM - 1u) / p.BM * p.BM; }

@compute @workgroup_size(${WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let E = p.E;
  let C = (E + WG - 1u) / WG;  // experts per thread chunk
  var own = 0u;
  for (var c = 0u; c < C; c++) {
    let e = tid * C + c;
    if (e < E) { own += padded(expert_count[e]); }
  }
  part[tid] = own;
  workgroupBarrier();
  for (var off = 1u; off < p.wg; off = off << 1u) {
    var v = 0u;
    if (tid >= off) { v = part[tid - off]; }
    workgroupBarrier();
    part[tid] += v;
    workgroupBarrier();
  }
  // part[i] is now the inclusive sum of chunks 0..i.

  if (wg_linear == 0u) {
    var o = part[tid] - own;
    for (var c = 0u; c < C; c++) {
      let e = tid * C + c;
      if (e < E) {
        let cnt = expert_count[e];
        let pd = padded(cnt);
        for (var tile = o / p.BM; tile < (o + pd) / p.BM; tile++) { tile_expert[tile] = e; }
        for (var q = o + cnt; q < o + pd; q++) { sorted[q] = NONE; }
        o += pd;
      }
    }
    if (tid == WG - 1u) { tile_info[0] = part[WG - 1u] / p.BM; }
  }

  let nslots = run.T * p.maxK;
  for (var it = 0u; it < ITEMS; it++) {
    let i = (wg_linear * ITEMS + it) * WG + tid;
    if (i >= nslots) { break; }
    let t = i / p.maxK;
    let s = i % p.maxK;
    if (s < tok_count[t]) {
      let e = ids[i];
      let chunk = e / C;
      var off = 0u;
      if (chunk > 0u) { off = part[chunk - 1u]; }
      for (var q = chunk * C; q < e; q++) { off += padded(expert_count[q]); }
      sorted[off + atomicAdd(&cursor[e], 1u)] = i;
    }
  }
}
`,
  });
}
