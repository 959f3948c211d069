// IR → ONNX graph, op by op, for `moec export onnx`. Values stay [T, width] as in the IR (T a
// symbolic dimension), so every `linear` is a Gemm with transB = 1 on the weight as moec stores
// it ([out, in]: no transposed copies; a tied lm_head shares the embedding's initializer). Model
// blocks map to ONNX Runtime's operators: embed → Gather, rms norm → SimplifiedLayerNormalization,
// attention → com.microsoft RotaryEmbedding + GroupQueryAttention on [1, T, ·], routed experts →
// com.microsoft.MoE, shared experts → one concatenated FFN in Gemms. Only what unmappable.ts
// accepts reaches here.
import type { IrAttention, IrOp, IrPool, IrProgram, IrRope, ValueId } from "../../ir/ir.js";
import { attentionScale, ropeTables } from "../../ir/rope.js";
import { ElemType, OnnxGraph } from "./protobuf.js";
import { moeRouting, type MoeRouting } from "./moe-routing.js";

/** A canonical weight by name (LANGUAGE.md §7), f32. */
export type WeightSource = (name: string) => Float32Array;

export interface EmitOptions {
  /** Pass normalize_routing_weights = 0 to com.microsoft.MoE for non-renormalizing routers instead
   *  of the renormalized operator times the kept probability mass (see moeOp). For experiments. */
  directUnnormalizedMoe?: boolean;
  producerVersion: string;
}

const MS = { domain: "com.microsoft" } as const;

class Emitter {
  readonly g = new OnnxGraph();
  private readonly inits = new Set<string>();
  private tokenCount?: { vec: string; scalar: string };
  private positions?: { ids: string; f32: string };
  private readonly ropeCache = new Map<string, [string, string]>();
  private readonly gqaLengths: { seqlensK?: string; total?: string } = {};

  constructor(readonly p: IrProgram, readonly weight: WeightSource, readonly opts: EmitOptions) {}

  name = (id: ValueId): string => `v${id}`;

  build(): Uint8Array {
    const { g, p } = this;
    for (const inp of p.inputs) {
      const v = p.values[inp.value]!;
      if (v.dtype === "i32") g.input(inp.name, ["T"], ElemType.INT64);
      else g.input(inp.name, ["T", v.width]);
      g.one("Identity", [inp.name], {}, { out: this.name(inp.value) });
    }
    for (const op of p.ops) this.emit(op);
    for (const o of p.outputs) {
      g.one("Identity", [this.name(o.value)], {}, { out: o.name });
      g.output(o.name, ["T", p.values[o.value]!.width]);
    }
    return g.model([["", 17], ["com.microsoft", 1]], { name: "moec", version: this.opts.producerVersion });
  }

  /** A weight as an initializer under its moec name (once, however many ops read it). */
  private w(name: string, shape: number[], data?: ArrayLike<number>): string {
    if (!this.inits.has(name)) {
      this.inits.add(name);
      this.g.init(name, shape, data ?? this.weight(name));
    }
    return name;
  }

  /** The run's token count T as int64 [1] and as a scalar, read from the first input's shape. */
  private tokens() {
    if (!this.tokenCount) {
      const shape = this.g.one("Shape", [this.p.inputs[0]!.name]);
      const vec = this.g.one("Slice", [shape, this.g.ints([0]), this.g.ints([1])]);
      this.tokenCount = { vec, scalar: this.g.one("Squeeze", [vec, this.g.ints([0])]) };
    }
    return this.tokenCount;
  }

  /** Positions 0 … T−1 (row t is position t, as the IR says): int64 [1, T] and f32 [T, 1]. */
  private pos() {
    if (!this.positions) {
      const g = this.g;
      const range = g.one("Range", [g.init(`c_zero_i64`, [], [0], ElemType.INT64), this.tokens().scalar, g.init(`c_one_i64`, [], [1], ElemType.INT64)]);
      this.positions = { ids: g.one("Unsqueeze", [range, g.ints([0])]), f32: g.one("Unsqueeze", [g.one("Cast", [range], { to: ElemType.FLOAT }), g.ints([1])]) };
    }
    return this.positions;
  }

  /** cos/sin caches [T, r/2] of rope (§13.0; compiler/ir/rope.ts's frequencies and YaRN factor). */
  private rope(rope: IrRope): [string, string] {
    const key = `${rope.theta}_${rope.dim}_${JSON.stringify(rope.yarn ?? null)}`;
    let c = this.ropeCache.get(key);
    if (!c) {
      const g = this.g;
      const t = ropeTables(rope);
      const i = this.ropeCache.size;
      const angles = g.one("Mul", [this.pos().f32, g.init(`rope${i}.inv_freq`, [1, t.invFreq.length], t.invFreq)]);
      const scaled = (fn: string) => (t.cosSinScale === 1 ? g.one(fn, [angles]) : g.one("Mul", [g.one(fn, [angles]), g.scalar(t.cosSinScale)]));
      c = [scaled("Cos"), scaled("Sin")];
      this.ropeCache.set(key, c);
    }
    return c;
  }

  private gemm(x: string, weight: string, outDim: number, inDim: number, bias?: string): string {
    const inputs = [x, this.w(`${weight}`, [outDim, inDim])];
    if (bias) inputs.push(this.w(bias, [outDim]));
    return this.g.one("Gemm", inputs, { transB: 1 });
  }

  private act(fn: string, x: string): string {
    const g = this.g;
    switch (fn) {
      case "sigmoid": return g.one("Sigmoid", [x]);
      case "silu": case "swiglu": return g.one("Mul", [x, g.one("Sigmoid", [x])]);
      // gelu with erf (stdlib/math64.ts): 0.5·x·(1 + erf(x/√2)).
      case "gelu": case "geglu": return g.one("Mul", [g.one("Mul", [x, g.scalar(0.5)]), g.one("Add", [g.scalar(1), g.one("Erf", [g.one("Mul", [x, g.scalar(Math.SQRT1_2)])])])]);
      case "relu": return g.one("Relu", [x]);
      case "neg": return g.one("Neg", [x]);
      case "softmax": return g.one("Softmax", [x], { axis: -1 });
      case "identity": return x;
    }
    throw new Error(`onnx export: no activation ${fn}`);
  }

  private emit(op: IrOp): void {
    const { g, p } = this;
    const x = (id: ValueId) => this.name(id);
    const width = (id: ValueId) => p.values[id]!.width;
    const out = { out: this.name(op.out) };
    const BIN = { add: "Add", sub: "Sub", mul: "Mul", div: "Div" } as const;
    switch (op.op) {
      case "linear":
        g.one("Identity", [this.gemm(x(op.x), `${op.weight}.weight`, op.outDim, width(op.x), op.bias ? `${op.weight}.bias` : undefined)], {}, out);
        return;
      case "unary":
        g.one("Identity", [this.act(op.fn, x(op.x))], {}, out);
        return;
      case "binary":
        g.one(BIN[op.fn], [x(op.a), x(op.b)], {}, out);
        return;
      case "scalar": {
        const c = g.scalar(op.value);
        g.one(BIN[op.fn], op.scalarFirst ? [c, x(op.x)] : [x(op.x), c], {}, out);
        return;
      }
      case "embed":
        g.one("Gather", [this.w(`${op.weight}.weight`, [op.vocab, width(op.out)]), x(op.ids)], { axis: 0 }, out);
        return;
      case "norm": {
        const D = width(op.x);
        if (op.kind === "rms") g.one("SimplifiedLayerNormalization", [x(op.x), this.w(`${op.weight}.weight`, [D])], { axis: -1, epsilon: { f: op.eps }, stash_type: 1 }, out);
        else g.one("LayerNormalization", [x(op.x), this.w(`${op.weight}.weight`, [D]), this.w(`${op.weight}.bias`, [D])], { axis: -1, epsilon: { f: op.eps } }, out);
        return;
      }
      case "attention":
        g.one("Identity", [this.attention(op.attn, x(op.x), width(op.x))], {}, out);
        return;
      case "shared":
        g.one("Identity", [this.sharedFfn(op.pool, x(op.x))], {}, out);
        return;
      case "moe": {
        const r = moeRouting(op.router) as MoeRouting;
        g.one("Identity", [this.moeOp(op.pool, op.router.key, r, x(op.x))], {}, out);
        return;
      }
      case "mla":
      case "moe_agents":
      case "peer_attention":
        throw new Error(`onnx export: ${op.op} reached the emitter (unmappable.ts refuses it)`);
      default: {
        const unknown: never = op;
        throw new Error(`onnx export: no emitter for IR op '${(unknown as IrOp).op}'`);
      }
    }
  }

  /**
   * §13.0 attention: q, k, v Gemms (+ biases); q/k RMS norm over the whole projection (`full`)
   * or per head (`head`); RotaryEmbedding (half: interleaved = 0, HF's rotate_half; interleaved:
   * 1) at positions 0 … T−1; GroupQueryAttention, causal, query head h reading kv head
   * h div (H/KV) as repeat_kv does, scaled 1/√hd; a window of W positions (the query position
   * and the W − 1 before it) is ORT's local_window_size = W (checked against the reference:
   * W − 1 reads one position fewer); then wo.
   */
  private attention(a: IrAttention, x: string, D: number): string {
    const g = this.g;
    const { heads: H, kvHeads: KV, headDim: hd } = a;
    const A = a.key;
    let q = this.gemm(x, `${A}.wq`, H * hd, D, a.bias ? `${A}.bq` : undefined);
    let k = this.gemm(x, `${A}.wk`, KV * hd, D, a.bias ? `${A}.bk` : undefined);
    const v = this.gemm(x, `${A}.wv`, KV * hd, D, a.bias ? `${A}.bv` : undefined);
    const rms = (t: string, w: string, n: number) => g.one("SimplifiedLayerNormalization", [t, this.w(w, [n])], { axis: -1, epsilon: { f: a.qkEps }, stash_type: 1 });
    if (a.qkNorm === "full") {
      q = rms(q, `${A}.q_norm`, H * hd);
      k = rms(k, `${A}.k_norm`, KV * hd);
    } else if (a.qkNorm === "head") {
      const perHead = (t: string, heads: number, w: string) => g.one("Reshape", [rms(g.one("Reshape", [t, g.ints([-1, heads, hd])]), w, hd), g.ints([-1, heads * hd])]);
      q = perHead(q, H, `${A}.q_norm`);
      k = perHead(k, KV, `${A}.k_norm`);
    }
    const batch = (t: string) => g.one("Unsqueeze", [t, g.ints([0])]);
    let q3 = batch(q), k3 = batch(k);
    if (a.rope.kind !== "none") {
      const [cos, sin] = this.rope(a.rope);
      const interleaved = a.rope.kind === "interleaved" ? 1 : 0;
      q3 = g.one("RotaryEmbedding", [q3, this.pos().ids, cos, sin], { interleaved, num_heads: H }, MS);
      k3 = g.one("RotaryEmbedding", [k3, this.pos().ids, cos, sin], { interleaved, num_heads: KV }, MS);
    }
    // One sequence, no cache: seqlens_k = T − 1, total_sequence_length = T (int32).
    this.gqaLengths.total ??= g.one("Cast", [this.tokens().vec], { to: ElemType.INT32 });
    this.gqaLengths.seqlensK ??= g.one("Sub", [this.gqaLengths.total, g.init("c_one_i32", [1], [1], ElemType.INT32)]);
    const attrs = { num_heads: H, kv_num_heads: KV, scale: { f: attentionScale(a) }, ...(a.window > 0 ? { local_window_size: a.window } : {}) };
    const [o] = g.op("GroupQueryAttention", [q3, k3, batch(v), "", "", this.gqaLengths.seqlensK, this.gqaLengths.total], attrs, { ...MS, outputs: 3 });
    return this.gemm(g.one("Squeeze", [o!, g.ints([0])]), `${A}.wo`, D, H * hd);
  }

  /** A shared pool: Σ over its N ffn experts = one FFN whose hidden units are all theirs
   *  (w_up/w_gate [N, I, D] read as [N·I, D]; w_down [N, D, I] regrouped to [D, N·I]; b_down summed). */
  private sharedFfn(pool: IrPool, x: string): string {
    const { count: N, hidden: I, dim: D } = pool;
    const K = pool.key;
    const gated = pool.act === "swiglu" || pool.act === "geglu";
    const down = this.weight(`${K}.w_down`);
    const downCat = new Float32Array(D * N * I);
    for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) downCat.set(down.subarray((n * D + d) * I, (n * D + d + 1) * I), d * N * I + n * I);
    let bDown: string | undefined;
    if (pool.bias) {
      const b = this.weight(`${K}.b_down`);
      const sum = new Float32Array(D);
      for (let n = 0; n < N; n++) for (let d = 0; d < D; d++) sum[d]! += b[n * D + d]!;
      bDown = this.w(`${K}.b_down.sum`, [D], sum);
    }
    const proj = (name: string, bias: string) => this.g.one("Gemm", [x, this.w(`${K}.${name}`, [N * I, D]), ...(pool.bias ? [this.w(`${K}.${bias}`, [N * I])] : [])], { transB: 1 });
    const up = proj("w_up", "b_up");
    const h = gated ? this.g.one("Mul", [this.act(pool.act, proj("w_gate", "b_gate")), up]) : this.act(pool.act, up);
    return this.g.one("Gemm", [h, this.w(`${K}.w_down.cat`, [D, N * I], downCat), ...(bDown ? [bDown] : [])], { transB: 1 });
  }

  /**
   * Routed experts through com.microsoft.MoE: fc1 [E, I, D] (w_up), or for swiglu
   * (swiglu_fusion = 1) gate and up interleaved row by row [E, 2I, D]; fc2 = w_down [E, D, I].
   * A router that does not renormalize runs the renormalizing operator and multiplies by the
   * probability mass its top k kept (Σ_j p_j f_j = (Σ_j p_j) · Σ_j (p_j / Σ p) f_j), because with
   * normalize_routing_weights = 0 ONNX Runtime 1.30's CPU operator gave wrong outputs inside whole
   * graphs (docs/scale-out.md).
   */
  private moeOp(pool: IrPool, routerKey: string, r: MoeRouting, x: string): string {
    const g = this.g;
    const { count: E, hidden: I, dim: D } = pool;
    const K = pool.key;
    const logits = this.gemm(x, `${routerKey}.weight`, E, D, r.bias ? `${routerKey}.bias` : undefined);
    const swiglu = pool.act === "swiglu";
    const fc1 = swiglu
      ? this.w(`${K}.fc1`, [E, 2 * I, D], interleaveRows(this.weight(`${K}.w_gate`), this.weight(`${K}.w_up`), E * I, D))
      : this.w(`${K}.w_up`, [E, I, D]);
    const fc1Bias = !pool.bias ? "" : swiglu ? this.w(`${K}.fc1_bias`, [E, 2 * I], interleaveRows(this.weight(`${K}.b_gate`), this.weight(`${K}.b_up`), E * I, 1)) : this.w(`${K}.b_up`, [E, I]);
    const inputs = [x, logits, fc1, fc1Bias, this.w(`${K}.w_down`, [E, D, I]), ...(pool.bias ? [this.w(`${K}.b_down`, [E, D])] : [])];
    const direct = !r.normalize && this.opts.directUnnormalizedMoe;
    const attrs = {
      activation_type: pool.act, k: r.k, normalize_routing_weights: r.normalize || !direct ? 1 : 0,
      ...(swiglu ? { swiglu_fusion: 1, activation_alpha: { f: 1 }, activation_beta: { f: 0 } } : {}),
    };
    let y = g.one("MoE", inputs, attrs, MS);
    if (!r.normalize && !direct) {
      const probs = g.one("Softmax", [logits], { axis: -1 });
      const [kept] = g.op("TopK", [probs, g.ints([r.k])], { axis: -1 }, { outputs: 2 });
      y = g.one("Mul", [y, g.one("ReduceSum", [kept!, g.ints([-1])], { keepdims: 1 })]);
    }
    return r.scale === 1 ? y : g.one("Mul", [y, g.scalar(r.scale)]);
  }
}

/** Rows of a and b ([rows, n] each) interleaved: a's row i at 2i, b's at 2i + 1. */
function interleaveRows(a: Float32Array, b: Float32Array, rows: number, n: number): Float32Array {
  const out = new Float32Array(2 * rows * n);
  for (let i = 0; i < rows; i++) {
    out.set(a.subarray(i * n, (i + 1) * n), 2 * i * n);
    out.set(b.subarray(i * n, (i + 1) * n), (2 * i + 1) * n);
  }
  return out;
}

/** ModelProto bytes of `program` (already checked by onnxProblems). */
export function emitOnnx(program: IrProgram, weight: WeightSource, opts: EmitOptions): Uint8Array {
  return new Emitter(program, weight, opts).build();
}
