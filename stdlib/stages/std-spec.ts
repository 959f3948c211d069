// The standard library's stages are StageSpecs of the plugin API (plugins/api/index.d.ts), plus a
// `native` code: their GPU side is the uniform-driven path of the fused router kernel (stages
// as data, so one compiled pipeline serves every std-only router), where a plugin contributes
// WGSL expressions instead. Everything else — parameters, checks, weights, state and its update
// rule, the float64 reference — goes through the same fields a plugin uses.
import type { Args, StageSpec } from "@moec/plugin-api";

export interface NativeCodes {
  score?: number;
  transform?: number;
  select?: number;
  post?: number;
}

export interface StdStageSpec extends StageSpec {
  native: NativeCodes;
}

/** Native codes of the fused router kernel (kept in sync with router-kernel WGSL by name). */
export const NATIVE = {
  score: { linear: 0, cosine: 1, product: 2 },
  transform: { softmax: 0, log_softmax: 1, sigmoid: 2, exp: 3, temp: 4, bias: 5 },
  select: { topk: 0, topp: 1, threshold: 2, dense: 3, group_topk: 4, choose: 5 },
  post: { renorm: 0, softmax: 1, exp: 2, scale: 3 },
} as const;

export const num = (a: Args, name: string, fallback?: number): number => {
  const v = a[name];
  if (typeof v === "number") return v;
  if (fallback !== undefined) return fallback;
  throw new Error(`stage argument '${name}' must be a number, got ${String(v)}`);
};

/** Expert indices by selection score, highest first, ties to the lower index (LANGUAGE.md §5). */
export function ranked(sel: ArrayLike<number>, among?: (e: number) => boolean): number[] {
  const idx: number[] = [];
  for (let e = 0; e < sel.length; e++) if (!among || among(e)) idx.push(e);
  return idx.sort((a, b) => (sel[b]! !== sel[a]! ? sel[b]! - sel[a]! : a - b));
}

export function softmax64(v: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) m = Math.max(m, v[i]!);
  const out = new Float64Array(v.length);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += out[i] = Math.exp(v[i]! - m);
  for (let i = 0; i < v.length; i++) out[i]! /= s;
  return out;
}

export function logSoftmax64(v: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < v.length; i++) m = Math.max(m, v[i]!);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += Math.exp(v[i]! - m);
  const lse = m + Math.log(s);
  return Float64Array.from(v, (z) => z - lse);
}

export const sigmoid64 = (x: number): number => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
