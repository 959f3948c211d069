// Lowering of `mla`, multi-head latent attention (DeepSeek-V2/V3, LANGUAGE.md §13.0), prefill form:
//
//   x ─► [wq_a; wkv_a] GEMM → [c_q | c_kv | k_pe]  ─► RMS norms of c_q and c_kv (in place)
//     ─► wq_b GEMM → q [T, H·(Dn+Dr)]   ─► wkv_b GEMM → [k_nope | v] per head [T, H·(Dn+Dv)]
//     ─► rotary on q's rope parts and k_pe, full keys [k_nope | k_pe] ─► flash attention ─► wo (+ residual)
//
// 7 dispatches (without q compression, `wq` and `wkv_a` are two GEMMs and there is no c_q norm:
// also 7). Scores are (q_nope·k_nope + q_pe·k_pe) · mlaScale (DeepSeek's mscale² with YaRN).
// In a generation's prefill two more dispatches copy c_kv (after its norm) and the rotated k_pe
// into the KV cache (9); a decode step takes DeepSeek's absorbed form (lower-mla-decode.ts).

import type { IrOp } from "../../compiler/ir/ir.js";
import { mlaTensors } from "../../compiler/ir/block-tensors.js";
import { mlaScale, ropeTables } from "../../compiler/ir/rope.js";
import { uploadFloats } from "../gpu/buffers.js";
import { FLASH_BQ, flashAttentionKernel, flashKeyTile, flashParams } from "../kernels/attention/flash-attention.js";
import { mlaRopeKernel, mlaRopeParams } from "../kernels/attention/mla-rope.js";
import { qkPrepareKernel, qkPrepareParams } from "../kernels/attention/qk-prepare.js";
import { grid2D } from "../kernels/wgsl-common.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { outputProjection, projection, type ResidualFusion, WHOLE_RUN_ATTENTION } from "./lower-attention.js";
import { cacheWriteStep } from "./lower-decode-attention.js";
import { mlaDecodeSteps } from "./lower-mla-decode.js";

export class BatchDecodeUnsupportedError extends Error {
  override name = "BatchDecodeUnsupportedError";
}

type MlaOp = Extract<IrOp, { op: "mla" }>;

export async function lowerMla(b: BuildContext, op: MlaOp, index: number, name: string, fused?: ResidualFusion): Promise<Lowering> {
  const a = op.attn;
  const D = b.width(op.x);
  const { heads: H, qRank: Rq, kvRank: Rkv, nopeDim: Dn, ropeDim: Dr, vDim: Dv } = a;
  const QD = Dn + Dr;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const tensor = new Map(mlaTensors(a, D).map((t) => [t.name, t]));
  const part = (n: string) => ({ name: `${a.key}.${n}`, rows: tensor.get(n)!.shape[0]!, what: `mla '${a.key}' ${n} [${tensor.get(n)!.shape.join(", ")}]` });
  const x = b.value(op.x);
  // The latent row: [c_q (Rq, absent without q compression) | c_kv (Rkv) | k_pe (Dr)].
  const latW = Rq + Rkv + Dr;
  const lat = b.storage(b.cap * latW, `${name}.latent`);
  const q = b.storage(b.cap * H * QD, `${name}.q`);
  const heads = b.storage(b.cap * H * Dv, `${name}.heads`);
  const steps: Step[] = [];

  if (Rq > 0) steps.push(...(await projection(b, `${a.key}#latent`, [part("wq_a"), part("wkv_a")], x, D, D, 0, lat, latW)));
  else {
    steps.push(...(await projection(b, `${a.key}#wq`, [part("wq")], x, D, D, 0, q, H * QD)));
    steps.push(...(await projection(b, `${a.key}#wkv_a`, [part("wkv_a")], x, D, D, 0, lat, latW)));
  }
  // RMS norms of c_q and c_kv (one "full" span each; without c_q, c_kv is the only span).
  const w = (n: string) => b.weights.whole(`${a.key}.${n}`, tensor.get(n)!.shape, part(n).what);
  const norms = Rq > 0
    ? { qOff: 0, hq: 1, hdq: Rq, kOff: Rq, hk: 1, hdk: Rkv, q_w: w("q_norm"), k_w: w("kv_norm") }
    : { qOff: 0, hq: 1, hdq: Rkv, kOff: 0, hk: 0, hdk: 1, q_w: w("kv_norm"), k_w: b.dummy() };
  const normParams = qkPrepareParams({
    ld: latW, qOff: norms.qOff, kOff: norms.kOff, hq: norms.hq, hk: norms.hk, hdq: norms.hdq, hdk: norms.hdk,
    qRopeOff: 0, kRopeOff: 0, ropeDim: 0, rope: "none", norm: "full", eps: a.normEps, cosSinScale: 1,
  });
  steps.push(await b.step(qkPrepareKernel(b.dtype), normParams, { qk: lat, q_w: norms.q_w, k_w: norms.k_w, inv_freq: b.dummy() }, (T) => grid2D(T, maxDim)));
  if (Rq > 0) steps.push(...(await projection(b, `${a.key}#wq_b`, [part("wq_b")], lat, Rq, latW, 0, q, H * QD)));

  const tables = ropeTables(a.rope);
  const invFreq = b.weights.derivedBuffer(`${a.key}#inv_freq`, () => uploadFloats(b.device, Float32Array.from(tables.invFreq.length ? tables.invFreq : [0]), "f32", `${a.key} inv_freq`));
  const lowering = (): Lowering => ({ op: index, kind: "mla", name, clears: [], wholeRun: WHOLE_RUN_ATTENTION, encode: (rec, T) => { for (const s of steps) record(rec, s, T); } });
  if (b.generation?.mode === "batch" || b.generation?.mode === "group") {
    throw new BatchDecodeUnsupportedError(`batched decoding: MLA block '${a.key}' has no batched decode form yet (its absorbed decode kernels read one position); decode MLA models one sequence at a time`);
  }
  if (b.generation?.mode === "decode") {
    steps.push(...(await mlaDecodeSteps(b, op, name, { q, lat, latW, heads, invFreq, cosSinScale: tables.cosSinScale })));
    steps.push(...(await outputProjection(b, `${a.key}.wo`, part("wo").what, heads, H * Dv, D, fused ?? { out: op.out })));
    return lowering();
  }

  const kv = b.storage(b.cap * H * (Dn + Dv), `${name}.kv`);
  const keys = b.storage(b.cap * H * QD, `${name}.keys`);
  steps.push(...(await projection(b, `${a.key}#wkv_b`, [part("wkv_b")], lat, Rkv, latW, Rq, kv, H * (Dn + Dv))));

  const rope = mlaRopeParams({ H, Dn, Dr, Dv, qLd: H * QD, latLd: latW, kpeOff: Rq + Rkv, rope: a.rope.kind, cosSinScale: tables.cosSinScale });
  steps.push(await b.step(mlaRopeKernel(b.dtype), rope, { q, lat, kv, keys, inv_freq: invFreq }, (T) => grid2D(T, maxDim)));
  if (b.generation) {
    // The decode form's cache rows: [c_kv after kv_norm | k_pe rotated (head 0's rope part of the keys)].
    const blk = b.kvBlock(a.key);
    steps.push(await cacheWriteStep(b, blk, b.generation.cache.dtype, lat, latW, Rq, Rkv, 0));
    steps.push(await cacheWriteStep(b, blk, b.generation.cache.dtype, keys, H * QD, Dn, Dr, Rkv));
  }

  const BK = flashKeyTile(QD, Dv, b.gpu.limits.maxComputeWorkgroupStorageSize);
  const flash = flashParams(
    { H, KV: H, qLd: H * QD, qOff: 0, kLd: H * QD, kOff: 0, vLd: H * (Dn + Dv), vOff: Dn, vHs: Dn + Dv, oLd: H * Dv, scale: mlaScale(a), window: 0 },
    QD,
    Dv,
  );
  steps.push(await b.step(flashAttentionKernel({ dtype: b.dtype, QD, VD: Dv, BK }), flash, { q, k: keys, v: kv, out: heads }, (T) => grid2D(Math.ceil(T / FLASH_BQ) * H, maxDim)));
  steps.push(...(await outputProjection(b, `${a.key}.wo`, part("wo").what, heads, H * Dv, D, fused ?? { out: op.out })));

  return lowering();
}
