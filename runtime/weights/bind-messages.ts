// Sentences for binder errors. Every message names the file, the tensor, what was expected and
// what was found, so `moec run` can print it as is.

import type { IrPool } from "../../compiler/ir/ir.js";
import { fmtShape, groupShape, mixedMemberPool, poolParams, type CanonicalLayout, type Grouping, type PoolParam } from "./canonical-layout.js";

export interface BindError {
  tensor: string;
  message: string;
}

const FLOATS = "F32, F16 or BF16";

export function describePool(pool: IrPool): string {
  const split = pool.split > 1 ? `, split ${pool.split} from ${pool.count / pool.split} coarse experts of hidden ${pool.split * pool.hidden}` : "";
  return `pool ${pool.key}: ${pool.count} ${pool.shared ? "shared " : ""}${pool.kind} experts of hidden ${pool.hidden} and dim ${pool.dim}${split}`;
}

/** `E.w_up [4, 2, 3] (stacked, 4 experts)` for a whole-tensor form. */
export function wholeForm(pool: IrPool, p: PoolParam, g: Grouping): { shape: number[]; label: string } {
  const gs = groupShape(pool, p, g);
  if (g.kind === "concat") return { shape: gs, label: `${pool.count} experts concatenated along the hidden units` };
  if (g.kind === "coarse") return { shape: [g.groups, ...gs], label: `stacked coarse, ${g.groups} experts of split ${g.perGroup}` };
  return { shape: [g.groups, ...gs], label: `stacked, ${g.groups} experts` };
}

function memberLabel(g: Grouping): string {
  return g.kind === "coarse" ? `one coarse expert of split ${g.perGroup}` : "one expert";
}

const range = (pool: IrPool, p: PoolParam, n: number) => (n === 1 ? `${pool.key}.0.${p.name}` : `${pool.key}.0.${p.name} … ${pool.key}.${n - 1}.${p.name}`);

export function missingPoolTensor(pool: IrPool, p: PoolParam, gs: Grouping[], file: string): BindError {
  const name = `${pool.key}.${p.name}`;
  const forms: string[] = [];
  for (const g of gs) {
    const w = wholeForm(pool, p, g);
    forms.push(`${name} ${fmtShape(w.shape)} (${w.label})`);
    if (g.kind !== "concat") forms.push(`${range(pool, p, g.groups)}, each ${fmtShape(groupShape(pool, p, g))} (${g.kind === "coarse" ? "coarse per member" : "per member"})`);
  }
  return { tensor: name, message: `Missing tensor ${name} in ${file} (${describePool(pool)}); give it as ${forms.join(", or ")}.` };
}

export function missingTensor(name: string, shape: readonly number[], file: string, owner?: string): BindError {
  return { tensor: name, message: `Missing tensor ${name} in ${file}${owner ? ` (${owner})` : ""}; expected shape ${fmtShape(shape)}, dtype ${FLOATS}.` };
}

export function misShaped(name: string, file: string, found: readonly number[], expected: { shape: readonly number[]; label?: string }[]): BindError {
  const exp = expected.map((e) => `${fmtShape(e.shape)}${e.label ? ` (${e.label})` : ""}`).join(" or ");
  return { tensor: name, message: `Tensor ${name} in ${file} has shape ${fmtShape(found)}; expected ${exp}.` };
}

export function misShapedMember(name: string, file: string, found: readonly number[], pool: IrPool, p: PoolParam, gs: Grouping[]): BindError {
  return misShaped(name, file, found, gs.map((g) => ({ shape: groupShape(pool, p, g), label: memberLabel(g) })));
}

export function badDtype(name: string, file: string, dtype: string): BindError {
  return { tensor: name, message: `Tensor ${name} in ${file} has dtype ${dtype}; weights must be ${FLOATS}.` };
}

export function badByteLength(name: string, file: string, bytes: number, expected: number): BindError {
  return { tensor: name, message: `Tensor ${name} in ${file} holds ${bytes} bytes; its dtype and shape need ${expected}.` };
}

export function givenTwice(name: string, file: string, wholeShape: readonly number[], members: string[]): BindError {
  const list = members.length === 1 ? members[0] : `${members[0]} … ${members[members.length - 1]} (${members.length} tensors)`;
  return { tensor: name, message: `Tensor ${name} is given twice in ${file}: whole as ${name} ${fmtShape(wholeShape)} and per member as ${list}; keep one form.` };
}

export function memberOutOfRange(name: string, file: string, pool: IrPool, g: Grouping): BindError {
  const what = g.kind === "coarse" ? `${g.groups} coarse experts (split ${g.perGroup})` : `${g.groups} experts`;
  return { tensor: name, message: `Tensor ${name} in ${file} is not used by the program: pool ${pool.key} has ${what}, numbered 0 to ${g.groups - 1}.` };
}

export function mixedForms(name: string, file: string, a: { name: string; shape: readonly number[]; g: Grouping }, b: { name: string; shape: readonly number[]; g: Grouping }): BindError {
  return {
    tensor: b.name,
    message: `Members of ${name} in ${file} mix forms: ${a.name} is ${fmtShape(a.shape)} (${memberLabel(a.g)}) but ${b.name} is ${fmtShape(b.shape)} (${memberLabel(b.g)}); use one form for all members.`,
  };
}

export function partialPool(pool: IrPool, p: PoolParam, file: string, g: Grouping, missing: number[]): BindError {
  const names = missing.map((i) => `${pool.key}.${i}.${p.name}`);
  const shown = names.length > 6 ? `${names.slice(0, 6).join(", ")} and ${names.length - 6} more` : names.join(", ");
  const of = g.kind === "coarse" ? `${g.groups} coarse experts (split ${g.perGroup})` : `${g.groups} experts`;
  return {
    tensor: names[0]!,
    message: `Pool ${pool.key} has only some members of ${p.name} in ${file}: ${g.groups - missing.length} of ${of} given; missing ${shown}.`,
  };
}

/** Why a tensor nobody claimed is not part of the program. */
export function extraTensor(name: string, file: string, layout: CanonicalLayout, isStateFile: boolean): BindError {
  const head = `Tensor ${name} in ${file} is not used by the program`;
  const all = [...layout.tensors, ...layout.poolTensors];
  const known = all.find((t) => t.name === name);
  if (known && isStateFile) return { tensor: name, message: `${head} as state: ${name} is a parameter, which belongs in the weights file.` };
  const pool = [...layout.pools].sort((a, b) => b.key.length - a.key.length).find((p) => name.startsWith(p.key + "."));
  if (pool?.kind === "mixed") {
    // Per-member names only; say what the named member (if any) holds.
    const rest = name.slice(pool.key.length + 1).split(".");
    const j = /^(0|[1-9][0-9]*)$/.test(rest[0]!) ? Number(rest[0]) : -1;
    const m = j >= 0 && j < pool.count ? mixedMemberPool(pool, j) : undefined;
    const holds = m ? poolParams(m).map((p) => `${m.key}.${p.name}`) : [];
    const why = !m
      ? `pool ${pool.key} is heterogeneous (${pool.count} members), so its tensors are named per member (${pool.key}.0.…)`
      : holds.length
        ? `member ${j} of pool ${pool.key} is ${m.kind}, whose tensors are ${holds.join(", ")}`
        : `member ${j} of pool ${pool.key} is ${m.kind}(), which has no weights`;
    return { tensor: name, message: `${head}: ${why}.` };
  }
  if (pool) {
    const params = poolParams(pool).map((p) => p.name);
    const last = name.slice(name.lastIndexOf(".") + 1);
    let why: string;
    if (params.includes(last)) why = `it is neither a per-member (${pool.key}.0.${last}) nor a whole-pool (${pool.key}.${last}) name of pool ${pool.key}`;
    else if (pool.kind === "ffn" && /^b_(gate|up|down)$/.test(last) && !pool.bias) why = `pool ${pool.key} has no biases (ffn(…, bias = true) adds them)`;
    else if (pool.kind === "ffn" && /^[wb]_gate$/.test(last)) why = `pool ${pool.key} uses act = ${pool.act}, which has no gate`;
    else why = params.length ? `the tensors of pool ${pool.key} (${pool.kind}) are ${params.join(", ")}` : `pool ${pool.key} (${pool.kind}) has no weights`;
    return { tensor: name, message: `${head}: ${why}.` };
  }
  const segs = name.split(".");
  for (let n = segs.length - 1; n >= 1; n--) {
    const prefix = segs.slice(0, n).join(".") + ".";
    const under = all.filter((t) => t.name.startsWith(prefix)).map((t) => t.name);
    if (under.length) {
      const list = under.length > 6 ? `${under.slice(0, 6).join(", ")} and ${under.length - 6} more` : under.join(", ");
      return { tensor: name, message: `${head}: its tensors under ${prefix.slice(0, -1)} are ${list}.` };
    }
  }
  return { tensor: name, message: `${head}: the program declares nothing named ${segs[0]}.` };
}
