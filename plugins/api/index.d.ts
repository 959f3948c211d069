// @moec/plugin-api: the types of a moec router plugin (API version 1).
//
// A plugin declares router stages (LANGUAGE.md §5) and, optionally, expert kinds (§4, below).
// Each stage gives, in one object:
//   - what the checker needs: kind, scope, typed parameters, checks against the pool, weights;
//   - a float64 reference implementation (`reference`), the meaning of the stage;
//   - the WGSL it contributes to the fused router kernel (`wgsl`): small expressions the kernel
//     generator splices into fixed places (see docs/plugins.md, "The WGSL contract");
//   - runtime state with its update rule, and the statistics it reports.
// The standard library's stages are written against these same types (stdlib/stages/).

/** Version of the contract; a plugin whose `apiVersion` differs is refused at load. */
export declare const API_VERSION: 1;
export declare const STAGE_KINDS: readonly StageKind[];
export declare const TRANSFORM_REDUCTIONS: readonly TransformReduction[];
export declare const POST_REDUCTIONS: readonly PostReduction[];

/** score → transform* → select → post* (post = post-select). */
export type StageKind = "score" | "transform" | "select" | "post";

export type ParamType = "int" | "number" | "bool" | "enum";

export interface ParamSpec {
  name: string;
  type: ParamType;
  /** Vocabulary of an `enum` parameter. */
  values?: readonly string[];
  default?: number | boolean | string;
  /** Lower bound; `minExclusive` makes it strict. */
  min?: number;
  minExclusive?: boolean;
  max?: number;
  /** May be given positionally, in declaration order: `topk(2)`. */
  positional?: boolean;
  /** May be left out although it has no default (the stage derives it). */
  optional?: boolean;
  doc: string;
}

/** Bound arguments by parameter name (enum values as their strings). */
export type Args = Readonly<Record<string, number | boolean | string>>;

/** A problem with a stage's arguments against its pool; `param` points the diagnostic at it. */
export interface Issue {
  message: string;
  param?: string;
  help?: string;
}

/** A weight the stage owns under the router's prefix (`r.weight` for name `weight`). */
export interface TensorSpec {
  name: string;
  shape: number[];
  /** Used in a matrix product (counted in FLOPs). */
  matmul?: boolean;
}

/** Per-run statistics handed to a state update rule. */
export interface UpdateContext {
  /** The state vector before the update. */
  old: Float64Array;
  args: Args;
  E: number;
  /** Tokens per expert in this run. */
  load: Float64Array;
  meanLoad: number;
  tokens: number;
}

/**
 * Runtime state of a stage: a vector of f32 under the router's prefix (`r.NAME`). It is read
 * from `--state FILE`, else from the weights file, else filled with `init`; written by
 * `moec run --state-out FILE`. With `update`, the runtime applies the rule after every run, on
 * the GPU (`wgsl`), and the float64 reference applies `reference`.
 */
export interface StateSpec {
  name: string;
  /** Vector length (default E). */
  length?(args: Args, E: number): number;
  /** Value of every element when no file has the tensor: 0 (default) or 1. */
  init?: 0 | 1;
  update?: {
    /** f32 expression for the new element: `old`, `e`, `load`, `mean_load`, `tokens` (f32), parameters by name. */
    wgsl: string;
    reference(ctx: UpdateContext): ArrayLike<number>;
  };
}

export interface ScoreContext {
  args: Args;
  E: number;
  D: number;
  /** Index of the token in the run. */
  token: number;
  /** One of the stage's weights, by its name in `weights()`. */
  weight(name: string): Float64Array;
  /** One of the stage's state vectors. */
  state(name: string): Float64Array;
}

export interface StageContext {
  args: Args;
  E: number;
  state(name: string): Float64Array;
}

export interface RunContext extends StageContext {
  tokens: number;
}

/** The float64 meaning of a stage (the reference every GPU result is compared with). */
export interface Reference {
  /** score: the token's input x [D] → scores [E]. */
  score?(x: Float64Array, ctx: ScoreContext): ArrayLike<number>;
  /** transform: one stream [E] → [E] (applied to the streams named by `stream`). */
  transform?(z: Float64Array, ctx: StageContext): ArrayLike<number>;
  /** select, per token: expert ids in slot order, from the selection stream `sel` and weights `w`. */
  select?(sel: Float64Array, w: Float64Array, ctx: StageContext): number[];
  /** select, per run (`scope: "run"`): per token, its expert ids in slot order. */
  selectRun?(sel: Float64Array[], w: Float64Array[], ctx: RunContext): number[][];
  /** post-select: the token's selected weights in slot order → new weights. */
  post?(w: Float64Array, ctx: StageContext): ArrayLike<number>;
}

export type TransformReduction = "max" | "sum" | "sumexp" | "sumsq";
export type PostReduction = "max" | "sum" | "sumexp";

/**
 * The WGSL a stage contributes to the fused router kernel. Every field is a WGSL EXPRESSION
 * (no statements, no `;`), evaluated per token (and per expert or slot) at a fixed place of the
 * kernel. In every expression the stage's numeric, boolean and enum parameters are f32 values
 * by name (booleans 0/1, enums the index of the value), `E` and `D` are u32, and each state
 * vector NAME is read with `state_NAME(i: u32) -> f32`. `helpers` may declare functions whose
 * names start with the stage's name and `_`; no bindings, barriers, atomics or entry points.
 */
export interface WgslContract {
  /** score: `expr` → z_e. `dot` = x·w_e over the [E, D] weight named by `gemm` (0 without),
   *  `e`, `t` (token) u32; `x_at(t, k)` reads the token's input. */
  score?: { gemm?: string; expr: string; helpers?: string };
  /** transform: `u = pre` (default `z`) per expert; the asked reductions of u over the experts
   *  (`u_max`, `u_sum`, `u_sumexp` = Σ exp(u − u_max), `u_sumsq`); then `expr` → new value,
   *  with `z`, `u`, `e` and those reductions in scope. */
  transform?: { pre?: string; reduce?: readonly TransformReduction[]; expr: string; helpers?: string };
  /** select (token scope): the kernel takes candidates in order of selection score (ties to the
   *  lower index). `limit` (u32; default maxPerToken): most experts; `eligible` (bool over `e`,
   *  `v` selection score, `w` weight): candidates; `accept` (bool over `v`, `w`, `n` taken so far,
   *  `cum` weight taken so far): checked before taking, false ends the selection; `stop` (same
   *  variables, after taking): true ends it. select (run scope): `capacity` (u32 over `T`, `E`):
   *  each expert takes its `capacity` best tokens. */
  select?: { limit?: string; eligible?: string; accept?: string; stop?: string; capacity?: string; helpers?: string };
  /** post-select: the asked reductions over the token's selected weights (`w_max`, `w_sum`,
   *  `w_sumexp` = Σ exp(w − w_max)); then `expr` over `w`, `s` (slot), `n` (count) → new weight. */
  post?: { reduce?: readonly PostReduction[]; expr: string; helpers?: string };
}

/**
 * The stage in PyTorch, for `moec export torch` (optional: a program whose router names a stage
 * without it is refused by the export, naming the stage). Each field is the BODY of a Python
 * function (statements ending in `return`, indented by four spaces or not at all) over all T
 * tokens of a run at once, with `torch`, `F` (torch.nn.functional) and `math` in scope, and
 * `ranked(v)` (indices by value, highest first, ties to the lower index), `unrank(order, take)`
 * (the mask of the ranks `take` marks), `slots(v)` (0…n−1), and
 * `ctx.args` (the arguments by name), `ctx.E`, `ctx.D`, `ctx.weight(name)` and
 * `ctx.state(name)` (the stage's tensors under the router's prefix):
 *   score(x, ctx):        x [T, D] → scores [T, E]
 *   transform(z, ctx):    one stream [T, E] → [T, E]
 *   select(sel, w, ctx):  → a bool mask [T, E] of the selected experts (ties to the lower index)
 *   post(w, mask, ctx):   the selected weights (0 off the mask) [T, E] → new weights [T, E]
 */
export interface TorchReference {
  score?: string;
  transform?: string;
  select?: string;
  post?: string;
}

export interface StageSpec {
  /** The name used in pipelines: `router r = linear |> NAME(…) |> …`. */
  name: string;
  /** Kind(s): a stage may be a transform before the select and a post-select after it. */
  kind: StageKind | readonly StageKind[];
  doc: string;
  params?: readonly ParamSpec[];
  /** `run`: the select stage needs the whole batch (expert choice). Default `token`. */
  scope?: "token" | "run";
  /** transform: which streams it changes (default both). */
  stream?: "both" | "selection" | "weight";
  /** score/transform: whether the weight stream it produces is never negative (for `entropy`,
   *  §10); `"preserve"`: non-negative exactly when its input is (e.g. a division by τ > 0). */
  nonNegative?: boolean | "preserve";
  /** Checks against the pool size E; issues (or plain messages) become diagnostics at the stage. */
  check?(args: Args, E: number): ReadonlyArray<Issue | string>;
  /** score: weights under the router's prefix for D inputs and E experts. */
  weights?(args: Args, E: number, D: number): TensorSpec[];
  /** State vectors (a list, or a function of the arguments when their number depends on them). */
  state?: readonly StateSpec[] | ((args: Args, E: number) => readonly StateSpec[]);
  /** select: static bound on experts per token (sizes the kernel's buffers). */
  maxPerToken?(args: Args, E: number): number;
  /** select: experts per token for `moec info` (§9). */
  active?(args: Args, E: number): { count: number; label: "exact" | "upper bound" | "expectation" };
  /** Statistics the stage adds under its router in `--stats`: names of its state vectors. */
  stats?: { state?: readonly string[] };
  reference: Reference;
  wgsl?: WgslContract;
  /** The stage in PyTorch (`moec export torch`); see TorchReference. */
  torch?: TorchReference;
}

// ---------------------------------------------------------------------------------------------
// Expert kinds (LANGUAGE.md §4): `experts E[N] = NAME(…)`. One object says everything moec needs:
// the checker's parameters, the IR form, the expert's tensors and their layout, how the GPU runs
// it (as an FFN of some hidden units, or as a null expert), and its float64 meaning.

/** Activations of an expert's hidden units; `swiglu`/`geglu` are gated (silu/gelu of a gate × up). */
export type ExpertAct = "swiglu" | "geglu" | "relu" | "gelu" | "silu" | "identity";

/** What the IR records for a pool of this kind (per fine expert, after `split`). */
export interface ExpertForm {
  /** Hidden units per expert (ffn: hidden; lowrank: rank; atom: 1; null experts: 0). */
  hidden: number;
  act: ExpertAct;
  bias: boolean;
}

/**
 * How one expert tensor depends on the hidden units h of an expert with D inputs:
 * `rows` [h, D], `cols` [D, h], `hvec` [h], `ovec` [D] (an output bias: under `split`, slice 0's),
 * `dvec` [D] with no hidden axis (atoms).
 */
export type ExpertTensorLayout = "rows" | "cols" | "hvec" | "ovec" | "dvec";

export interface ExpertTensor {
  /** Name under the pool (`w_up` → `E.w_up`, stacked [N, …] over the pool's experts). */
  name: string;
  layout: ExpertTensorLayout;
  /** Inputs per output element, for N(0, 1/fan_in) random weights. */
  fanIn: number;
  /** Used in a matrix product (counted in FLOPs). */
  matmul?: boolean;
}

/**
 * How the GPU runs the kind. `ffn`: as an FFN of `hidden` units, `down · act(gate·x) ⊙ (up·x)` when
 * `act` is gated, else `down · act(up·x)`: the tensors playing each role ([h, D] up/gate, [D, h]
 * down; `dvec` tensors count as h = 1) and the biases when the form has them. `identity` / `zero`:
 * a null expert (its input / zeros), no weights.
 */
export type ExpertGpuForm =
  | { as: "ffn"; up: string; gate?: string; down: string; act: ExpertAct; bias?: { up: string; gate?: string; down: string } }
  | { as: "identity" }
  | { as: "zero" };

/** What an expert kind's float64 reference receives: this expert's tensors by name, x [D]. */
export interface ExpertContext {
  form: ExpertForm;
  dim: number;
  x: ArrayLike<number>;
  /** This expert's slice of a tensor, in its layout (`rows`: h·D values, row-major). */
  tensor(name: string): ArrayLike<number>;
}

export interface ExpertKindSpec {
  /** The name used in pools: `experts E[N] = NAME(…)`. */
  name: string;
  doc: string;
  params?: readonly ParamSpec[];
  /** The parameter `split M` divides (ffn: `hidden`); without it the kind cannot be split. */
  splits?: string;
  /** Issues with the arguments (or plain messages), reported at the pool. */
  check?(args: Args): ReadonlyArray<Issue | string>;
  /** The IR form of an expert with these arguments. */
  form(args: Args): ExpertForm;
  /** The expert's tensors, in a fixed order (matrices before biases). */
  tensors(form: ExpertForm, dim: number): readonly ExpertTensor[];
  gpu(form: ExpertForm): ExpertGpuForm;
  /** The schedule a routed pool of this kind takes when left to `auto`: grouped GEMMs over its
   *  experts (`expert`, good for wide experts) or the token-centric gather–dot–axpy (`token`, good
   *  for tiny ones). Default `expert`. */
  schedule?: "expert" | "token";
  /** The expert's output [D], in float64: its meaning, against which the GPU is tested. */
  reference(ctx: ExpertContext): ArrayLike<number>;
}

export interface Plugin {
  apiVersion: number;
  name: string;
  version: string;
  description?: string;
  stages: readonly StageSpec[];
  /** Expert kinds the plugin adds (optional). */
  expertKinds?: readonly ExpertKindSpec[];
}

export declare function definePlugin<P extends Plugin>(plugin: P): P;
export declare function defineStage<S extends StageSpec>(stage: S): S;
export declare function defineExpertKind<K extends ExpertKindSpec>(kind: K): K;

/** What a plugin module's default export may be: the plugin, or a function of this module. */
export type PluginModule = Plugin | ((api: typeof import("./index.js")) => Plugin);
