// Lowering of the IR's simple ops (linear, unary, binary, scalar) to one dispatch each (a
// `linear` whose weight exceeds the binding limit: one per weight chunk).

import type { IrOp } from "../../compiler/ir/ir.js";
import { elementwiseGrid } from "./grids.js";
import { binaryKernel, binaryParams, ELEMENTWISE_WG, scalarKernel, scalarParams, unaryKernel, unaryParams } from "../kernels/elementwise-kernels.js";
import { denseGrid, linearKernel, linearParams } from "../kernels/gemm/linear-gemm.js";
import { linearGemmShape, linearWeightLayout } from "./gemm-shape.js";
import { softmaxKernel, softmaxParams } from "../kernels/softmax-kernel.js";
import { grid2D } from "../kernels/wgsl-common.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { blockLinearSteps, usesBlocks } from "./block-linear.js";

type SimpleOp = Extract<IrOp, { op: "linear" | "unary" | "binary" | "scalar" }>;

export async function lowerSimpleOp(b: BuildContext, op: SimpleOp, index: number, name: string): Promise<Lowering> {
  const steps: Step[] = [];
  const out = b.value(op.out);
  const width = b.width(op.out);
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  switch (op.op) {
    case "linear": {
      const inDim = b.width(op.x);
      if (usesBlocks(b, inDim)) {
        const bias = op.bias ? b.weights.whole(`${op.weight}.bias`, [op.outDim], `linear '${op.weight}' bias`) : undefined;
        steps.push(...(await blockLinearSteps(b, { weight: `${op.weight}.weight`, what: `linear '${op.weight}'`, N: op.outDim, K: inDim, planRows: b.cap, a: b.value(op.x), out, ...(bias ? { bias } : {}) })));
        break;
      }
      const name = `${op.weight}.weight`;
      const layout = linearWeightLayout(b, name, op.outDim, [inDim]);
      const w = b.weights.matrix(name, op.outDim, inDim, `linear '${op.weight}'`, layout);
      const bias = op.bias ? b.weights.whole(`${op.weight}.bias`, [op.outDim], `linear '${op.weight}' bias`) : b.dummy();
      const shape = linearGemmShape(b, layout, b.cap, [inDim]);
      for (const c of w.chunks) {
        const p = linearParams({ rows: 0, N: op.outDim, K: inDim, g0: c.g0, g1: c.g1, bias: op.bias, shape });
        const bufs = { a: b.value(op.x), weight: c.buffer, b: bias, out };
        steps.push(await b.step(linearKernel(b.dtype, false, shape), p.values, bufs, denseGrid(p.ntn, shape, maxDim)));
      }
      break;
    }
    case "unary": {
      const io = { x: b.value(op.x), out };
      if (op.fn === "softmax") {
        steps.push(await b.step(softmaxKernel(b.dtype), softmaxParams(width), io, (T) => grid2D(T, maxDim)));
      } else {
        steps.push(await b.step(unaryKernel(b.dtype), unaryParams(op.fn, width), io, (T) => elementwiseGrid(T * width, ELEMENTWISE_WG, maxDim)));
      }
      break;
    }
    case "binary": {
      const aw = b.width(op.a);
      const bw = b.width(op.b);
      if (aw !== bw && aw !== 1 && bw !== 1) throw new Error(`binary '${name}': widths ${aw} and ${bw} do not broadcast`);
      steps.push(
        await b.step(binaryKernel(b.dtype), binaryParams(op.fn, width, aw, bw), { a: b.value(op.a), b: b.value(op.b), out }, (T) =>
          elementwiseGrid(T * width, ELEMENTWISE_WG, maxDim),
        ),
      );
      break;
    }
    case "scalar": {
      steps.push(
        await b.step(scalarKernel(b.dtype), scalarParams(op.fn, op.value, op.scalarFirst, width), { x: b.value(op.x), out }, (T) =>
          elementwiseGrid(T * width, ELEMENTWISE_WG, maxDim),
        ),
      );
      break;
    }
  }
  return {
    op: index,
    kind: op.op,
    name,
    clears: [],
    encode(rec, T) {
      for (const s of steps) record(rec, s, T);
    },
  };
}
