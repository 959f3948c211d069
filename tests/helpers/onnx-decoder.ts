// The whole decoder of a Hugging Face checkpoint (hf-layout.ts: config + HF-named weights) as an
// ONNX graph for ONNX Runtime, built from the modeling files' semantics and independently of
// moec's IR: com.microsoft RotaryEmbedding / GroupQueryAttention and ONNX's
// SimplifiedLayerNormalization where their semantics fit, plain ONNX ops elsewhere (q/k norms,
// MLA, routing and experts, shared experts); com.microsoft.MoE on request where it fits. The
// residual stream is [1, T, D].
import { interleaveGateUp } from "./onnx-model.js";
import { ElemType, OnnxGraph } from "../../compiler/export/onnx/protobuf.js";
import { expertProj, expertSize, headDim, isMla, isMoeLayer, moeModule, routedExperts, type HfConfig, type HfWeights, type YarnScaling } from "./hf-layout.js";

/** ModelProto bytes: inputs `input_ids` and `position_ids` (int64 [1, T]), output `logits` [1, T, V]. */
export function decoderModel(c: HfConfig, w: HfWeights, T: number, opts: DecoderOptions = {}): Uint8Array {
  return new Decoder(c, w, T, opts).build();
}

export interface DecoderOptions {
  /** Run renormalizing softmax routing (Mixtral; norm_topk_prob) through com.microsoft.MoE instead of plain ops. */
  moeOperator?: boolean;
}

class Decoder {
  readonly g = new OnnxGraph();
  private used = new Set<string>();
  private ropeCaches = new Map<string, [string, string]>();
  private mask?: string;

  constructor(readonly c: HfConfig, readonly w: HfWeights, readonly T: number, readonly opts: DecoderOptions) {}

  build(): Uint8Array {
    const { c, g, T } = this;
    const ids = g.input("input_ids", [1, T], ElemType.INT64);
    const pos = g.input("position_ids", [1, T], ElemType.INT64);
    // LlamaModel.forward: inputs_embeds = embed_tokens(input_ids).
    let h = g.one("Gather", [this.raw("model.embed_tokens.weight"), ids], { axis: 0 });
    for (let i = 0; i < c.num_hidden_layers; i++) {
      const L = `model.layers.${i}`;
      // Decoder layer: h = h + self_attn(input_layernorm(h)); h = h + mlp(post_attention_layernorm(h)).
      const a = this.rmsNorm(h, `${L}.input_layernorm.weight`);
      h = g.one("Add", [h, isMla(this.c) ? this.mla(a, pos, `${L}.self_attn`) : this.attention(a, pos, `${L}.self_attn`)]);
      const m = this.rmsNorm(h, `${L}.post_attention_layernorm.weight`);
      h = g.one("Add", [h, isMoeLayer(c, i) ? this.sparseBlock(m, `${L}.${moeModule(c)}`) : this.mlp(m, `${L}.mlp`)]);
    }
    const n = this.rmsNorm(h, "model.norm.weight");
    // lm_head = nn.Linear(hidden, vocab, bias=False), its weight tied to embed_tokens when configured.
    g.one("MatMul", [n, this.transposed(c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight")], {}, { out: "logits" });
    g.output("logits", [1, T, c.vocab_size]);
    const unused = [...this.w.keys()].filter((k) => !this.used.has(k));
    if (unused.length) throw new Error(`onnx decoder: checkpoint tensors not used by the graph: ${unused.join(", ")}`);
    return g.model();
  }

  private tensor(name: string) {
    const t = this.w.get(name);
    if (!t) throw new Error(`onnx decoder: checkpoint has no tensor ${name}`);
    this.used.add(name);
    return t;
  }

  /** A checkpoint tensor as it is stored. */
  private raw(name: string): string {
    const t = this.tensor(name);
    return this.g.init(name, t.shape, t.data);
  }

  /** An nn.Linear weight [out, in] transposed to [in, out], so that y = MatMul(x, Wᵀ). */
  private transposed(name: string): string {
    const t = this.tensor(name);
    return this.g.init(`${name}.T`, [t.shape[1]!, t.shape[0]!], transpose(t.data, t.shape[0]!, t.shape[1]!));
  }

  /** nn.Linear: x·Wᵀ (+ b). */
  private linear(x: string, module: string): string {
    const y = this.g.one("MatMul", [x, this.transposed(`${module}.weight`)]);
    return this.w.has(`${module}.bias`) ? this.g.one("Add", [y, this.raw(`${module}.bias`)]) : y;
  }

  /** LlamaRMSNorm: x · rsqrt(mean(x²) + eps) · weight, in f32 (ONNX's SimplifiedLayerNormalization). */
  private rmsNorm(x: string, weight: string, eps = this.c.rms_norm_eps): string {
    return this.g.one("SimplifiedLayerNormalization", [x, this.raw(weight)], { axis: -1, epsilon: { f: eps }, stash_type: 1 });
  }

  private silu(x: string): string {
    return this.g.one("Mul", [x, this.g.one("Sigmoid", [x])]);
  }

  /** LlamaMLP / MixtralBlockSparseTop2MLP: down(act(gate(x)) · up(x)), act = SiLU. */
  private mlp(x: string, module: string, names = { gate: "gate_proj", up: "up_proj", down: "down_proj" }): string {
    const gate = this.silu(this.linear(x, `${module}.${names.gate}`));
    return this.linear(this.g.one("Mul", [gate, this.linear(x, `${module}.${names.up}`)]), `${module}.${names.down}`);
  }

  /**
   * LlamaAttention (Mixtral, Qwen2-MoE, OLMoE, DeepSeekMoE alike): q/k/v projections (Qwen2-MoE
   * with biases); OLMoE's q_norm/k_norm RMS-normalize the whole projections before the heads are
   * split (OlmoeAttention.forward), Qwen3's each head (q_norm(q.view(…, head_dim))); rotary positions with rotate_half (apply_rotary_pos_emb) at
   * position_ids; causal GQA softmax(q·kᵀ/√hd)·v, key/value head h // (H/KV) (repeat_kv); o_proj.
   */
  private attention(x: string, pos: string, A: string): string {
    const { c, g, T } = this;
    const H = c.num_attention_heads, KV = c.num_key_value_heads, hd = headDim(c);
    let q = this.linear(x, `${A}.q_proj`);
    let k = this.linear(x, `${A}.k_proj`);
    const v = this.linear(x, `${A}.v_proj`);
    if (c.model_type === "olmoe") {
      q = this.rmsNorm(q, `${A}.q_norm.weight`);
      k = this.rmsNorm(k, `${A}.k_norm.weight`);
    }
    if (c.model_type === "qwen3_moe") {
      const perHead = (v: string, heads: number, w: string) => g.one("Reshape", [this.rmsNorm(g.one("Reshape", [v, g.ints([1, T, heads, hd])]), w), g.ints([1, T, heads * hd])]);
      q = perHead(q, H, `${A}.q_norm.weight`);
      k = perHead(k, KV, `${A}.k_norm.weight`);
    }
    const [cos, sin] = this.ropeCache(hd, c.rope_theta);
    q = g.one("RotaryEmbedding", [q, pos, cos, sin], { interleaved: 0, num_heads: H }, { domain: "com.microsoft" });
    k = g.one("RotaryEmbedding", [k, pos, cos, sin], { interleaved: 0, num_heads: KV }, { domain: "com.microsoft" });
    // One prompt of T tokens, no cache: seqlens_k = T − 1, total_sequence_length = T (GQA is causal).
    const seqlensK = g.init(`${A}.seqlens_k`, [1], [T - 1], ElemType.INT32);
    const total = g.init(`${A}.total_seq`, [1], [T], ElemType.INT32);
    const [attn] = g.op("GroupQueryAttention", [q, k, v, "", "", seqlensK, total], { num_heads: H, kv_num_heads: KV, scale: { f: 1 / Math.sqrt(hd) } }, { domain: "com.microsoft", outputs: 3 });
    return this.linear(attn!, `${A}.o_proj`);
  }

  /**
   * DeepseekV3Attention.forward (modeling_deepseek.py): q = q_b_proj(q_a_layernorm(q_a_proj(x)))
   * (or q_proj(x)), per head [nope | rope]; kv_a_proj_with_mqa(x) = [c_kv | k_pe], k_pe one head
   * shared by all; kv_b_proj(kv_a_layernorm(c_kv)) per head [k_nope | v]; rotary on q_pe and k_pe;
   * softmax(q·kᵀ · softmax_scale + causal mask) in f32, then v, o_proj. Plain ops throughout.
   */
  private mla(x: string, pos: string, A: string): string {
    const { c, g, T } = this;
    const H = c.num_attention_heads, nope = c.qk_nope_head_dim!, rope = c.qk_rope_head_dim!, vd = c.v_head_dim!, R = c.kv_lora_rank!;
    const qRaw = c.q_lora_rank ? this.linear(this.rmsNorm(this.linear(x, `${A}.q_a_proj`), `${A}.q_a_layernorm.weight`), `${A}.q_b_proj`) : this.linear(x, `${A}.q_proj`);
    const [qNope, qPe] = g.op("Split", [g.one("Reshape", [qRaw, g.ints([1, T, H, nope + rope])]), g.ints([nope, rope])], { axis: 3 }, { outputs: 2 });
    const [cKv, kPe] = g.op("Split", [this.linear(x, `${A}.kv_a_proj_with_mqa`), g.ints([R, rope])], { axis: 2 }, { outputs: 2 });
    const kv = g.one("Reshape", [this.linear(this.rmsNorm(cKv!, `${A}.kv_a_layernorm.weight`), `${A}.kv_b_proj`), g.ints([1, T, H, nope + vd])]);
    const [kNope, value] = g.op("Split", [kv, g.ints([nope, vd])], { axis: 3 }, { outputs: 2 });
    // DeepSeek's apply_rotary_pos_emb de-interleaves q_pe/k_pe (view(…, d/2, 2).transpose) and then
    // applies rotate_half: pairs (2i, 2i+1) turn by frequency i, the result in [evens | odds] order.
    // RotaryEmbedding(interleaved = 1) turns the same pairs in place; q_pe·k_pe is the same sum.
    const [cos, sin] = this.ropeCache(rope, c.rope_theta, c.rope_scaling ?? undefined);
    const qPeRot = g.one("Reshape", [
      g.one("RotaryEmbedding", [g.one("Reshape", [qPe!, g.ints([1, T, H * rope])]), pos, cos, sin], { interleaved: 1, num_heads: H }, { domain: "com.microsoft" }),
      g.ints([1, T, H, rope]),
    ]);
    const kPeRot = g.one("RotaryEmbedding", [kPe!, pos, cos, sin], { interleaved: 1, num_heads: 1 }, { domain: "com.microsoft" });
    const kPeHeads = g.one("Expand", [g.one("Reshape", [kPeRot, g.ints([1, T, 1, rope])]), g.ints([1, T, H, rope])]);
    const query = g.one("Transpose", [g.one("Concat", [qNope!, qPeRot], { axis: 3 })], { perm: [0, 2, 1, 3] }); // [1, H, T, qd]
    const keyT = g.one("Transpose", [g.one("Concat", [kNope!, kPeHeads], { axis: 3 })], { perm: [0, 2, 3, 1] }); // [1, H, qd, T]
    const scores = g.one("Add", [g.one("Mul", [g.one("MatMul", [query, keyT]), g.scalar(mlaSoftmaxScale(c))]), this.causalMask()]);
    const probs = g.one("Softmax", [scores], { axis: -1 });
    const out = g.one("MatMul", [probs, g.one("Transpose", [value!], { perm: [0, 2, 1, 3] })]); // [1, H, T, vd]
    const merged = g.one("Reshape", [g.one("Transpose", [out], { perm: [0, 2, 1, 3] }), g.ints([1, T, H * vd])]);
    return this.linear(merged, `${A}.o_proj`);
  }

  /** [T, T]: 0 where key position ≤ query position, else −1e30 (the causal mask HF adds). */
  private causalMask(): string {
    const T = this.T;
    this.mask ??= this.g.init("causal_mask", [T, T], Array.from({ length: T * T }, (_, i) => (i % T <= Math.floor(i / T) ? 0 : -1e30)));
    return this.mask;
  }

  /** cos/sin caches [T, dim/2] for RotaryEmbedding: inv_freq θ^(−2i/dim) (or DeepSeek's YaRN blend), times YaRN's _mscale. */
  private ropeCache(dim: number, theta: number, yarn?: YarnScaling): [string, string] {
    const inv = yarn ? yarnInvFreq(dim, theta, yarn) : Array.from({ length: dim / 2 }, (_, i) => theta ** (-(2 * i) / dim));
    const m = yarn ? yarnMscale(yarn.factor, yarn.mscale) / yarnMscale(yarn.factor, yarn.mscale_all_dim) : 1;
    const cos: number[] = [], sin: number[] = [];
    for (let t = 0; t < this.T; t++) for (const f of inv) {
      cos.push(Math.cos(t * f) * m);
      sin.push(Math.sin(t * f) * m);
    }
    const key = `${dim}_${theta}_${yarn ? "yarn" : "plain"}`;
    if (!this.ropeCaches.has(key)) this.ropeCaches.set(key, [this.g.init(`cos_${key}`, [this.T, dim / 2], cos), this.g.init(`sin_${key}`, [this.T, dim / 2], sin)]);
    return this.ropeCaches.get(key)!;
  }

  /** The family's sparse block on [1, T, D]. */
  private sparseBlock(x: string, M: string): string {
    const { c, g, T } = this;
    const D = c.hidden_size;
    const x2 = g.one("Reshape", [x, g.ints([T, D])]);
    const routed = this.opts.moeOperator && moeOperatorFits(c) ? this.moeOperator(x2, M) : this.denseExperts(x2, M, c.scoring_func === "sigmoid" ? this.noauxRouting(x2, M) : this.softmaxRouting(x2, M));
    let y = g.one("Reshape", [routed, g.ints([1, T, D])]);
    if (c.model_type === "qwen2_moe") {
      // Qwen2MoeSparseMoeBlock: + sigmoid(shared_expert_gate(x)) · shared_expert(x).
      const gate = g.one("Sigmoid", [this.linear(x, `${M}.shared_expert_gate`)]);
      y = g.one("Add", [y, g.one("Mul", [gate, this.mlp(x, `${M}.shared_expert`)])]);
    }
    // DeepseekMoE: y = moe_infer(x) + shared_experts(identity), one MLP of n_shared · moe_intermediate_size.
    if (c.n_shared_experts) y = g.one("Add", [y, this.mlp(x, `${M}.shared_experts`)]);
    return y;
  }

  /** The routed experts' gate/up/down weights stacked [E, I, D] / [E, D, I] in expert order. */
  private stackedExperts(M: string) {
    const E = routedExperts(this.c), I = expertSize(this.c), D = this.c.hidden_size, p = expertProj(this.c);
    const stack = (proj: string, n: number) => {
      const out = new Float32Array(E * n);
      for (let j = 0; j < E; j++) out.set(this.tensor(`${M}.experts.${j}.${proj}.weight`).data, j * n);
      return out;
    };
    return { E, I, D, gate: stack(p.gate, I * D), up: stack(p.up, I * D), down: stack(p.down, D * I) };
  }

  /**
   * The com.microsoft.MoE operator: softmax over all router logits, top-k, renormalized
   * (normalize_routing_weights = 1), SwiGLU experts with gate and up interleaved row by row.
   * Used only where the routing renormalizes: with normalize_routing_weights = 0 inside this
   * whole decoder, ONNX Runtime 1.30's CPU operator gave logits off by up to ~1 that also changed
   * when an unrelated graph output was added, while alone (onnx-moe.test.ts, and by hand) it is
   * right; the plain-op path is the default for every family.
   */
  private moeOperator(x2: string, M: string): string {
    const { c, g } = this;
    const s = this.stackedExperts(M);
    const fc1 = g.init(`${M}.fc1`, [s.E, 2 * s.I, s.D], interleaveGateUp(s.gate, s.up, s.E, s.I, s.D));
    const fc2 = g.init(`${M}.fc2`, [s.E, s.D, s.I], s.down);
    return g.one(
      "MoE",
      [x2, this.linear(x2, `${M}.gate`), fc1, "", fc2],
      { activation_type: "swiglu", k: c.num_experts_per_tok!, normalize_routing_weights: 1, swiglu_fusion: 1, activation_alpha: { f: 1 }, activation_beta: { f: 0 } },
      { domain: "com.microsoft" },
    );
  }

  /**
   * Softmax routing in plain ops (MixtralSparseMoeBlock, OlmoeSparseMoeBlock, Qwen2MoeSparseMoeBlock,
   * DeepSeek's MoEGate with scoring_func softmax): routing_weights = softmax(router_logits), the
   * top-k kept, divided by their sum only when the family renormalizes. Dense [T, E], zero elsewhere.
   */
  private softmaxRouting(x2: string, M: string): string {
    const { c, g, T } = this;
    const E = routedExperts(c);
    const probs = g.one("Softmax", [this.linear(x2, `${M}.gate`)], { axis: -1 });
    let [wts, idx] = g.op("TopK", [probs, g.ints([c.num_experts_per_tok!])], { axis: -1 }, { outputs: 2 });
    if (renormalizes(c)) wts = g.one("Div", [wts!, g.one("ReduceSum", [wts!, g.ints([-1])], { keepdims: 1 })]);
    return g.one("ScatterElements", [g.init(`${M}.zeros_te`, [T, E], new Array(T * E).fill(0)), idx!, wts!], { axis: 1 });
  }

  /**
   * DeepSeek-V3's MoEGate (scoring_func sigmoid, topk_method noaux_tc): scores = sigmoid(logits);
   * selection on scores + e_score_correction_bias: each of n_group groups scored by the sum of its
   * top 2, the topk_group best kept, the rest masked_fill(0.0), top-k of what is left; weights are
   * the unbiased scores of the chosen experts, divided by their sum + 1e-20 (norm_topk_prob), times
   * routed_scaling_factor. Dense [T, E], zero for the unchosen.
   */
  private noauxRouting(x2: string, M: string): string {
    const { c, g, T } = this;
    const E = routedExperts(c), G = c.n_group!, keep = c.topk_group!, K = c.num_experts_per_tok!;
    const scores = g.one("Sigmoid", [this.linear(x2, `${M}.gate`)]);
    const choice = g.one("Add", [scores, this.raw(`${M}.gate.e_score_correction_bias`)]);
    const [top2] = g.op("TopK", [g.one("Reshape", [choice, g.ints([T, G, E / G])]), g.ints([2])], { axis: -1 }, { outputs: 2 });
    const groupScores = g.one("ReduceSum", [top2!, g.ints([-1])], { keepdims: 0 });
    const [, groupIdx] = g.op("TopK", [groupScores, g.ints([keep])], { axis: -1 }, { outputs: 2 });
    const groupMask = g.one("ScatterElements", [g.init(`${M}.zeros_tg`, [T, G], new Array(T * G).fill(0)), groupIdx!, g.init(`${M}.ones_tk`, [T, keep], new Array(T * keep).fill(1))], { axis: 1 });
    const scoreMask = g.one("Reshape", [g.one("Expand", [g.one("Unsqueeze", [groupMask, g.ints([-1])]), g.ints([T, G, E / G])]), g.ints([T, E])]);
    const masked = g.one("Where", [g.one("Greater", [scoreMask, g.scalar(0.5)]), choice, g.scalar(0)]);
    const [, idx] = g.op("TopK", [masked, g.ints([K])], { axis: -1 }, { outputs: 2 });
    let wts = g.one("GatherElements", [scores, idx!], { axis: 1 });
    wts = g.one("Div", [wts, g.one("Add", [g.one("ReduceSum", [wts, g.ints([-1])], { keepdims: 1 }), g.scalar(1e-20)])]);
    wts = g.one("Mul", [wts, g.scalar(c.routed_scaling_factor ?? 1)]);
    return g.one("ScatterElements", [g.init(`${M}.zeros_te`, [T, E], new Array(T * E).fill(0)), idx!, wts], { axis: 1 });
  }

  /**
   * Every routed expert (SwiGLU MLP) on every token, summed with the dense routing weights [T, E]:
   * what the modeling files' sparse loops (one expert at a time over its tokens) add up to, since
   * an unchosen expert's weight is zero.
   */
  private denseExperts(x2: string, M: string, dense: string): string {
    const { g } = this;
    const s = this.stackedExperts(M);
    const E = s.E;
    const stackT = (name: string, data: Float32Array, out: number, inp: number) => {
      const t = new Float32Array(data.length);
      for (let j = 0; j < E; j++) t.set(transpose(data.subarray(j * out * inp, (j + 1) * out * inp), out, inp), j * out * inp);
      return g.init(name, [E, inp, out], t);
    };
    // [T, D] · [E, D, I] → [E, T, I]; · [E, I, D] → [E, T, D].
    const gate = this.silu(g.one("MatMul", [x2, stackT(`${M}.gate_T`, s.gate, s.I, s.D)]));
    const up = g.one("MatMul", [x2, stackT(`${M}.up_T`, s.up, s.I, s.D)]);
    const y = g.one("MatMul", [g.one("Mul", [gate, up]), stackT(`${M}.down_T`, s.down, s.D, s.I)]);
    const weightsEt1 = g.one("Unsqueeze", [g.one("Transpose", [dense], { perm: [1, 0] }), g.ints([2])]);
    return g.one("ReduceSum", [g.one("Mul", [y, weightsEt1]), g.ints([0])], { keepdims: 0 });
  }
}

/** Mixtral renormalizes the top-k softmax weights (routing_weights /= sum; its config has no norm_topk_prob), the others when norm_topk_prob. */
const renormalizes = (c: HfConfig): boolean => c.norm_topk_prob ?? c.model_type === "mixtral";

/** Does com.microsoft.MoE compute this family's routing? Softmax top-k, renormalized. */
export const moeOperatorFits = (c: HfConfig): boolean => c.scoring_func !== "sigmoid" && renormalizes(c);

function transpose(a: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) out[k * rows + r] = a[r * cols + k]!;
  return out;
}

/** yarn_get_mscale (modeling_deepseek.py): 0.1·mscale·ln(scale) + 1 above scale 1. */
export const yarnMscale = (scale: number, mscale: number): number => (scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1);

/** DeepseekV3Attention.softmax_scale: q_head_dim^−½, times mscale² when rope_scaling has mscale_all_dim. */
export function mlaSoftmaxScale(c: HfConfig): number {
  const base = (c.qk_nope_head_dim! + c.qk_rope_head_dim!) ** -0.5;
  const y = c.rope_scaling;
  if (!y || !y.mscale_all_dim) return base;
  const m = yarnMscale(y.factor, y.mscale_all_dim);
  return base * m * m;
}

/** DeepseekV3YarnRotaryEmbedding._set_cos_sin_cache's inv_freq: interpolated and extrapolated frequencies blended by a linear ramp. */
export function yarnInvFreq(dim: number, base: number, y: YarnScaling): number[] {
  // yarn_find_correction_dim / yarn_find_correction_range / yarn_linear_ramp_mask.
  const corrDim = (rot: number) => (dim * Math.log(y.original_max_position_embeddings / (rot * 2 * Math.PI))) / (2 * Math.log(base));
  const low = Math.max(Math.floor(corrDim(y.beta_fast)), 0);
  let high = Math.min(Math.ceil(corrDim(y.beta_slow)), dim - 1);
  if (low === high) high += 0.001;
  const out: number[] = [];
  for (let i = 0; i < dim / 2; i++) {
    const extra = 1 / base ** ((2 * i) / dim);
    const inter = 1 / (y.factor * base ** ((2 * i) / dim));
    const ramp = Math.min(1, Math.max(0, (i - low) / (high - low)));
    const mask = 1 - ramp; // inv_freq_mask
    out.push(inter * (1 - mask) + extra * mask);
  }
  return out;
}
