// The tiled f32-accumulating GEMM main loop, the one inner loop of every GEMM (gemm-kernel.ts).
//
// Output tile BM × BN = 16 × 64 per workgroup of 64 threads; each thread owns a 4 × 4 register
// tile (rows ty·4 + i, columns tx + 16·j): 16 FMAs per 8 workgroup-memory loads, and 2 barriers
// per BK = 16 slice of K. Few threads with more work each suit both GPUs (register tiling) and
// lavapipe, where every barrier costs a coroutine switch per invocation.
//
// Small M tiles (16 rows) fit MoE: rows per expert are ~T·k/E, often a handful.

export const TILE_BM = 16;
export const TILE_BN = 64;
export const TILE_BK = 16;
export const TILE_WG = 64;

export interface TileLoopSpec {
  /** WGSL expression of the K extent. */
  K: string;
  /** WGSL expression of the first k (default 0u). */
  kStart?: string;
  /** Statements setting `var v: f32` to A[r, k] (tile-local row `r`, absolute `k`; 0 outside). */
  loadA: string;
  /** Statements setting `var w: f32` (and `var wg: f32` when gated) to B[c, k] (tile-local column `c`). */
  loadB: string;
  gated: boolean;
}

/** Workgroup-memory declarations the loop needs. */
export function tileDecls(gated: boolean): string {
  return `var<workgroup> tile_a: array<f32, ${TILE_BM * TILE_BK}>;
var<workgroup> tile_b: array<f32, ${TILE_BK * TILE_BN}>;
${gated ? `var<workgroup> tile_g: array<f32, ${TILE_BK * TILE_BN}>;` : ""}`;
}

/**
 * The main loop, to be placed in uniform control flow inside `main` (it has barriers). Declares
 * `ty`, `tx`, `acc` (and `acc_g` when gated): acc[i * 4u + j] is output row ty·4 + i, column tx + 16·j.
 */
export function tileLoop(s: TileLoopSpec): string {
  const g = s.gated;
  return `
  let ty = tid / 16u;
  let tx = tid % 16u;
  var acc: array<f32, 16>;
  ${g ? "var acc_g: array<f32, 16>;" : ""}
  for (var k0 = ${s.kStart ?? "0u"}; k0 < ${s.K}; k0 += ${TILE_BK}u) {
    for (var q = 0u; q < ${(TILE_BM * TILE_BK) / TILE_WG}u; q++) {
      let idx = tid + q * ${TILE_WG}u;
      let r = idx / ${TILE_BK}u;
      let k = k0 + idx % ${TILE_BK}u;
      var v = 0.0;
      if (k < ${s.K}) { ${s.loadA} }
      tile_a[idx] = v;
    }
    for (var q = 0u; q < ${(TILE_BN * TILE_BK) / TILE_WG}u; q++) {
      // B stored k-major so the inner loop reads 4 columns 16 apart (no bank conflicts).
      let idx = tid + q * ${TILE_WG}u;
      let c = idx / ${TILE_BK}u;
      let kk = idx % ${TILE_BK}u;
      let k = k0 + kk;
      var w = 0.0;
      ${g ? "var wg = 0.0;" : ""}
      if (k < ${s.K}) { ${s.loadB} }
      tile_b[kk * ${TILE_BN}u + c] = w;
      ${g ? `tile_g[kk * ${TILE_BN}u + c] = wg;` : ""}
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILE_BK}u; kk++) {
      var a: array<f32, 4>;
      for (var i = 0u; i < 4u; i++) { a[i] = tile_a[(ty * 4u + i) * ${TILE_BK}u + kk]; }
      for (var j = 0u; j < 4u; j++) {
        let b = tile_b[kk * ${TILE_BN}u + tx + 16u * j];
        ${g ? `let bg = tile_g[kk * ${TILE_BN}u + tx + 16u * j];` : ""}
        for (var i = 0u; i < 4u; i++) {
          acc[i * 4u + j] = fma(a[i], b, acc[i * 4u + j]);
          ${g ? "acc_g[i * 4u + j] = fma(a[i], bg, acc_g[i * 4u + j]);" : ""}
        }
      }
    }
    workgroupBarrier();
  }`;
}
