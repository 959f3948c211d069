// A float64 CPU interpreter of the IR: the reference every GPU result is compared with for the
// constructs ONNX Runtime does not cover. Deliberately simple and independent of the kernels:
// token by token, expert by expert, in float64. This file dispatches; the model ops (embed, norm,
// attention, mla) are in ref-blocks.ts and ref-attention.ts.

import type { IrAgentMember, IrOp, IrProgram, IrRouter, ValueId } from "../../compiler/ir/ir.js";
import { expertForward, type RefTensors, tensor } from "./ref-experts.js";
import { gelu, relu, sigmoid, silu, softmax } from "../../stdlib/math64.js";
import { attentionReference, type AttentionMask, mlaReference } from "./ref-attention.js";
import { peerAttentionReference } from "./ref-peer-attention.js";
import { embedReference, normReference } from "./ref-blocks.js";
import { routeReference, type Streams, type TokenSelection } from "./ref-router.js";

export type { TokenSelection } from "./ref-router.js";

export interface RouterTrace {
  /** Pre-select streams per token (after transforms). */
  streams: Streams[];
  /** Final selection per token (after post-select). */
  selection: TokenSelection[];
}

export interface ReferenceOptions {
  /** Per router key, per token: use these expert ids instead of selecting (near-tie tests). */
  forcedSelection?: Map<string, number[][]>;
  /** Filled with each router's streams and selection. */
  trace?: Map<string, RouterTrace>;
  /** Attention positions and visibility other than causal over rows 0…T−1 (Group Think's mask). */
  attentionMask?: AttentionMask;
}

const row = (v: Float64Array, t: number, w: number): Float64Array => v.subarray(t * w, (t + 1) * w);

/** Routes T tokens (rows of x [T, D]) through the router's stage pipeline. */
export function route(r: IrRouter, W: RefTensors, x: Float64Array, T: number, opts: ReferenceOptions = {}): TokenSelection[] {
  const res = routeReference(r, W, x, T, opts.forcedSelection?.get(r.key));
  opts.trace?.set(r.key, res);
  return res.selection;
}

function unary(fn: string, v: number): number {
  switch (fn) {
    case "sigmoid":
      return sigmoid(v);
    case "silu":
      return silu(v);
    case "gelu":
      return gelu(v);
    case "relu":
      return relu(v);
    case "neg":
      return -v;
    default:
      throw new Error(`reference: unknown unary '${fn}'`);
  }
}

function arith(fn: string, a: number, b: number): number {
  switch (fn) {
    case "add":
      return a + b;
    case "sub":
      return a - b;
    case "mul":
      return a * b;
    case "div":
      return a / b;
    default:
      throw new Error(`reference: unknown binary '${fn}'`);
  }
}

function evalOp(op: IrOp, get: (id: ValueId) => Float64Array, width: (id: ValueId) => number, W: RefTensors, T: number, opts: ReferenceOptions): Float64Array {
  const outW = width(op.out);
  const out = new Float64Array(T * outW);
  switch (op.op) {
    case "linear": {
      const inW = width(op.x);
      const w = tensor(W, `${op.weight}.weight`, op.outDim * inW);
      const b = op.bias ? tensor(W, `${op.weight}.bias`, op.outDim) : undefined;
      const x = get(op.x);
      for (let t = 0; t < T; t++) {
        for (let n = 0; n < op.outDim; n++) {
          let s = b ? b[n]! : 0;
          for (let k = 0; k < inW; k++) s += w[n * inW + k]! * x[t * inW + k]!;
          out[t * outW + n] = s;
        }
      }
      return out;
    }
    case "unary": {
      const x = get(op.x);
      if (op.fn === "softmax") {
        for (let t = 0; t < T; t++) out.set(softmax(row(x, t, outW)), t * outW);
      } else {
        for (let i = 0; i < out.length; i++) out[i] = unary(op.fn, x[i]!);
      }
      return out;
    }
    case "binary": {
      const a = get(op.a);
      const b = get(op.b);
      const aw = width(op.a);
      const bw = width(op.b);
      for (let t = 0; t < T; t++) {
        for (let j = 0; j < outW; j++) {
          out[t * outW + j] = arith(op.fn, a[t * aw + (aw === 1 ? 0 : j)]!, b[t * bw + (bw === 1 ? 0 : j)]!);
        }
      }
      return out;
    }
    case "scalar": {
      const x = get(op.x);
      for (let i = 0; i < out.length; i++) out[i] = op.scalarFirst ? arith(op.fn, op.value, x[i]!) : arith(op.fn, x[i]!, op.value);
      return out;
    }
    case "shared": {
      const x = get(op.x);
      for (let t = 0; t < T; t++) {
        for (let e = 0; e < op.pool.count; e++) {
          const y = expertForward(op.pool, W, e, row(x, t, op.pool.dim));
          for (let d = 0; d < outW; d++) out[t * outW + d]! += y[d]!;
        }
      }
      return out;
    }
    case "moe": {
      const x = get(op.x);
      const sel = route(op.router, W, x, T, opts);
      for (let t = 0; t < T; t++) {
        const s = sel[t]!;
        s.ids.forEach((e, j) => {
          const y = expertForward(op.pool, W, e, row(x, t, op.pool.dim));
          for (let d = 0; d < outW; d++) out[t * outW + d]! += s.weights[j]! * y[d]!;
        });
      }
      return out;
    }
    case "embed":
      return embedReference(tensor(W, `${op.weight}.weight`, op.vocab * outW), op.vocab, outW, get(op.ids), T);
    case "norm":
      return normReference(op.kind, W, op.weight, op.eps, get(op.x), T, outW);
    case "attention":
      return attentionReference(op.attn, W, get(op.x), T, width(op.x), opts.attentionMask);
    case "mla":
      if (opts.attentionMask) throw new Error("reference: an attention mask other than causal is not implemented for `mla`");
      return mlaReference(op.attn, W, get(op.x), T, width(op.x));
    case "moe_agents": {
      // Each member runs once on its own tokens, in position order (its T is their count).
      const x = get(op.x);
      const D = width(op.x);
      const sel = route(op.router, W, x, T, opts);
      op.members.forEach((m, j) => {
        const rows: { t: number; w: number }[] = [];
        sel.forEach((s, t) => s.ids.forEach((e, k) => { if (e === j) rows.push({ t, w: s.weights[k]! }); }));
        if (!rows.length) return;
        const xj = new Float64Array(rows.length * D);
        rows.forEach((r, i) => xj.set(row(x, r.t, D), i * D));
        const yj = runMember(m, W, xj, rows.length, opts);
        rows.forEach((r, i) => { for (let d = 0; d < outW; d++) out[r.t * outW + d]! += r.w * yj[i * outW + d]!; });
      });
      return out;
    }
    case "peer_attention":
      return peerAttentionReference(op.key, op.heads, op.outDim, W, get(op.x), op.peers.map(get), T, width(op.x));
  }
}

/** An agents-pool member's body on its `T` rows `x`: its own values, the program's weights. */
function runMember(m: IrAgentMember, W: RefTensors, x: Float64Array, T: number, opts: ReferenceOptions): Float64Array {
  const env = new Map<ValueId, Float64Array>([[m.input, x]]);
  const width = (id: ValueId): number => {
    const v = m.values[id];
    if (!v) throw new Error(`reference: unknown member value %${id}`);
    return v.width;
  };
  const get = (id: ValueId): Float64Array => {
    const v = env.get(id);
    if (!v) throw new Error(`reference: member value %${id} used before it is defined`);
    return v;
  };
  for (const op of m.ops) env.set(op.out, evalOp(op, get, width, W, T, opts));
  return get(m.output);
}

/** Runs `program` on the CPU in float64; outputs keyed by program.outputs names. */
export function interpretReference(
  program: IrProgram,
  weights: RefTensors,
  inputs: Map<string, Float32Array | Float64Array | Int32Array>,
  tokens: number,
  opts: ReferenceOptions = {},
): Map<string, Float64Array> {
  const env = new Map<ValueId, Float64Array>();
  const widthOf = new Map(program.values.map((v) => [v.id, v.width]));
  const width = (id: ValueId): number => {
    const w = widthOf.get(id);
    if (w === undefined) throw new Error(`reference: unknown value %${id}`);
    return w;
  };
  for (const inp of program.inputs) {
    const data = inputs.get(inp.name);
    if (!data) throw new Error(`reference: missing input '${inp.name}'`);
    if (data.length !== tokens * width(inp.value)) {
      throw new Error(`reference: input '${inp.name}' has ${data.length} values, expected ${tokens} × ${width(inp.value)}`);
    }
    env.set(inp.value, Float64Array.from(data));
  }
  const get = (id: ValueId): Float64Array => {
    const v = env.get(id);
    if (!v) throw new Error(`reference: value %${id} used before it is defined`);
    return v;
  };
  for (const op of program.ops) env.set(op.out, evalOp(op, get, width, weights, tokens, opts));
  return new Map(program.outputs.map((o) => [o.name, get(o.value)]));
}
