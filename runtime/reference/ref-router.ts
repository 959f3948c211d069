// float64 router pipeline (LANGUAGE.md §5), interpreted from each stage's `reference` (plugin
// API; std stages in stdlib/stages/). Two streams per token: `sel` (what selectors compare) and
// `w` (what multiplies expert outputs); a transform updates the streams its `stream` names
// (both by default; `bias` touches selection only).

import type { Args, StageSpec } from "@moec/plugin-api";
import type { IrRouter, IrStage } from "../../compiler/ir/ir.js";
import { runtimeStage } from "../../stdlib/stage-table.js";
import { stateLength, stateSpecs } from "../../stdlib/stage-adapter.js";
import type { RefTensors } from "./ref-experts.js";

export interface Streams {
  sel: Float64Array;
  w: Float64Array;
}

/** A token's selection: expert ids in slot order and their weights. */
export interface TokenSelection {
  ids: number[];
  weights: number[];
}

export function stageSpecOf(s: IrStage, r: IrRouter, where: string): StageSpec {
  const rs = runtimeStage(s.name, r.pluginStages);
  if (!rs) throw new Error(`${where}: no implementation of router stage '${s.name}' is loaded (is its plugin loaded?)`);
  return rs.spec;
}

/** A stage's state vector `r.NAME`: from the tensors, else its init value. */
export function stateOf(r: IrRouter, spec: StageSpec, args: Args, W: RefTensors, name: string): Float64Array {
  const t = W.get(`${r.key}.${name}`);
  if (t) return t instanceof Float64Array ? t : Float64Array.from(t);
  const st = stateSpecs(spec, args, r.numExperts).find((x) => x.name === name);
  if (!st) throw new Error(`reference: stage '${spec.name}' of router '${r.key}' has no state '${name}'`);
  return new Float64Array(stateLength(st, args, r.numExperts)).fill(st.init ?? 0);
}

const f64 = (v: ArrayLike<number>, n: number, what: string): Float64Array => {
  if (v.length !== n) throw new Error(`reference: ${what} returned ${v.length} values, expected ${n}`);
  return v instanceof Float64Array ? v : Float64Array.from(v);
};

/** Routes T tokens (rows of x [T, D]): streams after the transforms, and the final selection. */
export function routeReference(
  r: IrRouter,
  W: RefTensors,
  x: Float64Array,
  T: number,
  forced?: number[][],
): { streams: Streams[]; selection: TokenSelection[] } {
  if (r.unit === "sequence") return routePerSequence(r, W, x, T, forced);
  const stages = r.stages;
  const selAt = stages.findIndex((s) => s.role === "select");
  if (stages[0]?.role !== "score" || selAt < 0) throw new Error(`reference: router '${r.key}' needs a score and a select stage`);
  const E = r.numExperts;
  const where = `router '${r.key}'`;
  const specs = stages.map((s) => stageSpecOf(s, r, where));
  const ctxOf = (i: number) => {
    const args = stages[i]!.params as Args;
    return { args, E, state: (name: string) => stateOf(r, specs[i]!, args, W, name) };
  };

  const score = specs[0]!.reference.score;
  if (!score) throw new Error(`reference: score stage '${stages[0]!.name}' has no reference.score`);
  const streams: Streams[] = [];
  for (let t = 0; t < T; t++) {
    const xt = x.subarray(t * r.dim, (t + 1) * r.dim);
    const ctx = {
      ...ctxOf(0),
      D: r.dim,
      token: t,
      weight(name: string): Float64Array {
        const w = W.get(`${r.key}.${name}`);
        if (!w) throw new Error(`reference: missing weight '${r.key}.${name}'`);
        return w instanceof Float64Array ? w : Float64Array.from(w);
      },
    };
    const z = f64(score(xt, ctx), E, `score '${stages[0]!.name}'`);
    let st: Streams = { sel: Float64Array.from(z), w: Float64Array.from(z) };
    for (let i = 1; i < selAt; i++) {
      const tf = specs[i]!.reference.transform;
      if (!tf) throw new Error(`reference: transform '${stages[i]!.name}' has no reference.transform`);
      const which = specs[i]!.stream ?? "both";
      const c = ctxOf(i);
      st = {
        sel: which === "weight" ? st.sel : f64(tf(st.sel, c), E, `transform '${stages[i]!.name}'`),
        w: which === "selection" ? st.w : f64(tf(st.w, c), E, `transform '${stages[i]!.name}'`),
      };
    }
    streams.push(st);
  }

  const selSpec = specs[selAt]!;
  const pick = (ids: number[], t: number): TokenSelection => ({ ids, weights: ids.map((e) => streams[t]!.w[e]!) });
  let picked: TokenSelection[];
  if (forced) {
    if (forced.length !== T) throw new Error(`reference: forced selection for '${r.key}' has ${forced.length} tokens, expected ${T}`);
    picked = forced.map((ids, t) => pick(ids.slice(), t));
  } else if ((selSpec.scope ?? "token") === "run") {
    const run = selSpec.reference.selectRun;
    if (!run) throw new Error(`reference: select stage '${selSpec.name}' has no reference.selectRun`);
    const ids = run(streams.map((s) => s.sel), streams.map((s) => s.w), { ...ctxOf(selAt), tokens: T });
    picked = ids.map((row, t) => pick(row, t));
  } else {
    const one = selSpec.reference.select;
    if (!one) throw new Error(`reference: select stage '${selSpec.name}' has no reference.select`);
    const c = ctxOf(selAt);
    picked = streams.map((s, t) => pick(one(s.sel, s.w, c), t));
  }
  for (let i = selAt + 1; i < stages.length; i++) {
    const p = specs[i]!.reference.post;
    if (!p) throw new Error(`reference: post-select stage '${stages[i]!.name}' has no reference.post`);
    const c = ctxOf(i);
    picked = picked.map((sel) => ({ ids: sel.ids, weights: Array.from(f64(p(Float64Array.from(sel.weights), c), sel.ids.length, `post '${stages[i]!.name}'`)) }));
  }
  return { streams, selection: picked };
}

/**
 * `per sequence` (§11.1): the score stage reads the mean over the run's tokens of the router's
 * input (not a mean of per-token scores); the one decision and its weights (post-select stages
 * included) go to every token.
 */
function routePerSequence(r: IrRouter, W: RefTensors, x: Float64Array, T: number, forced?: number[][]): { streams: Streams[]; selection: TokenSelection[] } {
  if (T === 0) return { streams: [], selection: [] };
  const D = r.dim;
  const mean = new Float64Array(D);
  for (let t = 0; t < T; t++) for (let d = 0; d < D; d++) mean[d]! += x[t * D + d]!;
  for (let d = 0; d < D; d++) mean[d]! /= T;
  const { unit: _unit, ...perToken } = r;
  const one = routeReference(perToken, W, mean, 1, forced ? [forced[0]!] : undefined);
  const st = one.streams[0]!, sel = one.selection[0]!;
  return {
    streams: Array.from({ length: T }, () => ({ sel: Float64Array.from(st.sel), w: Float64Array.from(st.w) })),
    selection: Array.from({ length: T }, () => ({ ids: sel.ids.slice(), weights: sel.weights.slice() })),
  };
}
