// Lowering of the whole-model ops that are one kernel each: `embed` (a gather, one dispatch per
// row chunk of a table above the binding limit) and `norm` (one workgroup per row), and the
// residual add that precedes a norm, fused into it (fuse.ts).

import type { IrOp } from "../../compiler/ir/ir.js";
import { normTensors } from "../../compiler/ir/block-tensors.js";
import { EMBED_WG, embedKernel } from "../kernels/embed-kernel.js";
import { normKernel, normParams } from "../kernels/norm-kernel.js";
import { grid2D } from "../kernels/wgsl-common.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { elementwiseGrid } from "./grids.js";

type EmbedOp = Extract<IrOp, { op: "embed" }>;
type NormOp = Extract<IrOp, { op: "norm" }>;
type AddOp = Extract<IrOp, { op: "binary" }>;

function lowering(index: number, kind: string, name: string, steps: Step[]): Lowering {
  return { op: index, kind, name, clears: [], encode: (rec, T) => { for (const s of steps) record(rec, s, T); } };
}

export async function lowerEmbed(b: BuildContext, op: EmbedOp, index: number, name: string): Promise<Lowering> {
  const D = b.width(op.out);
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const table = b.weights.chunked(`${op.weight}.weight`, op.vocab, D, `embedding '${op.weight}' [${op.vocab}, ${D}]`);
  const steps: Step[] = [];
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
