// The IR's text form (DESIGN.md: "the IR is small and printable"): what `moec ir` shows and what
// golden and pass tests compare. One op per line in SSA style, each followed by its pool and
// router descriptors, indented:
//
//   ir mixtral_moe
//   weight r.weight: [4, 16] param
//   %0: f32[T, 16] "x" = input x
//   %1: f32[T, 16] "moe(r, E)" = moe %0 router=r pool=E
//     router experts=4 dim=16 maxPerToken=2 scope=token report=[load]
//       score linear(bias=false)
//       transform softmax
//       select topk(k=2)
//       post renorm
//     pool ffn count=4 dim=16 hidden=32 act=swiglu bias=false split=1 shared=false
//   output y = %1
//
// The form is complete, so `compiler/ir/parse.ts` reads it back into the same program: every field
// is printed (no defaults left out), numbers exactly (the shortest text that reads back as the
// same double, `-0` kept), names that are not plain words as JSON strings. Order is the program's
// where it means something (weights, inputs, ops, outputs, stages, members, reports); stage
// parameters, a record, are sorted by name. A value's type and name are printed where it is first
// defined (an input, else its op); values that nothing defines are listed as `= undef`, so even a
// malformed program prints faithfully for the verifier's messages to refer to.
import type { IrOp, IrPool, IrProgram, IrRope, IrRouter, IrStage, IrValue, IrWeight, IrAgentMember } from "./ir.js";

const WORD = /^[A-Za-z0-9_][A-Za-z0-9_.]*$/;

/** A name: bare when it is a plain word (`layers.3.r`, `0.E`), else a JSON string. */
export function printName(s: string): string {
  return WORD.test(s) && s !== "true" && s !== "false" ? s : JSON.stringify(s);
}

/** A number exactly: JavaScript's shortest round-tripping form, plus the sign of zero. */
export function printNumber(n: number): string {
  return Object.is(n, -0) ? "-0" : String(n);
}

export function printType(v: IrValue): string {
  // Token ids are `[T]`; the IR stores their width as 1.
  const dims = v.dtype === "i32" && v.width === 1 ? "T" : `T, ${printNumber(v.width)}`;
  return `${v.dtype}[${dims}]`;
}

const shape = (s: readonly number[]) => `[${s.map(printNumber).join(", ")}]`;

function printWeight(w: IrWeight): string {
  return `weight ${printName(w.name)}: ${shape(w.shape)} ${w.role}${w.init !== undefined ? ` init=${w.init}` : ""}`;
}

function printParam(v: number | string | boolean): string {
  return typeof v === "number" ? printNumber(v) : typeof v === "string" ? JSON.stringify(v) : String(v);
}

export function printStage(s: IrStage): string {
  const args = Object.keys(s.params).sort().map((k) => `${printName(k)}=${printParam(s.params[k]!)}`);
  return `${s.role} ${printName(s.name)}${args.length ? `(${args.join(", ")})` : ""}`;
}

function routerLines(r: IrRouter): string[] {
  const head = [
    `router experts=${printNumber(r.numExperts)} dim=${printNumber(r.dim)} maxPerToken=${printNumber(r.maxPerToken)} scope=${r.scope}${r.unit ? ` per=${r.unit}` : ""}`,
    `report=[${r.report.map(printName).join(", ")}]`,
  ];
  if (r.balanceCoef !== undefined) head.push(`balance=${printNumber(r.balanceCoef)}`);
  if (r.pluginStages?.size) head.push(fromList([...r.pluginStages].map(([n, s]) => [n, s.source])));
  return [head.join(" "), ...r.stages.map((s) => `  ${printStage(s)}`)];
}

function poolLines(p: IrPool): string[] {
  const head = `pool ${printName(p.kind)} count=${printNumber(p.count)} dim=${printNumber(p.dim)} hidden=${printNumber(p.hidden)} act=${p.act} bias=${p.bias} split=${printNumber(p.split)} shared=${p.shared}`;
  const from = (k?: { spec: { name: string }; source: string }) => (k ? ` ${fromList([[k.spec.name, k.source]])}` : "");
  if (!p.members) return [head + from(p.pluginKind)];
  return [
    `${head} members=${p.members.length}`,
    ...p.members.map((m, j) => `  member ${j}: ${printName(m.kind)} hidden=${printNumber(m.hidden)} act=${m.act} bias=${m.bias}${from(m.pluginKind)}`),
  ];
}

const ref = (id: number) => `%${printNumber(id)}`;

/** `rope half theta=10000 dim=64`, then `  yarn factor=… original=… …` when scaled. */
function ropeLines(r: IrRope): string[] {
  const lines = [`rope ${r.kind} theta=${printNumber(r.theta)} dim=${printNumber(r.dim)}`];
  const y = r.yarn;
  if (y) lines.push(`  yarn factor=${printNumber(y.factor)} original=${printNumber(y.original)} beta_fast=${printNumber(y.betaFast)} beta_slow=${printNumber(y.betaSlow)} mscale=${printNumber(y.mscale)} mscale_all_dim=${printNumber(y.mscaleAllDim)}`);
  return lines;
}

/** Where plugin stages or kinds came from (`from=[hash: hash-routing@1.0.0]`); their code is not text. */
function fromList(entries: [string, string][]): string {
  return `from=[${entries.map(([n, s]) => `${printName(n)}: ${printName(s)}`).join(", ")}]`;
}

/** The right-hand side of an op's line, and its indented descriptor lines. */
function printOp(op: IrOp): { rhs: string; body: string[] } {
  switch (op.op) {
    case "linear": return { rhs: `linear ${ref(op.x)} weight=${printName(op.weight)} out=${printNumber(op.outDim)} bias=${op.bias}`, body: [] };
    case "unary": return { rhs: `unary ${op.fn} ${ref(op.x)}`, body: [] };
    case "binary": return { rhs: `binary ${op.fn} ${ref(op.a)}, ${ref(op.b)}`, body: [] };
    case "scalar": {
      const c = printNumber(op.value);
      return { rhs: `scalar ${op.fn} ${op.scalarFirst ? `${c}, ${ref(op.x)}` : `${ref(op.x)}, ${c}`}`, body: [] };
    }
    case "shared": return { rhs: `shared ${ref(op.x)} pool=${printName(op.pool.key)}`, body: poolLines(op.pool) };
    case "moe": return { rhs: `moe ${ref(op.x)} router=${printName(op.router.key)} pool=${printName(op.pool.key)}`, body: [...routerLines(op.router), ...poolLines(op.pool)] };
    case "embed": return { rhs: `embed ${ref(op.ids)} weight=${printName(op.weight)} vocab=${printNumber(op.vocab)}`, body: [] };
    case "norm": return { rhs: `norm ${op.kind} ${ref(op.x)} weight=${printName(op.weight)} eps=${printNumber(op.eps)}`, body: [] };
    case "attention": {
      const a = op.attn;
      const head = `attention heads=${printNumber(a.heads)} kv_heads=${printNumber(a.kvHeads)} head_dim=${printNumber(a.headDim)} bias=${a.bias} qk_norm=${a.qkNorm} qk_eps=${printNumber(a.qkEps)} window=${printNumber(a.window)}`;
      return { rhs: `attention ${ref(op.x)} key=${printName(a.key)}`, body: [head, ...ropeLines(a.rope)] };
    }
    case "mla": {
      const a = op.attn;
      const head = `mla heads=${printNumber(a.heads)} q_rank=${printNumber(a.qRank)} kv_rank=${printNumber(a.kvRank)} nope_dim=${printNumber(a.nopeDim)} rope_dim=${printNumber(a.ropeDim)} v_dim=${printNumber(a.vDim)} norm_eps=${printNumber(a.normEps)}`;
      return { rhs: `mla ${ref(op.x)} key=${printName(a.key)}`, body: [head, ...ropeLines(a.rope)] };
    }
    case "moe_agents":
      return { rhs: `moe_agents ${ref(op.x)} router=${printName(op.router.key)} pool=${printName(op.key)} members=${printNumber(op.members.length)}`, body: [...routerLines(op.router), ...op.members.flatMap((m, j) => memberLines(m, j))] };
    case "peer_attention":
      return { rhs: `peer_attention ${ref(op.x)} peers=[${op.peers.map(ref).join(", ")}] key=${printName(op.key)} heads=${printNumber(op.heads)} out=${printNumber(op.outDim)}`, body: [] };
    default: {
      // Not an op of ir.ts (a malformed program): shown whole, for the verifier's messages.
      const o = op as { op: string };
      return { rhs: `${printName(o.op)} ${JSON.stringify(o)}`, body: [] };
    }
  }
}

/** An agents-pool member: a header, then its body as a program text (input `x`, output `y`),
 *  each line behind `    | ` so the reader can take the block whole. */
function memberLines(m: IrAgentMember, j: number): string[] {
  const body = printIr({ entry: `member.${j}`, values: m.values, inputs: [{ name: "x", value: m.input }], outputs: [{ name: "y", value: m.output }], weights: [], ops: m.ops });
  return [`member ${j}:`, ...body.trimEnd().split("\n").map((l) => `  | ${l}`)];
}

/** The whole program as text, one line per weight, input, op (plus descriptors) and output. */
export function printIr(p: IrProgram): string {
  const lines = [`ir ${printName(p.entry)}${p.model ? " model" : ""}`, ...p.weights.map(printWeight)];
  const declared = new Set<number>();
  // `%3: f32[T, 64] "h"` where the value is first defined, plain `%3` after that.
  const def = (id: number): string => {
    const v = p.values[id];
    if (!v || declared.has(id)) return ref(id);
    declared.add(id);
    return `${ref(id)}: ${printType(v)} ${JSON.stringify(v.name)}${v.id !== id ? ` id=${printNumber(v.id)}` : ""}`;
  };
  for (const i of p.inputs) lines.push(`${def(i.value)} = input ${printName(i.name)}`);
  for (const op of p.ops) {
    const { rhs, body } = printOp(op);
    lines.push(`${def(op.out)} = ${rhs}`, ...body.map((l) => `  ${l}`));
  }
  p.values.forEach((_, id) => {
    if (!declared.has(id)) lines.push(`${def(id)} = undef`);
  });
  for (const o of p.outputs) lines.push(`output ${printName(o.name)} = ${ref(o.value)}`);
  return lines.join("\n") + "\n";
}

/** The program as JSON data: plugin stages and kinds by name and source (their code is not data). */
export function irJson(p: IrProgram): string {
  return JSON.stringify(
    p,
    (k, v) => {
      if (k === "pluginStages" && v instanceof Map) return Object.fromEntries([...v].map(([n, s]) => [n, { source: s.source }]));
      if (k === "pluginKind" && v && typeof v === "object") return { name: v.spec?.name, source: v.source };
      return v;
    },
    2,
  );
}
