// The tensors each model block reads, from its IR descriptor alone: one definition shared by the
// checker's weight lists (semantic/blocks.ts), the verifier and the runtime (binder, kernels), so
// a block's weight names and shapes cannot drift between them (LANGUAGE.md §13).
import type { IrAttention, IrMla } from "./ir.js";

export interface BlockTensor {
  /** Name under the block's key (`wq` → `layers.0.self_attn.wq`). */
  name: string;
  shape: number[];
  /** Used in a matrix product (counted in FLOPs). */
  matmul?: boolean;
}

export function attentionTensors(a: IrAttention, D: number): BlockTensor[] {
  const { heads: H, kvHeads: KV, headDim: hd } = a;
  const t: BlockTensor[] = [
    { name: "wq", shape: [H * hd, D], matmul: true },
    { name: "wk", shape: [KV * hd, D], matmul: true },
    { name: "wv", shape: [KV * hd, D], matmul: true },
    { name: "wo", shape: [D, H * hd], matmul: true },
  ];
  if (a.bias) t.push({ name: "bq", shape: [H * hd] }, { name: "bk", shape: [KV * hd] }, { name: "bv", shape: [KV * hd] });
  if (a.qkNorm === "full") t.push({ name: "q_norm", shape: [H * hd] }, { name: "k_norm", shape: [KV * hd] });
  if (a.qkNorm === "head") t.push({ name: "q_norm", shape: [hd] }, { name: "k_norm", shape: [hd] });
  return t;
}

export function mlaTensors(a: IrMla, D: number): BlockTensor[] {
  const { heads: H, qRank: Rq, kvRank: Rkv, nopeDim: Dn, ropeDim: Dr, vDim: Dv } = a;
  const t: BlockTensor[] = [];
  if (Rq === 0) t.push({ name: "wq", shape: [H * (Dn + Dr), D], matmul: true });
  else t.push({ name: "wq_a", shape: [Rq, D], matmul: true }, { name: "q_norm", shape: [Rq] }, { name: "wq_b", shape: [H * (Dn + Dr), Rq], matmul: true });
  t.push(
    { name: "wkv_a", shape: [Rkv + Dr, D], matmul: true },
    { name: "kv_norm", shape: [Rkv] },
    { name: "wkv_b", shape: [H * (Dn + Dv), Rkv], matmul: true },
    { name: "wo", shape: [D, H * Dv], matmul: true },
  );
  return t;
}

export function normTensors(kind: "rms" | "layer", D: number): BlockTensor[] {
  return kind === "rms" ? [{ name: "weight", shape: [D] }] : [{ name: "weight", shape: [D] }, { name: "bias", shape: [D] }];
}
