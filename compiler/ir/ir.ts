// The tensor IR of one entry point, after every hyper-parameter is bound. It is what the GPU
// executor, the float64 reference interpreter and the weight binder consume.
//
// Architecture invariants:
// - SSA: every op defines exactly one new value; values are [T, width] f32 tensors (T = tokens of
//   the run, symbolic) or [T] i32 token ids. Ops appear in execution order. Row t of every value
//   is position t of the sequence (attention's causal mask and rotary positions read it so).
// - Weights are named canonically (LANGUAGE.md §7). A pool's tensors are always *stacked* here
//   (`E.w_gate` [N, I, D] over the N fine experts); the binder turns every file form (per member,
//   stacked, coarse split, concatenated shared) into that layout. A heterogeneous (`mixed`) pool's
//   members differ in shape, so its tensors are per member (`E.j.w_up`).
// - Routers are a typed list of stages (score, transforms, one select, post-select), as written
//   in the source; canonicalization passes may rewrite the list but never its meaning.

import type { ExpertAct } from "@moec/plugin-api";
import type { PluginKind } from "../../stdlib/expert-kinds/index.js";
import type { PluginStages } from "../../stdlib/stage-table.js";

export type { ExpertAct };

export type ValueId = number;

export interface IrValue {
  id: ValueId;
  /** Width of the last dimension; the first is always the run's token count T. */
  width: number;
  /** `i32` only for token-id inputs. */
  dtype: "f32" | "i32";
  /** Source-level name, for messages and debugging (`x`, `h`, `moe#1`). */
  name: string;
}

export interface IrWeight {
  name: string;
  shape: number[];
  /** State (e_bias, BatchNorm statistics) is read from --state, else the weights file, else init. */
  role: "param" | "state";
  /** Value used when a state tensor is absent everywhere. */
  init?: "zeros" | "ones";
}

/** One member of a heterogeneous pool: its kind and the fields IrPool has for that kind. */
export interface IrExpertSpec {
  /** An expert kind's name (stdlib/expert-kinds/, or a plugin's). */
  kind: string;
  /** Hidden units (ffn), rank (lowrank), 1 (atom), 0 (identity, zero): the kind's `form`. */
  hidden: number;
  act: ExpertAct;
  bias: boolean;
  /** A plugin kind's implementation, carried with the program (std kinds are stdlib's constants). */
  pluginKind?: PluginKind;
}

export interface IrPool {
  /** Weight-name prefix: `E`, `S`, `m.E`, `E.1` (iterate instance is not used for pools outside it). */
  key: string;
  /** Expert kind (stdlib/expert-kinds/ or a plugin's); `mixed`: a heterogeneous pool
   *  (`experts E = [ffn(…), lowrank(…)]`), see `members`. */
  kind: string;
  /** Number of (fine) experts N after `split`. */
  count: number;
  /** Input = output width D. */
  dim: number;
  /** Hidden units per fine expert (the kind's `form`: ffn hidden, lowrank rank, atom 1, null 0);
   *  the largest member's for mixed. */
  hidden: number;
  act: ExpertAct;
  bias: boolean;
  /** `split M` factor (1 without split): fine expert j = slice j mod M of coarse expert j div M. */
  split: number;
  shared: boolean;
  /** `mixed` pools only: member j, whose weights are named per member (`E.j.w_up`, `E.j.a`). */
  members?: IrExpertSpec[];
  /** A plugin kind's implementation, carried with the program (std kinds are stdlib's constants). */
  pluginKind?: PluginKind;
}

/**
 * Member j of an agents pool (`experts A = [mixtral_moe(…), ffn(…)]`, LANGUAGE.md §11.1): a
 * sub-program run on the member's own tokens only — the rows of the pool's input routed to it, in
 * position order, so its T is their count. Its value ids index its own `values`; its weights are
 * listed with the program's, all under `A.j.`. An expert-kind member is a one-op body (a dense
 * `shared` pool of one expert keyed `A.j`), `identity()` a body without ops.
 */
export interface IrAgentMember {
  values: IrValue[];
  input: ValueId;
  output: ValueId;
  ops: IrOp[];
}

export interface IrStage {
  name: string;
  role: "score" | "transform" | "select" | "post";
  params: Record<string, number | string | boolean>;
}

export interface IrRouter {
  /** Weight prefix and statistics key: `r`, `r.1`, `m.r`, `layers.3.block_sparse_moe.r`. */
  key: string;
  numExperts: number;
  /** Input width D. */
  dim: number;
  stages: IrStage[];
  /** Static upper bound of experts a token can select (k for topk; max for topp/threshold; E for dense/choose). */
  maxPerToken: number;
  /** `token`: decisions per token; `run`: the select stage needs the whole batch (expert choice). */
  scope: "token" | "run";
  /** What one routing decision covers (LANGUAGE.md §11.1); absent means `token`. `sequence`: the
   *  score stage reads the mean of x over the run's tokens, and every token gets that one decision
   *  and its weights (the experts still read each token's own row). Never with scope `run`. */
  unit?: "sequence";
  /** Statistics to report for this router (LANGUAGE.md §10). */
  report: string[];
  /** `loss balance(coef)` coefficient, if any. */
  balanceCoef?: number;
  /** The implementations of the plugin stages this router names (std stages are stdlib's
   *  constants): the runtime executes them from here, never from a process-wide table. Not part
   *  of the router's meaning as written; set by the compiler from the registry it checked with. */
  pluginStages?: PluginStages;
}

/**
 * Rotary positions (LANGUAGE.md §13.0): inverse frequencies θ^(−2i/r), i < r/2, over the first
 * `dim` = r values of every q and k head, at positions 0, 1, … of the run. `half` rotates value i
 * with i + r/2 (Hugging Face's rotate_half), `interleaved` 2i with 2i+1, `none` nothing. `yarn`
 * rescales the frequencies and the attention (compiler/ir/rope.ts computes both).
 */
export interface IrRope {
  kind: "half" | "interleaved" | "none";
  theta: number;
  dim: number;
  yarn?: { factor: number; original: number; betaFast: number; betaSlow: number; mscale: number; mscaleAllDim: number };
}

/** Causal self-attention (§13.0). Weights under `key`: wq [H·hd, D], wk, wv [KV·hd, D], wo [D, H·hd];
 *  with `bias` bq, bk, bv; q_norm, k_norm [H·hd]/[KV·hd] (`full`) or [hd] (`head`). */
export interface IrAttention {
  key: string;
  heads: number;
  kvHeads: number;
  headDim: number;
  bias: boolean;
  qkNorm: "none" | "full" | "head";
  qkEps: number;
  rope: IrRope;
  /** Each position reads the last `window` positions (itself included); 0: all before it. */
  window: number;
}

/** Multi-head latent attention (DeepSeek-V2/V3, §13.0). Weights under `key`: wq_a [Rq, D], q_norm [Rq],
 *  wq_b [H·(Dn+Dr), Rq] (or wq [H·(Dn+Dr), D] when qRank = 0), wkv_a [Rkv+Dr, D], kv_norm [Rkv],
 *  wkv_b [H·(Dn+Dv), Rkv], wo [D, H·Dv]. */
export interface IrMla {
  key: string;
  heads: number;
  qRank: number;
  kvRank: number;
  nopeDim: number;
  ropeDim: number;
  vDim: number;
  normEps: number;
  rope: IrRope;
}

export type UnaryFn = "sigmoid" | "silu" | "gelu" | "relu" | "softmax" | "neg";
export type BinaryFn = "add" | "sub" | "mul" | "div";

export type IrOp =
  /** out = x · Wᵀ (+ b); W = `${weight}.weight` [out, in], b = `${weight}.bias`. */
  | { op: "linear"; out: ValueId; x: ValueId; weight: string; outDim: number; bias: boolean }
  | { op: "unary"; out: ValueId; fn: UnaryFn; x: ValueId }
  /** Elementwise; either operand may have width 1 (broadcast along the last dimension). */
  | { op: "binary"; out: ValueId; fn: BinaryFn; a: ValueId; b: ValueId }
  /** Elementwise with a scalar: `x op c` or, with `scalarFirst`, `c op x`. */
  | { op: "scalar"; out: ValueId; fn: BinaryFn; x: ValueId; value: number; scalarFirst: boolean }
  /** A shared pool: sum over all its experts applied to x (weights 1). */
  | { op: "shared"; out: ValueId; x: ValueId; pool: IrPool }
  /** Routed experts: weighted sum of the selected experts' outputs. */
  | { op: "moe"; out: ValueId; x: ValueId; router: IrRouter; pool: IrPool }
  /** out[t] = `${weight}.weight`[ids[t]] ([vocab, width]); ids is an i32 input. An id outside
   *  0…vocab−1 is an error naming the position. */
  | { op: "embed"; out: ValueId; ids: ValueId; weight: string; vocab: number }
  /** RMS norm x / sqrt(mean(x²) + eps) · w, or layer norm (x − mean) / sqrt(var + eps) · w + b,
   *  over the last dimension; w = `${weight}.weight` [width] (b = `${weight}.bias`). */
  | { op: "norm"; out: ValueId; x: ValueId; kind: "rms" | "layer"; weight: string; eps: number }
  | { op: "attention"; out: ValueId; x: ValueId; attn: IrAttention }
  | { op: "mla"; out: ValueId; x: ValueId; attn: IrMla }
  /** Primary-with-peers cross-attention (§11.1, Mixture of Thoughts): out = wo · MHA with
   *  q = wq·x (the primary's latent [T, ds]), k_j = wk·peers[j], v_j = wv·peers[j] (each peer's
   *  latent [T, ds]); head m uses rows [m·ds/H, (m+1)·ds/H), scores scaled by 1/√(ds/H), and each
   *  head has ONE softmax over the union {(j, s) : s ≤ t} of every peer's positions up to t. No
   *  biases, norms or rotary positions. Weights `${key}.wq`, `.wk`, `.wv` [ds, ds], `.wo` [outDim, ds]. */
  | { op: "peer_attention"; out: ValueId; x: ValueId; peers: ValueId[]; key: string; heads: number; outDim: number }
  /** Agents as experts (§11.1): routes x over the members, runs each member once on its tokens
   *  (none: not run), and out[t] = Σ over t's selected members j of weight · member_j(x)[t's row]. */
  | { op: "moe_agents"; out: ValueId; x: ValueId; router: IrRouter; key: string; members: IrAgentMember[] };

export interface IrProgram {
  entry: string;
  /** The entry is a `model` (§13): its router state is read-only while it runs (§13.0), unless the
   *  runtime is asked to update it. */
  model?: boolean;
  values: IrValue[];
  inputs: { name: string; value: ValueId }[];
  /** A single output is named `y` (a model's `logits`); a record's outputs use its keys. */
  outputs: { name: string; value: ValueId }[];
  weights: IrWeight[];
  ops: IrOp[];
}
