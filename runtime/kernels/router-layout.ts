// The uniform block of the fused router kernels (router-fused.ts, router-aux-kernels.ts): word
// indices shared by the host (router-plan.ts) and the generated WGSL, so they cannot drift.
//
//   h  : array<vec4<u32>, HEADER_VEC4>   control words (P_* below; f32 values bit-cast)
//   xp : array<vec4<f32>, XP_VEC4>       stage parameters (each stage has a base index `pb`)
//
// The kernels declare it through defineKernel (ROUTER_UNIFORMS: `p.h`, `p.xp`); this file keeps
// the word indices and the WGSL accessors.

import type { ParamValues } from "./define-kernel.js";

export const P = {
  D: 0, E: 1, MAXK: 2, ROUNDS: 3,
  /** Score code: 0 linear, 1 cosine, 2 product, ≥ 16 plugin. */
  SCORE: 4,
  /** Rows of the gate GEMM (0: none), where its output goes in `scr`, and its row stride.
   *  R | R_PRECOMPUTED: the rows were written by earlier dispatches (router-gate-kernel.ts, for a
   *  GEMM matrix above the binding limit); the kernel skips its own GEMM. */
  R: 5, GOFF: 6, GSTRIDE: 7,
  /** Offsets of the weight stream and the selection stream in `scr` ([T, E] each). */
  WOFF: 8, SOFF: 9,
  /** First transform at which the streams differ (≥ NT: never; the selection stream is then the weight stream). */
  SPLIT: 10, NT: 11,
  /** Select code: native 0..5 (router-fused SELECT_*), ≥ 16 plugin. */
  SELECT: 12, NPOST: 13,
  /** Select parameter (f32: top-p p, threshold δ, choose capacity c) and the select stage's param/state bases. */
  SP1: 14, SPB: 15,
  GROUPS: 16, KEEP: 17, GSOFF: 18, THROFF: 19,
  /** `aux` offsets: linear bias (NONE: none), cosine weight norms. Score stage param/state bases. */
  BIASOFF: 20, WNOFF: 21, SCPB: 22, SCSB: 23,
  /** product: parts, keys per part, BatchNorm on/off and the aux offset of running mean / var. */
  PARTS: 24, SIZE: 25, BN: 26, BNOFF: 27,
  /** 0: whole router; 1: scores and transforms only (expert choice, pass 1); 2: select from the
   *  per-expert thresholds (expert choice, pass 3). */
  MODE: 28,
  /** Statistics: bit 0 per-token entropy and normalizer; bit 1 dense final weights G [T, E]. */
  STATS: 29, ENTOFF: 30, PNOFF: 31, GOFF_STATS: 32,
  /** Entropy's p (§10): 1 = softmax of the weight stream, 0 = the stream normalized to sum 1. */
  PSOFT: 33, WGHALF: 34, SELSB: 35,
  /** Transform slots: 4 words each (code, flags, param base, state base). */
  T0: 36,
  /** Post-select slots: 4 words each (code, flags, param base, state base). */
  Q0: 68,
} as const;

export const MAX_SLOTS = 8;
export const HEADER_WORDS = P.Q0 + 4 * MAX_SLOTS;
export const HEADER_VEC4 = Math.ceil(HEADER_WORDS / 4);
export const XP_VEC4 = 16;
export const XP_FLOATS = XP_VEC4 * 4;

/** Transform slot flags: streams and the reductions the kernel computes before the stage. */
export const TF = { WEIGHT: 1, SELECTION: 2, MAX: 4, SUM: 8, SUMEXP: 16, SUMSQ: 32 } as const;
/** Post slot flags. */
export const PF = { MAX: 4, SUM: 8, SUMEXP: 16 } as const;

export const MODE = { FULL: 0, SCORES: 1, FROM_THRESHOLDS: 2 } as const;
export const STATS = { ENTROPY: 1, DENSE: 2 } as const;

/** First code of plugin stages (native codes are below). */
export const PLUGIN_CODE0 = 16;

export const NONE = 0xffffffff;

/** High bit of the R word: the gate GEMM's output is already in `scr` (see P.R). */
export const R_PRECOMPUTED = 0x80000000;

/** The block as the uniforms of a defineKernel kernel. */
export const ROUTER_UNIFORMS = { h: { vec4: "u32", length: HEADER_VEC4 }, xp: { vec4: "f32", length: XP_VEC4 } } as const;

/** Word accessors of a `p: { h: array<vec4<u32>, …>, xp: array<vec4<f32>, …> }` block (also the state kernel's). */
export const BLOCK_ACCESSORS_WGSL = /* wgsl */ `
fn hw(i: u32) -> u32 { return p.h[i / 4u][i % 4u]; }
fn hf(i: u32) -> f32 { return bitcast<f32>(hw(i)); }
fn xp(i: u32) -> f32 { return p.xp[i / 4u][i % 4u]; }
`;

/** WGSL word indices (P_*) and accessors of the block; the struct and its binding come from ROUTER_UNIFORMS. */
export function paramsWgsl(): string {
  const consts = Object.entries(P)
    .map(([k, v]) => `const P_${k} = ${v}u;`)
    .join("\n");
  return `${consts}
const NONE = 0xffffffffu;
${BLOCK_ACCESSORS_WGSL}`;
}

/** A pass's words (router-plan.ts `params`) as the values of ROUTER_UNIFORMS. */
export function routerBlock(words: number[]): ParamValues<typeof ROUTER_UNIFORMS> {
  const n = HEADER_VEC4 * 4;
  if (words.length !== n + XP_FLOATS) throw new Error(`internal: a router block has ${n + XP_FLOATS} words, got ${words.length}`);
  return { h: words.slice(0, n), xp: words.slice(n) };
}

const f32Bits = (v: number): number => new Uint32Array(Float32Array.of(v).buffer)[0]!;

/** A zeroed block; `set` writes u32 words, `setF` f32 words. */
export class ParamBlock {
  readonly h = new Array<number>(HEADER_VEC4 * 4).fill(0);
  readonly xp = new Array<number>(XP_FLOATS).fill(0);
  private xpUsed = 0;

  set(i: number, v: number): void {
    this.h[i] = v >>> 0;
  }
  setF(i: number, v: number): void {
    this.h[i] = f32Bits(v);
  }
  /** Appends stage parameters; returns their base index. */
  params(values: number[]): number {
    if (this.xpUsed + values.length > XP_FLOATS) throw new RangeError(`a router's stages have more than ${XP_FLOATS} parameters in all`);
    const base = this.xpUsed;
    values.forEach((v, i) => (this.xp[base + i] = v));
    this.xpUsed += values.length;
    return base;
  }
  words(): number[] {
    return [...this.h, ...this.xp.map(f32Bits)];
  }
}
