// Routing statistics and losses, exactly as LANGUAGE.md §10 defines them. The GPU reduces over
// tokens (router-aux-kernels.ts: loads, Σ_t weights per expert, Σ_t p per expert, Σ_t entropy,
// the experts-per-token histogram); `finishStats` turns those O(E) sums into the reported
// numbers in float64. `referenceStats` computes the same from the float64 reference's trace,
// independently of the kernels.

import type { IrRouter } from "../../compiler/ir/ir.js";
import { weightStreamCanBeNegative } from "../../stdlib/stage-table.js";
import type { Streams, TokenSelection } from "../reference/ref-router.js";

/** What the GPU hands back for one router and one run. */
export interface RawRouterStats {
  key: string;
  experts: number;
  tokens: number;
  maxPerToken: number;
  load: ArrayLike<number>;
  importanceSum: ArrayLike<number>;
  pSum: ArrayLike<number>;
  entropySum: number;
  histogram: ArrayLike<number>;
  report: string[];
  balanceCoef?: number;
  /** Stage state vectors the stages report (`stats.state`), after this run's update. */
  state: Record<string, number[]>;
}

export interface RouterStats {
  experts: number;
  tokens: number;
  /** Statistics the program's `report` names for this router (all are computed). */
  report: string[];
  /** Tokens per expert. */
  load: number[];
  /** Weight mass per expert: Σ over tokens of the final routing weight. */
  importance: number[];
  active_k: { mean: number; histogram: number[] };
  /** Mean over tokens of −Σ p log p, p the pre-selection weight stream normalized (§10). */
  entropy: number;
  /** (max load − mean load) / mean load. */
  maxvio: number;
  /** Fraction of tokens with no expert. */
  drop_rate: number;
  /** α · E · Σ_e f_e P_e when the layer has `loss balance(coef = α)`. */
  balance?: number;
  /** Σ_e f_e P_e · E without the coefficient (what `balance` scales). */
  balance_unscaled: number;
  state?: Record<string, number[]>;
}

export function finishStats(raw: RawRouterStats): RouterStats {
  const E = raw.experts;
  const T = raw.tokens;
  const load = Array.from(raw.load, Number);
  const total = load.reduce((a, b) => a + b, 0);
  const mean = total / E;
  const maxLoad = Math.max(...load);
  const hist = Array.from(raw.histogram, Number);
  let kSum = 0;
  hist.forEach((n, k) => (kSum += n * k));
  let fp = 0;
  for (let e = 0; e < E; e++) fp += (total > 0 ? load[e]! / total : 0) * (raw.pSum[e]! / T);
  const unscaled = E * fp;
  const out: RouterStats = {
    experts: E,
    tokens: T,
    report: raw.report,
    load,
    importance: Array.from(raw.importanceSum, Number),
    active_k: { mean: kSum / T, histogram: hist },
    entropy: raw.entropySum / T,
    maxvio: mean > 0 ? (maxLoad - mean) / mean : 0,
    drop_rate: (hist[0] ?? 0) / T,
    balance_unscaled: unscaled,
  };
  if (raw.balanceCoef !== undefined) out.balance = raw.balanceCoef * unscaled;
  if (Object.keys(raw.state).length) out.state = raw.state;
  return out;
}

/** Is §10's p the softmax of the pipeline's pre-selection weight stream, as written ("where
 *  that stream can be negative")? Decided from the stages, not from the values. */
export function streamCanBeNegative(r: IrRouter): boolean {
  return weightStreamCanBeNegative(r.stages, r.pluginStages);
}

/**
 * The float64 statistics of one router from the reference's trace. `streams` must be the
 * pre-selection streams of the pipeline AS WRITTEN (LANGUAGE.md's definition), not rewritten.
 */
export function referenceStats(r: IrRouter, trace: { streams: Streams[]; selection: TokenSelection[] }): RawRouterStats {
  const E = r.numExperts;
  const T = trace.streams.length;
  const soft = streamCanBeNegative(r);
  const load = new Float64Array(E);
  const imp = new Float64Array(E);
  const pSum = new Float64Array(E);
  const maxK = Math.max(r.maxPerToken, ...trace.selection.map((s) => s.ids.length));
  const hist = new Float64Array(maxK + 1);
  let ent = 0;
  for (let t = 0; t < T; t++) {
    const w = trace.streams[t]!.w;
    const p = pOf(w, soft);
    let h = 0;
    for (let e = 0; e < E; e++) {
      pSum[e]! += p[e]!;
      if (p[e]! > 0) h -= p[e]! * Math.log(p[e]!);
    }
    ent += h;
    const sel = trace.selection[t]!;
    hist[sel.ids.length]! += 1;
    sel.ids.forEach((e, j) => {
      load[e]! += 1;
      imp[e]! += sel.weights[j]!;
    });
  }
  return {
    key: r.key,
    experts: E,
    tokens: T,
    maxPerToken: maxK,
    load,
    importanceSum: imp,
    pSum,
    entropySum: ent,
    histogram: hist,
    report: [...r.report],
    balanceCoef: r.balanceCoef,
    state: {},
  };
}

function pOf(w: Float64Array, soft: boolean): Float64Array {
  if (soft) {
    let m = -Infinity;
    for (const v of w) m = Math.max(m, v);
    let s = 0;
    for (const v of w) s += Math.exp(v - m);
    return w.map((v) => Math.exp(v - m) / s);
  }
  let s = 0;
  for (const v of w) s += v;
  return s > 0 ? w.map((v) => v / s) : new Float64Array(w.length);
}

/** The --stats JSON: per router key, and losses (§10). */
export interface StatsFile {
  moec_stats: 1;
  entry: string;
  tokens: number;
  routers: Record<string, RouterStats>;
  losses: { balance?: Record<string, number> };
}

export function statsFile(entry: string, tokens: number, stats: Map<string, RouterStats>): StatsFile {
  const routers: Record<string, RouterStats> = {};
  const balance: Record<string, number> = {};
  for (const [k, s] of stats) {
    routers[k] = s;
    if (s.balance !== undefined) balance[k] = s.balance;
  }
  return { moec_stats: 1, entry, tokens, routers, losses: Object.keys(balance).length ? { balance } : {} };
}

/** The statistics as JSON, indented, with number lists on one line (loads of 256 experts stay readable). */
export function formatStatsJson(data: StatsFile): string {
  return JSON.stringify(data, null, 2).replace(/\[\s*(-?[\d.eE+-]+(?:,\s*-?[\d.eE+-]+)*)\s*\]/g, (_m, body: string) => `[${body.split(/,\s*/).join(", ")}]`) + "\n";
}
