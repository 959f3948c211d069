// Lowering to IR: the one place that builds IR values, weights and ops while the walk checks.
// Every emitter does nothing (and returns undefined) unless the frame is lowering and its inputs
// have IR values, so checking code calls it in one line. A new op is one emitter here.
import type * as A from "../../syntax/ast.js";
import type { Args } from "@moec/plugin-api";
import type { ArgValues, ExpertKindDef, TensorShape } from "../../../stdlib/registry.js";
import { IrBuilder } from "../../ir/ir-builder.js";
import type { IrAgentMember, IrExpertSpec, IrPool, IrRouter, BinaryFn, UnaryFn, ValueId } from "../../ir/ir.js";
import { attentionDescriptor, BLOCKS, mlaDescriptor } from "../blocks.js";
import type { Value, Dim, PoolValue, RouterValue, StageUse } from "../values.js";
import type { ElabOptions, Frame, LayerOutput } from "./context.js";

type Tensor = Extract<Value, { t: "tensor" }>;

// ------------------------------------------------------------------ inputs, outputs, calls

/** A tensor parameter not supplied by a caller becomes an IR input (`[T]` token ids are i32). */
export function input(frame: Frame, name: string, value: Tensor): Tensor {
  if (!frame.emit) return value;
  const width = value.width === undefined ? 1 : value.width;
  if (typeof width !== "number") return value;
  const id = frame.emit.value(width, name, value.width === undefined ? "i32" : "f32");
  frame.emit.inputs.push({ name, value: id });
  return { ...value, ir: id };
}

/** The entry's outputs: a single output is `y` (a model's: `logits`, LANGUAGE.md §13.1), a record's outputs use its keys. */
export function outputs(frame: Frame, output: LayerOutput): void {
  if (!frame.emit) return;
  const single = frame.isModel ? "logits" : "y";
  if (output.single && output.single.t === "tensor" && output.single.ir !== undefined) frame.emit.outputs.push({ name: single, value: output.single.ir });
  for (const r of output.record ?? []) if (r.value.t === "tensor" && r.value.ir !== undefined) frame.emit.outputs.push({ name: r.name, value: r.value.ir });
}

/** Options that lower a callee into this frame's program under `PREFIX.`; undefined when not lowering. */
export function calleeOptions(frame: Frame, prefix: string, inputs: Value[]): ElabOptions | undefined {
  return frame.emit ? { emit: frame.emit, irPath: frame.irPath + prefix + ".", inputs, agentCounter: { n: 0 } } : undefined;
}

/** The IR path of copy `index` of `repeat N as NAME`: weights inside it are `NAME.index.…`. */
export function repeatPath(frame: Frame, name: string, index: number): string {
  return `${frame.irPath}${name}.${index}.`;
}

/** A construct the checker accepts but the runtime cannot execute yet. */
export function unsupported(frame: Frame, message: string, span: A.Span): void {
  frame.emit?.unsupported.push({ message, file: frame.file, span });
}

// ------------------------------------------------------------------ elementwise

/** An elementwise function of one tensor. */
export function unary(frame: Frame, fn: UnaryFn, x: Tensor): ValueId | undefined {
  if (!frame.emit || x.ir === undefined || typeof x.width !== "number") return undefined;
  const out = frame.emit.value(x.width, fn);
  frame.emit.op({ op: "unary", out, fn, x: x.ir });
  return out;
}

/** `a OP b` on two tensors of the given (broadcast) width; `name` names the IR value. */
export function binary(frame: Frame, name: string, fn: BinaryFn, a: Tensor, b: Tensor, width: Dim | undefined): ValueId | undefined {
  if (!frame.emit || a.ir === undefined || b.ir === undefined || typeof width !== "number") return undefined;
  return binaryOp(frame.emit, width, name, fn, a.ir, b.ir);
}

/** `x OP value`, or `value OP x` with `scalarFirst`. */
export function scalar(frame: Frame, fn: BinaryFn, x: Tensor, value: number, scalarFirst: boolean): ValueId | undefined {
  if (!frame.emit || x.ir === undefined || typeof x.width !== "number") return undefined;
  return scalarOp(frame.emit, x.width, "scalar", fn, x.ir, value, scalarFirst);
}

/** `parallel(A, B, …) |> COMBINER`: the agents' outputs summed, scaled for `mean`. */
export function parallel(frame: Frame, agents: Tensor[], combiner: string): Tensor {
  let acc = agents[0]!;
  const width = acc.width;
  if (!frame.emit || typeof width !== "number") return acc;
  for (const o of agents.slice(1)) {
    if (acc.ir === undefined || o.ir === undefined) break;
    acc = { ...acc, ir: binaryOp(frame.emit, width, "parallel", "add", acc.ir, o.ir) };
  }
  if (combiner === "mean" && agents.length > 1 && acc.ir !== undefined) {
    acc = { ...acc, ir: scalarOp(frame.emit, width, "mean", "mul", acc.ir, 1 / agents.length, false) };
  }
  return acc;
}

function binaryOp(ir: IrBuilder, width: number, name: string, fn: BinaryFn, a: ValueId, b: ValueId): ValueId {
  const out = ir.value(width, name);
  ir.op({ op: "binary", out, fn, a, b });
  return out;
}

function scalarOp(ir: IrBuilder, width: number, name: string, fn: BinaryFn, x: ValueId, value: number, scalarFirst: boolean): ValueId {
  const out = ir.value(width, name);
  ir.op({ op: "scalar", out, fn, x, value, scalarFirst });
  return out;
}

// ------------------------------------------------------------------ built-in blocks

/** A checked call of a built-in block or of an expert kind applied as a dense layer. */
export interface BlockCall {
  name: string;
  /** Set when `name` is an expert kind. */
  kind: ExpertKindDef | undefined;
  args: ArgValues;
  x: Tensor;
  /** Input width (0 for token ids). */
  dim: number;
  outWidth: number;
  /** The `let` name that owns the block's weights. */
  owner: A.Ident | undefined;
  span: A.Span;
  /** `lm_head(x, tied = EMB)`: the IR key of the embedding whose weight it shares. */
  tiedKey?: string;
}

/** Lowers one block call to ops under the weight prefix `key`; returns its output value. */
type BlockLowering = (ir: IrBuilder, key: string, b: BlockCall) => ValueId;

/** Built-in blocks the runtime executes, by name; any other block is reported unsupported. */
const BLOCK_LOWERINGS = new Map<string, BlockLowering>([
  ["linear", linear],
  ["embed", embed],
  ["rmsnorm", (ir, key, b) => norm(ir, key, b, "rms")],
  ["layernorm", (ir, key, b) => norm(ir, key, b, "layer")],
  ["attention", attention],
  ["mla", mla],
  ["lm_head", lmHead],
]);
/** Expert kinds the runtime executes as a dense layer, by kind name. */
const DENSE_EXPERT_LOWERINGS = new Map<string, BlockLowering>([["ffn", denseFfn]]);

/** A built-in block call, by its lowering in the tables above, else reported unsupported. */
export function block(frame: Frame, b: BlockCall): ValueId | undefined {
  if (!frame.emit || b.x.ir === undefined) return undefined;
  const key = frame.irPath + (b.owner ? b.owner.name + frame.iterSuffix : b.name);
  const lower = BLOCK_LOWERINGS.get(b.name) ?? (b.kind && DENSE_EXPERT_LOWERINGS.get(b.kind.name));
  if (lower) return lower(frame.emit, key, b);
  unsupported(frame, `running \`${b.name}\` is not supported yet`, b.span);
  return undefined;
}

function linear(ir: IrBuilder, key: string, b: BlockCall): ValueId {
  const out = ir.value(b.outWidth, b.owner?.name ?? b.name);
  ir.weight({ name: `${key}.weight`, shape: [b.outWidth, b.dim], role: "param" });
  if (b.args.bias === true) ir.weight({ name: `${key}.bias`, shape: [b.outWidth], role: "param" });
  ir.op({ op: "linear", out, x: b.x.ir!, weight: key, outDim: b.outWidth, bias: b.args.bias === true });
  return out;
}

/** Declares the block's weights (its BLOCKS entry's list) under `key`. */
function blockWeights(ir: IrBuilder, key: string, b: BlockCall): void {
  for (const w of BLOCKS[b.name]!.weights(b.args, b.dim)) ir.weight({ name: `${key}.${w.name}`, shape: w.shape, role: "param" });
}

function embed(ir: IrBuilder, key: string, b: BlockCall): ValueId {
  const out = ir.value(b.outWidth, b.owner?.name ?? b.name);
  blockWeights(ir, key, b);
  ir.op({ op: "embed", out, ids: b.x.ir!, weight: key, vocab: b.args.vocab as number });
  return out;
}

function norm(ir: IrBuilder, key: string, b: BlockCall, kind: "rms" | "layer"): ValueId {
  const out = ir.value(b.dim, b.owner?.name ?? b.name);
  blockWeights(ir, key, b);
  ir.op({ op: "norm", out, x: b.x.ir!, kind, weight: key, eps: b.args.eps as number });
  return out;
}

function attention(ir: IrBuilder, key: string, b: BlockCall): ValueId {
  const out = ir.value(b.dim, b.owner?.name ?? b.name);
  blockWeights(ir, key, b);
  ir.op({ op: "attention", out, x: b.x.ir!, attn: attentionDescriptor(b.args, b.dim, key) });
  return out;
}

function mla(ir: IrBuilder, key: string, b: BlockCall): ValueId {
  const out = ir.value(b.dim, b.owner?.name ?? b.name);
  blockWeights(ir, key, b);
  ir.op({ op: "mla", out, x: b.x.ir!, attn: mlaDescriptor(b.args, key) });
  return out;
}

/** `lm_head` is a `linear` without bias, over its own weight or the tied embedding's [V, D]. */
function lmHead(ir: IrBuilder, key: string, b: BlockCall): ValueId {
  const out = ir.value(b.outWidth, b.owner?.name ?? b.name);
  const tied = b.args.tied as string | undefined;
  const weight = tied !== undefined ? b.tiedKey! : key;
  if (tied === undefined) blockWeights(ir, key, b);
  ir.op({ op: "linear", out, x: b.x.ir!, weight, outDim: b.outWidth, bias: false });
  return out;
}

/** A dense FFN is a shared pool of one expert. */
function denseFfn(ir: IrBuilder, key: string, b: BlockCall): ValueId {
  const out = ir.value(b.dim, b.owner?.name ?? b.name);
  ir.op({ op: "shared", out, x: b.x.ir!, pool: irPool(key, b.kind!, b.args, 1, b.dim, 1, true) });
  return out;
}

// ------------------------------------------------------------------ pools and routers

/** `S(x)`: every expert of a shared pool applied to every token. */
export function sharedPool(frame: Frame, pool: PoolValue, x: Tensor): ValueId | undefined {
  if (!frame.emit || x.ir === undefined || typeof x.width !== "number" || pool.count === undefined) return undefined;
  const out = frame.emit.value(x.width, `${pool.name}(x)`);
  const spec = pool.experts[0]!;
  frame.emit.op({ op: "shared", out, x: x.ir, pool: irPool(frame.irPath + pool.key, spec.kind, spec.args, pool.count, x.width, pool.split, true) });
  return out;
}

/** A checked `moe(x, ROUTER, POOL)` call over E experts of width D. */
export interface MoeCall {
  router: RouterValue;
  pool: PoolValue;
  x: Tensor;
  numExperts: number;
  dim: number;
  /** The router's weights and state (score stage first). */
  weights: TensorShape[];
  select: StageUse | undefined;
}

/** `moe(x, ROUTER, POOL)`: the router's weights and state, the IR router, and the routed pool. */
export function moe(frame: Frame, m: MoeCall): ValueId | undefined {
  if (!frame.emit || m.x.ir === undefined) return undefined;
  const irRouter = routerOf(frame, m);
  const D = m.dim;
  const out = frame.emit.value(D, `moe(${m.router.name}, ${m.pool.name})`);
  const poolKey = frame.irPath + m.pool.key;
  const spec = m.pool.experts[0]!;
  const loweredPool = m.pool.heterogeneous ? irMixedPool(poolKey, m.pool.experts, D) : irPool(poolKey, spec.kind, spec.args, m.numExperts, D, m.pool.split, false);
  frame.emit.op({ op: "moe", out, x: m.x.ir, router: irRouter, pool: loweredPool });
  return out;
}

/** The IR router of a checked `moe` call, its weights and state declared. */
function routerOf(frame: Frame, m: MoeCall): IrRouter {
  const emit = frame.emit!;
  const E = m.numExperts, D = m.dim;
  const key = frame.irPath + m.router.key;
  for (const w of m.weights) emit.weight({ name: `${key}.${w.name}`, shape: w.shape, role: w.state ? "state" : "param", init: w.state ? (w.init ?? (w.name.endsWith("running_var") ? "ones" : "zeros")) : undefined });
  const irRouter: IrRouter = {
    key, numExperts: E, dim: D,
    stages: m.router.stages.map((s) => ({ name: s.def.name, role: s.role, params: { ...s.args } })),
    maxPerToken: m.select?.def.maxPerToken?.(m.select.args, E) ?? E,
    scope: m.select?.def.scope === "run" ? "run" : "token",
    ...(m.router.unit ? { unit: m.router.unit } : {}),
    report: [...frame.reports],
    balanceCoef: frame.loss.coef,
  };
  frame.irRouters.push(irRouter);
  return irRouter;
}

/** One member's body of an agents pool (§11.1), built in its own IR builder from input `input`. */
export interface AgentBody {
  builder: IrBuilder;
  input: ValueId;
  output: ValueId | undefined;
}

/** A fresh member body whose input has the pool's width D (a builder even when only checking). */
export function agentBody(_frame: Frame, D: number): AgentBody {
  const builder = new IrBuilder();
  return { builder, input: builder.value(D, "x"), output: undefined };
}

/** An expert-kind member of an agents pool: a dense pool of that one expert (`KEY.j.w_up`…). */
export function expertKindBody(frame: Frame, body: AgentBody, key: string, spec: { kind: ExpertKindDef; args: ArgValues }, D: number): AgentBody {
  const ir = body.builder;
  if (spec.kind.name === "identity") return { ...body, output: body.input };
  if (spec.kind.name === "zero") return { ...body, output: scalarOp(ir, D, "zero", "mul", body.input, 0, false) };
  const out = ir.value(D, key);
  ir.op({ op: "shared", out, x: body.input, pool: irPool(frame.irPath + key, spec.kind, spec.args, 1, D, 1, true) });
  return { ...body, output: out };
}

/** `moe(x, ROUTER, POOL)` over a pool listing layers: a `moe_agents` op with one body per member. */
export function moeAgents(frame: Frame, m: MoeCall, bodies: AgentBody[]): ValueId | undefined {
  if (!frame.emit || m.x.ir === undefined || bodies.some((b) => b.output === undefined)) return undefined;
  const irRouter = routerOf(frame, m);
  for (const b of bodies) {
    for (const w of b.builder.weights) frame.emit.weight(w);
    frame.emit.unsupported.push(...b.builder.unsupported);
  }
  const out = frame.emit.value(m.dim, `moe(${m.router.name}, ${m.pool.name})`);
  const members: IrAgentMember[] = bodies.map((b) => ({ values: b.builder.values, input: b.input, output: b.output!, ops: b.builder.ops }));
  frame.emit.op({ op: "moe_agents", out, x: m.x.ir, router: irRouter, key: frame.irPath + m.pool.key, members });
  return out;
}

/** `loss balance(α)` applies to every router of the layer, including those emitted before it. */
export function routerLoss(frame: Frame): void {
  for (const r of frame.irRouters) r.balanceCoef = frame.loss.coef;
}

/** `report …` applies to every router of the layer, including those emitted before it. */
export function routerReports(frame: Frame): void {
  for (const r of frame.irRouters) r.report = [...frame.reports];
}

/** A heterogeneous pool: one member per listed expert, weights named per member (`E.j.PARAM`). */
function irMixedPool(key: string, experts: { kind: ExpertKindDef; args: Record<string, unknown> }[], dim: number): IrPool {
  const members: IrExpertSpec[] = experts.map((s) => {
    const { kind, hidden, act, bias, pluginKind } = irPool(key, s.kind, s.args, 1, dim, 1, false);
    return { kind, hidden, act, bias, ...(pluginKind ? { pluginKind } : {}) };
  });
  const hidden = Math.max(0, ...members.map((m) => m.hidden));
  return { key, kind: "mixed", count: members.length, dim, hidden, act: "identity", bias: false, split: 1, shared: false, members };
}

/** A pool of one expert kind: its `form` at these arguments (a plugin kind's spec travels with it). */
function irPool(key: string, kind: ExpertKindDef, args: Record<string, unknown>, count: number, dim: number, split: number, shared: boolean): IrPool {
  const form = kind.spec.form(args as Args);
  return { key, kind: kind.name, count, dim, ...form, split, shared, ...(kind.source === "std" ? {} : { pluginKind: { spec: kind.spec, source: kind.source } }) };
}

// ------------------------------------------------------------------ primary with peers (§11.1)

/** A peer projection `z = P · h` of `primary_peers` (weight `KEY.weight` [ds, D], no bias). */
export function peerProjection(frame: Frame, key: string, h: Tensor, ds: number): Tensor {
  const out: Tensor = { t: "tensor", tokens: h.tokens, width: ds };
  if (!frame.emit || h.ir === undefined || typeof h.width !== "number") return out;
  const k = frame.irPath + key;
  frame.emit.weight({ name: `${k}.weight`, shape: [ds, h.width], role: "param" });
  out.ir = frame.emit.value(ds, key);
  frame.emit.op({ op: "linear", out: out.ir, x: h.ir, weight: k, outDim: ds, bias: false });
  return out;
}

/** The primary's update `h₀ + wo · MHA(wq·z₀; wk·z_j, wv·z_j)` of one `primary_peers` round. */
export function peerUpdate(frame: Frame, key: string, h0: Tensor, z0: Tensor, peers: Tensor[], heads: number): Tensor {
  const out: Tensor = { t: "tensor", tokens: h0.tokens, width: h0.width };
  const D = h0.width, ds = z0.width;
  if (!frame.emit || h0.ir === undefined || z0.ir === undefined || peers.some((p) => p.ir === undefined) || typeof D !== "number" || typeof ds !== "number") return out;
  const k = frame.irPath + key;
  for (const w of ["wq", "wk", "wv"]) frame.emit.weight({ name: `${k}.${w}`, shape: [ds, ds], role: "param" });
  frame.emit.weight({ name: `${k}.wo`, shape: [D, ds], role: "param" });
  const att = frame.emit.value(D, `${key}.attn`);
  frame.emit.op({ op: "peer_attention", out: att, x: z0.ir, peers: peers.map((p) => p.ir!), key: k, heads, outDim: D });
  out.ir = binaryOp(frame.emit, D, "h0", "add", h0.ir, att);
  return out;
}
