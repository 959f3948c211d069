// The canonical weight layout the executor consumes (LANGUAGE.md §7, compiler/ir/ir.ts): one
// f32 array per tensor, pools always stacked over their N fine experts. This file says which
// tensors a program needs and how a pool's tensors are cut into "groups" of hidden units, which
// is what tells the file forms (per member, stacked, coarse split, concatenated shared) apart.

import { opsWithValues } from "../../compiler/ir/nested-ops.js";
import type { ExpertTensorLayout } from "@moec/plugin-api";
import type { IrPool, IrProgram, IrRouter } from "../../compiler/ir/ir.js";
import { expertKindOf, formOf } from "../../stdlib/expert-kinds/index.js";
import { layoutShape } from "../../stdlib/expert-kinds/kind-adapter.js";

/** How one pool tensor depends on an expert's hidden units (the plugin API's ExpertTensorLayout:
 *  rows [h, D], cols [D, h], hvec [h], ovec [D] held by a group's first fine expert, dvec [D]). */
export type ParamLayout = ExpertTensorLayout;

export interface PoolParam {
  name: string;
  layout: ParamLayout;
  /** Inputs per output element, for N(0, 1/fan_in) initialisation. */
  fanIn: number;
}

/** The tensors of one expert of a pool, in its kind's fixed order (matrices before biases). */
export function poolParams(pool: IrPool): PoolParam[] {
  if (pool.kind === "mixed") return []; // per member (mixedMemberPool)
  return expertKindOf(pool)
    .tensors(formOf(pool), pool.dim)
    .map((t) => ({ name: t.name, layout: t.layout, fanIn: t.fanIn }));
}

/**
 * Member j of a heterogeneous (`mixed`) pool as a one-expert pool keyed `KEY.j`: its per-member
 * tensors (`E.3.w_up` [I, D]) are exactly that pool's stacked tensors, so every consumer of
 * homogeneous pools (reference, kernels' FFN view) reads members unchanged.
 */
export function mixedMemberPool(pool: IrPool, j: number): IrPool {
  const m = pool.members?.[j];
  if (pool.kind !== "mixed" || !m) throw new Error(`internal: pool ${pool.key} has no member ${j}`);
  return { key: `${pool.key}.${j}`, kind: m.kind, count: 1, dim: pool.dim, hidden: m.hidden, act: m.act, bias: m.bias, split: 1, shared: pool.shared, ...(m.pluginKind ? { pluginKind: m.pluginKind } : {}) };
}

/** Shape of a group of `g` hidden units (one fine expert: g = I). */
export const memberShape = (layout: ParamLayout, D: number, g: number): number[] => layoutShape(layout, D, g);

/** Canonical stacked shape of a pool tensor. */
export function canonicalPoolShape(pool: IrPool, p: PoolParam): number[] {
  return [pool.count, ...memberShape(p.layout, pool.dim, pool.hidden)];
}

/**
 * A way of cutting a pool's N fine experts into groups of `perGroup` consecutive experts:
 * `fine` (one expert each), `coarse` (the M slices of one coarse expert of a `split M` pool),
 * `concat` (the whole shared pool as one expert of N·I hidden units, as Hugging Face stores it).
 */
export interface Grouping {
  kind: "fine" | "coarse" | "concat";
  groups: number;
  perGroup: number;
}

/** Groupings a file may use for this parameter of this pool, most common first. */
export function groupingsFor(pool: IrPool, p: PoolParam): Grouping[] {
  const gs: Grouping[] = [{ kind: "fine", groups: pool.count, perGroup: 1 }];
  if (p.layout === "dvec") return gs; // atoms have no hidden axis to regroup
  if (pool.kind !== "mixed" && expertKindOf(pool).splits !== undefined && pool.split > 1 && pool.count % pool.split === 0) {
    gs.push({ kind: "coarse", groups: pool.count / pool.split, perGroup: pool.split });
  }
  if (pool.shared) gs.push({ kind: "concat", groups: 1, perGroup: pool.count });
  return gs;
}

export function groupShape(pool: IrPool, p: PoolParam, g: Grouping): number[] {
  return memberShape(p.layout, pool.dim, g.perGroup * pool.hidden);
}

/** Every pool reached by a `moe` or `shared` op, once per key, in program order. */
export function programPools(program: IrProgram): IrPool[] {
  const seen = new Map<string, IrPool>();
  for (const { op } of opsWithValues(program)) {
    if (op.op === "moe" || op.op === "shared") if (!seen.has(op.pool.key)) seen.set(op.pool.key, op.pool);
  }
  return [...seen.values()];
}

export function programRouters(program: IrProgram): IrRouter[] {
  const out: IrRouter[] = [];
  for (const { op } of opsWithValues(program)) if (op.op === "moe" || op.op === "moe_agents") out.push(op.router);
  return out;
}

export interface TensorSpec {
  name: string;
  shape: number[];
  role: "param" | "state";
  init?: "zeros" | "ones";
  fanIn: number;
  /** What owns it, for messages: `router r`, `linear g`. */
  owner?: string;
}

export interface PoolTensorSpec extends TensorSpec {
  pool: IrPool;
  param: PoolParam;
}

export interface CanonicalLayout {
  /** Tensors outside pools (linear, router, state), in program order. */
  tensors: TensorSpec[];
  /** Pool tensors in canonical stacked form. */
  poolTensors: PoolTensorSpec[];
  pools: IrPool[];
  /** Inconsistencies in the IR itself (a compiler bug, not a user error). */
  problems: { tensor: string; message: string }[];
}

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
export const fmtShape = (s: readonly number[]) => `[${s.join(", ")}]`;

/** Is `name` a tensor of `pool` in any file form (`E.w_up`, `E.3.w_up`)? */
export function poolOwns(pool: IrPool, name: string): boolean {
  if (!name.startsWith(pool.key + ".")) return false;
  const rest = name.slice(pool.key.length + 1).split(".");
  if (pool.kind === "mixed") {
    // Per-member names only: `E.j.PARAM` with PARAM a tensor of member j's kind.
    const j = /^(0|[1-9][0-9]*)$/.test(rest[0]!) ? Number(rest[0]) : -1;
    return rest.length === 2 && j < pool.count && j >= 0 && poolParams(mixedMemberPool(pool, j)).some((p) => p.name === rest[1]);
  }
  const param = rest[rest.length - 1]!;
  if (!poolParams(pool).some((p) => p.name === param)) return false;
  return rest.length === 1 || (rest.length === 2 && /^(0|[1-9][0-9]*)$/.test(rest[0]!));
}

/**
 * The canonical tensors of a program: `program.weights` (the IR's list; pool entries there are
 * covered by the pools) plus whatever the ops imply and the list lacks (linear and router
 * weights, router state), so that a partial list still binds everything the executor reads.
 */
export function canonicalLayout(program: IrProgram): CanonicalLayout {
  const problems: CanonicalLayout["problems"] = [];
  const pools: IrPool[] = [];
  const byKey = new Map<string, IrPool>();
  for (const { op } of opsWithValues(program)) {
    if (op.op !== "moe" && op.op !== "shared") continue;
    const p = op.pool, prev = byKey.get(p.key);
    if (!prev) {
      byKey.set(p.key, p);
      pools.push(p);
      if (p.split > 1 && p.count % p.split !== 0) {
        problems.push({ tensor: p.key, message: `Pool ${p.key} has ${p.count} experts, which split ${p.split} does not divide (an IR inconsistency).` });
      }
    } else if (prev !== p && JSON.stringify(prev) !== JSON.stringify(p)) {
      problems.push({ tensor: p.key, message: `Pool ${p.key} appears in the IR twice with different definitions (an IR inconsistency).` });
    }
  }

  const tensors: TensorSpec[] = [];
  const byName = new Map<string, TensorSpec>();
  const add = (t: Omit<TensorSpec, "fanIn"> & { fanIn?: number }, implied: boolean) => {
    const prev = byName.get(t.name);
    if (prev) {
      if (prev.owner === undefined && t.owner !== undefined) prev.owner = t.owner;
      if (implied && !sameShape(prev.shape, t.shape)) {
        problems.push({ tensor: t.name, message: `The IR lists ${t.name} as ${fmtShape(prev.shape)} but its op needs ${fmtShape(t.shape)} (an IR inconsistency).` });
      }
      return;
    }
    const spec: TensorSpec = { ...t, fanIn: t.fanIn ?? fanInOf(t.name, t.shape, byName) };
    if (spec.init === undefined) delete spec.init;
    if (spec.owner === undefined) delete spec.owner;
    byName.set(t.name, spec);
    tensors.push(spec);
  };

  for (const w of program.weights) {
    if (pools.some((p) => poolOwns(p, w.name))) continue;
    add({ name: w.name, shape: [...w.shape], role: w.role, ...(w.role === "state" ? { init: w.init ?? "zeros" } : {}) }, false);
  }
  for (const { op, values } of opsWithValues(program)) {
    const widthOf = (id: number) => values[id]?.width ?? 0;
    if (op.op === "linear") {
      const owner = `linear ${op.weight}`;
      add({ name: `${op.weight}.weight`, shape: [op.outDim, widthOf(op.x)], role: "param", owner }, true);
      if (op.bias) add({ name: `${op.weight}.bias`, shape: [op.outDim], role: "param", fanIn: widthOf(op.x), owner }, true);
    } else if (op.op === "moe" || op.op === "moe_agents") {
      const r = op.router, E = r.numExperts, D = r.dim, owner = `router ${r.key}`;
      for (const st of r.stages) {
        if (st.name === "linear" || st.name === "cosine") {
          add({ name: `${r.key}.weight`, shape: [E, D], role: "param", owner }, true);
          if (st.params["bias"] === true) add({ name: `${r.key}.bias`, shape: [E], role: "param", fanIn: D, owner }, true);
        } else if (st.name === "product") {
          const parts = Number(st.params["parts"] ?? 2);
          const size = Number(st.params["size"] ?? Math.round(E ** (1 / parts)));
          for (let i = 0; i < parts; i++) {
            add({ name: `${r.key}.${i}.weight`, shape: [size, D], role: "param", owner }, true);
            if (st.params["norm"] === "batch") {
              add({ name: `${r.key}.${i}.running_mean`, shape: [size], role: "state", init: "zeros", owner }, true);
              add({ name: `${r.key}.${i}.running_var`, shape: [size], role: "state", init: "ones", owner }, true);
            }
          }
        } else if (st.name === "bias") {
          add({ name: `${r.key}.e_bias`, shape: [E], role: "state", init: "zeros", owner }, true);
        }
      }
    }
  }

  // A heterogeneous pool's tensors are per member, one exact name and shape each.
  for (const pool of pools) {
    if (pool.kind !== "mixed") continue;
    pool.members?.forEach((m, j) => {
      const mp = mixedMemberPool(pool, j);
      for (const param of poolParams(mp)) {
        const shape = memberShape(param.layout, pool.dim, mp.hidden);
        add({ name: `${mp.key}.${param.name}`, shape, role: "param", fanIn: Math.max(1, param.fanIn), owner: `pool ${pool.key} member ${j} (${m.kind})` }, true);
      }
    });
  }

  const poolTensors: PoolTensorSpec[] = [];
  for (const pool of pools) {
    for (const param of poolParams(pool)) {
      poolTensors.push({ name: `${pool.key}.${param.name}`, shape: canonicalPoolShape(pool, param), role: "param", fanIn: param.fanIn, pool, param });
    }
  }
  return { tensors, poolTensors, pools, problems };
}

// A bias takes the fan-in of its sibling weight; otherwise the last dimension is the input.
function fanInOf(name: string, shape: readonly number[], known: Map<string, TensorSpec>): number {
  if (name.endsWith(".bias")) {
    const w = known.get(name.slice(0, -".bias".length) + ".weight");
    if (w) return w.shape[w.shape.length - 1] ?? 1;
  }
  return Math.max(1, shape[shape.length - 1] ?? 1);
}
