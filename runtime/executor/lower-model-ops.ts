// Lowering of the whole-model ops that are one kernel each: `embed` (a gather, one dispatch per
// row chunk of a table above the binding limit) and `norm` (one workgroup per row), the
// residual add that precedes a norm, fused into it (fuse.ts), and the LM head restricted to the
// run's last position (executor option `lastLogits`).

import type { IrOp } from "../../compiler/ir/ir.js";
import { normTensors } from "../../compiler/ir/block-tensors.js";
import { EMBED_WG, embedKernel } from "../kernels/embed-kernel.js";
import { normKernel, normParams } from "../kernels/norm-kernel.js";
import { grid2D } from "../kernels/wgsl-common.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { elementwiseGrid } from "./grids.js";
import { linearKernel, linearParams } from "../kernels/gemm/linear-gemm.js";
import { blockLinearSteps, usesBlocks } from "./block-linear.js";
import { linearGemmShape, linearWeightLayout } from "./gemm-shape.js";
import { bytesPer } from "../gpu/buffers.js";

type EmbedOp = Extract<IrOp, { op: "embed" }>;
type NormOp = Extract<IrOp, { op: "norm" }>;
type AddOp = Extract<IrOp, { op: "binary" }>;
type LinearOp = Extract<IrOp, { op: "linear" }>;

function lowering(index: number, kind: string, name: string, steps: Step[]): Lowering {
  return { op: index, kind, name, clears: [], encode: (rec, T) => { for (const s of steps) record(rec, s, T); } };
}

export async function lowerEmbed(b: BuildContext, op: EmbedOp, index: number, name: string): Promise<Lowering> {
  const D = b.width(op.out);
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const what = `embedding '${op.weight}' [${op.vocab}, ${D}]`;
  const steps: Step[] = [];
  // weightFormat: the table as blocks, dequantized per gathered element (one copy, shared with a tied LM head).
  if (b.weights.blocksFor(D)) {
    const table = b.weights.blocks(`${op.weight}.weight`, op.vocab, D, what, "gathered");
    for (const c of table.chunks) {
      steps.push(await b.step(embedKernel(b.dtype, table.format), { D, g0: c.g0, g1: c.g1 }, { ids: b.value(op.ids), weight: c.values, weight_scale: c.scales, out: b.value(op.out) }, (T) => elementwiseGrid(T * D, EMBED_WG, maxDim)));
    }
    return lowering(index, "embed", name, steps);
  }
  const table = b.weights.chunked(`${op.weight}.weight`, op.vocab, D, what);
  for (const c of table.chunks) {
    steps.push(await b.step(embedKernel(b.dtype), { D, g0: c.g0, g1: c.g1 }, { ids: b.value(op.ids), weight: c.buffer, out: b.value(op.out) }, (T) => elementwiseGrid(T * D, EMBED_WG, maxDim)));
  }
  return lowering(index, "embed", name, steps);
}

/** The norm's weight and bias buffers (a layer norm's bias; a dummy for RMS). */
function normWeights(b: BuildContext, op: NormOp, D: number): { w: GPUBuffer; bias: GPUBuffer } {
  const [w, bias] = normTensors(op.kind, D);
  return {
    w: b.weights.whole(`${op.weight}.${w!.name}`, w!.shape, `${op.kind} norm '${op.weight}' weight [${D}]`),
    bias: bias ? b.weights.whole(`${op.weight}.${bias.name}`, bias.shape, `layer norm '${op.weight}' bias [${D}]`) : b.dummy(),
  };
}

export async function lowerNorm(b: BuildContext, op: NormOp, index: number, name: string): Promise<Lowering> {
  const D = b.width(op.out);
  const { w, bias } = normWeights(b, op, D);
  const step = await b.step(normKernel(b.dtype, false), normParams(op.kind, D, op.eps), { x: b.value(op.x), w, bias, out: b.value(op.out) }, (T) => grid2D(T, b.gpu.limits.maxComputeWorkgroupsPerDimension));
  return lowering(index, "norm", name, [step]);
}

/** `s = a + b` and `norm(s)` in one dispatch (the norm op is absorbed). */
export async function lowerAddNorm(b: BuildContext, add: AddOp, norm: NormOp, index: number, name: string): Promise<Lowering> {
  const D = b.width(norm.out);
  const { w, bias } = normWeights(b, norm, D);
  const bufs = { a: b.value(add.a), b: b.value(add.b), w, bias, sum: b.value(add.out), out: b.value(norm.out) };
  const step = await b.step(normKernel(b.dtype, true), normParams(norm.kind, D, norm.eps), bufs, (T) => grid2D(T, b.gpu.limits.maxComputeWorkgroupsPerDimension));
  return lowering(index, "add+norm", name, [step]);
}

export const WHOLE_RUN_LAST_LOGITS = "with lastLogits (--last-logits) the LM head reads the run's last position";

/**
 * The LM head for the last position only (`lastLogits`): the row T−1 of its input is copied into a
 * one-row buffer inside the command buffer (T is known when the run is recorded, not when the plan
 * is built), then the head's GEMM runs over that one row, writing `logits [1, V]` (its output
 * buffer has one row). One dispatch per weight chunk, as the full head.
 */
export async function lowerLastLogits(b: BuildContext, op: LinearOp, index: number, name: string): Promise<Lowering> {
  const K = b.width(op.x);
  const rowBytes = K * bytesPer(b.dtype);
  if (rowBytes % 4 !== 0) {
    throw new Error(`internal: lastLogits with rows of ${rowBytes} bytes (checked by lmHeadIndex)`);
  }
  const last = b.storage(K, `${name} (last position)`);
  const bias = op.bias ? b.weights.whole(`${op.weight}.bias`, [op.outDim], `LM head '${op.weight}' bias`) : b.dummy();
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const steps: Step[] = [];
  const head = `${op.weight}.weight`;
  const layout = linearWeightLayout(b, head, op.outDim, [K]);
  const shape = linearGemmShape(b, layout, 1, [K]);
  const blocks = usesBlocks(b, K);
  if (blocks) {
    const what = `LM head '${op.weight}'`;
    steps.push(...(await blockLinearSteps(b, { weight: `${op.weight}.weight`, what, N: op.outDim, K, planRows: 1, fixedRows: 1, a: last, out: b.value(op.out), ...(op.bias ? { bias } : {}) }, (ntn) => () => grid2D(ntn, maxDim))));
  }
  for (const c of blocks ? [] : b.weights.matrix(head, op.outDim, K, `LM head '${op.weight}'`, layout).chunks) {
    const p = linearParams({ rows: 1, N: op.outDim, K, g0: c.g0, g1: c.g1, bias: op.bias, shape });
    steps.push(await b.step(linearKernel(b.dtype, false, shape), p.values, { a: last, weight: c.buffer, b: bias, out: b.value(op.out) }, () => grid2D(p.ntn, maxDim)));
  }
  const x = b.value(op.x);
  return {
    op: index,
    kind: "lm_head",
    name,
    clears: [],
    wholeRun: WHOLE_RUN_LAST_LOGITS,
    encode(rec, T) {
      rec.copy(x, (T - 1) * rowBytes, last, 0, rowBytes);
      for (const s of steps) record(rec, s, T);
    },
  };
}
