// Host side of the fused router: an IR router (canonicalized, compiler/ir/passes) → what the
// kernels need: the kernel variant (which plugin stages), the GEMM matrix, the router's `aux`
// vector (score bias, cosine norms, every stage's non-GEMM weights and state), the scratch
// layout, and the uniform words of each pass.

import type { Args, StageSpec } from "@moec/plugin-api";
import type { IrRouter, IrStage } from "../../compiler/ir/ir.js";
import { canonicalizeRouter } from "../../compiler/ir/passes/canonicalize-router.js";
import { stateLength, stateSpecs } from "../../stdlib/stage-adapter.js";
import { runtimeStage } from "../../stdlib/stage-table.js";
import { NATIVE } from "../../stdlib/stages/std-spec.js";
import { MAX_SLOTS, MODE, NONE, P, ParamBlock, PF, PLUGIN_CODE0, STATS, TF } from "./router-layout.js";
import type { KernelPluginStage, KernelStateRule } from "./router-plugin-wgsl.js";

export class RouterPlanError extends Error {
  override name = "RouterPlanError";
}

/** A vector of `aux`: where it comes from and where it lives. */
export interface AuxEntry {
  /** Full tensor name (`r.e_bias`) or a derived one (`r.weight#norms`). */
  name: string;
  offset: number;
  length: number;
  state: boolean;
  init: number;
  /** Derived entries: computed from a weight at upload. */
  derive?: "row-norms";
  of?: string;
}

export interface StateRulePlan {
  code: number;
  offset: number;
  length: number;
  pb: number;
}

export interface RouterPlan {
  router: IrRouter;
  rewrites: string[];
  E: number;
  D: number;
  maxK: number;
  scope: "token" | "run";
  plugins: KernelPluginStage[];
  stateRules: KernelStateRule[];
  /** Rows of the GEMM matrix, from these tensors in order ([rows_i, D] each); none: no GEMM. */
  gemm: { tensors: { name: string; rows: number }[]; rows: number } | null;
  aux: AuxEntry[];
  auxLength: number;
  /** State vectors (read/write, saved by --state-out). */
  state: AuxEntry[];
  stateUpdates: StateRulePlan[];
  stateXp: number[];
  /** Expert choice: the std capacity factor c (null: a plugin's capacity expression). */
  choose?: { capacity: number | null; code: number; pb: number };
  /** Entropy's p = softmax of the weight stream (else the stream normalized to sum 1). */
  psoft: boolean;
  /** Extra statistics per router: state vectors named by stages' `stats.state`. */
  statState: AuxEntry[];
  /** Uniform words for a pass at token capacity `cap` (wgHalf: half the workgroup form's size). */
  params(cap: number, mode: number, stats: number, wgHalf: number): number[];
  /** scr floats and tstats floats needed at capacity `cap`. */
  scratch(cap: number): { scr: number; tstats: number };
}

/** Std state-update rules get fixed codes so the std-only state kernel is one pipeline. */
const STD_RULES: { stage: string; state: string; code: number }[] = [{ stage: "bias", state: "e_bias", code: 0 }];

export function stdStateRules(): KernelStateRule[] {
  return STD_RULES.map((r) => {
    const spec = runtimeStage(r.stage)!.spec;
    const st = (spec.state as readonly { name: string; update?: { wgsl: string } }[]).find((s) => s.name === r.state)!;
    return { code: r.code, source: "std", stage: r.stage, state: r.state, params: (spec.params ?? []).map((p) => p.name), wgsl: st.update!.wgsl };
  });
}

function argNumber(spec: StageSpec, args: Args, name: string): number {
  const p = (spec.params ?? []).find((q) => q.name === name);
  const v = args[name];
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && p?.values) return Math.max(0, p.values.indexOf(v));
  return 0;
}

const paramValues = (spec: StageSpec, args: Args): number[] => (spec.params ?? []).map((p) => argNumber(spec, args, p.name));

const isIdent = (s: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);

/** Is the weight stream non-negative after the pipeline's score and transforms (§10 entropy)? */
function weightNonNegative(specs: StageSpec[], selAt: number): boolean {
  let nn = specs[0]!.nonNegative === true;
  for (let i = 1; i < selAt; i++) {
    const s = specs[i]!;
    if ((s.stream ?? "both") === "selection") continue;
    if (s.nonNegative === "preserve") continue;
    nn = s.nonNegative === true;
  }
  return nn;
}

export function planRouter(ir: IrRouter): RouterPlan {
  const canon = canonicalizeRouter(ir);
  const r = canon.router;
  const E = r.numExperts;
  const D = r.dim;
  const where = (i: number) => `router '${r.key}' stage ${i} '${r.stages[i]!.name}'`;
  const rts = r.stages.map((s, i) => {
    const rs = runtimeStage(s.name, r.pluginStages);
    if (!rs) throw new RouterPlanError(`${where(i)}: no implementation is loaded (is its plugin loaded?)`);
    return rs;
  });
  const specs = rts.map((x) => x.spec);
  const argsOf = (i: number) => r.stages[i]!.params as Args;
  const selAt = r.stages.findIndex((s) => s.role === "select");
  if (r.stages[0]?.role !== "score" || selAt < 1) throw new RouterPlanError(`router '${r.key}' needs a score stage first and a select stage`);
  const nt = selAt - 1;
  const npost = r.stages.length - selAt - 1;
  if (nt > MAX_SLOTS || npost > MAX_SLOTS) throw new RouterPlanError(`router '${r.key}': the GPU router takes at most ${MAX_SLOTS} transforms and ${MAX_SLOTS} post-select stages`);

  // Plugin stages of this router, by name (codes follow the sorted names, so routers with the
  // same plugins share a pipeline).
  const pluginNames = [...new Set(r.stages.filter((_, i) => !rts[i]!.native).map((s) => s.name))].sort();
  const codeOf = new Map(pluginNames.map((n, i) => [n, PLUGIN_CODE0 + i]));

  // ---- aux: per stage a block of its non-GEMM weights and state vectors ----
  const aux: AuxEntry[] = [];
  let auxLength = 0;
  const push = (e: Omit<AuxEntry, "offset">): AuxEntry => {
    const entry = { ...e, offset: auxLength };
    aux.push(entry);
    auxLength += e.length;
    return entry;
  };
  const blockBase: number[] = [];
  const accessorBases: Map<string, number>[] = [];
  let gemm: RouterPlan["gemm"] = null;
  r.stages.forEach((s, i) => {
    const spec = specs[i]!;
    const args = argsOf(i);
    blockBase.push(auxLength);
    const acc = new Map<string, number>();
    accessorBases.push(acc);
    const weights = spec.weights?.(args, E, D) ?? [];
    let gemmName: string | undefined;
    if (i === 0) {
      if (s.name === "linear" || s.name === "cosine") gemmName = "weight";
      else if (s.name === "product") {
        const parts = args.parts as number, n = args.size as number;
        if (parts > 8) throw new RouterPlanError(`${where(0)}: the GPU router takes at most 8 parts`);
        gemm = { tensors: Array.from({ length: parts }, (_, p) => ({ name: `${r.key}.${p}.weight`, rows: n })), rows: parts * n };
      } else gemmName = spec.wgsl?.score?.gemm;
      if (gemmName) {
        const w = weights.find((x) => x.name === gemmName);
        if (!w || w.shape.length !== 2 || w.shape[0] !== E || w.shape[1] !== D) {
          throw new RouterPlanError(`${where(0)}: wgsl.score.gemm names '${gemmName}', which must be one of its weights with shape [E, D] = [${E}, ${D}]`);
        }
        gemm = { tensors: [{ name: `${r.key}.${gemmName}`, rows: E }], rows: E };
      }
    }
    for (const w of weights) {
      if (w.name === gemmName || (s.name === "product" && i === 0)) continue;
      const len = w.shape.reduce((a, b) => a * b, 1);
      const e = push({ name: `${r.key}.${w.name}`, length: len, state: false, init: 0 });
      if (isIdent(w.name)) acc.set(`weight_${w.name}`, e.offset);
    }
    for (const st of stateSpecs(spec, args, E)) {
      const e = push({ name: `${r.key}.${st.name}`, length: stateLength(st, args, E), state: true, init: st.init ?? 0 });
      if (isIdent(st.name)) acc.set(`state_${st.name}`, e.offset);
    }
    if (i === 0 && s.name === "cosine") {
      push({ name: `${r.key}.weight#norms`, length: E, state: false, init: 0, derive: "row-norms", of: `${r.key}.weight` });
    }
  });

  // ---- kernel plugin stages ----
  const plugins: KernelPluginStage[] = pluginNames.map((name) => {
    const i = r.stages.findIndex((s) => s.name === name);
    const spec = specs[i]!;
    if (!spec.wgsl) throw new RouterPlanError(`plugin ${rts[i]!.source}, stage '${name}': it has no WGSL (wgsl), so it cannot run on the GPU`);
    return {
      code: codeOf.get(name)!,
      name,
      source: rts[i]!.source,
      params: (spec.params ?? []).map((p) => p.name),
      accessors: [...accessorBases[i]!.keys()],
      wgsl: spec.wgsl,
    };
  });
  // Plugin stage parameter blocks: its parameters, then its accessors' aux offsets.
  const xpOf = (block: ParamBlock, i: number): number => {
    const spec = specs[i]!;
    const vals = paramValues(spec, argsOf(i));
    if (!rts[i]!.native) vals.push(...[...accessorBases[i]!.values()]);
    return block.params(vals);
  };

  // ---- state update rules ----
  const stdRules = stdStateRules();
  const stateRules: KernelStateRule[] = [...stdRules];
  const stateUpdates: StateRulePlan[] = [];
  const stateXp: number[] = [];
  r.stages.forEach((s, i) => {
    const spec = specs[i]!;
    for (const st of stateSpecs(spec, argsOf(i), E)) {
      if (!st.update) continue;
      let code: number;
      if (rts[i]!.native) {
        const rule = STD_RULES.find((x) => x.stage === s.name && x.state === st.name);
        if (!rule) throw new RouterPlanError(`internal: std stage '${s.name}' state '${st.name}' has no kernel rule`);
        code = rule.code;
      } else {
        code = PLUGIN_CODE0 + stateRules.length;
        stateRules.push({ code, source: rts[i]!.source, stage: s.name, state: st.name, params: (spec.params ?? []).map((p) => p.name), wgsl: st.update.wgsl });
      }
      const entry = aux.find((a) => a.name === `${r.key}.${st.name}`)!;
      const pb = stateXp.length;
      stateXp.push(...paramValues(spec, argsOf(i)));
      stateUpdates.push({ code, offset: entry.offset, length: entry.length, pb });
    }
  });

  const statState: AuxEntry[] = [];
  r.stages.forEach((_, i) => {
    for (const n of specs[i]!.stats?.state ?? []) {
      const e = aux.find((a) => a.name === `${r.key}.${n}`);
      if (e) statState.push(e);
    }
  });

  // ---- select ----
  const sel = r.stages[selAt]!;
  const selSpec = specs[selAt]!;
  const scope = (selSpec.scope ?? "token") as "token" | "run";
  const maxK = scope === "run" ? E : r.maxPerToken;
  if (!(maxK >= 1 && maxK <= E)) throw new RouterPlanError(`router '${r.key}': ${maxK} experts per token is outside 1..${E}`);
  const selNative = rts[selAt]!.native?.select;
  const isGroup = sel.name === "group_topk";
  const G = isGroup ? (sel.params["groups"] as number) : 0;
  const parts = r.stages[0]!.name === "product" ? (argsOf(0).parts as number) : 0;
  const size = r.stages[0]!.name === "product" ? (argsOf(0).size as number) : 0;

  // Streams split at the first transform that is not on both.
  let split = nt;
  for (let t = 0; t < nt; t++) if ((specs[1 + t]!.stream ?? "both") !== "both") { split = t; break; }

  let choose: RouterPlan["choose"];
  if (scope === "run") {
    if (selNative === NATIVE.select.choose) choose = { capacity: sel.params["capacity"] as number, code: 0, pb: 0 };
    else if (selSpec.wgsl?.select?.capacity) choose = { capacity: null, code: codeOf.get(sel.name)!, pb: 0 };
    else throw new RouterPlanError(`plugin ${rts[selAt]!.source}, stage '${sel.name}': a run-scope select stage needs wgsl.select.capacity`);
  }

  const psoft = canon.entropyFromSoftmax || !weightNonNegative(specs, selAt);

  const layout = (cap: number) => {
    let o = 0;
    const take = (n: number) => { const at = o; o += n; return at; };
    const woff = take(cap * E);
    const soff = split < nt ? take(cap * E) : woff;
    const goff = parts ? take(cap * parts * size) : woff;
    const gsoff = isGroup ? take(cap * G) : 0;
    const throff = scope === "run" ? take(2 * E) : 0;
    return { woff, soff, goff, gsoff, throff, scr: Math.max(o, 1) };
  };

  return {
    router: r,
    rewrites: canon.rewrites,
    E,
    D,
    maxK,
    scope,
    plugins,
    stateRules,
    gemm,
    aux,
    auxLength,
    state: aux.filter((a) => a.state),
    stateUpdates,
    stateXp,
    choose,
    psoft,
    statState,
    scratch(cap) {
      return { scr: layout(cap).scr, tstats: 2 * cap + cap * E };
    },
    params(cap, mode, stats, wgHalf) {
      const L = layout(cap);
      const b = new ParamBlock();
      b.set(P.WGHALF, wgHalf);
      b.set(P.D, D);
      b.set(P.E, E);
      b.set(P.MAXK, maxK);
      const score = r.stages[0]!;
      const scoreNative = rts[0]!.native?.score;
      b.set(P.SCORE, scoreNative ?? codeOf.get(score.name)!);
      b.set(P.R, gemm ? gemm.rows : 0);
      b.set(P.GOFF, parts ? L.goff : L.woff);
      b.set(P.GSTRIDE, parts ? parts * size : E);
      b.set(P.WOFF, L.woff);
      b.set(P.SOFF, L.soff);
      b.set(P.SPLIT, split);
      b.set(P.NT, nt);
      b.set(P.BIASOFF, score.name === "linear" && score.params["bias"] === true ? blockBase[0]! : NONE);
      b.set(P.WNOFF, aux.find((a) => a.derive === "row-norms")?.offset ?? 0);
      b.set(P.SCPB, xpOf(b, 0));
      b.set(P.SCSB, blockBase[0]!);
      b.set(P.PARTS, parts);
      b.set(P.SIZE, size);
      b.set(P.BN, score.name === "product" && score.params["norm"] === "batch" ? 1 : 0);
      b.set(P.BNOFF, blockBase[0]!);
      for (let t = 0; t < nt; t++) {
        const i = 1 + t;
        const spec = specs[i]!;
        const nat = rts[i]!.native?.transform;
        const stream = spec.stream ?? "both";
        let fl = (stream !== "selection" ? TF.WEIGHT : 0) | (stream !== "weight" ? TF.SELECTION : 0);
        if (nat === NATIVE.transform.softmax || nat === NATIVE.transform.log_softmax) fl |= TF.MAX | TF.SUMEXP;
        for (const red of spec.wgsl?.transform?.reduce ?? []) {
          fl |= red === "max" ? TF.MAX : red === "sum" ? TF.SUM : red === "sumexp" ? TF.MAX | TF.SUMEXP : TF.SUMSQ;
        }
        const w = P.T0 + 4 * t;
        b.set(w, nat ?? codeOf.get(r.stages[i]!.name)!);
        b.set(w + 1, fl);
        b.set(w + 2, xpOf(b, i));
        b.set(w + 3, blockBase[i]!);
      }
      // select
      let selCode = selNative ?? codeOf.get(sel.name)!;
      let rounds = maxK;
      if (sel.name === "topk" || sel.name === "group_topk") rounds = sel.params["k"] as number;
      if (sel.name === "topp") b.setF(P.SP1, sel.params["p"] as number);
      if (sel.name === "threshold") b.setF(P.SP1, sel.params["delta"] as number);
      if (scope === "run") selCode = NATIVE.select.choose;
      b.set(P.SELECT, selCode);
      b.set(P.ROUNDS, rounds);
      b.set(P.SPB, xpOf(b, selAt));
      b.set(P.SELSB, blockBase[selAt]!);
      b.set(P.GROUPS, G);
      b.set(P.KEEP, isGroup ? (sel.params["keep"] as number) : 0);
      b.set(P.GSOFF, L.gsoff);
      b.set(P.THROFF, L.throff);
      b.set(P.NPOST, npost);
      for (let q = 0; q < npost; q++) {
        const i = selAt + 1 + q;
        const spec = specs[i]!;
        const nat = rts[i]!.native?.post;
        let fl = 0;
        if (nat === NATIVE.post.renorm) fl |= PF.SUM;
        if (nat === NATIVE.post.softmax) fl |= PF.MAX | PF.SUMEXP;
        for (const red of spec.wgsl?.post?.reduce ?? []) fl |= red === "max" ? PF.MAX : red === "sum" ? PF.SUM : PF.MAX | PF.SUMEXP;
        const w = P.Q0 + 4 * q;
        b.set(w, nat ?? codeOf.get(r.stages[i]!.name)!);
        b.set(w + 1, fl);
        b.set(w + 2, xpOf(b, i));
        b.set(w + 3, blockBase[i]!);
      }
      b.set(P.MODE, mode);
      b.set(P.STATS, stats);
      b.set(P.ENTOFF, 0);
      b.set(P.PNOFF, cap);
      b.set(P.GOFF_STATS, 2 * cap);
      b.set(P.PSOFT, psoft ? 1 : 0);
      return b.words();
    },
  };
}

export { MODE, STATS };
export type { IrStage };
