// Lowering of `attention` (LANGUAGE.md §13.0) to at most four dispatches:
//
//   QKV GEMM ─► q/k prepare (norm, rotary; in place) ─► flash attention ─► output GEMM (+ residual)
//
// The q, k and v projections are one GEMM over their weights concatenated at upload
// ([(H + 2·KV)·hd, D], bias likewise), writing [T, q | k | v] rows; above the binding limit they
// fall back to a GEMM per tensor (and per row chunk). The prepare pass is skipped when there is
// neither a q/k norm nor rotary. The output projection adds the residual stream when the
// `h = h + attn` after it was fused (fuse.ts), writing h directly.

import type { IrOp, ValueId } from "../../compiler/ir/ir.js";
import { attentionTensors } from "../../compiler/ir/block-tensors.js";
import { attentionScale, ropeTables } from "../../compiler/ir/rope.js";
import { bytesPer, uploadFloats } from "../gpu/buffers.js";
import { FLASH_BQ, flashAttentionKernel, flashKeyTile, flashParams } from "../kernels/attention/flash-attention.js";
import { qkPrepareKernel, qkPrepareParams } from "../kernels/attention/qk-prepare.js";
import { LINEAR_BM, linearKernel, linearParams } from "../kernels/gemm/linear-gemm.js";
import { grid2D } from "../kernels/wgsl-common.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";

type AttentionOp = Extract<IrOp, { op: "attention" }>;

/** Where the output goes when the residual add after the op is fused into it. */
export interface ResidualFusion {
  out: ValueId;
  residual: ValueId;
}

export const WHOLE_RUN_ATTENTION = "attention reads every earlier position of the sequence";

export async function lowerAttention(b: BuildContext, op: AttentionOp, index: number, name: string, fused?: ResidualFusion): Promise<Lowering> {
  const a = op.attn;
  const D = b.width(op.x);
  const { heads: H, kvHeads: KV, headDim: hd } = a;
  const qw = H * hd;
  const kw = KV * hd;
  const width = qw + 2 * kw;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const tensor = new Map(attentionTensors(a, D).map((t) => [t.name, t]));
  const what = (n: string) => `attention '${a.key}' ${n} [${tensor.get(n)!.shape.join(", ")}]`;
  const qkv = b.storage(b.cap * width, `${name}.qkv`);
  const heads = b.storage(b.cap * qw, `${name}.heads`);
  const steps: Step[] = [];
  const rowTiles = (T: number) => Math.ceil(T / LINEAR_BM);

  // 1. The projections: one GEMM over [wq; wk; wv] when it fits a binding.
  const parts = [["wq", "bq", qw, 0], ["wk", "bk", kw, qw], ["wv", "bv", kw, qw + kw]] as const;
  if (width * D * bytesPer(b.dtype) <= b.weights.maxBindingBytes) {
    const concat = (names: readonly string[], rowLen: number, label: string) =>
      b.weights.derivedBuffer(`${a.key}#${label}@${b.dtype}`, () => {
        const all = new Float32Array(width * rowLen);
        let at = 0;
        for (const n of names) {
          const t = b.weights.host(`${a.key}.${n}`, tensor.get(n)!.shape, what(n));
          all.set(t, at);
          at += t.length;
        }
        return uploadFloats(b.device, all, b.dtype, `${a.key} ${label}`);
      });
    const weight = concat(["wq", "wk", "wv"], D, "qkv");
    const bias = a.bias ? concat(["bq", "bk", "bv"], 1, "qkv_bias") : b.dummy();
    const p = linearParams({ rows: 0, N: width, K: D, bias: a.bias });
    steps.push(await b.step(linearKernel(b.dtype), p.values, { a: b.value(op.x), weight, b: bias, out: qkv }, (T) => grid2D(p.ntn * rowTiles(T), maxDim)));
  } else {
    for (const [w, bn, rows, off] of parts) {
      const chunks = b.weights.chunked(`${a.key}.${w}`, rows, D, what(w));
      const bias = a.bias ? b.weights.whole(`${a.key}.${bn}`, [rows], what(bn)) : b.dummy();
      for (const c of chunks.chunks) {
        const p = linearParams({ rows: 0, N: rows, K: D, g0: c.g0, g1: c.g1, bias: a.bias, ld: width, outOff: off });
        steps.push(await b.step(linearKernel(b.dtype), p.values, { a: b.value(op.x), weight: c.buffer, b: bias, out: qkv }, (T) => grid2D(p.ntn * rowTiles(T), maxDim)));
      }
    }
  }

  // 2. q/k norm and rotary, in place.
  if (a.qkNorm !== "none" || a.rope.kind !== "none") {
    const tables = ropeTables(a.rope);
    const invFreq = b.weights.derivedBuffer(`${a.key}#inv_freq`, () => uploadFloats(b.device, Float32Array.from(tables.invFreq.length ? tables.invFreq : [0]), "f32", `${a.key} inv_freq`));
    const norm = (n: "q_norm" | "k_norm") => (a.qkNorm !== "none" ? b.weights.whole(`${a.key}.${n}`, tensor.get(n)!.shape, what(n)) : b.dummy());
    const params = qkPrepareParams({
      ld: width, qOff: 0, kOff: qw, hq: H, hk: KV, hdq: hd, hdk: hd, qRopeOff: 0, kRopeOff: 0,
      ropeDim: a.rope.dim, rope: a.rope.kind, norm: a.qkNorm, eps: a.qkEps, cosSinScale: tables.cosSinScale,
    });
    steps.push(await b.step(qkPrepareKernel(b.dtype), params, { qk: qkv, q_w: norm("q_norm"), k_w: norm("k_norm"), inv_freq: invFreq }, (T) => grid2D(T, maxDim)));
  }

  // 3. Scores, softmax and values, tiled.
  const BK = flashKeyTile(hd, hd, b.gpu.limits.maxComputeWorkgroupStorageSize);
  const flash = flashParams({ H, KV, qLd: width, qOff: 0, kLd: width, kOff: qw, vLd: width, vOff: qw + kw, oLd: qw, scale: attentionScale(a), window: a.window });
  steps.push(await b.step(flashAttentionKernel({ dtype: b.dtype, QD: hd, VD: hd, BK }), flash, { q: qkv, k: qkv, v: qkv, out: heads }, (T) => grid2D(Math.ceil(T / FLASH_BQ) * H, maxDim)));

  // 4. The output projection, adding the residual when the add after it was fused.
  steps.push(...(await outputProjection(b, `${a.key}.wo`, what("wo"), heads, qw, D, fused ?? { out: op.out })));

  return {
    op: index,
    kind: "attention",
    name,
    clears: [],
    wholeRun: WHOLE_RUN_ATTENTION,
    encode(rec, T) {
      for (const s of steps) record(rec, s, T);
    },
  };
}

/** out = heads · woᵀ (+ residual): one GEMM per row chunk of wo [D, width]. */
export async function outputProjection(b: BuildContext, wo: string, what: string, heads: GPUBuffer, width: number, D: number, to: { out: ValueId; residual?: ValueId }): Promise<Step[]> {
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const chunks = b.weights.chunked(wo, D, width, what);
  const residual = to.residual !== undefined;
  const steps: Step[] = [];
  for (const c of chunks.chunks) {
    const p = linearParams({ rows: 0, N: D, K: width, g0: c.g0, g1: c.g1, bias: false, ...(residual ? { residual: true } : {}) });
    const bufs: Record<string, GPUBuffer> = { a: heads, weight: c.buffer, b: b.dummy(), out: b.value(to.out) };
    if (residual) bufs["res"] = b.value(to.residual!);
    steps.push(await b.step(linearKernel(b.dtype, residual), p.values, bufs, (T) => grid2D(p.ntn * Math.ceil(T / LINEAR_BM), maxDim)));
  }
  return steps;
}
