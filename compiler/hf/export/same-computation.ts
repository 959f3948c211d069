// Whether two IR programs compute the same thing with the same Hugging Face tensors: every value
// is hash-consed into a node keyed by its op, its parameters, the checkpoint names of the weights
// it reads and its operands' nodes (operands of + and × in either order), so op order, value names
// and moec weight names do not matter. `moec export hf` uses it to check that the config it wrote
// imports back to the program it was given.
import type { IrOp, IrProgram, IrRouter, ValueId } from "../../ir/ir.js";

/** moec weight key (`layers.0.self_attn`, `layers.1.mlp.E`) → the checkpoint names under it. */
export type KeyNames = (key: string) => string;

/** One table of nodes shared by the programs compared. */
export class NodeTable {
  private readonly ids = new Map<string, number>();
  node(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) this.ids.set(key, (id = this.ids.size));
    return id;
  }
}

/** Router fields that change no forward pass: statistics, the balance loss, plugin code, and
 *  the aux-free bias's update rate (it moves `e_bias` while training, not what a token selects). */
function routerMeaning(r: IrRouter): unknown {
  return {
    numExperts: r.numExperts, dim: r.dim, scope: r.scope, maxPerToken: r.maxPerToken,
    stages: r.stages.map((s) => ({ name: s.name, role: s.role, params: Object.fromEntries(Object.entries(s.params).filter(([k]) => !(s.name === "bias" && k === "rate")).sort()) })),
  };
}

function without<T extends object>(o: T, ...keys: string[]): unknown {
  return Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));
}

function opKey(op: IrOp, n: (v: ValueId) => number, names: KeyNames): string {
  switch (op.op) {
    case "linear": return `linear ${op.outDim} ${op.bias} [${names(op.weight)}] ${n(op.x)}`;
    case "unary": return `unary ${op.fn} ${n(op.x)}`;
    case "binary": {
      const [a, b] = [n(op.a), n(op.b)];
      const commutes = op.fn === "add" || op.fn === "mul";
      return `binary ${op.fn} ${commutes ? [a, b].sort((x, y) => x - y).join(" ") : `${a} ${b}`}`;
    }
    case "scalar": return `scalar ${op.fn} ${op.value} ${op.scalarFirst} ${n(op.x)}`;
    case "shared": return `shared ${JSON.stringify(without(op.pool, "key", "pluginKind"))} [${names(op.pool.key)}] ${n(op.x)}`;
    case "moe": return `moe ${JSON.stringify(routerMeaning(op.router))} [${names(op.router.key)}] ${JSON.stringify(without(op.pool, "key", "pluginKind"))} [${names(op.pool.key)}] ${n(op.x)}`;
    case "embed": return `embed ${op.vocab} [${names(op.weight)}] ${n(op.ids)}`;
    case "norm": return `norm ${op.kind} ${op.eps} [${names(op.weight)}] ${n(op.x)}`;
    case "attention": return `attention ${JSON.stringify(without(op.attn, "key"))} [${names(op.attn.key)}] ${n(op.x)}`;
    case "mla": return `mla ${JSON.stringify(without(op.attn, "key"))} [${names(op.attn.key)}] ${n(op.x)}`;
    case "moe_agents": return `moe_agents ${JSON.stringify(routerMeaning(op.router))} [${names(op.router.key)}] [${names(op.key)}] ${JSON.stringify(op.members)} ${n(op.x)}`;
    case "peer_attention": return `peer_attention ${op.heads} ${op.outDim} [${names(op.key)}] ${n(op.x)} ${op.peers.map(n).join(" ")}`;
  }
}

export interface ProgramNodes {
  /** The node of each op, in the program's order. */
  ops: number[];
  /** The nodes of the outputs, by output name. */
  outputs: Map<string, number>;
}

export function programNodes(p: IrProgram, table: NodeTable, names: KeyNames): ProgramNodes {
  const of = new Map<ValueId, number>();
  p.inputs.forEach((inp, i) => of.set(inp.value, table.node(`input ${i} ${p.values[inp.value]?.dtype}`)));
  const n = (v: ValueId) => {
    const id = of.get(v);
    if (id === undefined) throw new Error(`same-computation: value %${v} of \`${p.entry}\` is used before it is defined`);
    return id;
  };
  const ops = p.ops.map((op) => {
    const id = table.node(opKey(op, n, names));
    of.set(op.out, id);
    return id;
  });
  return { ops, outputs: new Map(p.outputs.map((o) => [o.name, n(o.value)])) };
}

/** The first op of `a` (its index) whose value `b` does not compute, or undefined when `b`'s
 *  outputs are `a`'s; -1 when every op matches but the outputs differ. */
export function firstDifference(a: IrProgram, aNames: KeyNames, b: IrProgram, bNames: KeyNames): number | undefined {
  const table = new NodeTable();
  const na = programNodes(a, table, aNames);
  const nb = programNodes(b, table, bNames);
  const same = na.outputs.size === nb.outputs.size && [...na.outputs.values()].every((id) => [...nb.outputs.values()].includes(id));
  if (same) return undefined;
  const inB = new Set(nb.ops);
  const i = na.ops.findIndex((id) => !inB.has(id));
  return i;
}

/** The weight key an op reads (for locating it in the source), if any. */
export function opWeightKey(op: IrOp): string | undefined {
  switch (op.op) {
    case "linear": case "embed": case "norm": return op.weight;
    case "shared": return op.pool.key;
    case "moe": return op.router.key;
    case "attention": case "mla": return op.attn.key;
    default: return undefined;
  }
}
