// Lowering of `attention` (LANGUAGE.md §13.0) to at most four dispatches:
//
//   QKV GEMM ─► q/k prepare (norm, rotary; in place) ─► flash attention ─► output GEMM (+ residual)
//
// The q, k and v projections are one GEMM over their weights concatenated at upload
// ([(H + 2·KV)·hd, D], bias likewise), writing [T, q | k | v] rows; above the binding limit they
// fall back to a GEMM per tensor (and per row chunk). The prepare pass is skipped when there is
// neither a q/k norm nor rotary. The output projection adds the residual stream when the
// `h = h + attn` after it was fused (fuse.ts), writing h directly.
//
// In a generation (docs/generation.md) the prefill plan adds one dispatch after the prepare pass,
// the rows [k | v] copied into the block's KV cache (5); a decode step (T = 1, position pos0)
// is QKV GEMM ─► prepare (rotary at pos0) ─► cache append ─► flash-decode partials ─► merge ─►
// output GEMM: 6 dispatches.

import type { IrOp, ValueId } from "../../compiler/ir/ir.js";
import { attentionTensors } from "../../compiler/ir/block-tensors.js";
import { attentionScale, ropeTables } from "../../compiler/ir/rope.js";
import { bytesPer, uploadFloats } from "../gpu/buffers.js";
import { FLASH_BQ, flashAttentionKernel, flashKeyTile, flashParams } from "../kernels/attention/flash-attention.js";
import { qkPrepareKernel, qkPrepareParams } from "../kernels/attention/qk-prepare.js";
import { denseGrid, linearKernel, linearParams } from "../kernels/gemm/linear-gemm.js";
import { linearGemmShape, linearWeightLayout } from "./gemm-shape.js";
import { transpose } from "./weight-store.js";
import { grid2D } from "../kernels/wgsl-common.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { blockLinearSteps, usesBlocks } from "./block-linear.js";
import { batchCacheWriteStep, batchDecodeAttentionSteps, cacheWriteStep, decodeAttentionSteps } from "./lower-decode-attention.js";

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

  // 1. The projections: one GEMM over [wq; wk; wv] (and their biases) when it fits a binding.
  const proj = ["wq", "wk", "wv"].map((n, i) => ({ name: `${a.key}.${n}`, rows: [qw, kw, kw][i]!, what: what(n), bias: a.bias ? `${a.key}.${["bq", "bk", "bv"][i]}` : undefined }));
  steps.push(...(await projection(b, `${a.key}#qkv`, proj, b.value(op.x), D, D, 0, qkv, width)));

  // 2. q/k norm and rotary, in place.
  if (a.qkNorm !== "none" || a.rope.kind !== "none") {
    const tables = ropeTables(a.rope);
    const invFreq = b.weights.derivedBuffer(`${a.key}#inv_freq`, () => uploadFloats(b.device, Float32Array.from(tables.invFreq.length ? tables.invFreq : [0]), "f32", `${a.key} inv_freq`));
    const norm = (n: "q_norm" | "k_norm") => (a.qkNorm !== "none" ? b.weights.whole(`${a.key}.${n}`, tensor.get(n)!.shape, what(n)) : b.dummy());
    const params = qkPrepareParams({
      ld: width, qOff: 0, kOff: qw, hq: H, hk: KV, hdq: hd, hdk: hd, qRopeOff: 0, kRopeOff: 0,
      ropeDim: a.rope.dim, rope: a.rope.kind, norm: a.qkNorm, eps: a.qkEps, cosSinScale: tables.cosSinScale,
    });
    const buffers = { qk: qkv, q_w: norm("q_norm"), k_w: norm("k_norm"), inv_freq: invFreq };
    // Batched decoding: each row rotates at its own position.
    const positions = b.generation?.mode === "batch" || b.generation?.mode === "group" ? b.generation.positions! : undefined;
    const prepare = positions ? b.step(qkPrepareKernel(b.dtype, { rowPositions: true }), params, { ...buffers, pos: positions }, (T) => grid2D(T, maxDim)) : b.step(qkPrepareKernel(b.dtype), params, buffers, (T) => grid2D(T, maxDim));
    steps.push(await prepare);
  }

  const gen = b.generation;
  if (gen?.mode === "batch" || gen?.mode === "group") {
    // B rows, row b in cache slot b at its own position (group: thread b's row of the shared
    // cache, under §11.2's mask): prepare ─► cache write ─► partials ─► merge ─► output GEMM.
    const blk = b.kvBlock(a.key);
    steps.push(await batchCacheWriteStep(b, blk, gen.cache.dtype, qkv, width, qw, 2 * kw, 0));
    steps.push(...(await batchDecodeAttentionSteps(b, {
      H, KV, QD: hd, VD: hd, q: qkv, qLd: width, qOff: 0, qHs: hd, blk, kOff: 0, kHs: hd, vOff: kw, vHs: hd, window: a.window, scale: attentionScale(a), out: heads, oLd: qw, oOff: 0, oHs: hd,
    })));
    steps.push(...(await outputProjection(b, `${a.key}.wo`, what("wo"), heads, qw, D, fused ?? { out: op.out })));
    return { op: index, kind: "attention", name, clears: [], wholeRun: WHOLE_RUN_ATTENTION, encode: (rec, T) => { for (const s of steps) record(rec, s, T); } };
  }
  if (gen) {
    // The rows' keys and values (after norm and rotary) into the cache, at positions pos0 + t.
    const blk = b.kvBlock(a.key);
    steps.push(await cacheWriteStep(b, blk, gen.cache.dtype, qkv, width, qw, 2 * kw, 0));
    if (gen.mode === "decode") {
      const scale = attentionScale(a);
      steps.push(...(await decodeAttentionSteps(b, {
        H, KV, QD: hd, VD: hd, q: qkv, qOff: 0, qHs: hd, blk, kOff: 0, kHs: hd, vOff: kw, vHs: hd, window: a.window, scale, out: heads, oOff: 0, oHs: hd,
      })));
      steps.push(...(await outputProjection(b, `${a.key}.wo`, what("wo"), heads, qw, D, fused ?? { out: op.out })));
      return { op: index, kind: "attention", name, clears: [], wholeRun: WHOLE_RUN_ATTENTION, encode: (rec, T) => { for (const s of steps) record(rec, s, T); } };
    }
  }

  // 3. Scores, softmax and values, tiled.
  const BK = flashKeyTile(hd, hd, b.gpu.limits.maxComputeWorkgroupStorageSize);
  const flash = flashParams({ H, KV, qLd: width, qOff: 0, kLd: width, kOff: qw, vLd: width, vOff: qw + kw, oLd: qw, scale: attentionScale(a), window: a.window }, hd, hd);
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

/** One of the matrices a projection stacks: [rows, K] under `name`, with an optional bias [rows]. */
export interface ProjectionPart {
  name: string;
  rows: number;
  what: string;
  bias?: string;
}

/**
 * out[:, 0…Σrows) = a · [W₁; W₂; …]ᵀ (+ biases), reading A as the K columns at `aOff` of rows of
 * stride `lda`, writing rows of stride `ld` from column `outOff`: one GEMM over the matrices concatenated at upload
 * (kept by the weight store under `key`) when that fits one binding, else one per matrix and row chunk.
 */
export async function projection(b: BuildContext, key: string, parts: ProjectionPart[], a: GPUBuffer, K: number, lda: number, aOff: number, out: GPUBuffer, ld: number, outOff = 0): Promise<Step[]> {
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const rows = parts.reduce((n, p) => n + p.rows, 0);
  const biased = parts.some((p) => p.bias);
  // Held [K, N] when every part is (linearWeightLayout; the concatenation is then transposed too).
  const layout = parts.every((p) => linearWeightLayout(b, p.name, p.rows, [K, lda, aOff]) === "kn") ? "kn" : "nk";
  const shape = linearGemmShape(b, layout, b.cap, [K, lda, aOff]);
  const grid = (ntn: number) => denseGrid(ntn, shape, maxDim);
  if (usesBlocks(b, K, lda, aOff)) {
    // Block weights: one GEMM per part (the parts are not concatenated as blocks).
    const steps: Step[] = [];
    let off = 0;
    for (const part of parts) {
      const bias = part.bias ? b.weights.whole(part.bias, [part.rows], `${part.what} bias`) : undefined;
      steps.push(...(await blockLinearSteps(b, { weight: part.name, what: part.what, N: part.rows, K, planRows: b.cap, a, out, lda, aOff, ld, outOff: outOff + off, ...(bias ? { bias } : {}) })));
      off += part.rows;
    }
    return steps;
  }
  if (rows * K * bytesPer(b.dtype) <= b.weights.maxBindingBytes) {
    const concat = (label: string, rowLen: number, pick: (p: ProjectionPart) => string | undefined, transposed = false) =>
      b.weights.derivedBuffer(`${key}.${label}@${b.dtype}${transposed ? "^T" : ""}`, () => {
        const all = new Float32Array(rows * rowLen);
        let at = 0;
        for (const p of parts) {
          const name = pick(p);
          if (name) all.set(b.weights.host(name, rowLen === 1 ? [p.rows] : [p.rows, K], rowLen === 1 ? `${p.what} bias` : p.what), at);
          at += p.rows * rowLen;
        }
        return uploadFloats(b.device, transposed ? transpose(all, 0, rows, K) : all, b.dtype, `${key} ${label}${transposed ? "ᵀ" : ""}`);
      });
    const weight = concat("weight", K, (p) => p.name, layout === "kn");
    const bias = biased ? concat("bias", 1, (p) => p.bias) : b.dummy();
    const p = linearParams({ rows: 0, N: rows, K, bias: biased, ld, outOff, lda, aOff, shape });
    return [await b.step(linearKernel(b.dtype, false, shape), p.values, { a, weight, b: bias, out }, grid(p.ntn))];
  }
  const steps: Step[] = [];
  let off = 0;
  for (const part of parts) {
    const bias = part.bias ? b.weights.whole(part.bias, [part.rows], `${part.what} bias`) : b.dummy();
    for (const c of b.weights.matrix(part.name, part.rows, K, part.what, layout).chunks) {
      const p = linearParams({ rows: 0, N: part.rows, K, g0: c.g0, g1: c.g1, bias: part.bias !== undefined, ld, outOff: outOff + off, lda, aOff, shape });
      steps.push(await b.step(linearKernel(b.dtype, false, shape), p.values, { a, weight: c.buffer, b: bias, out }, grid(p.ntn)));
    }
    off += part.rows;
  }
  return steps;
}

/** out = heads · woᵀ (+ residual): one GEMM per row chunk of wo [D, width]. */
export async function outputProjection(b: BuildContext, wo: string, what: string, heads: GPUBuffer, width: number, D: number, to: { out: ValueId; residual?: ValueId }): Promise<Step[]> {
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const residual = to.residual !== undefined;
  if (usesBlocks(b, width)) {
    return blockLinearSteps(b, { weight: wo, what, N: D, K: width, planRows: b.cap, a: heads, out: b.value(to.out), ...(residual ? { residual: b.value(to.residual!) } : {}) });
  }
  const layout = linearWeightLayout(b, wo, D, [width]);
  const chunks = b.weights.matrix(wo, D, width, what, layout);
  const shape = linearGemmShape(b, layout, b.cap, [width]);
  const steps: Step[] = [];
  for (const c of chunks.chunks) {
    const p = linearParams({ rows: 0, N: D, K: width, g0: c.g0, g1: c.g1, bias: false, ...(residual ? { residual: true } : {}), shape });
    const bufs: Record<string, GPUBuffer> = { a: heads, weight: c.buffer, b: b.dummy(), out: b.value(to.out) };
    if (residual) bufs["res"] = b.value(to.residual!);
    steps.push(await b.step(linearKernel(b.dtype, residual, shape), p.values, bufs, denseGrid(p.ntn, shape, maxDim)));
  }
  return steps;
}
