// The one GEMM generator. Every matrix product moec runs — the IR's `linear`, the router's gate
// GEMM above the binding limit, a pool's up and down projections (routed: grouped over the
// expert-sorted rows; shared: dense), a heterogeneous pool's per-member GEMMs — is an instance:
//
//   out[row, col] = epilogue( Σ_{k in [k0, K)} A[a_row, k] · B[col, k] )
//
// on the register-tiled loop of tile-loop.ts (16 × 64 tile, 64 threads, 4 × 4 per thread), or, for
// runs of a few rows, the `gemv` loop of gemv-loop.ts (BM ≤ 8 rows, no wasted rows). What varies is
// a few choices, each a table entry below:
//
//   rows      which rows a tile computes: `tokens` (row = token < M) or `sorted` (a tile of the
//             expert-sorted slot list of dispatch-kernel.ts; its expert is uniform per tile), the
//             A rows `gather`ed from x (token = slot / maxK) or contiguous in sorted order;
//             `members`: the tile's expert is a member of a heterogeneous pool, read from a table.
//   weights   how B[col, k] is addressed: `rows` (row g of a [rows, K] matrix, stacked experts
//             offset by expert · ncols; bound as the chunk [g0, g1) so a matrix above the binding
//             limit costs a dispatch per chunk), `expert-concat` (a shared pool's down projection:
//             K runs over every expert's hidden units), `member-up` / `member-down` (packed
//             heterogeneous members); `gated`: a second matrix (SwiGLU's gate) in the same tile.
//   shape     `tile` (default) or `gemv` (rows per workgroup, threads per column); a `gemv` shape
//             with layout `kn` reads B transposed, [K, N], on kn-loop.ts's register tile: a
//             dense `rows` matrix over token rows (the store's transposed chunks), or stacked
//             experts over sorted rows, each expert's block transposed (gated too).
//   quant     B as Q8_0 / Q4_0 blocks (weights/quant/gpu-blocks.ts: values words in `b`, f16
//             scales in `b_scale`), dequantized in the loads of quant-gemv-loop.ts; a dense
//             `rows` matrix over token rows on the vec4 `gemv` shape only.
//   epilogue  bias, activation (act(gate) · up when gated), routing weight, a residual input,
//             accumulate into the output (weight chunks), and the store: at the tile row's position
//             or at its slot/token, as the storage type or f32, with a row stride and offset.
//
// The uniforms are named by the choices (defineKernel), so host code fills them by name.

import type { StorageDtype } from "../../gpu/buffers.js";
import { defineKernel, read, write, type BufferDecl, type Kernel } from "../define-kernel.js";
import { ACT_WGSL, NONE, WG_BUILTINS, WG_LINEAR } from "../wgsl-common.js";
import type { GpuBlockFormat } from "../../weights/quant/gpu-blocks.js";
import { checkGemvShape, GEMV_WG, gemvColumns, gemvDecls, gemvLoop, type GemvShape } from "./gemv-loop.js";
import { knLoop } from "./kn-loop.js";
import { quantGemvLoop } from "./quant-gemv-loop.js";
import { TILE_BM, TILE_BN, TILE_WG, tileDecls, tileLoop } from "./tile-loop.js";

export const GEMM_BM = TILE_BM;
export const GEMM_BN = TILE_BN;

/** Words of one member in a heterogeneous pool's table: [kind, I_j, up_row_j, down_off_j, act_j, gated_j, bias_j, 0]. */
export const MEMBER_WORDS = 8;
export const MEMBER_KIND = { weights: 0, identity: 1, zero: 2 } as const;

export type GemmRows =
  /** Row r of tile m is token m·BM + r, below M (the run's T, or `rows` when non-zero). */
  | { kind: "tokens" }
  /** Tile m of the expert-sorted slot list; A rows gathered from the token of each slot, or read in sorted order. */
  | { kind: "sorted"; gather: boolean; members?: boolean };

export type GemmWeights = "rows" | "expert-concat" | "member-up" | "member-down";

export interface GemmEpilogue {
  /** Bias buffer (and the gate's, when gated), added when the `bias` flag is set (per member: its table word). */
  bias?: { buffer: string; gate?: string };
  /** Apply act_f32(act, ·) (gated: act(gate) · up). */
  act?: boolean;
  /** Multiply by the routing weight of the row's slot (`wts`). */
  routingWeight?: boolean;
  /** Add what the output holds when the `accumulate` flag is set (weight chunks after the first, residuals). */
  accumulate?: boolean;
  /** Add a residual tensor laid out like the output (`out = x·Wᵀ + residual`: attention's output
   *  projection with the `h + attn` that follows it), when the `residual` flag is set. */
  residual?: { buffer: string };
  /** Output buffer, where a row goes (`position`: the tile row m·BM + r; `id`: its slot or token) and its type. */
  store: { buffer: string; row: "position" | "id"; type: "st" | "f32" };
}

export interface GemmDesign {
  /** Kernel name prefix; the dtype is appended (`expert_gemm_up[grouped,gated,f16]`). */
  name: string;
  dtype: StorageDtype;
  rows: GemmRows;
  weights: GemmWeights;
  /** Buffer names: A, B (and the gate matrix when gated). */
  a: string;
  b: string;
  gate?: string;
  epilogue: GemmEpilogue;
  /** The few-row loop instead of the 16 × 64 tile (absent: the tile). */
  shape?: GemvShape;
  /** B held as blocks of this format (needs a vec4 `gemv` shape, dense `rows` weights over token rows, no gate). */
  quant?: GpuBlockFormat;
}

/** Rows and columns one workgroup of the design computes (the host's grid is ⌈cols / BN⌉ × ⌈rows / BM⌉). */
export function gemmBlock(shape: GemvShape | undefined): { BM: number; BN: number } {
  return shape ? { BM: shape.rows, BN: gemvColumns(shape) } : { BM: GEMM_BM, BN: GEMM_BN };
}

// ------------------------------------------------------------------------------------------ rows

/** Sets up the tile's rows: may return (workgroup-uniformly), then fills row_id[r] (NONE: padding). */
function rowSetup(d: GemmDesign): string {
  if (d.rows.kind === "tokens") {
    return `
  let M = select(p.rows, run.T, p.rows == 0u);
  if (tile_m * BM >= M) { return; }
  if (tid < BM) {
    let t = tile_m * BM + tid;
    row_id[tid] = select(NONE, t, t < M);
  }`;
  }
  const members = d.rows.members
    ? `
  if (tid < ${MEMBER_WORDS}u) { sh_m[tid] = table[expert * ${MEMBER_WORDS}u + tid]; }
  let mt = workgroupUniformLoad(&sh_m);
  if (mt[0] != ${MEMBER_KIND.weights}u) { return; }
  let I_e = mt[1];
  let up_row = mt[2];
  let down_off = mt[3];
  let act = mt[4];
  let gated = mt[5];
  let bias = mt[6];`
    : "";
  // gather: row_id = the token of the slot (A row, and where a gathered row is stored by position);
  // otherwise row_id = the slot itself (its routing weight and its place in y).
  const id = d.rows.gather ? "select(slot / p.maxK, NONE, slot == NONE)" : "slot";
  // The dispatch sort pads each expert to tiles of GEMM_BM slots; a few-row design of BM rows runs
  // GEMM_BM / BM workgroups per such tile (its expert is the tile's).
  const { BM } = gemmBlock(d.shape);
  const perTile = GEMM_BM / BM;
  const tile = perTile === 1 ? "tile_m" : `(tile_m / ${perTile}u)`;
  // A workgroup of fewer rows than the sorted tile whose first slot is padding has only padding
  // (the sort pads each expert's segment at its end): it returns before the K loop. An expert with
  // ≤ 8 rows — fine-grained pools at small T — then costs one 8-row workgroup per column tile, not two.
  const padding = perTile === 1 ? "" : `
  if (tid == 0u) { sh_u = sorted[tile_m * BM]; }
  if (workgroupUniformLoad(&sh_u) == NONE) { return; }`;
  return `
  if (tid == 0u) { sh_u = tile_info[0]; }
  let ntiles = workgroupUniformLoad(&sh_u);
  if (${tile} >= ntiles) { return; }${padding}
  if (tid == 0u) { sh_u = tile_expert[${tile}]; }
  let expert = workgroupUniformLoad(&sh_u);${members}
  if (tid < BM) {
    let slot = sorted[tile_m * BM + tid];
    row_id[tid] = ${id};
  }`;
}

/** The A row of tile row r (NONE: none). */
function aRow(d: GemmDesign): string {
  return d.rows.kind === "sorted" && !d.rows.gather ? "select(tile_m * BM + r, NONE, row_id[r] == NONE)" : "row_id[r]";
}

// ------------------------------------------------------------------------------------------ weights

interface WeightForm {
  /** After the row setup: `col0`, the first column of the tile (and an early exit for a tile outside the bound chunk). */
  setup: string;
  /** Statements setting `w` (and `wg` when gated) to B[col, k] for tile-local column c. */
  load: (gated: string | undefined) => string;
  /** The same as vec4 words (`w`, `wg`: vec4<f32>; `k4` the word index along K), where the form has it. */
  load4?: (gated: string | undefined) => string;
  /** Statements setting `w` (vec4<f32>) to B[k, c … c+3] of B held as [K, N] (a `kn` shape): the
   *  bound chunk is rows [g0, g1) of the [N, K] matrix, transposed, so its rows are g1 − g0 wide. */
  loadKn?: string;
  /** The column guard of a stored element (col = col0 + local column). */
  guard: string;
  /** Index of col's bias, and the K range (WGSL). */
  biasIndex: string;
  k0: string;
  K: string;
}

function weightForm(d: GemmDesign): WeightForm {
  const gate = d.gate;
  switch (d.weights) {
    case "rows": {
      if (d.rows.kind === "tokens") {
        // A dense matrix: the grid covers only the chunk's columns, [g0, g1).
        return {
          setup: `
  let col0 = p.g0 + tile_n * BN;`,
          load: (g) => `let col = col0 + c; if (col < p.g1) { let a = p.w_off + (col - p.g0) * p.K + k; w = f32(${d.b}[a]);${g ? ` wg = f32(${g}[a]);` : ""} }`,
          load4: (g) => `let col = col0 + c; if (col < p.g1) { let a = (p.w_off + (col - p.g0) * p.K) / 4u + k4; w = vec4<f32>(${d.b}[a]);${g ? ` wg = vec4<f32>(${g}[a]);` : ""} }`,
          loadKn: `let col = col0 + c; if (col < p.g1) { w = vec4<f32>(${d.b}[(k * (p.g1 - p.g0) + col - p.g0) / 4u]); }`,
          guard: "col < p.g1",
          biasIndex: "p.b_off + col",
          k0: "0u",
          K: "p.K",
        };
      }
      // Stacked experts: the expert's rows start at expert · ncols; tiles missing the chunk exit.
      return {
        setup: `
  let col0 = tile_n * BN;
  let base = expert * p.ncols;
  let g_lo = base + col0;
  let g_hi = base + min(col0 + BN, p.ncols);
  if (g_hi <= p.g0 || g_lo >= p.g1) { return; }`,
        load: (g) => `let col = col0 + c; let gr = base + col;
        if (col < p.ncols && gr >= p.g0 && gr < p.g1) { let a = (gr - p.g0) * p.K + k; w = f32(${d.b}[a]);${g ? ` wg = f32(${g}[a]);` : ""} }`,
        load4: (g) => `let col = col0 + c; let gr = base + col;
        if (col < p.ncols && gr >= p.g0 && gr < p.g1) { let a = (gr - p.g0) * (p.K / 4u) + k4; w = vec4<f32>(${d.b}[a]);${g ? ` wg = vec4<f32>(${g}[a]);` : ""} }`,
        // Transposed per expert (WeightStore.transposedBlocks): the chunk's expert e is [K, ncols] at (e·ncols − g0)·K.
        loadKn: `let col = col0 + c; let gr = base + col;
        if (col < p.ncols && gr >= p.g0 && gr < p.g1) { let a = ((base - p.g0) * p.K + k * p.ncols + col) / 4u; w = vec4<f32>(${d.b}[a]);${gate ? ` wg = vec4<f32>(${gate}[a]);` : ""} }`,
        guard: "col < p.ncols && base + col >= p.g0 && base + col < p.g1",
        biasIndex: "base + col",
        k0: "0u",
        K: "p.K",
      };
    }
    case "expert-concat":
      // B element (col, k) with k = e·I + i is row e·ncols + col of the stacked [N·ncols, I] matrix.
      return {
        setup: `
  let col0 = tile_n * BN;`,
        load: () => `let col = col0 + c;
        if (col < p.ncols) { let e = k / p.I; let i = k % p.I; let gr = e * p.ncols + col; if (gr >= p.g0 && gr < p.g1) { w = f32(${d.b}[(gr - p.g0) * p.I + i]); } }`,
        // Four k of one word stay inside one expert's hidden units when I is a multiple of 4 (host-checked).
        load4: () => `let col = col0 + c;
        if (col < p.ncols) { let e = (k4 * 4u) / p.I; let i = (k4 * 4u) % p.I; let gr = e * p.ncols + col; if (gr >= p.g0 && gr < p.g1) { w = vec4<f32>(${d.b}[((gr - p.g0) * p.I + i) / 4u]); } }`,
        guard: "col < p.ncols",
        biasIndex: "col",
        k0: "p.k_lo",
        K: "p.k_hi",
      };
    case "member-up":
      return {
        setup: `
  let col0 = tile_n * BN;
  if (col0 >= I_e) { return; }`,
        load: () => `let col = col0 + c;
        if (col < I_e) { let a = (up_row + col) * p.K + k; w = f32(${d.b}[a]); if (gated != 0u) { wg = f32(${gate}[a]); } }`,
        guard: "col < I_e",
        biasIndex: "up_row + col",
        k0: "0u",
        K: "p.K",
      };
    case "member-down":
      return {
        setup: `
  let col0 = tile_n * BN;`,
        load: () => `let col = col0 + c;
        if (col < p.ncols) { w = f32(${d.b}[down_off + col * I_e + k]); }`,
        guard: "col < p.ncols",
        biasIndex: "expert * p.ncols + col",
        k0: "0u",
        K: "I_e",
      };
  }
}

// ------------------------------------------------------------------------------------------ epilogue

/** The store of tile-local row `r`, column `col` from `v` (and `vg`, when gated) already declared. */
function epilogue(d: GemmDesign, wf: WeightForm, gated: boolean): string {
  const e = d.epilogue;
  const members = d.rows.kind === "sorted" && d.rows.members;
  const lines: string[] = [];
  if (e.bias) {
    const flag = members ? "bias != 0u" : "p.bias != 0u";
    lines.push(`if (${flag}) { v += f32(${e.bias.buffer}[${wf.biasIndex}]);${gated && e.bias.gate ? ` vg += f32(${e.bias.gate}[${wf.biasIndex}]);` : ""} }`);
  }
  if (e.act) {
    const code = members ? "act" : "p.act";
    if (gated && members) lines.push(`v = select(act_f32(${code}, v), act_f32(${code}, vg) * v, gated != 0u);`);
    else lines.push(gated ? `v = act_f32(${code}, vg) * v;` : `v = act_f32(${code}, v);`);
  }
  if (e.routingWeight) lines.push("v *= wts[row_id[r]];");
  const row = e.store.row === "position" ? "tile_m * BM + r" : "row_id[r]";
  const at = `p.out_off + (${row}) * p.ld + col`;
  if (e.residual) lines.push(`if (p.residual != 0u) { v += f32(${e.residual.buffer}[${at}]); }`);
  if (e.accumulate) lines.push(`if (p.accumulate != 0u) { v += f32(${e.store.buffer}[${at}]); }`);
  lines.push(`${e.store.buffer}[${at}] = ${e.store.type === "st" ? "st(v)" : "v"};`);
  return lines.join("\n        ");
}

// ------------------------------------------------------------------------------------------ the kernel

/** A dense matrix over token rows (`linear`, router gate, shared pools' up GEMM): its A may be a
 *  column span of a wider buffer (`a_off`, with `lda` the row stride). */
const denseRowsOf = (d: GemmDesign): boolean => d.weights === "rows" && d.rows.kind === "tokens";

/** The uniforms of a design, in struct order. */
function uniformsOf(d: GemmDesign): Record<string, "u32"> {
  const u: Record<string, "u32"> = { ntn: "u32", lda: "u32", ld: "u32", out_off: "u32" };
  if (d.rows.kind === "tokens") u["rows"] = "u32";
  else if (d.rows.gather) u["maxK"] = "u32";
  if (d.weights === "rows" || d.weights === "member-up") u["K"] = "u32";
  const denseRows = denseRowsOf(d);
  if (d.weights !== "member-up" && !denseRows) u["ncols"] = "u32";
  if (d.weights === "rows" || d.weights === "expert-concat") Object.assign(u, { g0: "u32", g1: "u32" });
  if (denseRows) Object.assign(u, { w_off: "u32", b_off: "u32", a_off: "u32" });
  if (d.weights === "expert-concat") Object.assign(u, { I: "u32", k_lo: "u32", k_hi: "u32" });
  const members = d.rows.kind === "sorted" && d.rows.members;
  if (d.epilogue.act && !members) u["act"] = "u32";
  if (d.epilogue.bias && !members) u["bias"] = "u32";
  if (d.epilogue.accumulate) u["accumulate"] = "u32";
  if (d.epilogue.residual) u["residual"] = "u32";
  return u;
}

function buffersOf(d: GemmDesign): Record<string, BufferDecl> {
  // vec4 loads bind A and B (and the gate) as vec4 words of the storage type.
  const ab = d.shape?.vec4 ? "array<vec4<st>>" : "array<st>";
  const bufs: Record<string, BufferDecl> = { [d.a]: read(ab) };
  if (d.rows.kind === "sorted") Object.assign(bufs, { sorted: read("array<u32>"), tile_expert: read("array<u32>"), tile_info: read("array<u32>") });
  if (d.rows.kind === "sorted" && d.rows.members) bufs["table"] = read("array<u32>");
  if (d.epilogue.routingWeight) bufs["wts"] = read("array<f32>");
  if (d.quant) Object.assign(bufs, { [d.b]: read("array<u32>"), [`${d.b}_scale`]: read("array<u32>") });
  else bufs[d.b] = read(ab);
  if (d.gate) bufs[d.gate] = read(ab);
  if (d.epilogue.bias) {
    bufs[d.epilogue.bias.buffer] = read();
    if (d.gate && d.epilogue.bias.gate) bufs[d.epilogue.bias.gate] = read();
  }
  if (d.epilogue.residual) bufs[d.epilogue.residual.buffer] = read();
  bufs[d.epilogue.store.buffer] = write(d.epilogue.store.type === "st" ? "array<st>" : "array<f32>");
  return bufs;
}

/** A GEMM kernel; its uniforms are all u32 words, named by the design (uniformsOf). */
export type GemmKernel = Kernel<Record<string, "u32">, Record<string, BufferDecl>>;

export function gemmKernel(d: GemmDesign): GemmKernel {
  if (d.epilogue.routingWeight && (d.rows.kind !== "sorted" || d.rows.gather)) throw new Error(`internal: GEMM '${d.name}': a routing weight needs slot rows (sorted, not gathered)`);
  if (d.epilogue.store.row === "id" && d.rows.kind === "sorted" && d.rows.gather) throw new Error(`internal: GEMM '${d.name}': gathered rows are stored by position`);
  if (d.weights.startsWith("member") && !(d.rows.kind === "sorted" && d.rows.members)) throw new Error(`internal: GEMM '${d.name}': member weights need member rows`);
  const gated = d.gate !== undefined;
  const wf = weightForm(d);
  const sorted = d.rows.kind === "sorted";
  const members = sorted && d.rows.kind === "sorted" && d.rows.members;
  if (d.shape) checkGemvShape(d.shape, d.name);
  if (d.shape && d.rows.kind === "sorted" && GEMM_BM % d.shape.rows !== 0) throw new Error(`internal: GEMM '${d.name}': gemv rows ${d.shape.rows} must divide the sorted tile of ${GEMM_BM}`);
  const vec4 = d.shape?.vec4 === true;
  if (d.quant && !(vec4 && denseRowsOf(d) && !gated)) throw new Error(`internal: GEMM '${d.name}': ${d.quant} weights need a vec4 gemv shape over a dense matrix of token rows, without a gate`);
  if (vec4 && !wf.load4) throw new Error(`internal: GEMM '${d.name}': weights '${d.weights}' have no vec4 loads`);
  const kn = d.shape?.layout === "kn";
  if (kn && (!wf.loadKn || d.quant || (gated && d.rows.kind !== "sorted"))) throw new Error(`internal: GEMM '${d.name}': a [K, N] shape needs \`rows\` weights (a gate only over sorted rows), not blocks`);
  const aOff = denseRowsOf(d) ? "p.a_off + " : "";
  const loadA = vec4
    ? `let ar = ${aRow(d)}; if (ar != NONE) { v = vec4<f32>(${d.a}[(ar * p.lda + ${aOff}0u) / 4u + k4]); }`
    : `let ar = ${aRow(d)}; if (ar != NONE) { v = f32(${d.a}[ar * p.lda + ${aOff}k]); }`;
  const loadB = vec4 ? wf.load4!(d.gate) : wf.load(d.gate);
  const { BM, BN } = gemmBlock(d.shape);
  const store = `if (row_id[r] != NONE) { let col = col0 + c; if (${wf.guard}) {
        ${epilogue(d, wf, gated)}
    } }`;
  const compute = kn
    ? knLoop({ shape: d.shape!, K: wf.K, loadA, loadB: wf.loadKn!, gated, store })
    : d.quant && d.shape
    ? quantGemvLoop({
        shape: d.shape,
        format: d.quant,
        K: wf.K,
        values: d.b,
        scales: `${d.b}_scale`,
        column: "let col = col0 + c; ok = col < p.g1; lr = col - p.g0;",
        loadA,
        store,
      })
    : d.shape
    ? gemvLoop({
        shape: d.shape,
        K: wf.K,
        kStart: wf.k0,
        gated,
        loadA,
        loadB,
        store,
      })
    : `${tileLoop({ K: wf.K, kStart: wf.k0, gated, loadA, loadB })}

  for (var i = 0u; i < 4u; i++) {
    let r = ty * 4u + i;
    if (row_id[r] == NONE) { continue; }
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + tx + 16u * j;
      if (${wf.guard}) {
        var v = acc[i * 4u + j];${gated ? "\n        var vg = acc_g[i * 4u + j];" : ""}
        ${epilogue(d, wf, gated)}
      }
    }
  }`;
  const body = /* wgsl */ `
${d.epilogue.act ? ACT_WGSL : ""}
const BM = ${BM}u;
const BN = ${BN}u;
const NONE = ${NONE}u;
${sorted ? "var<workgroup> sh_u: u32;" : ""}
${members ? `var<workgroup> sh_m: array<u32, ${MEMBER_WORDS}>;` : ""}
var<workgroup> row_id: array<u32, BM>;
${d.shape ? gemvDecls(d.shape, gated) : tileDecls(gated)}

@compute @workgroup_size(${d.shape ? GEMV_WG : TILE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let tile_n = wg_linear % p.ntn;
  let tile_m = wg_linear / p.ntn;
  ${rowSetup(d)}
  ${wf.setup}
  workgroupBarrier();
  ${compute}
}
`;
  // Drop the blank lines left by choices that emit nothing, so the text reads as written.
  const tidy = body.replace(/\n[ \t]*(?=\n)/g, "").replace(/\n{3,}/g, "\n\n");
  const shape = (d.shape ? `,gemv${d.shape.rows}x${d.shape.lanes}x${d.shape.cols}${d.shape.vec4 ? "v4" : ""}${kn ? "kn" : ""}` : "") + (d.quant ? `,${d.quant}` : "");
  return defineKernel({ name: `${d.name}[${d.dtype}${shape}]`, dtype: d.dtype, uniforms: uniformsOf(d), buffers: buffersOf(d), body: tidy });
}
