// The UNFUSED baseline lowering (`fused: false`): what a direct port does, kept honest so that
// the fused/unfused ratio measures fusion and not a bad GEMM (both use 16×64 tiled GEMMs).
//
//   moe:    logits (linear) ─► transform kernels ─► naive select ─► READ BACK selection ─►
//           host loop over active experts: gather ─► up ─► (gate) ─► activation ─► down ─► out +=
//           (5–6 dispatches per active expert, one extra command buffer and read-back per pool)
//   shared: per expert: up ─► (gate) ─► activation ─► down ─► out +=

import type { IrOp } from "../../compiler/ir/ir.js";
import { innerAct, isGatedAct } from "../kernels/gemm/ffn-gemms.js";
import { ACT_CODE, grid2D } from "../kernels/wgsl-common.js";
import { LINEAR_BM, linearKernel, linearParams } from "../kernels/gemm/linear-gemm.js";
import { routerKernelOptions, routerMaxPerToken } from "../kernels/router-kernel.js";
import { softmaxKernel, softmaxParams } from "../kernels/softmax-kernel.js";
import { activationKernel, gatherRowsKernel, naiveSelectKernel, UNFUSED_WG, weightedMixKernel } from "../kernels/unfused-kernels.js";
import { ELEMENTWISE_WG, unaryKernel, unaryParams } from "../kernels/elementwise-kernels.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { elementwiseGrid } from "./grids.js";
import { checkFfnPool, poolWeights } from "./lower-moe-fused.js";
import type { ChunkedTensor } from "./weight-store.js";
import type { Recorder } from "./recorder.js";

type MoeOp = Extract<IrOp, { op: "moe" }>;
type SharedOp = Extract<IrOp, { op: "shared" }>;

interface ExpertProgram {
  /** Per-run uniform buffers and the words to write into them for n rows. */
  uniforms: { buffer: GPUBuffer; words(n: number): ArrayLike<number> }[];
  steps: { step: Step; grid(n: number): [number, number, number] | null }[];
}

/** Builds the per-expert dispatch chain; `xRows` is the compact input (or x itself for shared pools). */
async function expertChain(
  b: BuildContext,
  name: string,
  e: number,
  pool: MoeOp["pool"],
  w: ReturnType<typeof poolWeights>,
  bufs: { xe: GPUBuffer; ue: GPUBuffer; ge: GPUBuffer; he: GPUBuffer; ye: GPUBuffer; rows: GPUBuffer; rw: GPUBuffer; out: GPUBuffer; x: GPUBuffer },
  offset: () => number,
  gather: boolean,
): Promise<ExpertProgram> {
  const { dim: D, hidden: I } = pool;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const prog: ExpertProgram = { uniforms: [], steps: [] };
  const uni = (words: (n: number) => ArrayLike<number>, label: string): GPUBuffer => {
    const buffer = b.uniform(Array.from(words(1)), label);
    prog.uniforms.push({ buffer, words });
    return buffer;
  };
  const lin = async (t: ChunkedTensor, rowsPerExpert: number, K: number, a: GPUBuffer, bias: GPUBuffer, out: GPUBuffer, label: string): Promise<void> => {
    const lo = e * rowsPerExpert;
    const hi = lo + rowsPerExpert;
    for (const c of t.chunks) {
      if (c.g1 <= lo || c.g0 >= hi) continue;
      const g0 = Math.max(0, c.g0 - lo);
      const g1 = Math.min(rowsPerExpert, c.g1 - lo);
      const lp = (n: number) => linearParams({ rows: n, N: rowsPerExpert, K, wOff: (lo + g0 - c.g0) * K, bOff: lo, g0, g1, bias: pool.bias });
      const kernel = linearKernel(b.dtype);
      const params = uni((n) => kernel.params(lp(n).values), label);
      const ntn = lp(1).ntn;
      prog.steps.push({ step: await b.step(kernel, params, { a, weight: c.buffer, b: bias, out }, () => null), grid: (n) => grid2D(ntn * Math.ceil(n / LINEAR_BM), maxDim) });
    }
  };
  const a = gather ? bufs.xe : bufs.x;
  if (gather) {
    const k = gatherRowsKernel(b.dtype);
    const params = uni((n) => k.params({ D, n, off: offset() }), `${name}.gather.${e}`);
    prog.steps.push({
      step: await b.step(k, params, { x: bufs.x, rows: bufs.rows, out: bufs.xe }, () => null),
      grid: (n) => elementwiseGrid(n * D, UNFUSED_WG, maxDim),
    });
  }
  await lin(w.up, I, D, a, w.bUp, bufs.ue, `${name}.up.${e}`);
  if (w.gate) await lin(w.gate, I, D, a, w.bGate, bufs.ge, `${name}.gate.${e}`);
  {
    const gated = isGatedAct(pool.act);
    const k = activationKernel(gated, b.dtype);
    const params = uni((n) => k.params({ count: n * I, act: ACT_CODE[innerAct(pool.act)] }), `${name}.act.${e}`);
    const res = { u: bufs.ue, out: bufs.he, ...(gated ? { g: bufs.ge } : {}) };
    prog.steps.push({ step: await b.step(k, params, res, () => null), grid: (n) => elementwiseGrid(n * I, UNFUSED_WG, maxDim) });
  }
  await lin(w.down, D, I, bufs.he, w.bDown, bufs.ye, `${name}.down.${e}`);
  {
    const k = weightedMixKernel(b.dtype);
    const params = uni((n) => k.params({ D, n, off: offset() }), `${name}.mix.${e}`);
    prog.steps.push({
      step: await b.step(k, params, { ye: bufs.ye, rows: bufs.rows, rw: bufs.rw, out: bufs.out }, () => null),
      grid: (n) => elementwiseGrid(n * D, UNFUSED_WG, maxDim),
    });
  }
  return prog;
}

function runExpert(b: BuildContext, rec: Recorder, prog: ExpertProgram, n: number): void {
  for (const u of prog.uniforms) b.device.queue.writeBuffer(u.buffer, 0, new Uint32Array(u.words(n)));
  for (const s of prog.steps) {
    const g = s.grid(n);
    if (g) rec.dispatch(s.step.pipeline, s.step.bindGroup, g);
  }
}

export async function lowerMoeUnfused(b: BuildContext, op: MoeOp, index: number, name: string): Promise<Lowering> {
  const { router, pool } = op;
  checkFfnPool(pool, `moe '${name}'`);
  if (router.scope !== "token") throw new Error(`moe '${name}': batch-scope routing is not implemented on the GPU yet`);
  if (router.unit === "sequence") throw new Error(`moe '${name}': the unfused baseline does not route per sequence (router '${router.key}')`);
  const ro = routerKernelOptions(router, b.dtype);
  const E = pool.count;
  const D = pool.dim;
  const I = pool.hidden;
  const maxK = routerMaxPerToken(ro);
  const cap = b.cap;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;

  const scores = [b.storage(cap * E, `${name}.logits`), b.storage(cap * E, `${name}.scores`)];
  const tokCount = b.storage(cap, `${name}.tok_count`, 4);
  const ids = b.storage(cap * maxK, `${name}.ids`, 4);
  const wts = b.storage(cap * maxK, `${name}.wts`, 4);
  const rows = b.storage(cap * maxK, `${name}.rows`, 4);
  const rw = b.storage(cap * maxK, `${name}.rw`, 4);
  const bufs = {
    xe: b.storage(cap * D, `${name}.xe`),
    ue: b.storage(cap * I, `${name}.ue`),
    ge: b.storage(cap * I, `${name}.ge`),
    he: b.storage(cap * I, `${name}.he`),
    ye: b.storage(cap * D, `${name}.ye`),
    rows,
    rw,
    out: b.value(op.out),
    x: b.value(op.x),
  };

  const routerSteps: Step[] = [];
  // Logits: one linear dispatch per row chunk of the router weight (chunked above the binding limit).
  const routerW = b.weights.chunked(`${router.key}.weight`, E, D, `router '${router.key}'`);
  const rbias = ro.scoreBias ? b.weights.whole(`${router.key}.bias`, [E], `router '${router.key}' bias`) : b.dummy();
  for (const c of routerW.chunks) {
    const p = linearParams({ rows: 0, N: E, K: D, g0: c.g0, g1: c.g1, bias: ro.scoreBias });
    const logitBufs = { a: bufs.x, weight: c.buffer, b: rbias, out: scores[0]! };
    routerSteps.push(await b.step(linearKernel(b.dtype), p.values, logitBufs, (T) => grid2D(p.ntn * Math.ceil(T / LINEAR_BM), maxDim)));
  }
  let cur = 0;
  for (const t of ro.transforms) {
    const io = { x: scores[cur]!, out: scores[1 - cur]! };
    if (t.kind === "softmax") routerSteps.push(await b.step(softmaxKernel(b.dtype), softmaxParams(E), io, (T) => grid2D(T, maxDim)));
    else if (t.kind === "sigmoid") {
      routerSteps.push(await b.step(unaryKernel(b.dtype), unaryParams("sigmoid", E), io, (T) => elementwiseGrid(T * E, ELEMENTWISE_WG, maxDim)));
    } else throw new Error(`moe '${name}': the unfused baseline does not implement the '${t.kind}' transform`);
    cur = 1 - cur;
  }
  {
    const res = { scr: scores[cur]!, tok_count: tokCount, ids, wts, ...(ro.selectionBias ? { ebias: b.weights.stateF32(`${router.key}.e_bias`, E) } : {}) };
    routerSteps.push(await b.step(naiveSelectKernel(ro, b.dtype), { E, maxK }, res, (T) => elementwiseGrid(T, UNFUSED_WG, maxDim)));
  }

  const w = poolWeights(b, pool);
  const offsets = new Int32Array(E);
  const experts = new Map<number, ExpertProgram>();

  return {
    op: index,
    kind: "moe",
    name,
    clears: [],
    routing: { key: router.key, maxPerToken: maxK, tokCount, ids, wts },
    async encode(rec, T) {
      for (const s of routerSteps) record(rec, s, T);
      // The host needs the selection to plan its expert loop: a read-back inside the layer.
      const [cBuf, iBuf, wBuf] = await rec.sync([
        { buffer: tokCount, bytes: T * 4 },
        { buffer: ids, bytes: T * maxK * 4 },
        { buffer: wts, bytes: T * maxK * 4 },
      ]);
      const counts = new Uint32Array(cBuf!);
      const sel = new Uint32Array(iBuf!);
      const selW = new Float32Array(wBuf!);
      const perExpert = new Int32Array(E);
      for (let t = 0; t < T; t++) for (let s = 0; s < counts[t]!; s++) perExpert[sel[t * maxK + s]!]!++;
      let acc = 0;
      for (let e = 0; e < E; e++) {
        offsets[e] = acc;
        acc += perExpert[e]!;
      }
      const fill = Int32Array.from(offsets);
      const rowsHost = new Uint32Array(Math.max(1, acc));
      const rwHost = new Float32Array(Math.max(1, acc));
      for (let t = 0; t < T; t++) {
        for (let s = 0; s < counts[t]!; s++) {
          const e = sel[t * maxK + s]!;
          rowsHost[fill[e]!] = t;
          rwHost[fill[e]!++] = selW[t * maxK + s]!;
        }
      }
      b.device.queue.writeBuffer(rows, 0, rowsHost);
      b.device.queue.writeBuffer(rw, 0, rwHost);
      rec.clear(bufs.out);
      for (let e = 0; e < E; e++) {
        const n = perExpert[e]!;
        if (n === 0) continue;
        let prog = experts.get(e);
        if (!prog) {
          prog = await expertChain(b, name, e, pool, w, bufs, () => offsets[e]!, true);
          experts.set(e, prog);
        }
        runExpert(b, rec, prog, n);
      }
    },
  };
}

export async function lowerSharedUnfused(b: BuildContext, op: SharedOp, index: number, name: string): Promise<Lowering> {
  const { pool } = op;
  checkFfnPool(pool, `shared '${name}'`);
  const { dim: D, hidden: I, count: N } = pool;
  const cap = b.cap;
  const rows = b.storage(cap, `${name}.rows`, 4);
  const rw = b.storage(cap, `${name}.rw`, 4);
  b.device.queue.writeBuffer(rows, 0, Uint32Array.from({ length: cap }, (_, i) => i));
  b.device.queue.writeBuffer(rw, 0, new Float32Array(cap).fill(1));
  const bufs = {
    xe: b.storage(1, `${name}.xe`),
    ue: b.storage(cap * I, `${name}.ue`),
    ge: b.storage(cap * I, `${name}.ge`),
    he: b.storage(cap * I, `${name}.he`),
    ye: b.storage(cap * D, `${name}.ye`),
    rows,
    rw,
    out: b.value(op.out),
    x: b.value(op.x),
  };
  const w = poolWeights(b, pool);
  const chains: ExpertProgram[] = [];
  for (let e = 0; e < N; e++) chains.push(await expertChain(b, name, e, pool, w, bufs, () => 0, false));
  return {
    op: index,
    kind: "shared",
    name,
    clears: [],
    encode(rec, T) {
      rec.clear(bufs.out);
      for (const c of chains) runExpert(b, rec, c, T);
    },
  };
}
