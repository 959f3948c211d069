// Lowering of one router (the routing half of a fused `moe`): plan (router-plan.ts), buffers,
// and the recorded passes:
//
//   token scope:  router                                                   1 dispatch
//   per sequence: mean row into every row ─► router on those rows           2 dispatches
//   run scope:    router (scores) ─► choose thresholds ─► router (select)  3 dispatches
//   then, when asked: statistics (1), state update (1, routers with state update rules)
//
// The router's `aux` vector (score bias, cosine norms, stage weights and STATE) lives in the
// weight store, so state persists across runs and plans; `readState` reads it back.

import type { IrRouter } from "../../compiler/ir/ir.js";
import { createBuffer, uploadFloats } from "../gpu/buffers.js";
import { fromF16, toF16 } from "../gpu/f16.js";
import { CAP_FROM_TABLE, chooseThresholdKernel, chooseWords, routerStateKernel, routerStatsKernel, stateParams, STATS_WG } from "../kernels/router-aux-kernels.js";
import { fusedRouterKernel, fusedRouterTokensPerWorkgroup, SUB_WG, WG_WG } from "../kernels/router-fused.js";
import { MODE, P, R_PRECOMPUTED, routerBlock, STATS } from "../kernels/router-layout.js";
import { planRouter, type RouterPlan } from "../kernels/router-plan.js";
import { grid2D } from "../kernels/wgsl-common.js";
import { SEQUENCE_MEAN_WG, sequenceMeanKernel, sequenceMeanParams } from "../kernels/sequence-mean-kernel.js";
import { elementwiseGrid } from "./grids.js";
import type { RawRouterStats } from "../stats/router-stats.js";
import type { BuildContext, Step } from "./build-context.js";
import { splitRouterGate } from "./router-gate.js";
import type { ReadRequest } from "./recorder.js";
import { checkPluginKernels } from "../plugins/plugin-kernels.js";

export interface RouterStatsReadback {
  key: string;
  reads(T: number): ReadRequest[];
  decode(data: ArrayBuffer[], T: number): RawRouterStats;
}

export interface RouterStateHandle {
  key: string;
  aux: GPUBuffer;
  plan: RouterPlan;
}

export interface RouterLowering {
  plan: RouterPlan;
  steps: Step[];
  clears: GPUBuffer[];
  maxK: number;
  tokCount: GPUBuffer;
  ids: GPUBuffer;
  wts: GPUBuffer;
  expertCount: GPUBuffer;
  /** Per-run uniform writes before recording (expert choice's capacity depends on T). */
  prepare(T: number): void;
  stats?: RouterStatsReadback;
  state?: RouterStateHandle;
}

/** Options of the routing passes, from the executor. */
export interface RoutingOptions {
  stats: boolean;
  /** Run the routers' state update rules after the pass (aux-free bias, …). Off while a model runs. */
  updateState: boolean;
}

function rowNorms(w: Float32Array, rows: number, cols: number, dtype: "f32" | "f16"): Float32Array {
  // Norms of the weights the kernel actually multiplies (f16-rounded under f16 storage).
  const v = dtype === "f16" ? fromF16(toF16(w)) : w;
  const out = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += v[r * cols + c]! * v[r * cols + c]!;
    out[r] = Math.sqrt(s);
  }
  return out;
}

/** The router's aux vector, built from the weights once (state: file value, else its init). */
function auxBuffer(b: BuildContext, plan: RouterPlan): GPUBuffer {
  const key = plan.router.key;
  return b.weights.derivedBuffer(`${key}#router-aux`, () => {
    const a = new Float32Array(Math.max(1, plan.auxLength));
    for (const e of plan.aux) {
      if (e.derive === "row-norms") {
        const w = b.weights.host(e.of!, [plan.E, plan.D], `router '${key}'`);
        a.set(rowNorms(w, plan.E, plan.D, b.dtype), e.offset);
        continue;
      }
      const t = e.state ? b.weights.hostMaybe(e.name) : b.weights.host(e.name, [e.length], `router '${key}'`);
      if (t && t.length !== e.length) throw new Error(`${e.state ? "state" : "weight"} '${e.name}' has ${t.length} values, expected [${e.length}]`);
      if (t) a.set(t, e.offset);
      else a.fill(e.init, e.offset, e.offset + e.length);
    }
    return uploadFloats(b.device, a, "f32", `${key}.aux`);
  });
}

function gemmBuffer(b: BuildContext, plan: RouterPlan): GPUBuffer {
  const g = plan.gemm;
  if (!g) return b.dummy();
  if (g.tensors.length === 1) return b.weights.whole(g.tensors[0]!.name, [g.rows, plan.D], `router '${plan.router.key}'`);
  return b.weights.derivedBuffer(`${plan.router.key}#gemm@${b.dtype}`, () => {
    const all = new Float32Array(g.rows * plan.D);
    let row = 0;
    for (const t of g.tensors) {
      all.set(b.weights.host(t.name, [t.rows, plan.D], `router '${plan.router.key}'`), row * plan.D);
      row += t.rows;
    }
    return uploadFloats(b.device, all, b.dtype, `${plan.router.key}.gemm`);
  });
}

export async function lowerRouter(b: BuildContext, router: IrRouter, x: GPUBuffer, name: string, opts: RoutingOptions): Promise<RouterLowering> {
  const plan = planRouter(router);
  const { E, maxK } = plan;
  const cap = b.cap;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const u32 = 4;
  const sizes = plan.scratch(cap);
  const scr = b.storage(sizes.scr, `${name}.router.scr`, 4);
  const tokCount = b.storage(cap, `${name}.tok_count`, u32);
  const ids = b.storage(cap * maxK, `${name}.ids`, u32);
  const wts = b.storage(cap * maxK, `${name}.wts`, 4);
  const expertCount = b.storage(E, `${name}.expert_count`, u32);
  // Never the shared dummy: that one may also be bound read-only here (a score without a GEMM
  // matrix), and one buffer bound read-only and writable in a dispatch is a validation error.
  const tstats = b.storage(opts.stats ? sizes.tstats : 1, `${name}.router.tstats`, 4);
  const aux = auxBuffer(b, plan);
  // `per sequence` (§11.1): the router reads the run's mean row, copied into every row, so the one
  // router kernel gives every token the same decision (sequence-mean-kernel.ts).
  const steps: Step[] = [];
  if (router.unit === "sequence") {
    // A decode step's rows are one new position (or one per sequence of a batch): their mean is not
    // the mean of the sequence, so the cached decode would not equal a full run.
    if (b.generation && b.generation.mode !== "prefill") {
      throw new Error(`router '${router.key}' routes per sequence (one decision from the mean of the whole run), which a cached decode step cannot reproduce; run the model with \`moec run\` instead`);
    }
    const mean = b.storage(cap * plan.D, `${name}.router.x_mean`);
    steps.push(await b.step(sequenceMeanKernel(b.dtype), sequenceMeanParams(plan.D), { x, out: mean }, () => elementwiseGrid(plan.D, SEQUENCE_MEAN_WG, maxDim)));
    x = mean;
  }
  const wgHalf = (b.useSubgroups ? SUB_WG : WG_WG) / 2;
  // A GEMM matrix above the binding limit: its row chunks run as separate dispatches before the
  // pass that would do the GEMM (router-gate.ts), and the router kernel skips it.
  const probe = plan.params(cap, MODE.FULL, 0, wgHalf);
  const gate = plan.gemm
    ? await splitRouterGate(b, { key: plan.router.key, tensors: plan.gemm.tensors, D: plan.D, x, scr, goff: probe[P.GOFF]!, gstride: probe[P.GSTRIDE]!, name })
    : null;
  const weight = gate ? gate.weight : gemmBuffer(b, plan);
  const kernel = fusedRouterKernel({ dtype: b.dtype, subgroups: b.useSubgroups, plugins: plan.plugins });
  // WGSL of plugin stages that fails to compile is reported against its plugin and stage.
  if (plan.plugins.length) await checkPluginKernels(b.gpu, plan, b.dtype, b.useSubgroups);
  const tpw = fusedRouterTokensPerWorkgroup(b.useSubgroups);
  const grid = (T: number) => grid2D(Math.ceil(T / tpw), maxDim);
  const bufs = { x, weight, aux, scr, tok_count: tokCount, ids, wts, expert_count: expertCount, tstats };

  const clears: GPUBuffer[] = [expertCount];
  if (opts.stats) clears.push(tstats);
  let prepare = (_T: number): void => {};
  // One control block per pass; the choose and statistics kernels read the same block.
  const mainParams = (mode: number, stats: number) => {
    const words = plan.params(cap, mode, stats, wgHalf);
    if (gate) words[P.R] = (words[P.R]! | R_PRECOMPUTED) >>> 0;
    return b.params(kernel, routerBlock(words), `${name}.router.params.${mode}`);
  };
  // The pass that computes scores (FULL, or expert choice's SCORES) comes first.
  if (gate) steps.push(...gate.steps);
  let statsParams: GPUBuffer;
  if (plan.scope === "token") {
    statsParams = mainParams(MODE.FULL, opts.stats ? STATS.ENTROPY | STATS.DENSE : 0);
    steps.push(await b.step(kernel, statsParams, bufs, grid));
  } else {
    statsParams = mainParams(MODE.SCORES, opts.stats ? STATS.ENTROPY : 0);
    steps.push(await b.step(kernel, statsParams, bufs, grid));
    const ch = plan.choose!;
    const cu = b.uniform(Array.from(chooseWords({ cap: 0, code: ch.code })), `${name}.choose.params`);
    const capacityOf = (T: number) => Math.max(1, Math.min(T, Math.floor((ch.capacity! * T) / E)));
    let capTable = b.dummy();
    if (b.tokensOnGpu && ch.capacity !== null) {
      // An agents-pool member: its T is a count on the GPU, so the kernel reads the host's
      // capacity of every count 0…cap from a table at run.T.
      capTable = b.storage(cap + 1, `${name}.choose.cap_table`, 4);
      const table = Uint32Array.from({ length: cap + 1 }, (_, n) => capacityOf(n));
      if (capTable.size >= table.byteLength) b.device.queue.writeBuffer(capTable, 0, table);
      b.device.queue.writeBuffer(cu, 0, chooseWords({ cap: CAP_FROM_TABLE, code: ch.code }));
    } else {
      prepare = (T) => {
        b.device.queue.writeBuffer(cu, 0, chooseWords({ cap: ch.capacity === null ? 0 : capacityOf(T), code: ch.code }));
      };
    }
    steps.push(await b.step(chooseThresholdKernel(plan.plugins), statsParams, { choose: cu, scr, cap_table: capTable }, () => grid2D(E, maxDim)));
    steps.push(await b.step(kernel, mainParams(MODE.FROM_THRESHOLDS, opts.stats ? STATS.DENSE : 0), bufs, grid));
  }

  let stats: RouterStatsReadback | undefined;
  if (opts.stats) {
    const sout = b.storage(2 * E + 1, `${name}.router.stats`, 4);
    const hist = b.storage(maxK + 1, `${name}.router.hist`, u32);
    clears.push(hist);
    steps.push(
      await b.step(routerStatsKernel(), statsParams, { scr, tstats, tok_count: tokCount, sout, hist }, () => grid2D(Math.ceil(E / STATS_WG) + 1, maxDim)),
    );
    const auxBytes = plan.statState.length ? Math.max(1, plan.auxLength) * 4 : 0;
    stats = {
      key: plan.router.key,
      reads: () => [
        { buffer: expertCount, bytes: E * 4 },
        { buffer: sout, bytes: (2 * E + 1) * 4 },
        { buffer: hist, bytes: (maxK + 1) * 4 },
        ...(auxBytes ? [{ buffer: aux, bytes: auxBytes }] : []),
      ],
      decode(data, T) {
        const s = new Float32Array(data[1]!, 0, 2 * E + 1);
        const a = auxBytes ? new Float32Array(data[3]!, 0, plan.auxLength) : undefined;
        return {
          key: plan.router.key,
          experts: E,
          tokens: T,
          maxPerToken: maxK,
          load: new Uint32Array(data[0]!, 0, E),
          importanceSum: s.subarray(0, E),
          pSum: s.subarray(E, 2 * E),
          entropySum: s[2 * E]!,
          histogram: new Uint32Array(data[2]!, 0, maxK + 1),
          report: [...plan.router.report],
          balanceCoef: plan.router.balanceCoef,
          state: Object.fromEntries(plan.statState.map((e) => [e.name.slice(plan.router.key.length + 1), Array.from(a!.subarray(e.offset, e.offset + e.length))])),
        };
      },
    };
  }

  if (plan.stateUpdates.length && opts.updateState) {
    steps.push(await b.step(routerStateKernel(plan.stateRules), stateParams(E, plan.stateUpdates, plan.stateXp), { expert_count: expertCount, aux }, () => [1, 1, 1]));
  }

  return {
    plan,
    steps,
    clears,
    maxK,
    tokCount,
    ids,
    wts,
    expertCount,
    prepare,
    stats,
    state: plan.state.length ? { key: plan.router.key, aux, plan } : undefined,
  };
}

/** Reads the state vectors of routers back (for `--state-out` and the library's `state()`). */
export async function readRouterState(device: GPUDevice, handles: RouterStateHandle[]): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  if (!handles.length) return out;
  const enc = device.createCommandEncoder();
  const staging = handles.map((h) => {
    const bytes = Math.max(1, h.plan.auxLength) * 4;
    const s = createBuffer(device, bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, `${h.key}.state-readback`);
    enc.copyBufferToBuffer(h.aux, 0, s, 0, bytes);
    return s;
  });
  device.queue.submit([enc.finish()]);
  try {
    for (let i = 0; i < handles.length; i++) {
      const h = handles[i]!;
      await staging[i]!.mapAsync(GPUMapMode.READ);
      const a = new Float32Array(staging[i]!.getMappedRange().slice(0));
      staging[i]!.unmap();
      for (const e of h.plan.state) out.set(e.name, a.slice(e.offset, e.offset + e.length));
    }
  } finally {
    for (const s of staging) s.destroy();
  }
  return out;
}

/** Writes state vectors by tensor name into the routers' aux buffers (queue order: before the next run). */
export function writeRouterState(device: GPUDevice, handles: RouterStateHandle[], values: Map<string, ArrayLike<number>>): void {
  const left = new Set(values.keys());
  for (const h of handles) {
    for (const e of h.plan.state) {
      const v = values.get(e.name);
      if (!v) continue;
      if (v.length !== e.length) throw new Error(`state '${e.name}' has ${e.length} values; ${v.length} were given`);
      device.queue.writeBuffer(h.aux, e.offset * 4, Float32Array.from(v));
      left.delete(e.name);
    }
  }
  if (left.size) {
    const known = handles.flatMap((h) => h.plan.state.map((e) => e.name));
    throw new Error(`no router state named ${[...left].map((n) => `'${n}'`).join(", ")}${known.length ? `; the program's state: ${known.join(", ")}` : "; the program has no router state"}`);
  }
}
