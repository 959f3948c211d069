// Lowering of `peer_attention` (LANGUAGE.md §11.1, Mixture of Thoughts' primary reading its
// peers) to an instance of the flash-attention kernel with another K/V source, P + 3 dispatches
// for P peers:
//
//   q GEMM (wq · z₀) ─► per peer: [wk; wv] GEMM into interleaved rows ─► flash attention ─► wo GEMM
//
// The flash kernel takes ONE softmax over all P peers' positions ≤ t by reading P key rows per
// position (kv_per_pos = P): peer j's [k | v] at position s is row s·P + j of one [T·P, 2·ds]
// buffer, written directly by that peer's projection GEMM (row stride P·2·ds, column offset
// j·2·ds). So no mask buffer and no concatenation pass exist; the causal rule s ≤ t is the
// kernel's own. No biases, norms or rotary positions (§11.1).

import type { IrOp } from "../../compiler/ir/ir.js";
import { FLASH_BQ, flashAttentionKernel, flashKeyTile, flashParams } from "../kernels/attention/flash-attention.js";
import { grid2D } from "../kernels/wgsl-common.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { outputProjection, projection, WHOLE_RUN_ATTENTION } from "./lower-attention.js";

type PeerAttentionOp = Extract<IrOp, { op: "peer_attention" }>;

export async function lowerPeerAttention(b: BuildContext, op: PeerAttentionOp, index: number, name: string): Promise<Lowering> {
  const ds = b.width(op.x);
  const H = op.heads;
  const hd = ds / H;
  const P = op.peers.length;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  if (b.generation) throw new Error(`peer_attention '${op.key}' belongs to a tensor graph, which is run, not decoded step by step`);
  if (ds % H !== 0) throw new Error(`peer_attention '${op.key}': ${H} heads do not divide the latent width ${ds}`);
  const what = (w: string) => `peer attention '${op.key}' ${w} [${w === "wo" ? op.outDim : ds}, ${ds}]`;
  const q = b.storage(b.cap * ds, `${name}.q`);
  const kv = b.storage(b.cap * P * 2 * ds, `${name}.kv`);
  const heads = b.storage(b.cap * ds, `${name}.heads`);
  const steps: Step[] = [];
  steps.push(...(await projection(b, `${op.key}#q`, [{ name: `${op.key}.wq`, rows: ds, what: what("wq") }], b.value(op.x), ds, ds, 0, q, ds)));
  const kvParts = ["wk", "wv"].map((w) => ({ name: `${op.key}.${w}`, rows: ds, what: what(w) }));
  for (let j = 0; j < P; j++) {
    steps.push(...(await projection(b, `${op.key}#kv`, kvParts, b.value(op.peers[j]!), ds, ds, 0, kv, P * 2 * ds, j * 2 * ds)));
  }
  const BK = flashKeyTile(hd, hd, b.gpu.limits.maxComputeWorkgroupStorageSize);
  const flash = flashParams({ H, KV: H, qLd: ds, qOff: 0, kLd: 2 * ds, kOff: 0, vLd: 2 * ds, vOff: ds, oLd: ds, scale: 1 / Math.sqrt(hd), window: 0, kvPerPos: P }, hd, hd);
  steps.push(await b.step(flashAttentionKernel({ dtype: b.dtype, QD: hd, VD: hd, BK }), flash, { q, k: kv, v: kv, out: heads }, (T) => grid2D(Math.ceil(T / FLASH_BQ) * H, maxDim)));
  steps.push(...(await outputProjection(b, `${op.key}.wo`, what("wo"), heads, ds, op.outDim, { out: op.out })));
  return {
    op: index,
    kind: "peer_attention",
    name,
    clears: [],
    wholeRun: WHOLE_RUN_ATTENTION,
    encode(rec, T) {
      for (const s of steps) record(rec, s, T);
    },
  };
}
