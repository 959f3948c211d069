// float64 reference of the attention ops (LANGUAGE.md §13.0): `attention` (GQA, q/k norm full or
// per head, rotary half / interleaved / partial, YaRN, sliding window) and `mla` (DeepSeek-V2/V3
// multi-head latent attention). Written from §13.0 and Hugging Face's modeling code, independently
// of the GPU kernels; position t is row t of the run (0-based), as the IR says.
//
// Conventions pinned here, with the transformers source they were read from:
// - Sliding window W > 0: position t reads s with t − W < s ≤ t, i.e. itself and the W − 1 before
//   it (W positions). That is masking_utils.py's `sliding_window_causal_mask_function`:
//   `kv_idx > q_idx - sliding_window` AND `kv_idx <= q_idx`, which Mistral and Qwen2 build through
//   `create_sliding_window_causal_mask`; eager/SDPA have used it since the 2024 mask refactor, and
//   flash-attention's `window_size` was brought to the same W (not W + 1) by transformers PR #40163
//   (issue #39408). W ≥ T is plain causal attention.
// - GQA: query head h reads kv head h div (H/KV), which is what `repeat_kv` (expand KV heads to
//   [KV, n_rep] then reshape) gives: expanded head g·n_rep + r is kv head g.
// - rope = half: Hugging Face's `rotate_half` on the first r values of a head, with cos/sin of
//   cat(freqs, freqs): value i pairs with i + r/2 at frequency i. rope = interleaved: values 2i and
//   2i+1 at frequency i, in place. DeepSeek-V3 with `rope_interleave` (modeling_deepseek_v3.py,
//   `apply_rotary_pos_emb_interleave`) first permutes the rope part to [x0, x2, …, x1, x3, …] and
//   then applies rotate_half, so its rotated q_pe/k_pe are our in-place pair rotation followed by
//   that fixed permutation, applied to q and k alike. The rotated values enter only q_pe·k_pe, and a
//   permutation applied to both sides leaves a dot product unchanged, so the scores (and everything
//   after) are the same; we keep the pairs in place, as DeepSeek's own inference code does.
// - Scores are scaled by attentionScale (1/sqrt(hd)) / mlaScale (1/sqrt(Dn+Dr), times mscale² with
//   YaRN's mscale_all_dim); YaRN's attention factor multiplies cos and sin (compiler/ir/rope.ts).
// - qk_norm = full (OLMoE): RMSNorm of the whole q [H·hd] and k [KV·hd] before splitting into heads
//   (`self.q_norm(self.q_proj(x))`); head (Qwen3): RMSNorm of each head's hd values with one [hd]
//   weight (`self.q_norm(self.q_proj(x).view(..., head_dim))`). Both before rotary, both qkEps.

import { attentionTensors, mlaTensors } from "../../compiler/ir/block-tensors.js";
import type { IrAttention, IrMla, IrRope } from "../../compiler/ir/ir.js";
import { attentionScale, mlaScale, ropeTables, type RopeTables } from "../../compiler/ir/rope.js";
import { dot, matVec, softmax } from "../../stdlib/math64.js";
import { blockWeights, rmsNormSlice, type Vec } from "./ref-blocks.js";
import type { RefTensors } from "./ref-experts.js";

/** In place: rotary positions of `kind` on x[off … off + 2·tables.invFreq.length) at position t. */
export function rotate(x: Float64Array, off: number, kind: IrRope["kind"], tables: RopeTables, t: number): void {
  if (kind === "none") return;
  const n = tables.invFreq.length; // r / 2 pairs
  for (let i = 0; i < n; i++) {
    const angle = t * tables.invFreq[i]!;
    const c = Math.cos(angle) * tables.cosSinScale;
    const s = Math.sin(angle) * tables.cosSinScale;
    const ia = kind === "half" ? off + i : off + 2 * i;
    const ib = kind === "half" ? off + i + n : off + 2 * i + 1;
    const a = x[ia]!;
    const b = x[ib]!;
    x[ia] = a * c - b * s;
    x[ib] = b * c + a * s;
  }
}

/** The positions position t reads: lo ≤ s ≤ t (causal; with window W > 0, lo = t − W + 1). */
export function visibleFrom(t: number, window: number): number {
  return window > 0 ? Math.max(0, t - window + 1) : 0;
}

/**
 * Positions and visibility other than the causal default (Group Think's mask, §11.2): row t is at
 * position positions[t] (for rotary and the window) and reads row s iff reads(t, s).
 */
export interface AttentionMask {
  positions: readonly number[];
  reads(t: number, s: number): boolean;
}

/** The rows row t reads: causal (lo ≤ s ≤ t under the window), or the mask's rows within the window of positions. */
function readRows(t: number, window: number, mask: AttentionMask | undefined): number[] {
  if (!mask) return Array.from({ length: t - visibleFrom(t, window) + 1 }, (_, i) => visibleFrom(t, window) + i);
  const rows: number[] = [];
  const q = mask.positions[t]!;
  for (let s = 0; s < mask.positions.length; s++) if (mask.reads(t, s) && (window <= 0 || mask.positions[s]! > q - window)) rows.push(s);
  return rows;
}

/**
 * Softmax attention of H heads over T positions: out[t, h·vDim …] = Σ_s p(t,s,h) · value(s,h),
 * p = softmax over the visible s (causal, or the mask's) of score(t, s, h) (already scaled), in float64.
 */
function attend(
  T: number,
  H: number,
  vDim: number,
  window: number,
  score: (t: number, s: number, h: number) => number,
  value: (s: number, h: number) => { v: Float64Array; off: number },
  mask?: AttentionMask,
): Float64Array {
  const out = new Float64Array(T * H * vDim);
  for (let t = 0; t < T; t++) {
    const rows = readRows(t, window, mask);
    for (let h = 0; h < H; h++) {
      const p = softmax(Float64Array.from(rows, (s) => score(t, s, h)));
      const o = (t * H + h) * vDim;
      rows.forEach((s, i) => {
        const { v, off } = value(s, h);
        const ps = p[i]!;
        for (let d = 0; d < vDim; d++) out[o + d]! += ps * v[off + d]!;
      });
    }
  }
  return out;
}

/** y [T, rows] = x [T, cols] · Wᵀ (+ b). */
function project(w: Vec, rows: number, cols: number, x: Float64Array, T: number, b?: Vec): Float64Array {
  const y = new Float64Array(T * rows);
  for (let t = 0; t < T; t++) y.set(matVec(w, 0, rows, cols, x.subarray(t * cols, (t + 1) * cols), b), t * rows);
  return y;
}

/** `attention` on x [T, D] → [T, D] (§13.0); `mask`: positions and visibility other than causal. */
export function attentionReference(a: IrAttention, W: RefTensors, x: Float64Array, T: number, D: number, mask?: AttentionMask): Float64Array {
  const { heads: H, kvHeads: KV, headDim: hd } = a;
  const p = blockWeights(W, a.key, attentionTensors(a, D));
  const q = project(p["wq"]!, H * hd, D, x, T, p["bq"]);
  const k = project(p["wk"]!, KV * hd, D, x, T, p["bk"]);
  const v = project(p["wv"]!, KV * hd, D, x, T, p["bv"]);
  for (let t = 0; t < T; t++) {
    if (a.qkNorm === "full") {
      rmsNormSlice(q, t * H * hd, H * hd, p["q_norm"]!, 0, a.qkEps);
      rmsNormSlice(k, t * KV * hd, KV * hd, p["k_norm"]!, 0, a.qkEps);
    } else if (a.qkNorm === "head") {
      for (let h = 0; h < H; h++) rmsNormSlice(q, (t * H + h) * hd, hd, p["q_norm"]!, 0, a.qkEps);
      for (let g = 0; g < KV; g++) rmsNormSlice(k, (t * KV + g) * hd, hd, p["k_norm"]!, 0, a.qkEps);
    }
  }
  if (a.rope.kind !== "none" && a.rope.dim > 0) {
    const tables = ropeTables(a.rope);
    for (let t = 0; t < T; t++) {
      const pos = mask ? mask.positions[t]! : t;
      for (let h = 0; h < H; h++) rotate(q, (t * H + h) * hd, a.rope.kind, tables, pos);
      for (let g = 0; g < KV; g++) rotate(k, (t * KV + g) * hd, a.rope.kind, tables, pos);
    }
  }
  const group = H / KV;
  const scale = attentionScale(a);
  const kvOff = (s: number, h: number) => (s * KV + Math.floor(h / group)) * hd;
  const heads = attend(
    T,
    H,
    hd,
    a.window,
    (t, s, h) => dot(q.subarray((t * H + h) * hd, (t * H + h + 1) * hd), k, kvOff(s, h)) * scale,
    (s, h) => ({ v, off: kvOff(s, h) }),
    mask,
  );
  return project(p["wo"]!, D, H * hd, heads, T);
}

/** `mla` on x [T, D] → [T, D] (§13.0; DeepSeek-V3's DeepseekV3Attention, row orders as there). */
export function mlaReference(a: IrMla, W: RefTensors, x: Float64Array, T: number, D: number): Float64Array {
  const { heads: H, qRank: Rq, kvRank: Rkv, nopeDim: Dn, ropeDim: Dr, vDim: Dv } = a;
  const p = blockWeights(W, a.key, mlaTensors(a, D));
  const qw = Dn + Dr; // each head's q rows: Dn no-rope, then Dr rope (torch.split [Dn, Dr])
  let q: Float64Array;
  if (Rq === 0) q = project(p["wq"]!, H * qw, D, x, T);
  else {
    const cq = project(p["wq_a"]!, Rq, D, x, T);
    for (let t = 0; t < T; t++) rmsNormSlice(cq, t * Rq, Rq, p["q_norm"]!, 0, a.normEps);
    q = project(p["wq_b"]!, H * qw, Rq, cq, T);
  }
  // wkv_a rows: the latent c_kv (first Rkv), then one k_pe (last Dr) shared by all heads.
  const ckv = project(p["wkv_a"]!, Rkv + Dr, D, x, T);
  const latent = new Float64Array(T * Rkv);
  for (let t = 0; t < T; t++) {
    latent.set(ckv.subarray(t * (Rkv + Dr), t * (Rkv + Dr) + Rkv), t * Rkv);
    rmsNormSlice(latent, t * Rkv, Rkv, p["kv_norm"]!, 0, a.normEps);
  }
  // wkv_b rows: per head Dn key (no-rope) rows, then Dv value rows.
  const kv = project(p["wkv_b"]!, H * (Dn + Dv), Rkv, latent, T);
  if (a.rope.kind !== "none" && a.rope.dim > 0) {
    const tables = ropeTables(a.rope);
    for (let t = 0; t < T; t++) {
      for (let h = 0; h < H; h++) rotate(q, (t * H + h) * qw + Dn, a.rope.kind, tables, t);
      rotate(ckv, t * (Rkv + Dr) + Rkv, a.rope.kind, tables, t);
    }
  }
  const scale = mlaScale(a);
  const heads = attend(
    T,
    H,
    Dv,
    0,
    (t, s, h) => {
      const qo = (t * H + h) * qw;
      const nope = dot(q.subarray(qo, qo + Dn), kv, (s * H + h) * (Dn + Dv));
      const pe = dot(q.subarray(qo + Dn, qo + qw), ckv, s * (Rkv + Dr) + Rkv);
      return (nope + pe) * scale;
    },
    (s, h) => ({ v: kv, off: (s * H + h) * (Dn + Dv) + Dn }),
  );
  return project(p["wo"]!, D, H * Dv, heads, T);
}
