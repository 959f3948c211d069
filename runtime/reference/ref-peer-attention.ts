// float64 reference of `peer_attention` (LANGUAGE.md §11.1, Mixture of Thoughts): the primary's
// latent z₀ queries its peers' latents. Written from the contract, independently of the GPU's
// interleaved key rows: q = wq·z₀[t], k_j = wk·z_j[s], v_j = wv·z_j[s]; head m uses rows
// [m·ds/h, (m+1)·ds/h) of q, k, v; scores scaled by 1/√(ds/h); ONE softmax per head and position
// over the union {(j, s) : j a peer, s ≤ t}; heads concatenated in order, then wo. No biases,
// norms or rotary positions.

import { tensor, type RefTensors } from "./ref-experts.js";

/** y = W · x for W [rows, cols] (row-major) and x [cols]. */
function matVec(W: ArrayLike<number>, rows: number, cols: number, x: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += W[r * cols + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

export function peerAttentionReference(
  key: string, heads: number, outDim: number, W: RefTensors, z0: Float64Array, peers: Float64Array[], T: number, ds: number,
): Float64Array {
  if (ds % heads !== 0) throw new Error(`reference: peer_attention '${key}': ${heads} heads do not divide ${ds}`);
  const wq = tensor(W, `${key}.wq`, ds * ds), wk = tensor(W, `${key}.wk`, ds * ds), wv = tensor(W, `${key}.wv`, ds * ds);
  const wo = tensor(W, `${key}.wo`, outDim * ds);
  const hd = ds / heads;
  const row = (v: Float64Array, t: number) => v.subarray(t * ds, (t + 1) * ds);
  const q = Array.from({ length: T }, (_, t) => matVec(wq, ds, ds, row(z0, t)));
  const k = peers.map((z) => Array.from({ length: T }, (_, s) => matVec(wk, ds, ds, row(z, s))));
  const v = peers.map((z) => Array.from({ length: T }, (_, s) => matVec(wv, ds, ds, row(z, s))));
  const out = new Float64Array(T * outDim);
  for (let t = 0; t < T; t++) {
    const cat = new Float64Array(ds);
    for (let m = 0; m < heads; m++) {
      const lo = m * hd;
      // Scores over every (peer, position ≤ t) pair, then one softmax over all of them.
      const scores: { j: number; s: number; z: number }[] = [];
      for (let j = 0; j < peers.length; j++) {
        for (let s = 0; s <= t; s++) {
          let dot = 0;
          for (let d = 0; d < hd; d++) dot += q[t]![lo + d]! * k[j]![s]![lo + d]!;
          scores.push({ j, s, z: dot / Math.sqrt(hd) });
        }
      }
      const max = Math.max(...scores.map((x) => x.z));
      let sum = 0;
      for (const x of scores) sum += Math.exp(x.z - max);
      for (const x of scores) {
        const p = Math.exp(x.z - max) / sum;
        for (let d = 0; d < hd; d++) cat[lo + d]! += p * v[x.j]![x.s]![lo + d]!;
      }
    }
    out.set(matVec(wo, outDim, ds, cat), t * outDim);
  }
  return out;
}
