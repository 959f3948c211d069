// Which weights the weight store will keep as Q8_0/Q4_0/FP8 blocks (ExecutorOptions.weightFormat),
// predicted from the IR before any upload, for device-fit.ts. The rules are the consumers':
// a matrix is kept as blocks when its rows are whole blocks (WeightStore.blocksFor) and
//   - `linear` (the LM head included) and attention's, MLA's (but wkv_b, which MLA's decode form
//     reads in the dtype) and peer attention's projections: the GEMM's A words are vec4-aligned too
//     (block-linear.ts usesBlocks, lower-attention.ts);
//   - `embed`: always (lower-model-ops.ts);
//   - routed pools with ffn-form experts: D and the hidden width both whole blocks, under the
//     `auto` or `token` schedule (lower-pools.ts, lower-moe-fine.ts poolUsesBlocks); a forced
//     `expert`/`dense` schedule, a shared use of the pool, or a heterogeneous pool reads it in the
//     storage dtype.
// Router gates, norms, biases and shared / dense FFN pools stay in the storage dtype.

import type { IrProgram } from "../../compiler/ir/ir.js";
import { mlaTensors } from "../../compiler/ir/block-tensors.js";
import { opsWithValues } from "../../compiler/ir/nested-ops.js";
import { blockLength, type GpuBlockFormat } from "../weights/quant/gpu-blocks.js";
import { blockGemmFits } from "./gemm-shape.js";
import type { FineSchedule } from "./lower-moe-fine.js";
import { ffnTensorNames, ffnView } from "./pool-view.js";
import { isGatedAct } from "../kernels/gemm/ffn-gemms.js";

/** A matrix the store keeps as blocks: `rows` rows of `K` values. */
export interface BlockMatrix {
  rows: number;
  K: number;
}


/** The weights (by canonical name) that `program`'s executor keeps as blocks of `format`. */
export function blockMatrices(program: IrProgram, format: GpuBlockFormat | undefined, schedule: FineSchedule = "auto"): Map<string, BlockMatrix> {
  const out = new Map<string, BlockMatrix>();
  if (!format) return out;
  // WeightStore.blocksFor's rule: rows that are whole blocks (32 values; 128 for fp8_e4m3).
  const wholeBlocks = (K: number): boolean => K > 0 && K % blockLength(format) === 0;
  const dense = (name: string, rows: number, K: number, lda = K, aOff = 0) => {
    if (wholeBlocks(K) && blockGemmFits([K, lda, aOff])) out.set(name, { rows, K });
  };
  const sharedPools = new Set<string>();
  for (const { op } of opsWithValues(program)) if (op.op === "shared") sharedPools.add(op.pool.key);
  for (const { op, values } of opsWithValues(program)) {
    const width = (id: number) => values[id]?.width ?? 0;
    switch (op.op) {
      case "linear":
        dense(`${op.weight}.weight`, op.outDim, width(op.x));
        break;
      case "embed":
        if (wholeBlocks(width(op.out))) out.set(`${op.weight}.weight`, { rows: op.vocab, K: width(op.out) });
        break;
      case "attention": {
        const a = op.attn, D = width(op.x), qw = a.heads * a.headDim, kw = a.kvHeads * a.headDim;
        dense(`${a.key}.wq`, qw, D);
        dense(`${a.key}.wk`, kw, D);
        dense(`${a.key}.wv`, kw, D);
        dense(`${a.key}.wo`, D, qw);
        break;
      }
      case "mla": {
        const a = op.attn, D = width(op.x);
        const latW = a.qRank + a.kvRank + a.ropeDim;
        for (const t of mlaTensors(a, D)) {
          if (!t.matmul) continue;
          const [rows, K] = t.shape as [number, number];
          // wkv_b stays counted in the dtype: the absorbed decode form (lower-mla-decode.ts) reads it
          // whole in the dtype, beside any block copy. wq_b reads the latent row's c_q (stride latW).
          if (t.name === "wkv_b") continue;
          if (t.name === "wq_b") dense(`${a.key}.${t.name}`, rows, K, latW, 0);
          else dense(`${a.key}.${t.name}`, rows, K);
        }
        break;
      }
      case "peer_attention": {
        const ds = width(op.x);
        for (const w of ["wq", "wk", "wv"]) dense(`${op.key}.${w}`, ds, ds);
        dense(`${op.key}.wo`, op.outDim, ds);
        break;
      }
      case "moe": {
        const pool = op.pool;
        if (pool.kind === "mixed" || sharedPools.has(pool.key) || (schedule !== "auto" && schedule !== "token")) break;
        const n = ffnTensorNames(pool);
        if (!n || !wholeBlocks(pool.dim) || !wholeBlocks(pool.hidden)) break;
        const N = pool.count, D = pool.dim, R = pool.hidden;
        out.set(n.up, { rows: N * R, K: D });
        if (isGatedAct(ffnView(pool).act)) out.set(n.gate, { rows: N * R, K: D });
        out.set(n.down, { rows: N * D, K: R });
        break;
      }
      default:
        break;
    }
  }
  return out;
}
