// Parameter and FLOP counting over an elaborated instance tree, exactly as LANGUAGE.md §9 says.
import type { ActiveCount, TensorShape } from "../../stdlib/registry.js";
import type { Instance } from "./instance.js";
import type { Owner, OwnerCategory } from "./values.js";
import { product } from "./values.js";

export type CountLabel = ActiveCount["label"];

export interface Counts {
  total: number;
  active: number;
  /** `exact`, or how to read `active` (an upper bound for top-p/threshold/mixed pools, an expectation for expert choice). */
  activeLabel: CountLabel;
  /** 2 × multiply-adds per token over active weights, every application counted. */
  flops: number;
  flopsLabel: CountLabel;
  /** Per category (attention, experts, shared, router, …): total and active parameters. */
  byCategory: Partial<Record<OwnerCategory, { total: number; active: number }>>;
}

const params = (member: TensorShape[]) => member.filter((t) => !t.state).reduce((s, t) => s + product(t.shape), 0);

function worse(a: CountLabel, b: CountLabel): CountLabel {
  if (a === "upper bound" || b === "upper bound") return "upper bound";
  if (a === "expectation" || b === "expectation") return "expectation";
  return "exact";
}

/** Sum of the `count` largest values (fractional counts take that fraction of the next one). */
function largest(values: number[], count: number): number {
  const sorted = [...values].sort((a, b) => b - a);
  let sum = 0;
  let left = count;
  for (const v of sorted) {
    if (left <= 0) break;
    sum += v * Math.min(1, left);
    left -= 1;
  }
  return sum;
}

export function ownerCounts(o: Owner): { total: number; active: number; flops: number; activeLabel: CountLabel; flopsLabel: CountLabel } {
  const memberParams = o.members.map(params);
  const total = memberParams.reduce((s, v) => s + v, 0);
  if (o.category === "experts") {
    const act = o.active ?? { count: 0, label: "exact" as const };
    const uniform = memberParams.every((v) => v === memberParams[0]);
    const active = uniform ? (memberParams[0] ?? 0) * act.count : largest(memberParams, act.count);
    // Each moe application computes its selected experts once; the elaborator records uses on the pool.
    const perUse = o.uses ?? [];
    let flops = 0;
    let flopsLabel: CountLabel = "exact";
    for (const u of perUse) {
      flops += 2 * (uniform ? (o.macs[0] ?? 0) * u.count : largest(o.macs, u.count));
      flopsLabel = worse(flopsLabel, u.label);
    }
    return { total, active, flops, activeLabel: act.label, flopsLabel };
  }
  const macs = o.macs.reduce((s, v) => s + v, 0);
  return { total, active: total, flops: 2 * macs * o.applications, activeLabel: "exact", flopsLabel: "exact" };
}

export function countInstance(inst: Instance): Counts {
  const c: Counts = { total: 0, active: 0, activeLabel: "exact", flops: 0, flopsLabel: "exact", byCategory: {} };
  for (const o of inst.owners) {
    const oc = ownerCounts(o);
    c.total += oc.total;
    c.active += oc.active;
    c.flops += oc.flops;
    c.activeLabel = worse(c.activeLabel, oc.activeLabel);
    c.flopsLabel = worse(c.flopsLabel, oc.flopsLabel);
    const cat = (c.byCategory[o.category] ??= { total: 0, active: 0 });
    cat.total += oc.total;
    cat.active += oc.active;
  }
  for (const child of inst.children) {
    const k = child.copies?.count ?? 1;
    const cc = countInstance(child.instance);
    c.total += k * cc.total;
    c.active += k * cc.active;
    c.flops += k * cc.flops;
    c.activeLabel = worse(c.activeLabel, cc.activeLabel);
    c.flopsLabel = worse(c.flopsLabel, cc.flopsLabel);
    for (const [cat, v] of Object.entries(cc.byCategory) as [OwnerCategory, { total: number; active: number }][]) {
      const t = (c.byCategory[cat] ??= { total: 0, active: 0 });
      t.total += k * v.total;
      t.active += k * v.active;
    }
  }
  return c;
}

export interface WeightEntry {
  name: string;
  shape: number[];
  state?: boolean;
}

/** Every weight tensor with its full name: pools per member with fine names (§7). */
export function listWeights(inst: Instance, prefix = "", out: WeightEntry[] = []): WeightEntry[] {
  for (const o of inst.owners) {
    const pooled = o.category === "experts" || o.category === "shared";
    o.members.forEach((member, j) => {
      for (const t of member) {
        const name = pooled ? `${prefix}${o.prefix}.${j}.${t.name}` : `${prefix}${o.prefix}.${t.name}`;
        out.push(t.state ? { name, shape: t.shape, state: true } : { name, shape: t.shape });
      }
    });
  }
  for (const child of inst.children) {
    if (child.copies) {
      for (let i = 0; i < child.copies.count; i++) listWeights(child.instance, `${prefix}${child.prefix}.${child.copies.start + i}.`, out);
    } else listWeights(child.instance, `${prefix}${child.prefix}.`, out);
  }
  return out;
}
