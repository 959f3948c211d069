// float64 router pipeline (LANGUAGE.md §5), one small function per stage. Two streams per token:
// `sel` (what selectors compare) and `w` (what multiplies expert outputs); every stage updates
// both the same way except `bias`, which touches selection only. Ties go to the lower index.

import type { IrRouter, IrStage } from "../../compiler/ir/ir.js";
import { logSoftmax, matVec, sigmoid, softmax } from "./ref-math.js";
import { type RefTensors, tensor } from "./ref-experts.js";

export interface Streams {
  sel: Float64Array;
  w: Float64Array;
}

/** A token's selection: expert ids in slot order and their weights. */
export interface TokenSelection {
  ids: number[];
  weights: number[];
}

const numParam = (s: IrStage, name: string, fallback?: number): number => {
  const v = s.params[name];
  if (typeof v === "number") return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`reference: stage '${s.name}' needs a numeric '${name}'`);
};

// ---- score stages: x [D] → z [E] ----

function scoreLinear(r: IrRouter, s: IrStage, W: RefTensors, x: ArrayLike<number>): Float64Array {
  const w = tensor(W, `${r.key}.weight`, r.numExperts * r.dim);
  const b = s.params["bias"] === true ? tensor(W, `${r.key}.bias`, r.numExperts) : undefined;
  return matVec(w, 0, r.numExperts, r.dim, x, b);
}

function scoreCosine(r: IrRouter, s: IrStage, W: RefTensors, x: ArrayLike<number>): Float64Array {
  const tau = numParam(s, "temp", 1);
  const w = tensor(W, `${r.key}.weight`, r.numExperts * r.dim);
  let nx = 0;
  for (let i = 0; i < r.dim; i++) nx += x[i]! * x[i]!;
  nx = Math.sqrt(nx);
  const z = new Float64Array(r.numExperts);
  for (let e = 0; e < r.numExperts; e++) {
    let d = 0;
    let nw = 0;
    for (let i = 0; i < r.dim; i++) {
      const v = w[e * r.dim + i]!;
      d += v * x[i]!;
      nw += v * v;
    }
    z[e] = d / (nx * Math.sqrt(nw)) / tau;
  }
  return z;
}

function scoreProduct(r: IrRouter, s: IrStage, W: RefTensors, x: ArrayLike<number>): Float64Array {
  const parts = numParam(s, "parts", 2);
  const n = numParam(s, "size");
  const perPart: Float64Array[] = [];
  for (let i = 0; i < parts; i++) {
    let z = matVec(tensor(W, `${r.key}.${i}.weight`, n * r.dim), 0, n, r.dim, x);
    if (s.params["norm"] === "batch") {
      const mean = W.get(`${r.key}.${i}.running_mean`) ?? new Float64Array(n);
      const vari = W.get(`${r.key}.${i}.running_var`) ?? new Float64Array(n).fill(1);
      z = z.map((v, j) => (v - mean[j]!) / Math.sqrt(vari[j]! + 1e-5));
    }
    perPart.push(logSoftmax(z));
  }
  // Expert index i0·n^(parts−1) + … (part 0 most significant).
  const E = n ** parts;
  const out = new Float64Array(E);
  for (let e = 0; e < E; e++) {
    let rest = e;
    let sum = 0;
    for (let i = parts - 1; i >= 0; i--) {
      sum += perPart[i]![rest % n]!;
      rest = Math.floor(rest / n);
    }
    out[e] = sum;
  }
  return out;
}

export function score(r: IrRouter, s: IrStage, W: RefTensors, x: ArrayLike<number>): Float64Array {
  switch (s.name) {
    case "linear":
      return scoreLinear(r, s, W, x);
    case "cosine":
      return scoreCosine(r, s, W, x);
    case "product":
      return scoreProduct(r, s, W, x);
    default:
      throw new Error(`reference: unknown score stage '${s.name}'`);
  }
}

// ---- transforms: both streams (bias: selection only) ----

export function transform(r: IrRouter, s: IrStage, W: RefTensors, st: Streams): Streams {
  switch (s.name) {
    case "softmax":
      return { sel: softmax(st.sel), w: softmax(st.w) };
    case "log_softmax":
      return { sel: logSoftmax(st.sel), w: logSoftmax(st.w) };
    case "sigmoid":
      return { sel: st.sel.map(sigmoid), w: st.w.map(sigmoid) };
    case "exp":
      return { sel: st.sel.map(Math.exp), w: st.w.map(Math.exp) };
    case "temp": {
      const tau = numParam(s, "tau");
      return { sel: st.sel.map((v) => v / tau), w: st.w.map((v) => v / tau) };
    }
    case "bias": {
      const b = W.get(`${r.key}.e_bias`) ?? new Float64Array(r.numExperts);
      return { sel: st.sel.map((v, e) => v + b[e]!), w: st.w };
    }
    default:
      throw new Error(`reference: unknown transform stage '${s.name}'`);
  }
}

// ---- per-token selectors ----

/** Expert indices sorted by selection score, highest first, ties to the lower index. */
export function ranked(sel: Float64Array, among?: (e: number) => boolean): number[] {
  const idx: number[] = [];
  for (let e = 0; e < sel.length; e++) if (!among || among(e)) idx.push(e);
  return idx.sort((a, b) => (sel[b]! !== sel[a]! ? sel[b]! - sel[a]! : a - b));
}

function pick(ids: number[], st: Streams): TokenSelection {
  return { ids, weights: ids.map((e) => st.w[e]!) };
}

export function selectTopk(s: IrStage, st: Streams): TokenSelection {
  return pick(ranked(st.sel).slice(0, numParam(s, "k")), st);
}

export function selectTopp(s: IrStage, st: Streams): TokenSelection {
  const p = numParam(s, "p");
  const max = Math.min(st.sel.length, numParam(s, "max", st.sel.length));
  const order = ranked(st.sel);
  const ids: number[] = [];
  let cum = 0;
  for (const e of order) {
    if (ids.length >= max) break;
    ids.push(e);
    cum += st.w[e]!;
    if (cum > p) break;
  }
  return pick(ids, st);
}

export function selectThreshold(s: IrStage, st: Streams): TokenSelection {
  const delta = numParam(s, "delta");
  const max = Math.min(st.sel.length, numParam(s, "max", st.sel.length));
  return pick(ranked(st.sel).filter((e) => st.sel[e]! >= delta).slice(0, max), st);
}

export function selectGroupTopk(s: IrStage, st: Streams): TokenSelection {
  const k = numParam(s, "k");
  const G = numParam(s, "groups");
  const keep = numParam(s, "keep");
  const E = st.sel.length;
  const size = E / G;
  const top = Math.min(2, size);
  const groupScore = Array.from({ length: G }, (_, g) => {
    const vals = Array.from(st.sel.subarray(g * size, (g + 1) * size)).sort((a, b) => b - a);
    return vals.slice(0, top).reduce((a, b) => a + b, 0);
  });
  const kept = new Set(
    Array.from({ length: G }, (_, g) => g)
      .sort((a, b) => (groupScore[b]! !== groupScore[a]! ? groupScore[b]! - groupScore[a]! : a - b))
      .slice(0, keep),
  );
  return pick(ranked(st.sel, (e) => kept.has(Math.floor(e / size))).slice(0, k), st);
}

export function selectDense(st: Streams): TokenSelection {
  return pick(Array.from({ length: st.sel.length }, (_, e) => e), st);
}

/** Expert choice over the whole run: each expert takes its highest-scoring tokens. */
export function selectChoose(s: IrStage, streams: Streams[]): TokenSelection[] {
  const c = numParam(s, "capacity");
  const T = streams.length;
  const E = T ? streams[0]!.sel.length : 0;
  const cap = Math.max(1, Math.min(T, Math.floor((c * T) / E)));
  const chosen: boolean[][] = Array.from({ length: T }, () => new Array<boolean>(E).fill(false));
  for (let e = 0; e < E; e++) {
    const toks = Array.from({ length: T }, (_, t) => t).sort((a, b) => {
      const d = streams[b]!.sel[e]! - streams[a]!.sel[e]!;
      return d !== 0 ? d : a - b;
    });
    for (const t of toks.slice(0, cap)) chosen[t]![e] = true;
  }
  // A token's slots in expert-index order.
  return streams.map((st, t) => pick(chosen[t]!.flatMap((on, e) => (on ? [e] : [])), st));
}

// ---- post-select: on the selected weights only ----

export function post(s: IrStage, sel: TokenSelection): TokenSelection {
  const w = sel.weights;
  switch (s.name) {
    case "renorm": {
      const sum = w.reduce((a, b) => a + b, 0);
      return { ids: sel.ids, weights: sum === 0 ? w.slice() : w.map((v) => v / sum) };
    }
    case "softmax":
      return { ids: sel.ids, weights: Array.from(softmax(w)) };
    case "exp":
      return { ids: sel.ids, weights: w.map(Math.exp) };
    case "scale": {
      const f = numParam(s, "s");
      return { ids: sel.ids, weights: w.map((v) => v * f) };
    }
    default:
      throw new Error(`reference: unknown post-select stage '${s.name}'`);
  }
}
