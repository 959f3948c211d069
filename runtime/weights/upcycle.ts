// Upcycling (Komatsuzaki et al.; DeepSeekMoE/Innovator-style fine-grained variants): build the
// canonical weights of a routed `ffn` pool from a dense FFN checkpoint.
//
// With the dense FFN's hidden size H, a pool of C coarse experts split M ways (fine hidden I):
// - replicate: M·I = H — every coarse expert is a copy of the dense FFN, cut into M slices;
// - partition: C·M·I = H — the dense FFN is cut into C·M slices, one per fine expert (MoEfication).
// Either way a sum of fine experts reproduces the dense FFN exactly: all M slices of one coarse
// copy (replicate), or all slices (partition). `verifyUpcycle` checks that in float64.
import type { IrPool, IrProgram, IrRouter, ExpertAct } from "../../compiler/ir/ir.js";
import type { SafetensorsFile } from "../safetensors/reader.js";
import { interpretReference } from "../reference/interpret.js";
import { normalSampler } from "../run-io.js";
import { gelu, silu } from "../../stdlib/math64.js";

export class UpcycleError extends Error {
  override name = "UpcycleError";
}

export interface DenseFfn {
  hidden: number;
  dim: number;
  w_gate?: Float32Array;
  w_up: Float32Array;
  w_down: Float32Array;
  b_gate?: Float32Array;
  b_up?: Float32Array;
  b_down?: Float32Array;
  /** Names the tensors were read from, for the report. */
  sources: string[];
}

const ALIASES: Record<string, string[]> = {
  w_gate: ["w_gate", "gate_proj.weight", "w1.weight", "w1"],
  w_up: ["w_up", "up_proj.weight", "w3.weight", "w3"],
  w_down: ["w_down", "down_proj.weight", "w2.weight", "w2"],
  b_gate: ["b_gate", "gate_proj.bias"],
  b_up: ["b_up", "up_proj.bias"],
  b_down: ["b_down", "down_proj.bias"],
};

/** Reads a dense FFN under `prefix` (`mlp.` finds `mlp.w_up` or `mlp.up_proj.weight`). */
export function readDenseFfn(file: SafetensorsFile, prefix: string, gated: boolean): DenseFfn {
  const p = prefix === "" || prefix.endsWith(".") ? prefix : prefix + ".";
  const sources: string[] = [];
  const find = (role: string): Float32Array | undefined => {
    for (const alias of ALIASES[role]!) {
      if (file.tensors.has(p + alias)) {
        sources.push(p + alias);
        return file.getF32(p + alias);
      }
    }
    return undefined;
  };
  const shapeOf = (role: string) => ALIASES[role]!.map((a) => file.tensors.get(p + a)?.shape).find((s) => s !== undefined);
  const upShape = shapeOf("w_up"), downShape = shapeOf("w_down");
  if (!upShape || !downShape) {
    const have = [...file.tensors.keys()].slice(0, 12).join(", ");
    throw new UpcycleError(`${file.label}: no dense FFN under prefix \`${p}\`: expected \`${p}w_up\` and \`${p}w_down\` (or up_proj/down_proj, w3/w2); the file has ${have}${file.tensors.size > 12 ? ", …" : ""}`);
  }
  if (upShape.length !== 2 || downShape.length !== 2 || downShape[0] !== upShape[1] || downShape[1] !== upShape[0]) {
    throw new UpcycleError(`${file.label}: the dense FFN's shapes do not fit together: w_up [${upShape.join(", ")}] and w_down [${downShape.join(", ")}] (expected [H, D] and [D, H])`);
  }
  const [H, D] = upShape as [number, number];
  const dense: DenseFfn = { hidden: H, dim: D, w_up: find("w_up")!, w_down: find("w_down")!, sources };
  if (gated) {
    dense.w_gate = find("w_gate");
    if (!dense.w_gate) throw new UpcycleError(`${file.label}: the pool's activation is gated (swiglu/geglu) but there is no \`${p}w_gate\` (or gate_proj/w1)`);
  }
  dense.b_up = find("b_up");
  dense.b_down = find("b_down");
  if (gated) dense.b_gate = find("b_gate");
  return dense;
}

export type UpcycleMode = "replicate" | "partition";

export interface UpcyclePlan {
  pool: IrPool;
  router: IrRouter;
  mode: UpcycleMode;
  coarse: number;
}

/** Finds the routed ffn pool to fill and how the dense FFN maps onto it. */
export function planUpcycle(program: IrProgram, dense: DenseFfn, poolKey?: string): UpcyclePlan {
  const moes = program.ops.filter((o): o is Extract<typeof o, { op: "moe" }> => o.op === "moe" && (poolKey === undefined || o.pool.key === poolKey));
  if (moes.length === 0) throw new UpcycleError(poolKey ? `the entry has no routed pool \`${poolKey}\`` : "the entry has no routed pool (`moe(x, r, E)`) to upcycle into");
  const keys = [...new Set(moes.map((m) => m.pool.key))];
  if (keys.length > 1) throw new UpcycleError(`the entry routes to several pools (${keys.join(", ")}); choose one with --pool NAME`);
  const { pool, router } = moes[0]!;
  if (pool.kind !== "ffn") throw new UpcycleError(`pool \`${pool.key}\` holds ${pool.kind} experts; upcycling fills ffn pools`);
  if (pool.dim !== dense.dim) throw new UpcycleError(`the dense FFN has width D = ${dense.dim}, the pool \`${pool.key}\` has D = ${pool.dim} (set it with --set D=${dense.dim})`);
  if (pool.bias !== Boolean(dense.b_up)) throw new UpcycleError(pool.bias ? `pool \`${pool.key}\` has biases (bias = true) but the dense FFN has none` : `the dense FFN has biases but pool \`${pool.key}\` was declared without (add bias = true)`);
  const coarse = pool.count / pool.split;
  const coarseHidden = pool.split * pool.hidden;
  let mode: UpcycleMode;
  if (coarseHidden === dense.hidden) mode = "replicate";
  else if (coarse * coarseHidden === dense.hidden) mode = "partition";
  else {
    throw new UpcycleError(`pool \`${pool.key}\` (${coarse} experts of hidden ${coarseHidden}${pool.split > 1 ? `, split ${pool.split}` : ""}) does not fit the dense hidden size ${dense.hidden}: ` +
      `replicating needs expert hidden = ${dense.hidden}; partitioning needs experts × hidden = ${dense.hidden}`);
  }
  return { pool, router, mode, coarse };
}

/** Canonical stacked tensors of the pool, plus the router weight initialised as asked. */
export function upcycleWeights(plan: UpcyclePlan, dense: DenseFfn, init: { router: "zeros" } | { router: "random"; seed: number } | { router: "given"; weight: Float32Array }): Map<string, Float32Array> {
  const { pool } = plan;
  const N = pool.count, I = pool.hidden, D = pool.dim, H = dense.hidden;
  const out = new Map<string, Float32Array>();
  // Fine expert j takes dense hidden units [h0, h0 + I).
  const start = (j: number) => (plan.mode === "replicate" ? (j % pool.split) * I : j * I);
  const rows = (src: Float32Array, name: string) => {
    const t = new Float32Array(N * I * D);
    for (let j = 0; j < N; j++) t.set(src.subarray(start(j) * D, (start(j) + I) * D), j * I * D);
    out.set(`${pool.key}.${name}`, t);
  };
  if (dense.w_gate) rows(dense.w_gate, "w_gate");
  rows(dense.w_up, "w_up");
  const down = new Float32Array(N * D * I);
  for (let j = 0; j < N; j++) for (let d = 0; d < D; d++) for (let i = 0; i < I; i++) down[(j * D + d) * I + i] = dense.w_down[d * H + start(j) + i]!;
  out.set(`${pool.key}.w_down`, down);
  if (pool.bias) {
    const vec = (src: Float32Array | undefined, name: string) => {
      const t = new Float32Array(N * I);
      if (src) for (let j = 0; j < N; j++) t.set(src.subarray(start(j), start(j) + I), j * I);
      out.set(`${pool.key}.${name}`, t);
    };
    if (dense.w_gate) vec(dense.b_gate, "b_gate");
    vec(dense.b_up, "b_up");
    // b_down is added once per dense FFN: on the first slice of each copy (replicate) or of all (partition).
    const bd = new Float32Array(N * D);
    for (let j = 0; j < N; j++) if (dense.b_down && start(j) === 0) bd.set(dense.b_down, j * D);
    out.set(`${pool.key}.b_down`, bd);
  }
  const E = plan.router.numExperts;
  let w: Float32Array;
  if (init.router === "given") {
    if (init.weight.length !== E * D) throw new UpcycleError(`the router weight given has ${init.weight.length} values; \`${plan.router.key}.weight\` is [${E}, ${D}]`);
    w = init.weight;
  } else if (init.router === "random") {
    const rand = normalSampler(init.seed);
    w = new Float32Array(E * D).map(() => rand() / Math.sqrt(D));
  } else w = new Float32Array(E * D);
  out.set(`${plan.router.key}.weight`, w);
  return out;
}

export interface UpcycleCheck {
  /** Max |Σ forced experts − dense FFN| over random inputs (float64). */
  maxAbsError: number;
  /** Max |dense FFN| over the same inputs, to judge the error against. */
  maxAbsDense: number;
  tokens: number;
}

/**
 * Forces every fine expert active with weight 1/copies (1/C when replicating, 1 when
 * partitioning) by running the pool through the float64 interpreter with a synthetic router
 * (`linear` with zero weights |> exp |> dense |> scale(1/copies)), and compares with the dense FFN
 * evaluated directly.
 */
export function verifyUpcycle(plan: UpcyclePlan, weights: Map<string, Float32Array>, dense: DenseFfn, act: ExpertAct, tokens = 8, seed = 7): UpcycleCheck {
  const { pool } = plan;
  const D = pool.dim, E = pool.count;
  const copies = plan.mode === "replicate" ? plan.coarse : 1;
  const router: IrRouter = {
    key: "verify_router", numExperts: E, dim: D, maxPerToken: E, scope: "token", report: [],
    stages: [
      { name: "linear", role: "score", params: { bias: false } },
      { name: "exp", role: "transform", params: {} },
      { name: "dense", role: "select", params: {} },
      { name: "scale", role: "post", params: { s: 1 / copies } },
    ],
  };
  const program: IrProgram = {
    entry: "upcycle_check",
    values: [{ id: 0, width: D, dtype: "f32", name: "x" }, { id: 1, width: D, dtype: "f32", name: "y" }],
    inputs: [{ name: "x", value: 0 }],
    outputs: [{ name: "y", value: 1 }],
    weights: [{ name: "verify_router.weight", shape: [E, D], role: "param" }],
    ops: [{ op: "moe", out: 1, x: 0, router, pool }],
  };
  const w = new Map(weights);
  w.set("verify_router.weight", new Float32Array(E * D));
  const rand = normalSampler(seed);
  const x = new Float64Array(tokens * D).map(() => rand());
  const y = interpretReference(program, w, new Map([["x", x]]), tokens).get("y")!;
  let maxErr = 0, maxDense = 0;
  for (let t = 0; t < tokens; t++) {
    const ref = denseForward(dense, act, x.subarray(t * D, (t + 1) * D));
    for (let d = 0; d < D; d++) {
      maxErr = Math.max(maxErr, Math.abs(y[t * D + d]! - ref[d]!));
      maxDense = Math.max(maxDense, Math.abs(ref[d]!));
    }
  }
  return { maxAbsError: maxErr, maxAbsDense: maxDense, tokens };
}

/** The dense FFN in float64, straight from the checkpoint (independent of the pool layout). */
export function denseForward(f: DenseFfn, act: ExpertAct, x: Float64Array): Float64Array {
  const { hidden: H, dim: D } = f;
  const h = new Float64Array(H);
  for (let i = 0; i < H; i++) {
    let up = f.b_up ? f.b_up[i]! : 0;
    let gate = f.b_gate ? f.b_gate[i]! : 0;
    for (let d = 0; d < D; d++) {
      up += f.w_up[i * D + d]! * x[d]!;
      if (f.w_gate) gate += f.w_gate[i * D + d]! * x[d]!;
    }
    h[i] = act === "swiglu" ? silu(gate) * up : act === "geglu" ? gelu(gate) * up : act === "relu" ? Math.max(0, up) : act === "gelu" ? gelu(up) : act === "silu" ? silu(up) : up;
  }
  const y = new Float64Array(D);
  for (let d = 0; d < D; d++) {
    let s = f.b_down ? f.b_down[d]! : 0;
    for (let i = 0; i < H; i++) s += f.w_down[d * H + i]! * h[i]!;
    y[d] = s;
  }
  return y;
}
