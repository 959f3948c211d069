// Dense products whose weight the store keeps as Q8_0/Q4_0/FP8 E4M3 blocks (ExecutorOptions.weightFormat):
// `linear` (the LM head included), attention's q/k/v and output projections. One GEMM per weight
// chunk on the fused-dequantization loop (kernels/gemm/quant-gemv-loop.ts); a product whose K is
// not whole blocks, or whose A is not vec4-aligned, is not taken here and stays in the storage dtype.

import { denseGrid, linearKernel, linearParams } from "../kernels/gemm/linear-gemm.js";
import { type BuildContext, type Step } from "./build-context.js";
import { blockGemmFits, blockGemmShape } from "./gemm-shape.js";

export interface BlockLinear {
  /** The weight tensor [N, K] and what it is, for messages. */
  weight: string;
  what: string;
  N: number;
  K: number;
  /** Rows the plan runs (the GEMM shape's choice); `fixedRows`: the uniform's row count (0: the run's T). */
  planRows: number;
  fixedRows?: number;
  a: GPUBuffer;
  out: GPUBuffer;
  bias?: GPUBuffer;
  residual?: GPUBuffer;
  lda?: number;
  aOff?: number;
  ld?: number;
  outOff?: number;
}

/** Whether the product takes the block path (the store keeps W as blocks and A's words fit). */
export function usesBlocks(b: BuildContext, K: number, lda = K, aOff = 0): boolean {
  return b.weights.blocksFor(K) !== undefined && blockGemmFits([K, lda, aOff]);
}

/** The GEMM steps of one block-quantized product (a dispatch per weight chunk). */
export async function blockLinearSteps(b: BuildContext, o: BlockLinear, grid?: (ntn: number) => Step["grid"]): Promise<Step[]> {
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const t = b.weights.blocks(o.weight, o.N, o.K, o.what);
  const shape = blockGemmShape(b, o.planRows);
  const residual = o.residual !== undefined;
  const steps: Step[] = [];
  for (const c of t.chunks) {
    const p = linearParams({ rows: o.fixedRows ?? 0, N: o.N, K: o.K, g0: c.g0, g1: c.g1, bias: o.bias !== undefined, ...(residual ? { residual: true } : {}), ld: o.ld ?? o.N, outOff: o.outOff ?? 0, lda: o.lda ?? o.K, aOff: o.aOff ?? 0, shape });
    const bufs: Record<string, GPUBuffer> = { a: o.a, weight: c.values, weight_scale: c.scales, b: o.bias ?? b.dummy(), out: o.out };
    if (residual) bufs["res"] = o.residual!;
    steps.push(await b.step(linearKernel(b.dtype, residual, shape, t.format), p.values, bufs, (grid ?? ((n) => denseGrid(n, shape, maxDim)))(p.ntn)));
  }
  return steps;
}
