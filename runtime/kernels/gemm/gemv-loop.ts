// The few-row main loop of the GEMM generator (gemm-kernel.ts's `gemv` shape): a GEMV when the
// run has one row (a decode step, the --last-logits head), a GEMM of at most GEMV_MAX_ROWS rows
// otherwise. A 16-row register tile computes 16 rows whatever the run has, so a one-row product
// paid for 16 (bench/RESULTS.md, "Decode"); here a workgroup computes BN columns for its BM rows
// and nothing else, streaming each weight row once with every A value reused across the BM rows.
//
//   lanes        threads sharing one column's K (k = lane, lane + lanes, …): neighbouring threads
//                read neighbouring weights (coalesced on a GPU); with more than one, the partial
//                sums meet in workgroup memory after one barrier. One lane: no barrier and no
//                workgroup memory at all.
//   cols         columns per thread: independent accumulators that hide the FMA latency and
//                share each A load.
//   vec4         A and B read as vec4 words (K, the row strides and offsets multiples of 4): four
//                elements per load, which is what lets a CPU adapter stream at its read bandwidth
//                (bench/RESULTS.md, "Decode GEMV"). Without it, scalar loads through the design's
//                own load snippets, so every row and weight form has a few-row loop.

export const GEMV_WG = 64;
/** The most rows a `gemv` design computes per workgroup (larger runs take the tiled loop). */
export const GEMV_MAX_ROWS = 8;

export interface GemvShape {
  kind: "gemv";
  /** Rows per workgroup (BM), 1…GEMV_MAX_ROWS. */
  rows: number;
  /** Threads per column, a power of two dividing GEMV_WG. */
  lanes: number;
  /** Columns per thread (1…4). */
  cols: number;
  /** vec4 loads of A and B (the host checks K, strides and offsets are multiples of 4). */
  vec4: boolean;
  /** `kn`: B held transposed, [K, N] (the weight store transposes it once at upload), and the
   *  loop is kn-loop.ts's: `cols` counts vec4 groups of 4 adjacent columns, one lane. */
  layout?: "kn";
}

/** Columns one workgroup computes (BN). */
export const gemvColumns = (s: GemvShape): number => (GEMV_WG / s.lanes) * s.cols * (s.layout === "kn" ? 4 : 1);

export function checkGemvShape(s: GemvShape, name: string): void {
  const bad = (what: string) => new Error(`internal: GEMM '${name}': gemv ${what}`);
  if (!Number.isInteger(s.rows) || s.rows < 1 || s.rows > GEMV_MAX_ROWS) throw bad(`rows ${s.rows} outside 1…${GEMV_MAX_ROWS}`);
  if (!Number.isInteger(s.lanes) || s.lanes < 1 || GEMV_WG % s.lanes !== 0 || (s.lanes & (s.lanes - 1)) !== 0) throw bad(`lanes ${s.lanes} must be a power of two dividing ${GEMV_WG}`);
  if (!Number.isInteger(s.cols) || s.cols < 1 || s.cols > 4) throw bad(`cols ${s.cols} outside 1…4`);
  if (s.layout === "kn" && (s.lanes !== 1 || !s.vec4)) throw bad(`over [K, N] weights needs one lane and vec4 loads (lanes ${s.lanes}, vec4 ${s.vec4})`);
}

export interface GemvLoopSpec {
  shape: GemvShape;
  /** WGSL expressions of the K range (elements). */
  K: string;
  kStart: string;
  /** Statements setting `v` to A[r, k] (tile-local row `r`; `k` an element index, or `k4` a vec4
   *  word index under vec4), 0 outside. */
  loadA: string;
  /** Statements setting `w` (and `wg` when gated) to B[c, k] (tile-local column `c`; `k` or `k4`). */
  loadB: string;
  gated: boolean;
  /** The store of tile-local row `r`, column `c` from `v` (and `vg`): guards and the epilogue. */
  store: string;
}

/** Workgroup memory for the partial sums (none with one lane per column). */
export function gemvDecls(s: GemvShape, gated: boolean): string {
  if (s.lanes === 1) return "";
  const n = s.rows * gemvColumns(s) * s.lanes;
  return `var<workgroup> red: array<f32, ${n}>;${gated ? `\nvar<workgroup> red_g: array<f32, ${n}>;` : ""}`;
}

const range = (n: number): number[] => [...Array(n).keys()];

/** The loop and the stores, placed in uniform control flow inside `main` after the row and column setup. */
export function gemvLoop(s: GemvLoopSpec): string {
  const { rows: BM, lanes, cols: CPT, vec4 } = s.shape;
  const BN = gemvColumns(s.shape);
  const g = s.gated;
  const zero = vec4 ? "vec4<f32>(0.0)" : "0.0";
  const R = range(BM);
  const J = range(CPT);
  const acc = R.flatMap((r) => J.map((j) => `var acc_${r}_${j} = ${zero};${g ? ` var accg_${r}_${j} = ${zero};` : ""}`));
  // Column j of this thread is tile-local column c0 + j; its loads come from the design's snippet.
  const loadsB = J.map((j) => `var w_${j} = ${zero};${g ? ` var wg_${j} = ${zero};` : ""} { let c = c0 + ${j}u; var w = ${zero};${g ? ` var wg = ${zero};` : ""} ${s.loadB} w_${j} = w;${g ? ` wg_${j} = wg;` : ""} }`);
  const fmas = R.map(
    (r) => `{ let r = ${r}u; var v = ${zero}; ${s.loadA} ${J.map((j) => `acc_${r}_${j} = fma(v, w_${j}, acc_${r}_${j});${g ? ` accg_${r}_${j} = fma(v, wg_${j}, accg_${r}_${j});` : ""}`).join(" ")} }`,
  );
  const index = vec4 ? "k4" : "k";
  const K = vec4 ? `(${s.K}) / 4u` : s.K;
  const start = vec4 ? `(${s.kStart}) / 4u` : s.kStart;
  const total = (p: string, r: number, j: number) => (vec4 ? `dot(${p}_${r}_${j}, vec4<f32>(1.0))` : `${p}_${r}_${j}`);
  const loop = `
  let lane = tid % ${lanes}u;
  let c0 = (tid / ${lanes}u) * ${CPT}u;
  ${acc.join("\n  ")}
  for (var ${index} = ${start} + lane; ${index} < ${K}; ${index} += ${lanes}u) {
    ${loadsB.join("\n    ")}
    ${fmas.join("\n    ")}
  }`;
  if (lanes === 1) {
    const stores = R.flatMap((r) => J.map((j) => `{ let r = ${r}u; let c = c0 + ${j}u; var v = ${total("acc", r, j)};${g ? ` var vg = ${total("accg", r, j)};` : ""} ${s.store} }`));
    return `${loop}
  ${stores.join("\n  ")}`;
  }
  // Partial sums at red[(r·BN + c)·lanes + lane]; output o = r·BN + c sums its `lanes` words.
  const parts = R.flatMap((r) =>
    J.map((j) => `red[(${r}u * ${BN}u + c0 + ${j}u) * ${lanes}u + lane] = ${total("acc", r, j)};${g ? ` red_g[(${r}u * ${BN}u + c0 + ${j}u) * ${lanes}u + lane] = ${total("accg", r, j)};` : ""}`),
  );
  return `${loop}
  ${parts.join("\n  ")}
  workgroupBarrier();
  for (var o = tid; o < ${BM * BN}u; o += ${GEMV_WG}u) {
    let r = o / ${BN}u;
    let c = o % ${BN}u;
    var v = 0.0;${g ? " var vg = 0.0;" : ""}
    for (var l = 0u; l < ${lanes}u; l++) { v += red[o * ${lanes}u + l];${g ? ` vg += red_g[o * ${lanes}u + l];` : ""} }
    ${s.store}
  }`;
}
