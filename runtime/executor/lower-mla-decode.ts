// A decode step of `mla` in DeepSeek's absorbed form (docs/generation.md), after the latent GEMM,
// its norms and wq_b (lower-mla.ts):
//
//   q, latent ─► mla_decode_prep: rotate q_pe into [· | q_pe] rows, append [c_kv | rot k_pe] to the cache
//             ─► head_matvec: q_abs[h] = W_uk[h]ᵀ q_nope[h] into [q_abs | ·]
//             ─► flash-decode partials + merge over the cache (one kv head: keys [c_kv | k_pe],
//                values c_kv) ─► head_matvec: o[h] = W_uv[h] · latent_out[h] ─► (wo, by the caller)
//
// W_uk[h] / W_uv[h] are head h's Dn key rows / Dv value rows of wkv_b [H·(Dn+Dv), Rkv]. Keys and
// values are never expanded per head; the cache holds Rkv + Dr values per position.

import type { IrOp } from "../../compiler/ir/ir.js";
import { mlaTensors } from "../../compiler/ir/block-tensors.js";
import { mlaScale } from "../../compiler/ir/rope.js";
import { HEAD_MATVEC_WG, headMatvecKernel, headMatvecParams, mlaDecodePrepKernel, mlaDecodePrepParams } from "../kernels/attention/mla-decode.js";
import type { BuildContext, Step } from "./build-context.js";
import { elementwiseGrid } from "./grids.js";
import { decodeAttentionSteps } from "./lower-decode-attention.js";

type MlaOp = Extract<IrOp, { op: "mla" }>;

export async function mlaDecodeSteps(
  b: BuildContext,
  op: MlaOp,
  name: string,
  bufs: { q: GPUBuffer; lat: GPUBuffer; latW: number; heads: GPUBuffer; invFreq: GPUBuffer; cosSinScale: number },
): Promise<Step[]> {
  const a = op.attn;
  const { heads: H, qRank: Rq, kvRank: Rkv, nopeDim: Dn, ropeDim: Dr, vDim: Dv } = a;
  const QD = Dn + Dr;
  const Rd = Rkv + Dr;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const blk = b.kvBlock(a.key);
  const kvDtype = b.generation!.cache.dtype;
  const shape = mlaTensors(a, b.width(op.x)).find((t) => t.name === "wkv_b")!.shape;
  const wkvB = b.weights.whole(`${a.key}.wkv_b`, shape, `mla '${a.key}' wkv_b [${shape.join(", ")}]`);
  const qd = b.storage(H * Rd, `${name}.q_absorbed`);
  const latOut = b.storage(H * Rkv, `${name}.latent_out`);
  const steps: Step[] = [];

  const prep = mlaDecodePrepParams({ H, Dn, Dr, Rkv, ckvOff: Rq, kpeOff: Rq + Rkv, ring: blk.ring, rope: a.rope.kind, cosSinScale: bufs.cosSinScale });
  steps.push(await b.step(mlaDecodePrepKernel(b.dtype, kvDtype), prep, { q: bufs.q, lat: bufs.lat, qd, cache: blk.buffer, inv_freq: bufs.invFreq }, () => [1, 1, 1]));
  const headRows = (Dn + Dv) * Rkv;
  const absorbQ = headMatvecParams({ H, nOut: Rkv, nIn: Dn, inHs: QD, inOff: 0, outHs: Rd, outOff: 0, wHs: headRows, wOff: 0, wSi: Rkv, wSj: 1 });
  steps.push(await b.step(headMatvecKernel(b.dtype), absorbQ, { x: bufs.q, w: wkvB, out: qd }, () => elementwiseGrid(H * Rkv, HEAD_MATVEC_WG, maxDim)));
  steps.push(...(await decodeAttentionSteps(b, {
    H, KV: 1, QD: Rd, VD: Rkv, q: qd, qOff: 0, qHs: Rd, blk, kOff: 0, kHs: 0, vOff: 0, vHs: 0, window: 0, scale: mlaScale(a), out: latOut, oOff: 0, oHs: Rkv,
  })));
  const absorbV = headMatvecParams({ H, nOut: Dv, nIn: Rkv, inHs: Rkv, inOff: 0, outHs: Dv, outOff: 0, wHs: headRows, wOff: Dn * Rkv, wSi: 1, wSj: Rkv });
  steps.push(await b.step(headMatvecKernel(b.dtype), absorbV, { x: latOut, w: wkvB, out: bufs.heads }, () => elementwiseGrid(H * Dv, HEAD_MATVEC_WG, maxDim)));
  return steps;
}
