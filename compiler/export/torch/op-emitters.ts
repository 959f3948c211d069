// One emitter per IR op (compiler/ir/ir.ts): each writes the op's PyTorch line(s) into
// `forward`, commented with the op and the value it defines, and notes the pools and routers it
// needs as methods. Values are named after their source names and ids (`h_12`).
import type { IrAgentMember, IrAttention, IrMla, IrOp, IrPool, IrProgram, IrRope, IrRouter, ValueId } from "../../ir/ir.js";
import { pyNum, pyStr, pyIdent, type PyWriter } from "./python-source.js";
import { expertMethodName } from "./expert-kinds.js";
import { routerMethodName } from "./router-stages.js";
import { attentionTensors, mlaTensors } from "../../ir/block-tensors.js";

export interface OpContext {
  program: IrProgram;
  name(id: ValueId): string;
  width(id: ValueId): number;
  pools: Map<string, IrPool>;
  routers: Map<string, IrRouter>;
  /** Agents pools (`moe_agents`) by key: each member becomes a method of its own. */
  agents: Map<string, IrAgentMember[]>;
}

/** The op list with every agents-pool member's ops after its pool (members are sub-programs). */
export function allOps(ops: readonly IrOp[]): IrOp[] {
  return ops.flatMap((op) => (op.op === "moe_agents" ? [op, ...op.members.flatMap((m) => allOps(m.ops))] : [op]));
}

export function agentMethodName(key: string, j: number): string {
  return `agent_${pyIdent(key)}_${j}`;
}

const t = (name: string) => `self.tensor(${pyStr(name)})`;

const UNARY: Record<string, (x: string) => string> = {
  sigmoid: (x) => `torch.sigmoid(${x})`,
  silu: (x) => `F.silu(${x})`,
  gelu: (x) => `F.gelu(${x})`,
  relu: (x) => `F.relu(${x})`,
  softmax: (x) => `torch.softmax(${x}, dim=-1)`,
  neg: (x) => `-${x}`,
};
const BINARY: Record<string, string> = { add: "+", sub: "-", mul: "*", div: "/" };

function ropeTuple(r: IrRope): string {
  const y = r.yarn;
  const yarn = y
    ? `{"factor": ${pyNum(y.factor, true)}, "original": ${pyNum(y.original)}, "beta_fast": ${pyNum(y.betaFast, true)}, "beta_slow": ${pyNum(y.betaSlow, true)}, "mscale": ${pyNum(y.mscale, true)}, "mscale_all_dim": ${pyNum(y.mscaleAllDim, true)}}`
    : "None";
  return `(${pyStr(r.kind)}, ${pyNum(r.theta, true)}, ${r.dim}, ${yarn})`;
}

function blockDict(key: string, names: string[]): string {
  return `self.block(${pyStr(key)}, ${JSON.stringify(names).replace(/,/g, ", ")})`;
}

function ropeText(r: IrRope): string {
  if (r.kind === "none") return "no rotary";
  return `rope ${r.kind} θ=${r.theta} over ${r.dim}${r.yarn ? `, yarn ×${r.yarn.factor}` : ""}`;
}

export function emitOp(w: PyWriter, op: IrOp, c: OpContext): void {
  const out = c.name(op.out);
  const shape = `[T, ${c.width(op.out)}]`;
  switch (op.op) {
    case "linear":
      w.comment(`linear ${op.weight}: ${out} ${shape}`);
      w.call(`${out} = F.linear`, [c.name(op.x), t(`${op.weight}.weight`), ...(op.bias ? [t(`${op.weight}.bias`)] : [])]);
      return;
    case "unary":
      w.line(`${out} = ${UNARY[op.fn]!(c.name(op.x))}  # ${op.fn}`);
      return;
    case "binary":
      w.line(`${out} = ${c.name(op.a)} ${BINARY[op.fn]} ${c.name(op.b)}  # ${shape}`);
      return;
    case "scalar": {
      const v = pyNum(op.value, true);
      const x = c.name(op.x);
      w.line(`${out} = ${op.scalarFirst ? `${v} ${BINARY[op.fn]} ${x}` : `${x} ${BINARY[op.fn]} ${v}`}`);
      return;
    }
    case "shared":
      c.pools.set(op.pool.key, op.pool);
      w.comment(`shared pool ${op.pool.key}(${c.name(op.x)}): the sum of its ${op.pool.count} experts`);
      w.line(`${out} = shared(${c.name(op.x)}, self.${expertMethodName(op.pool)}, ${op.pool.count})`);
      return;
    case "moe":
      c.pools.set(op.pool.key, op.pool);
      c.routers.set(op.router.key, op.router);
      w.comment(`moe(${c.name(op.x)}, ${op.router.key}, ${op.pool.key}): ${out} ${shape}`);
      w.line(`gates, mask = self.${routerMethodName(op.router)}(${c.name(op.x)}, stats)`);
      w.line(`${out} = routed(${c.name(op.x)}, gates, mask, self.${expertMethodName(op.pool)})`);
      return;
    case "embed":
      w.comment(`embed ${op.weight}: ${op.vocab} ids → ${shape}`);
      w.line(`${out} = embed(${c.name(op.ids)}, ${t(`${op.weight}.weight`)}, ${pyStr(op.weight)})`);
      return;
    case "norm":
      w.comment(`${op.kind === "rms" ? "rmsnorm" : "layernorm"} ${op.weight}`);
      if (op.kind === "rms") w.call(`${out} = rms_norm`, [c.name(op.x), t(`${op.weight}.weight`), pyNum(op.eps, true)]);
      else w.call(`${out} = layer_norm`, [c.name(op.x), t(`${op.weight}.weight`), t(`${op.weight}.bias`), pyNum(op.eps, true)]);
      return;
    case "attention":
      return emitAttention(w, out, c.name(op.x), op.attn, c.width(op.x));
    case "mla":
      return emitMla(w, out, c.name(op.x), op.attn, c.width(op.x));
    case "peer_attention":
      w.comment(`peer_attention ${op.key}: ${c.name(op.x)} reads ${op.peers.length} peers, ${op.heads} heads, one softmax over all peers' positions ≤ t`);
      w.call(`${out} = peer_attention`, [
        c.name(op.x),
        `[${op.peers.map(c.name).join(", ")}]`,
        blockDict(op.key, ["wq", "wk", "wv", "wo"]),
        `heads=${op.heads}`,
      ]);
      return;
    case "moe_agents":
      c.routers.set(op.router.key, op.router);
      c.agents.set(op.key, op.members);
      w.comment(`moe(${c.name(op.x)}, ${op.router.key}, ${op.key}): ${op.members.length} agents, each run on its routed tokens in position order`);
      w.line(`gates, mask = self.${routerMethodName(op.router)}(${c.name(op.x)}, stats)`);
      w.call(`${out} = routed_agents`, [c.name(op.x), "gates", "mask", `[${op.members.map((_, j) => `self.${agentMethodName(op.key, j)}`).join(", ")}]`, String(c.width(op.out)), "stats"]);
      return;
    default: {
      const unknown: never = op;
      throw new Error(`internal: the PyTorch export has no emitter for IR op '${(unknown as IrOp).op}'`);
    }
  }
}

/** `def agent_KEY_j(self, x, stats)`: member j of an agents pool, its ops on its own rows x. */
export function emitAgentMethod(w: PyWriter, key: string, j: number, m: IrAgentMember, c: OpContext): void {
  const names = new Map(m.values.map((v) => [v.id, v.id === m.input ? "x" : `${pyIdent(v.name)}_${v.id}`.replace(/^_+/, "v_")]));
  const widths = new Map(m.values.map((v) => [v.id, v.width]));
  const mc: OpContext = { ...c, name: (id) => names.get(id)!, width: (id) => widths.get(id)! };
  w.line(`def ${agentMethodName(key, j)}(self, x, stats=None):`).indent();
  w.line(`"""Agent ${j} of pool ${key}: its rows x [n, ${widths.get(m.input)}] (n = the tokens routed to it) → [n, ${widths.get(m.output)}]."""`);
  for (const op of m.ops) emitOp(w, op, mc);
  w.line(`return ${names.get(m.output)!}`).dedent();
}

function emitAttention(w: PyWriter, out: string, x: string, a: IrAttention, D: number): void {
  const qk = a.qkNorm === "none" ? "" : `, qk_norm ${a.qkNorm}`;
  w.comment(`attention ${a.key}: ${a.heads} heads (${a.kvHeads} kv) × ${a.headDim}${qk}, ${ropeText(a.rope)}${a.window ? `, window ${a.window}` : ""}`);
  w.call(`${out} = attention`, [
    x,
    blockDict(a.key, attentionTensors(a, D).map((b) => b.name)),
    `heads=${a.heads}`,
    `kv_heads=${a.kvHeads}`,
    `head_dim=${a.headDim}`,
    `qk_norm=${pyStr(a.qkNorm)}`,
    `qk_eps=${pyNum(a.qkEps, true)}`,
    `rope=${ropeTuple(a.rope)}`,
    `window=${a.window}`,
  ]);
}

function emitMla(w: PyWriter, out: string, x: string, a: IrMla, D: number): void {
  w.comment(`mla ${a.key}: ${a.heads} heads, q_rank ${a.qRank}, kv_rank ${a.kvRank}, ${ropeText(a.rope)}`);
  w.call(`${out} = mla`, [
    x,
    blockDict(a.key, mlaTensors(a, D).map((b) => b.name)),
    `heads=${a.heads}`,
    `q_rank=${a.qRank}`,
    `kv_rank=${a.kvRank}`,
    `nope_dim=${a.nopeDim}`,
    `rope_dim=${a.ropeDim}`,
    `v_dim=${a.vDim}`,
    `norm_eps=${pyNum(a.normEps, true)}`,
    `rope=${ropeTuple(a.rope)}`,
  ]);
}

/** Python names of the program's values: inputs by their names, the rest `NAME_ID`. */
export function valueNames(program: IrProgram): Map<ValueId, string> {
  const names = new Map<ValueId, string>();
  const inputs = new Set(program.inputs.map((i) => i.value));
  for (const v of program.values) names.set(v.id, inputs.has(v.id) ? pyIdent(program.inputs.find((i) => i.value === v.id)!.name) : `${pyIdent(v.name)}_${v.id}`.replace(/^_+/, "v_"));
  return names;
}
