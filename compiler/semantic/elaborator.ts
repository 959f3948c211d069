// The checker's core: evaluates a layer/model/graph body at concrete hyper-parameter bindings.
// One walk resolves names by position (LANGUAGE.md §2), computes shapes, validates pools and
// router pipelines, collects weight owners for counting, and — when an IrBuilder is given —
// emits the IR. Checking a layer "at its defaults" and "at the bindings of a call" are the same
// walk with different bindings (§2).
import type * as A from "../syntax/ast.js";
import type { Diagnostic, Label } from "../diagnostics/diagnostic.js";
import type { Registry, ParamSpec, StageDef, ExpertKindDef, TensorShape, ActiveCount } from "../../stdlib/registry.js";
import { BUILTIN_FUNCTIONS, REPORT_NAMES, LOSS_NAMES, PER_UNITS_LATER, GRAPH_COMBINERS } from "../../stdlib/registry.js";
import type { Unit, TopDecl } from "./module-loader.js";
import type { Value, Dim, PoolValue, RouterValue, StageUse, Owner, OwnerCategory, ExpertSpec } from "./values.js";
import { describeValue, shapeText, product } from "./values.js";
import { bindArgs } from "./bind-args.js";
import { BLOCKS } from "./blocks.js";
import { didYouMean } from "./suggest.js";
import type { Instance } from "./instance.js";
import { emptyInstance } from "./instance.js";
import { IrBuilder } from "../ir/ir-builder.js";
import type { IrPool, IrRouter, BinaryFn, UnaryFn, ExpertAct, IrExpertSpec } from "../ir/ir.js";

/** Unknown dimension (a hyper-parameter without a value while checking at defaults). */
export const UNKNOWN_DIM = "?";

interface Binding {
  value: Value;
  span: A.Span;
  kind: "hyper" | "tensor" | "let" | "pool" | "router";
  /** `let` names bound to an embedding, for `lm_head(tied = NAME)`. */
  embeddingOf?: string;
}

class Scope {
  readonly vars = new Map<string, Binding>();
  constructor(readonly parent?: Scope) {}
  lookup(name: string): { binding: Binding; scope: Scope } | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const b = s.vars.get(name);
      if (b) return { binding: b, scope: s };
    }
    return undefined;
  }
}

export interface LayerOutput {
  /** Single output, or a record's outputs by key. */
  single?: Value;
  record?: { name: string; value: Value }[];
}

export interface ElabResult {
  instance: Instance;
  output: LayerOutput;
  diagnostics: Diagnostic[];
  /** Tensor parameters as bound (for calls: to compare with the arguments). */
  tensorParams: { name: string; tokens: Dim; width: Dim | undefined; span: A.Span }[];
  /** Hyper-parameter values used. */
  hyper: Map<string, Value>;
}

/** What one Elaborator shares across every walk: the unit, the registry and the caches. */
interface ElabContext {
  readonly unit: Unit;
  readonly registry: Registry;
  readonly constCache: Map<A.ConstDecl, Value | "pending">;
  readonly callCache: Map<string, ElabResult>;
  readonly defaultsCache: Map<A.LayerDecl | A.GraphDecl, ElabResult>;
  /** Declarations being elaborated, outermost first (to stop recursive layers and graphs). */
  readonly inProgress: (A.LayerDecl | A.GraphDecl)[];
  /** Pools and routers as first elaborated (at defaults when checking), for editor hovers. */
  readonly poolsByDecl: Map<A.PoolDecl, PoolValue>;
  readonly routersByDecl: Map<A.RouterDecl, RouterValue>;
}

/** Options of one elaboration; `emit` also lowers it to IR. */
interface ElabOptions { defaults?: boolean; emit?: IrBuilder; irPath?: string; inputs?: Value[]; entry?: boolean; agentCounter?: { n: number } }

interface Frame {
  ctx: ElabContext;
  file: string;
  decl: A.LayerDecl | A.GraphDecl;
  scope: Scope;
  instance: Instance;
  iterSuffix: string;
  irPath: string;
  emit?: IrBuilder;
  isModel: boolean;
  diags: Diagnostic[];
  ownerNames: Map<string, A.Span>;
  pools: PoolValue[];
  routers: RouterValue[];
  reports: string[];
  /** Shared by reference with inner blocks, so `loss` anywhere in the body reaches every router. */
  loss: { coef?: number };
  /** Routers of this layer as IR, so reports/losses declared anywhere in the body apply to all. */
  irRouters: IrRouter[];
  agentCounter: { n: number };
}

export class Elaborator {
  private readonly ctx: ElabContext;
  /** Pools and routers as first elaborated (at defaults when checking), for editor hovers. */
  readonly poolsByDecl = new Map<A.PoolDecl, PoolValue>();
  readonly routersByDecl = new Map<A.RouterDecl, RouterValue>();

  constructor(readonly unit: Unit, readonly registry: Registry) {
    this.ctx = {
      unit, registry, constCache: new Map(), callCache: new Map(), defaultsCache: new Map(), inProgress: [],
      poolsByDecl: this.poolsByDecl, routersByDecl: this.routersByDecl,
    };
  }

  /** Checks a declaration at its defaults (cached). */
  checkAtDefaults(decl: A.LayerDecl | A.GraphDecl, file: string): ElabResult {
    return checkAtDefaults(this.ctx, decl, file);
  }

  /**
   * Elaborates a declaration at explicit bindings. With `emit`, also lowers it to IR: tensor
   * parameters become IR inputs unless `inputs` provides their IR values.
   */
  elaborate(decl: A.LayerDecl | A.GraphDecl, file: string, bindings: Map<string, Value>, opts: ElabOptions = {}): ElabResult {
    return elaborate(this.ctx, decl, file, bindings, opts);
  }

  /** Checks a top-level constant on its own (so unused constants are still checked). */
  checkConst(decl: A.ConstDecl, file: string): Diagnostic[] {
    return checkConst(this.ctx, decl, file);
  }
}

// ------------------------------------------------------------------ entry points

/** Checks a declaration at its defaults (cached). */
function checkAtDefaults(ctx: ElabContext, decl: A.LayerDecl | A.GraphDecl, file: string): ElabResult {
  let r = ctx.defaultsCache.get(decl);
  if (!r) {
    r = elaborate(ctx, decl, file, new Map(), { defaults: true });
    ctx.defaultsCache.set(decl, r);
  }
  return r;
}

/**
 * Elaborates a declaration at explicit bindings. With `emit`, also lowers it to IR: tensor
 * parameters become IR inputs unless `inputs` provides their IR values.
 */
function elaborate(ctx: ElabContext, decl: A.LayerDecl | A.GraphDecl, file: string, bindings: Map<string, Value>, opts: ElabOptions = {}): ElabResult {
  ctx.inProgress.push(decl);
  try {
    return elaborateNow(ctx, decl, file, bindings, opts);
  } finally {
    ctx.inProgress.pop();
  }
}

/** Reports a layer or graph that uses itself (directly or through others): it would never finish. */
function recursive(decl: A.LayerDecl | A.GraphDecl, span: A.Span, frame: Frame): boolean {
  const at = frame.ctx.inProgress.indexOf(decl);
  if (at < 0) return false;
  const chain = [...frame.ctx.inProgress.slice(at), decl].map((d) => d.name.name).join(" → ");
  err(frame, "E0309", `\`${decl.name.name}\` uses itself (${chain}); layers and graphs cannot be recursive`, span, { label: "recursive use" });
  return true;
}

function elaborateNow(ctx: ElabContext, decl: A.LayerDecl | A.GraphDecl, file: string, bindings: Map<string, Value>, opts: ElabOptions): ElabResult {
  const frame: Frame = {
    ctx, file, decl, scope: new Scope(), instance: emptyInstance(decl.name.name, decl.kind),
    iterSuffix: "", irPath: opts.irPath ?? "", emit: opts.emit, isModel: decl.kind === "Model",
    diags: [], ownerNames: new Map(), pools: [], routers: [], reports: [], loss: {}, irRouters: [],
    agentCounter: opts.agentCounter ?? { n: 0 },
  };
  const hyper = new Map<string, Value>();
  const tensorParams: ElabResult["tensorParams"] = [];
  // Parameters: hyper-parameters first (tensor shapes may name any of them), in order.
  const seen = new Map<string, A.Span>();
  for (const p of decl.params) {
    const prev = seen.get(p.name.name);
    if (prev) {
      err(frame, "E0210", `parameter \`${p.name.name}\` is declared twice`, p.name.span, { label: "declared again here", secondary: [{ file, span: prev, message: "first declared here" }] });
      continue;
    }
    seen.set(p.name.name, p.name.span);
    if (p.kind !== "HyperParam") continue;
    let v: Value;
    const bound = bindings.get(p.name.name);
    if (bound) v = bound;
    else if (p.default) v = evalCompileTime(p.default, frame);
    else v = { t: "unknown" };
    if (v.t !== "int" && v.t !== "float" && v.t !== "bool" && v.t !== "string" && v.t !== "unknown" && v.t !== "error") {
      err(frame, "E0211", `hyper-parameter \`${p.name.name}\` must be a number, boolean or string, found ${describeValue(v)}`, p.default?.span ?? p.span);
      v = { t: "error" };
    }
    hyper.set(p.name.name, v);
    frame.scope.vars.set(p.name.name, { value: v, span: p.name.span, kind: "hyper" });
  }
  let inputIndex = 0;
  for (const p of decl.params) {
    if (p.kind !== "TensorParam" || frame.scope.vars.has(p.name.name)) continue;
    const dims = p.dims.map((d) => evalDim(d, frame));
    let value: Value;
    if (dims.length === 1) {
      value = { t: "tensor", tokens: dims[0]!, width: undefined };
    } else if (dims.length === 2) {
      value = { t: "tensor", tokens: dims[0]!, width: dims[1]! };
    } else {
      err(frame, "E0212", `a tensor parameter is \`[T]\` (token ids) or \`[T, D]\`, found ${dims.length} dimension${dims.length === 1 ? "" : "s"}`, p.span);
      value = { t: "error" };
    }
    if (value.t === "tensor") tensorParams.push({ name: p.name.name, tokens: value.tokens, width: value.width, span: p.span });
    const given = opts.inputs?.[inputIndex++];
    if (given && given.t === "tensor" && value.t === "tensor") {
      value = { ...value, ir: given.ir };
    } else if (opts.emit && value.t === "tensor") {
      const width = value.width === undefined ? 1 : value.width;
      if (typeof width === "number") {
        const id = opts.emit.value(width, p.name.name, value.width === undefined ? "i32" : "f32");
        opts.emit.inputs.push({ name: p.name.name, value: id });
        value = { ...value, ir: id };
      }
    }
    frame.scope.vars.set(p.name.name, { value, span: p.name.span, kind: "tensor" });
  }

  const output: LayerOutput = {};
  if (decl.kind === "Graph") {
    const input = [...frame.scope.vars.values()].find((b) => b.kind === "tensor");
    if (!input) {
      err(frame, "E0260", `a graph takes one tensor parameter \`x: [T, D]\` that it feeds to its first agents`, decl.name.span);
    } else {
      output.single = evalTopology(decl.topology, input.value, frame, "chain");
    }
  } else {
    elaborateBody(decl.body, frame, true);
    const ret = findReturn(decl.body);
    if (!ret && !decl.recovered) {
      err(frame, "E0220", `${decl.kind === "Model" ? "model" : "layer"} \`${decl.name.name}\` has no \`return\``, decl.endSpan, {
        label: "missing `return` before this brace",
        help: "end the body with `return EXPR` (or `return { name: EXPR, … }` for several outputs)",
      });
    } else if (ret) {
      Object.assign(output, evalReturn(ret, frame));
    }
    finishLayer(frame);
  }
  if (opts.emit && opts.entry) {
    if (output.single && output.single.t === "tensor" && output.single.ir !== undefined) opts.emit.outputs.push({ name: "y", value: output.single.ir });
    for (const r of output.record ?? []) if (r.value.t === "tensor" && r.value.ir !== undefined) opts.emit.outputs.push({ name: r.name, value: r.value.ir });
  }
  return { instance: frame.instance, output, diagnostics: frame.diags, tensorParams, hyper };
}

// ------------------------------------------------------------------ statements

function elaborateBody(body: A.Stmt[], frame: Frame, top: boolean): void {
  let returned: A.ReturnStmt | undefined;
  for (const s of body) {
    if (returned) {
      warn(frame, "W0003", "this statement comes after `return` and is never used", s.span);
      break;
    }
    switch (s.kind) {
      case "PoolDecl": poolDecl(s, frame); break;
      case "RouterDecl": routerDecl(s, frame); break;
      case "Let": letStmt(s, frame); break;
      case "Assign": assignStmt(s, frame); break;
      case "Iterate": iterateStmt(s, frame); break;
      case "Repeat": repeatStmt(s, frame); break;
      case "Loss": lossStmt(s, frame); break;
      case "Report": reportStmt(s, frame); break;
      case "Return":
        if (!top) err(frame, "E0221", "`return` belongs at the top level of a layer or model body, not inside `iterate` or `repeat`", s.span);
        returned = s;
        break;
    }
  }
}

/** Declares a local name; false (after reporting) when it is already declared. */
function declareLocal(name: A.Ident, binding: Binding, frame: Frame): boolean {
  const here = frame.scope.vars.get(name.name);
  const outer = frame.scope.parent?.lookup(name.name);
  const prev = here ?? outer?.binding;
  if (prev) {
    err(frame, "E0213", here ? `\`${name.name}\` is already declared in this scope` : `\`${name.name}\` is already declared in the enclosing ${frame.isModel ? "model" : "layer"}; a block may not re-declare it`, name.span, {
      label: "declared again here",
      secondary: [{ file: frame.file, span: prev.span, message: "first declared here" }],
      help: prev.kind === "let" || prev.kind === "tensor" ? `to give \`${name.name}\` a new value, write \`${name.name} = …\` without \`let\`` : undefined,
    });
    return false;
  }
  frame.scope.vars.set(name.name, binding);
  return true;
}

function ownerName(name: string, frame: Frame, span: A.Span): string {
  const full = name + frame.iterSuffix;
  const prev = frame.ownerNames.get(full);
  if (prev && !frame.scope.vars.has(name)) {
    err(frame, "E0214", `two declarations would own weights named \`${full}.…\``, span, { label: "owns the same weight names", secondary: [{ file: frame.file, span: prev, message: "the other owner" }] });
  } else {
    frame.ownerNames.set(full, span);
  }
  return full;
}

function poolDecl(s: A.PoolDecl, frame: Frame): void {
  const what = s.shared ? "shared pool" : "expert pool";
  let count: number | undefined;
  let experts: ExpertSpec[] = [];
  let heterogeneous = false;
  if (s.count) {
    const c = evalCompileTime(s.count, frame);
    if (c.t === "int") {
      if (c.v < 1) err(frame, "E0230", `${s.shared ? "a" : "an"} ${what} needs at least one expert, found ${c.v}`, s.count.span, { label: "pool size < 1" });
      else count = c.v;
    } else if (c.t !== "unknown" && c.t !== "error") {
      err(frame, "E0231", `the size of ${what} \`${s.name.name}\` must be an integer, found ${describeValue(c)}`, s.count.span);
    }
    const spec = expertSpec(s.expert, frame);
    if (spec) experts = [spec];
  } else if (s.expert.kind === "List") {
    heterogeneous = true;
    if (s.shared) err(frame, "E0232", "a shared pool is declared with a size: `shared S[N] = KIND(…)`", s.name.span);
    for (const item of s.expert.items) {
      const spec = expertSpec(item, frame);
      if (spec) experts.push(spec);
    }
    count = s.expert.items.length;
    if (count === 0) { err(frame, "E0230", "a heterogeneous pool needs at least one expert", s.expert.span); count = undefined; }
    if (experts.length !== s.expert.items.length) count = undefined;
  } else {
    err(frame, "E0233", `${s.shared ? "a" : "an"} ${what} needs a size \`${s.name.name}[N]\`, or a list of experts \`[ffn(…), lowrank(…)]\``, s.name.span, {
      help: `write \`${s.shared ? "shared" : "experts"} ${s.name.name}[N] = …\``,
    });
    const spec = expertSpec(s.expert, frame);
    if (spec) experts = [spec];
  }
  let split = 1;
  if (s.split) {
    const m = evalCompileTime(s.split, frame);
    const kind = experts[0]?.kind;
    if (m.t === "int" && m.v >= 1) {
      split = m.v;
      if (heterogeneous || (kind && !kind.splits)) {
        err(frame, "E0234", heterogeneous ? "`split` applies to pools of one `ffn` kind, not to a heterogeneous pool" : `\`split\` applies to \`ffn\` pools only${kind ? `, not to \`${kind.name}\`` : ""}`, s.split.span, { label: "cannot split this pool" });
        split = 1;
      } else if (kind?.splits && experts[0]) {
        const hidden = experts[0].args[kind.splits];
        if (typeof hidden === "number" && hidden % split !== 0) {
          err(frame, "E0235", `\`split ${split}\` does not divide hidden = ${hidden}`, s.split.span, {
            label: `${hidden} is not a multiple of ${split}`,
            secondary: [{ file: frame.file, span: experts[0].span, message: "hidden size set here" }],
          });
          split = 1;
        } else if (typeof hidden === "number") {
          experts = [{ ...experts[0], args: { ...experts[0].args, [kind.splits]: hidden / split } }];
          if (count !== undefined) count *= split;
        }
      }
    } else if (m.t !== "unknown" && m.t !== "error") {
      err(frame, "E0236", `\`split\` takes a positive integer, found ${describeValue(m)}`, s.split.span);
    }
  }
  const pool: PoolValue = {
    name: s.name.name, key: "", shared: s.shared, count, experts, heterogeneous, split, decl: s, uses: [],
  };
  pool.key = ownerName(s.name.name, frame, s.name.span);
  frame.pools.push(pool);
  if (!frame.ctx.poolsByDecl.has(s)) frame.ctx.poolsByDecl.set(s, pool);
  if (!declareLocal(s.name, { value: { t: "pool", pool }, span: s.name.span, kind: "pool" }, frame)) pool.duplicate = true;
}

/** Resolves `KIND(args)` after `experts … =` (names here are expert kinds, §2). */
function expertSpec(e: A.Expr, frame: Frame): ExpertSpec | undefined {
  if (e.kind === "ErrorExpr") return undefined;
  if (e.kind !== "Call") {
    err(frame, "E0237", `expected an expert kind such as \`ffn(hidden = 1024)\`, found ${exprWhat(e)}`, e.span);
    return undefined;
  }
  const kind = frame.ctx.registry.expertKinds.get(e.callee.name);
  if (!kind) {
    const isLayer = frame.ctx.unit.scopes.get(frame.file)?.names.get(e.callee.name);
    err(frame, "E0238", `unknown expert kind \`${e.callee.name}\``, e.callee.span, {
      label: "not an expert kind",
      help: didYouMean(e.callee.name, frame.ctx.registry.expertKinds.keys()) ??
        (isLayer ? `\`${e.callee.name}\` is a ${isLayer.decl.kind.toLowerCase()}; pools hold expert kinds (${[...frame.ctx.registry.expertKinds.keys()].join(", ")})` : `expert kinds: ${[...frame.ctx.registry.expertKinds.keys()].join(", ")}`),
    });
    return undefined;
  }
  const bound = bindArgs(e.args ?? [], kind.params, e, `expert kind \`${kind.name}\``, (x) => evalCompileTime(x, frame), sink(frame));
  if (!bound.complete) return undefined;
  for (const issue of kind.check?.(bound.values) ?? []) {
    err(frame, "E0239", issue.message, (issue.param && bound.spans[issue.param]) || e.span);
    return undefined;
  }
  return { kind, args: bound.values, span: e.span };
}

function routerDecl(s: A.RouterDecl, frame: Frame): void {
  const stages: StageUse[] = [];
  let valid = true;
  const flat = flattenPipeline(s.pipeline);
  for (const op of flat.badOps) {
    err(frame, "E0240", "a router pipeline joins stages with `|>`; `->` feeds agents in graphs", op, { label: "use `|>`" });
    valid = false;
  }
  let selectSeen: StageUse | undefined;
  for (const item of flat.items) {
    if (item.kind === "ErrorExpr") { valid = false; continue; }
    if (item.kind !== "Call") {
      err(frame, "E0241", `a router pipeline is made of stages such as \`linear\`, \`softmax\`, \`topk(2)\`; found ${exprWhat(item)}`, item.span);
      valid = false;
      continue;
    }
    const def = frame.ctx.registry.stages.get(item.callee.name);
    if (!def) {
      const kindNamed = frame.ctx.registry.expertKinds.has(item.callee.name);
      const declNamed = frame.ctx.unit.scopes.get(frame.file)?.names.get(item.callee.name);
      err(frame, "E0242", `unknown router stage \`${item.callee.name}\``, item.callee.span, {
        label: "not a router stage",
        help: didYouMean(item.callee.name, frame.ctx.registry.stages.keys()) ??
          (kindNamed ? `\`${item.callee.name}\` is an expert kind; it goes in a pool (\`experts E[8] = ${item.callee.name}(…)\`), not in a router pipeline`
            : declNamed ? `\`${item.callee.name}\` is a ${declNamed.decl.kind === "Const" ? "constant" : declNamed.decl.kind.toLowerCase()}; a pipeline is made of stages: ${[...frame.ctx.registry.stages.keys()].join(", ")}`
            : `stages: ${[...frame.ctx.registry.stages.keys()].join(", ")}`),
      });
      valid = false;
      continue;
    }
    // The stage's role follows from its position: before the select it scores or transforms.
    let role: StageUse["role"] | undefined;
    const isFirst = item === flat.items[0];
    if (isFirst && def.roles.includes("score")) {
      role = "score";
    } else if (isFirst) {
      err(frame, "E0243", `a router pipeline starts with a score stage (${scoreNames(frame.ctx.registry)}), found \`${def.name}\``, item.callee.span, {
        label: "not a score stage",
        help: `start the pipeline with a score stage: \`router ${s.name.name} = linear |> ${def.name} |> …\``,
      });
      valid = false;
    }
    if (role) {
      // classified above
    } else if (def.roles.includes("score")) {
      err(frame, "E0244", `score stage \`${def.name}\` can only come first in a pipeline`, item.callee.span, { label: "a second score stage" });
      valid = false;
    } else if (!selectSeen) {
      if (def.roles.includes("select")) role = "select";
      else if (def.roles.includes("transform")) role = "transform";
      else {
        err(frame, "E0245", `\`${def.name}\` acts on selected weights, so it must come after the select stage`, item.callee.span, {
          label: "before the select stage",
          help: `select stages: ${selectNames(frame.ctx.registry)}`,
        });
        valid = false;
      }
    } else if (def.roles.includes("select")) {
      err(frame, "E0246", `a router has exactly one select stage; \`${def.name}\` is a second one`, item.callee.span, {
        label: "second select stage",
        secondary: [{ file: frame.file, span: selectSeen.call.callee.span, message: "first select stage" }],
      });
      valid = false;
    } else if (def.roles.includes("post")) role = "post";
    else {
      err(frame, "E0247", `\`${def.name}\` cannot follow the select stage; after selection only ${postNames(frame.ctx.registry)} apply`, item.callee.span, {
        label: "after the select stage",
      });
      valid = false;
    }
    const bound = bindArgs(item.args ?? [], def.params, item, `router stage \`${def.name}\``, (x) => evalCompileTime(x, frame), sink(frame));
    if (!bound.complete) valid = false;
    if (role) {
      const use: StageUse = { def, role, args: bound.values, call: item, argSpans: bound.spans };
      stages.push(use);
      if (role === "select") selectSeen = use;
    }
  }
  if (valid && !selectSeen && flat.items.length > 0) {
    const last = flat.items[flat.items.length - 1]!;
    err(frame, "E0248", `router \`${s.name.name}\` has no select stage`, last.span, {
      label: "the pipeline ends here without selecting experts",
      help: `add one of ${selectNames(frame.ctx.registry)}, e.g. \`|> topk(2)\``,
    });
    valid = false;
  }
  if (s.per && s.per.name !== "token") {
    const later = (PER_UNITS_LATER as readonly string[]).includes(s.per.name);
    err(frame, "E0249", later ? `\`per ${s.per.name}\` routing is not supported yet; only \`per token\` is` : `unknown routing unit \`${s.per.name}\`; only \`per token\` is supported`, s.per.span, {
      help: later ? undefined : didYouMean(s.per.name, ["token", ...PER_UNITS_LATER]),
    });
  }
  const router: RouterValue = { name: s.name.name, key: "", stages, decl: s, valid, iterSuffix: frame.iterSuffix };
  router.key = ownerName(s.name.name, frame, s.name.span);
  frame.routers.push(router);
  if (!frame.ctx.routersByDecl.has(s)) frame.ctx.routersByDecl.set(s, router);
  if (!declareLocal(s.name, { value: { t: "router", router }, span: s.name.span, kind: "router" }, frame)) router.duplicate = true;
}

function letStmt(s: A.LetStmt, frame: Frame): void {
  const v = evalExpr(s.value, frame, s.name);
  const embeddingOf = s.value.kind === "Call" && s.value.callee.name === "embed" && s.value.args ? s.name.name : undefined;
  declareLocal(s.name, { value: v, span: s.name.span, kind: "let", embeddingOf }, frame);
}

function assignStmt(s: A.AssignStmt, frame: Frame): void {
  const found = frame.scope.lookup(s.name.name);
  const v = evalExpr(s.value, frame);
  if (!found) {
    err(frame, "E0215", `\`${s.name.name}\` is not declared`, s.name.span, {
      label: "assigned before any declaration",
      help: `declare it first: \`let ${s.name.name} = …\``,
    });
    return;
  }
  const b = found.binding;
  if (b.kind !== "let" && b.kind !== "tensor") {
    err(frame, "E0216", `cannot assign to ${describeValue(b.value)}; only tensors bound by \`let\` or parameters can be rebound`, s.name.span, {
      secondary: [{ file: frame.file, span: b.span, message: "declared here" }],
    });
    return;
  }
  if (b.value.t === "tensor" && v.t === "tensor" && !sameShape(b.value, v)) {
    err(frame, "E0217", `rebinding \`${s.name.name}\` would change its shape from ${shapeText(b.value)} to ${shapeText(v)}`, s.value.span, {
      label: `this is ${shapeText(v)}`,
      secondary: [{ file: frame.file, span: b.span, message: `declared as ${shapeText(b.value)}` }],
    });
    return;
  }
  if (v.t !== "tensor" && v.t !== "error" && b.value.t === "tensor") {
    err(frame, "E0218", `\`${s.name.name}\` is a tensor; it cannot be rebound to ${describeValue(v)}`, s.value.span);
    return;
  }
  found.scope.vars.set(s.name.name, { ...b, value: v.t === "error" ? b.value : v });
}

function iterateStmt(s: A.IterateStmt, frame: Frame): void {
  const n = evalCompileTime(s.count, frame);
  if (n.t !== "int") {
    if (n.t !== "unknown" && n.t !== "error") err(frame, "E0250", `\`iterate\` takes a positive integer, found ${describeValue(n)}`, s.count.span);
    // Still check the body once, so its errors are found at defaults.
    runBlock(s.body, frame, frame.iterSuffix + ".0");
    return;
  }
  if (n.v < 1) {
    err(frame, "E0250", `\`iterate\` takes a positive integer, found ${n.v}`, s.count.span);
    return;
  }
  for (let i = 0; i < n.v; i++) {
    // Every pass runs the same code (and emits its IR); report its errors once.
    const before = frame.diags.length;
    runBlock(s.body, frame, `${frame.iterSuffix}.${i}`);
    if (i > 0) frame.diags.splice(before);
  }
}

function runBlock(body: A.Stmt[], frame: Frame, iterSuffix: string): void {
  const inner: Frame = { ...frame, scope: new Scope(frame.scope), iterSuffix };
  elaborateBody(body, inner, false);
}

function repeatStmt(s: A.RepeatStmt, frame: Frame): void {
  if (!frame.isModel) {
    err(frame, "E0251", "`repeat` stamps out copies of a model's layers and is only allowed in a `model`; a layer repeats with `iterate`", s.keywordSpan);
  } else if (frame.iterSuffix !== "") {
    // Every iteration would stamp the same names NAME.(K+i): weights would collide.
    err(frame, "E0251", "`repeat` cannot be nested inside `iterate`: every iteration would stamp the same weight names", s.keywordSpan, {
      help: "put the `iterate` inside the `repeat` body, or repeat with a larger count",
    });
    return;
  }
  const n = evalCompileTime(s.count, frame);
  const from = s.from ? evalCompileTime(s.from, frame) : ({ t: "int", v: 0 } as Value);
  let count = 1;
  let start = 0;
  if (n.t === "int" && n.v >= 1) count = n.v;
  else if (n.t !== "unknown" && n.t !== "error") err(frame, "E0252", `\`repeat\` takes a positive integer, found ${n.t === "int" ? n.v : describeValue(n)}`, s.count.span);
  if (from.t === "int" && from.v >= 0) start = from.v;
  else if (from.t !== "unknown" && from.t !== "error") err(frame, "E0253", `\`from\` takes a non-negative integer, found ${from.t === "int" ? from.v : describeValue(from)}`, s.from!.span);
  // The copies are identical: elaborate the body once into a child instance named NAME.(K+i).
  const child = emptyInstance(s.as.name, "Repeat");
  const inner: Frame = {
    ...frame, scope: new Scope(frame.scope), instance: child, iterSuffix: "", ownerNames: new Map(),
    pools: [], routers: [], emit: undefined,
  };
  if (frame.emit) {
    frame.emit.unsupported.push({ message: "running `repeat` stacks (whole models) is not supported yet", file: frame.file, span: s.keywordSpan });
  }
  elaborateBody(s.body, inner, false);
  finishLayer(inner);
  // Copies are named NAME.(K+i): two stacks may share NAME if their index ranges do not overlap.
  for (let i = 0; i < count; i++) {
    const before = frame.diags.length;
    ownerName(`${s.as.name}.${start + i}`, frame, s.as.span);
    if (frame.diags.length > before) break;
  }
  frame.instance.children.push({ prefix: s.as.name, instance: child, copies: { count, start }, span: s.as.span, file: frame.file });
}

function lossStmt(s: A.LossStmt, frame: Frame): void {
  const name = s.call.callee.name;
  if (!(LOSS_NAMES as readonly string[]).includes(name)) {
    err(frame, "E0254", `unknown loss \`${name}\``, s.call.callee.span, { help: didYouMean(name, LOSS_NAMES) ?? `losses: ${LOSS_NAMES.join(", ")}` });
    return;
  }
  const spec: ParamSpec[] = [{ name: "coef", type: "number", min: 0, positional: true, doc: "coefficient α" }];
  const bound = bindArgs(s.call.args ?? [], spec, s.call, "loss `balance`", (x) => evalCompileTime(x, frame), sink(frame));
  if (bound.complete) frame.loss.coef = bound.values.coef as number;
  for (const r of frame.irRouters) r.balanceCoef = frame.loss.coef;
}

function reportStmt(s: A.ReportStmt, frame: Frame): void {
  for (const n of s.names) {
    if (!(REPORT_NAMES as readonly string[]).includes(n.name)) {
      err(frame, "E0255", `unknown statistic \`${n.name}\``, n.span, { label: "cannot report this", help: didYouMean(n.name, REPORT_NAMES) ?? `statistics: ${REPORT_NAMES.join(", ")}` });
    } else if (!frame.reports.includes(n.name)) frame.reports.push(n.name);
  }
  for (const r of frame.irRouters) r.report = [...frame.reports];
}

function evalReturn(s: A.ReturnStmt, frame: Frame): LayerOutput {
  if (s.value.kind === "Record") {
    const seen = new Map<string, A.Span>();
    const record: { name: string; value: Value }[] = [];
    for (const f of s.value.fields) {
      const prev = seen.get(f.name.name);
      if (prev) err(frame, "E0222", `output \`${f.name.name}\` is returned twice`, f.name.span, { label: "returned again here", secondary: [{ file: frame.file, span: prev, message: "first here" }] });
      seen.set(f.name.name, f.name.span);
      const v = evalExpr(f.value, frame);
      expectFloatTensor(v, f.value.span, frame, "a returned value");
      record.push({ name: f.name.name, value: v });
    }
    return { record };
  }
  const v = evalExpr(s.value, frame);
  expectFloatTensor(v, s.value.span, frame, "a returned value");
  return { single: v };
}

/** Post-body checks: unused routers and pools; counts of active experts per pool. */
function finishLayer(frame: Frame): void {
  // After a syntax error the body may have lost the statements that used these declarations.
  const quiet = frame.decl.kind !== "Graph" && frame.decl.recovered === true;
  for (const r of frame.routers) {
    if (!r.usedBy && !r.referenced && r.valid && !quiet && !r.duplicate) warn(frame, "W0001", `router \`${r.name}\` does not feed any \`moe\` call`, r.decl.name.span, { help: `use it: \`moe(x, ${r.name}, POOL)\`` });
  }
  for (const p of frame.pools) {
    // A pool whose expert kind or arguments were in error has been reported already.
    if (!p.owner && p.count !== undefined && p.experts.length > 0 && !p.referenced && !quiet && !p.duplicate) {
      warn(frame, "W0002", `${p.shared ? "shared pool" : "expert pool"} \`${p.name}\` is never used, so its input size is unknown and it owns no weights`, p.decl.name.span, {
        help: p.shared ? `apply it: \`${p.name}(x)\`` : `route to it: \`moe(x, ROUTER, ${p.name})\``,
      });
    }
    if (p.owner && !p.shared) {
      let sum = 0;
      let label: ActiveCount["label"] = "exact";
      for (const u of p.uses) {
        sum += u.active.count;
        if (u.active.label === "upper bound") label = "upper bound";
        else if (u.active.label === "expectation" && label === "exact") label = "expectation";
      }
      const n = p.count ?? 0;
      p.owner.active = { count: Math.min(n, sum), label };
      if (p.heterogeneous && label === "exact" && sum < n) p.owner.active.label = "upper bound";
    }
  }
}

// ------------------------------------------------------------------ expressions

/** Evaluates an expression; `owner` is the `let` name when the expression is a let's right-hand side. */
function evalExpr(e: A.Expr, frame: Frame, owner?: A.Ident): Value {
  switch (e.kind) {
    case "Number":
      return numberValue(e);
    case "String":
      return { t: "string", v: e.value };
    case "Bool":
      return { t: "bool", v: e.value };
    case "ErrorExpr":
      return { t: "error" };
    case "List":
      err(frame, "E0270", "a list is only allowed as a heterogeneous pool: `experts E = [ffn(…), lowrank(…)]`", e.span);
      return { t: "error" };
    case "Record":
      err(frame, "E0271", "a record `{ … }` is only allowed after `return`", e.span);
      return { t: "error" };
    case "Unary": {
      const v = evalExpr(e.operand, frame);
      if (v.t === "int" || v.t === "float") return { ...v, v: -v.v };
      if (v.t === "tensor") return emitScalar(frame, "mul", v, -1, false);
      if (v.t !== "error" && v.t !== "unknown") err(frame, "E0272", `cannot negate ${describeValue(v)}`, e.span);
      return v.t === "unknown" ? v : { t: "error" };
    }
    case "Binary":
      return evalBinary(e, frame);
    case "Call":
      return evalCall(e, frame, owner);
  }
}

function evalBinary(e: A.Binary, frame: Frame): Value {
  if (e.op === "|>" || e.op === "->") {
    err(frame, "E0273", `\`${e.op}\` is only used in router pipelines (\`router r = linear |> topk(2)\`) and graph topologies`, e.opSpan);
    return { t: "error" };
  }
  const a = evalExpr(e.left, frame);
  const b = evalExpr(e.right, frame);
  if (a.t === "error" || b.t === "error") return { t: "error" };
  const fn: BinaryFn = e.op === "+" ? "add" : e.op === "-" ? "sub" : e.op === "*" ? "mul" : "div";
  if (isNum(a) && isNum(b)) return arith(fn, a, b, e, frame);
  if (a.t === "unknown" || b.t === "unknown") return a.t === "tensor" ? a : b.t === "tensor" ? b : { t: "unknown" };
  if (a.t === "tensor" && isNum(b)) return emitScalar(frame, fn, a, b.v, false, e);
  if (isNum(a) && b.t === "tensor") return emitScalar(frame, fn, b, a.v, true, e);
  if (a.t === "tensor" && b.t === "tensor") {
    if (a.width === undefined || b.width === undefined) {
      err(frame, "E0274", "token ids `[T]` can only be passed to `embed`; arithmetic needs `[T, D]` tensors", (a.width === undefined ? e.left : e.right).span);
      return { t: "error" };
    }
    const tokensOk = dimEq(a.tokens, b.tokens);
    const widthOk = dimEq(a.width, b.width) || a.width === 1 || b.width === 1;
    if (!tokensOk || !widthOk) {
      err(frame, "E0275", `cannot ${e.op === "+" ? "add" : e.op === "-" ? "subtract" : e.op === "*" ? "multiply" : "divide"} ${shapeText(a)} and ${shapeText(b)}`, e.opSpan, {
        label: "shapes differ",
        secondary: [
          { file: frame.file, span: e.left.span, message: `this is ${shapeText(a)}` },
          { file: frame.file, span: e.right.span, message: `this is ${shapeText(b)}` },
        ],
        help: "elementwise arithmetic needs equal shapes; one side may be [T, 1] (broadcast along the last dimension)",
      });
      return { t: "error" };
    }
    const width = a.width === 1 ? b.width : a.width;
    const out: Value = { t: "tensor", tokens: a.tokens, width };
    if (frame.emit && a.ir !== undefined && b.ir !== undefined && typeof width === "number") {
      out.ir = frame.emit.value(width, e.op);
      frame.emit.op({ op: "binary", out: out.ir, fn, a: a.ir, b: b.ir });
    }
    return out;
  }
  err(frame, "E0276", `\`${e.op}\` is not defined between ${describeValue(a)} and ${describeValue(b)}`, e.opSpan, {
    secondary: [
      { file: frame.file, span: e.left.span, message: describeValue(a) },
      { file: frame.file, span: e.right.span, message: describeValue(b) },
    ],
  });
  return { t: "error" };
}

function arith(fn: BinaryFn, a: Extract<Value, { t: "int" | "float" }>, b: Extract<Value, { t: "int" | "float" }>, e: A.Binary, frame: Frame): Value {
  const isInt = a.t === "int" && b.t === "int";
  switch (fn) {
    case "add": return { t: isInt ? "int" : "float", v: a.v + b.v };
    case "sub": return { t: isInt ? "int" : "float", v: a.v - b.v };
    case "mul": return { t: isInt ? "int" : "float", v: a.v * b.v };
    case "div":
      if (b.v === 0) {
        err(frame, "E0277", "division by zero", e.right.span);
        return { t: "error" };
      }
      if (isInt) {
        if (a.v % b.v !== 0) {
          err(frame, "E0278", `${a.v} / ${b.v} does not divide exactly`, e.span, { label: `${a.v} is not a multiple of ${b.v}`, help: "sizes must divide exactly; write a float (`4096.0 / 3`) if you meant a real number" });
          return { t: "error" };
        }
        return { t: "int", v: a.v / b.v };
      }
      return { t: "float", v: a.v / b.v };
  }
}

function evalCall(e: A.Call, frame: Frame, owner?: A.Ident): Value {
  const name = e.callee.name;
  const local = frame.scope.lookup(name);
  if (local) {
    const v = local.binding.value;
    // Any mention counts as a use for the "never used" warnings: a wrong use is an error already.
    if (v.t === "pool") v.pool.referenced = true;
    if (v.t === "router") v.router.referenced = true;
    if (e.args === undefined) return v;
    if (v.t === "pool" && v.pool.shared) return applyShared(v.pool, e, frame);
    if (v.t === "pool") {
      err(frame, "E0280", `routed pool \`${name}\` is applied through a router: \`moe(x, ROUTER, ${name})\``, e.span, {
        help: `to apply every expert to every token, declare it \`shared ${name}[N] = …\``,
      });
      return { t: "error" };
    }
    if (v.t === "error") return v;
    err(frame, "E0281", `\`${name}\` is ${describeValue(v)}, not something that can be called`, e.callee.span, {
      secondary: [{ file: frame.file, span: local.binding.span, message: "declared here" }],
    });
    return { t: "error" };
  }
  const top = frame.ctx.unit.scopes.get(frame.file)?.names.get(name);
  if (top) {
    if (top.decl.kind === "Const") {
      if (e.args !== undefined) {
        err(frame, "E0281", `\`${name}\` is a constant, not something that can be called`, e.callee.span);
        return { t: "error" };
      }
      return constValue(top.decl, top.file, frame);
    }
    if (e.args === undefined) return { t: "callable", decl: top.decl, file: top.file };
    return callLayer(top.decl, top.file, e, frame, owner);
  }
  if (BLOCKS[name] || frame.ctx.registry.expertKinds.has(name)) {
    if (e.args === undefined) {
      err(frame, "E0282", `\`${name}\` is a built-in block; call it on a tensor: \`let y = ${name}(x, …)\``, e.span);
      return { t: "error" };
    }
    return callBlock(e, frame, owner);
  }
  if ((BUILTIN_FUNCTIONS.elementwise as readonly string[]).includes(name)) {
    if (e.args === undefined) {
      err(frame, "E0282", `\`${name}\` is a function; call it: \`${name}(x)\``, e.span);
      return { t: "error" };
    }
    return callElementwise(e, frame);
  }
  if (name === "moe") {
    if (e.args === undefined) {
      err(frame, "E0282", "`moe` is a function; call it: `moe(x, ROUTER, POOL)`", e.span);
      return { t: "error" };
    }
    return callMoe(e, frame);
  }
  if (frame.ctx.registry.stages.has(name)) {
    err(frame, "E0283", `\`${name}\` is a router stage; it can only appear in a router pipeline (\`router r = linear |> …\`)`, e.callee.span);
    return { t: "error" };
  }
  if (name === "parallel" || (GRAPH_COMBINERS as readonly string[]).includes(name)) {
    err(frame, "E0284", `\`${name}\` combines agents and is only used in a \`graph\``, e.callee.span);
    return { t: "error" };
  }
  const candidates = new Set<string>([...visibleNames(frame)]);
  err(frame, "E0285", `\`${name}\` is not declared`, e.callee.span, {
    label: "unknown name",
    help: didYouMean(name, candidates),
  });
  return { t: "error" };
}

function visibleNames(frame: Frame): string[] {
  const out: string[] = [];
  for (let s: Scope | undefined = frame.scope; s; s = s.parent) out.push(...s.vars.keys());
  out.push(...(frame.ctx.unit.scopes.get(frame.file)?.names.keys() ?? []));
  out.push(...BUILTIN_FUNCTIONS.elementwise, ...BUILTIN_FUNCTIONS.weightOwning, "moe", ...frame.ctx.registry.expertKinds.keys());
  return out;
}

function requireLetOwner(e: A.Call, frame: Frame, owner: A.Ident | undefined, what: string): boolean {
  if (owner) return true;
  err(frame, "E0286", `${what} owns weights, so it must be the right-hand side of a \`let\``, e.span, {
    label: "owns weights",
    help: `bind it first: \`let ${suggestLetName(e.callee.name)} = ${e.callee.name}(…)\`, then use \`${suggestLetName(e.callee.name)}\``,
  });
  return false;
}

function positionalTensors(e: A.Call, frame: Frame, expected: number, what: string): { values: Value[]; named: A.Arg[] } | undefined {
  const args = e.args ?? [];
  const pos = args.filter((a) => !a.name);
  const named = args.filter((a) => a.name);
  if (pos.length !== expected) {
    err(frame, "E0287", `${what} takes ${expected} tensor argument${expected === 1 ? "" : "s"}, found ${pos.length}`, e.span);
    return undefined;
  }
  if (args.findIndex((a) => a.name) >= 0 && args.findIndex((a) => a.name) < args.lastIndexOf(pos[pos.length - 1]!)) {
    err(frame, "E0301", "tensor arguments come first, then named hyper-parameters", e.span);
    return undefined;
  }
  return { values: pos.map((a) => evalExpr(a.value, frame)), named };
}

function callElementwise(e: A.Call, frame: Frame): Value {
  const got = positionalTensors(e, frame, 1, `\`${e.callee.name}\``);
  if (!got) return { t: "error" };
  if (got.named.length) err(frame, "E0300", `\`${e.callee.name}\` takes no named arguments`, got.named[0]!.span);
  const x = got.values[0]!;
  if (!expectFloatTensor(x, e.args![0]!.span, frame, `the argument of \`${e.callee.name}\``)) return x.t === "unknown" ? x : { t: "error" };
  if (x.t !== "tensor") return { t: "error" };
  const out: Value = { t: "tensor", tokens: x.tokens, width: x.width };
  if (frame.emit && x.ir !== undefined && typeof x.width === "number") {
    out.ir = frame.emit.value(x.width, e.callee.name);
    frame.emit.op({ op: "unary", out: out.ir, fn: e.callee.name as UnaryFn, x: x.ir });
  }
  return out;
}

function expectFloatTensor(v: Value, span: A.Span, frame: Frame, what: string): boolean {
  if (v.t === "tensor" && v.width !== undefined) return true;
  if (v.t === "error" || v.t === "unknown") return false;
  if (v.t === "tensor") {
    err(frame, "E0274", `${what} must be a [T, D] tensor; token ids [T] can only be passed to \`embed\``, span);
    return false;
  }
  err(frame, "E0288", `${what} must be a tensor, found ${describeValue(v)}`, span);
  return false;
}

function callBlock(e: A.Call, frame: Frame, owner: A.Ident | undefined): Value {
  const name = e.callee.name;
  const block = BLOCKS[name];
  const kind = frame.ctx.registry.expertKinds.get(name);
  const isOwner = requireLetOwner(e, frame, owner, block ? `\`${name}\`` : `expert kind \`${name}\` applied as a dense layer`);
  const got = positionalTensors(e, frame, 1, `\`${name}\``);
  if (!got) return { t: "error" };
  const x = got.values[0]!;
  const argSpan = e.args!.find((a) => !a.name)!.span;
  const wantsIds = block?.input === "ids";
  if (x.t === "error" || x.t === "unknown") return { t: "error" };
  if (x.t !== "tensor") {
    err(frame, "E0288", `the first argument of \`${name}\` must be a tensor, found ${describeValue(x)}`, argSpan);
    return { t: "error" };
  }
  if (wantsIds && x.width !== undefined) {
    err(frame, "E0289", `\`${name}\` takes token ids [T], found ${shapeText(x)}`, argSpan);
    return { t: "error" };
  }
  if (!wantsIds && x.width === undefined) {
    err(frame, "E0274", `\`${name}\` takes a [T, D] tensor; token ids [T] go through \`embed\` first`, argSpan);
    return { t: "error" };
  }
  // `lm_head(x, tied = NAME)`: NAME is an embedding binding, not a value.
  let tiedTo: string | undefined;
  let tiedVocab: number | undefined;
  let tiedWritten = false;
  const named = got.named.filter((a) => {
    if (name === "lm_head" && a.name!.name === "tied") {
      tiedWritten = true;
      if (a.value.kind === "Call" && a.value.args === undefined) {
        const b = frame.scope.lookup(a.value.callee.name)?.binding;
        if (!b?.embeddingOf) {
          err(frame, "E0290", `\`tied\` names an embedding declared with \`let NAME = embed(…)\`; \`${a.value.callee.name}\` is not one`, a.value.span);
        } else {
          tiedTo = b.embeddingOf;
          const emb = frame.instance.owners.find((o) => o.category === "embedding" && o.prefix === b.embeddingOf + frame.iterSuffix);
          tiedVocab = emb?.members[0]?.[0]?.shape[0];
        }
      } else err(frame, "E0290", "`tied` names an embedding: `lm_head(x, tied = emb)`", a.value.span);
      return false;
    }
    return true;
  });
  const specs = block ? block.params : kind!.params;
  const bound = bindArgs(named, specs, e, `\`${name}\``, (v) => evalCompileTime(v, frame), sink(frame));
  if (!bound.complete) return { t: "error" };
  const D = x.width;
  if (name === "lm_head") {
    if (tiedWritten && bound.spans.vocab) {
      err(frame, "E0291", "`lm_head` takes `vocab = V` (its own weight) or `tied = EMBEDDING` (the embedding's), not both", bound.spans.vocab, {
        help: "a tied head has the embedding's vocabulary; drop `vocab`",
      });
      return { t: "error" };
    }
    if (tiedWritten && tiedTo === undefined) return { t: "error" }; // E0290 said why
    if (tiedTo === undefined && bound.values.vocab === undefined) {
      err(frame, "E0304", "`lm_head` needs `vocab = V` or `tied = EMBEDDING`", e.span);
      return { t: "error" };
    }
    if (tiedTo !== undefined) {
      bound.values.tied = tiedTo;
      if (tiedVocab !== undefined) bound.values.vocab = tiedVocab;
    }
  }
  if (D !== undefined && typeof D !== "number") {
    if (D !== UNKNOWN_DIM) symbolicWeightError(frame, D, e.span, `\`${name}\``);
    return { t: "tensor", tokens: x.tokens, width: block ? UNKNOWN_DIM : D };
  }
  const dim = D ?? 0;
  if (block) {
    for (const msg of block.check?.(bound.values, dim) ?? []) {
      err(frame, "E0291", msg, e.span);
      return { t: "error" };
    }
    if (name === "attention" && bound.values.head_dim === undefined && dim % (bound.values.heads as number) !== 0) return { t: "error" };
  }
  const weights = block ? block.weights(bound.values, dim) : kind!.weights(bound.values, dim);
  const outWidth = block ? block.outWidth(bound.values, dim) : dim;
  if (isOwner && owner) {
    const category: OwnerCategory = block ? block.category : "dense_ffn";
    const o = addOwner(frame, owner.name, category, [weights], owner.span);
    o.info = { kind: name, args: [bound.values] };
    if (name === "lm_head" && tiedTo !== undefined) o.macs = [(bound.values.vocab as number) * dim];
    if (block?.attention) frame.instance.attention.push({ owner: o, shape: block.attention(bound.values, dim) });
  }
  const out: Value = { t: "tensor", tokens: x.tokens, width: outWidth };
  if (frame.emit && x.ir !== undefined) {
    const key = frame.irPath + (owner ? owner.name + frame.iterSuffix : name);
    if (name === "linear") {
      out.ir = frame.emit.value(outWidth, owner?.name ?? name);
      frame.emit.weight({ name: `${key}.weight`, shape: [outWidth, dim], role: "param" });
      if (bound.values.bias === true) frame.emit.weight({ name: `${key}.bias`, shape: [outWidth], role: "param" });
      frame.emit.op({ op: "linear", out: out.ir, x: x.ir, weight: key, outDim: outWidth, bias: bound.values.bias === true });
    } else if (kind && kind.name === "ffn") {
      // A dense FFN is a shared pool of one expert.
      out.ir = frame.emit.value(dim, owner?.name ?? name);
      const pool = irPool(key, kind, bound.values, 1, dim, 1, true);
      frame.emit.op({ op: "shared", out: out.ir, x: x.ir, pool });
    } else {
      frame.emit.unsupported.push({ message: `running \`${name}\` is not supported yet`, file: frame.file, span: e.span });
    }
  }
  return out;
}

function symbolicWeightError(frame: Frame, dim: string, span: A.Span, what: string): void {
  err(frame, "E0292", `the weights of ${what} would be sized by the symbolic dimension \`${dim}\``, span, {
    help: `declare \`${dim}\` as a hyper-parameter of the layer (e.g. \`${dim} = 1024\`), so that weights have a fixed size`,
  });
}

function addOwner(frame: Frame, name: string, category: OwnerCategory, members: TensorShape[][], span: A.Span): Owner {
  const prefix = ownerName(name, frame, span);
  const macs = members.map((m) => m.filter((t) => t.matmul).reduce((s, t) => s + product(t.shape), 0));
  const owner: Owner = { prefix, category, members, macs, span, file: frame.file, applications: 1 };
  frame.instance.owners.push(owner);
  return owner;
}

function applyShared(pool: PoolValue, e: A.Call, frame: Frame): Value {
  const args = e.args ?? [];
  if (args.length !== 1 || args[0]!.name) {
    err(frame, "E0293", `shared pool \`${pool.name}\` is applied to one tensor: \`${pool.name}(x)\``, e.span);
    return { t: "error" };
  }
  pool.referenced = true;
  const x = evalExpr(args[0]!.value, frame);
  if (!expectFloatTensor(x, args[0]!.span, frame, `the input of \`${pool.name}\``) || x.t !== "tensor") return { t: "error" };
  if (!fixPoolDim(pool, x, e, frame)) return { t: "tensor", tokens: x.tokens, width: x.width };
  pool.uses.push({ active: { count: pool.count ?? 0, label: "exact" }, span: e.span });
  if (pool.owner) pool.owner.applications = pool.uses.length;
  const out: Value = { t: "tensor", tokens: x.tokens, width: x.width };
  if (frame.emit && x.ir !== undefined && typeof x.width === "number" && pool.count !== undefined) {
    out.ir = frame.emit.value(x.width, `${pool.name}(x)`);
    const spec = pool.experts[0]!;
    frame.emit.op({ op: "shared", out: out.ir, x: x.ir, pool: irPool(frame.irPath + pool.key, spec.kind, spec.args, pool.count, x.width, pool.split, true) });
  }
  return out;
}

/** Fixes a pool's input size at its first application and creates its weight owner. */
function fixPoolDim(pool: PoolValue, x: Extract<Value, { t: "tensor" }>, use: A.Call, frame: Frame): boolean {
  if (typeof x.width !== "number") {
    if (x.width !== UNKNOWN_DIM && x.width !== undefined) symbolicWeightError(frame, x.width, use.span, `pool \`${pool.name}\``);
    return false;
  }
  if (pool.dim !== undefined) {
    if (pool.dim !== x.width) {
      err(frame, "E0294", `pool \`${pool.name}\` was first applied to width ${pool.dim}; here it gets width ${x.width}`, use.span, {
        secondary: [{ file: frame.file, span: pool.decl.name.span, message: "pool declared here" }],
      });
      return false;
    }
    // The first application created the owner unless the pool itself was in error.
    return pool.owner !== undefined;
  }
  pool.dim = x.width;
  if (pool.count === undefined || pool.experts.length === 0) return false;
  const members: TensorShape[][] = [];
  if (pool.heterogeneous) for (const s of pool.experts) members.push(s.kind.weights(s.args, x.width));
  else {
    const w = pool.experts[0]!.kind.weights(pool.experts[0]!.args, x.width);
    for (let i = 0; i < pool.count; i++) members.push(w);
  }
  // Members of a homogeneous pool share one tensor list: count its products once (4096 atoms).
  const macOf = (m: TensorShape[]) => m.filter((t) => t.matmul).reduce((s, t) => s + product(t.shape), 0);
  const macs = pool.heterogeneous ? members.map(macOf) : new Array<number>(members.length).fill(macOf(members[0] ?? []));
  pool.owner = { prefix: pool.key, category: pool.shared ? "shared" : "experts", members, macs, span: pool.decl.name.span, file: frame.file, applications: 0 };
  pool.owner.info = { kind: pool.heterogeneous ? "mixed" : pool.experts[0]!.kind.name, args: pool.experts.map((s) => s.args), split: pool.split, ...(pool.heterogeneous ? { kinds: pool.experts.map((s) => s.kind.name) } : {}) };
  frame.instance.owners.push(pool.owner);
  return true;
}

function callMoe(e: A.Call, frame: Frame): Value {
  const args = e.args ?? [];
  if (args.length !== 3 || args.some((a) => a.name)) {
    err(frame, "E0295", "`moe` takes three arguments: `moe(x, ROUTER, POOL)`", e.span);
    // Still resolve what was written: its errors are real, and its names count as used.
    for (const a of args) evalExpr(a.value, frame);
    return { t: "error" };
  }
  const x = evalExpr(args[0]!.value, frame);
  const rv = evalExpr(args[1]!.value, frame);
  const pv = evalExpr(args[2]!.value, frame);
  if (pv.t === "pool") pv.pool.referenced = true;
  let ok = expectFloatTensor(x, args[0]!.span, frame, "the first argument of `moe`");
  if (rv.t !== "router") {
    if (rv.t !== "error") err(frame, "E0296", `the second argument of \`moe\` must be a router, found ${describeValue(rv)}`, args[1]!.span, { help: "declare one: `router r = linear |> softmax |> topk(2)`" });
    ok = false;
  }
  if (pv.t !== "pool" || pv.pool.shared) {
    if (pv.t !== "error") err(frame, "E0297", `the third argument of \`moe\` must be an expert pool, found ${describeValue(pv)}`, args[2]!.span, {
      help: pv.t === "pool" ? "shared pools are applied directly: `S(x)`" : "declare one: `experts E[8] = ffn(hidden = 1024)`",
    });
    ok = false;
  }
  if (!ok || x.t !== "tensor" || rv.t !== "router" || pv.t !== "pool") return x.t === "tensor" ? { t: "tensor", tokens: x.tokens, width: x.width } : { t: "error" };
  const router = rv.router, pool = pv.pool;
  if (router.iterSuffix !== frame.iterSuffix && !router.usedBy) {
    err(frame, "E0298", `router \`${router.name}\` is declared outside \`iterate\`, so it would feed a \`moe\` call in every iteration; a router feeds exactly one`, args[1]!.span, {
      secondary: [{ file: frame.file, span: router.decl.name.span, message: "declared outside the block" }],
      help: "declare the router inside the `iterate` block: each iteration then gets its own (`r.0`, `r.1`, …)",
    });
    router.usedBy = e.span;
  } else if (router.usedBy) {
    err(frame, "E0298", `router \`${router.name}\` already feeds a \`moe\` call; a router feeds exactly one`, args[1]!.span, {
      secondary: [{ file: frame.file, span: router.usedBy, message: "first used here" }],
      help: "declare a second router for this call",
    });
  } else router.usedBy = e.span;
  const out: Value = { t: "tensor", tokens: x.tokens, width: x.width };
  const poolReady = fixPoolDim(pool, x, e, frame);
  if (!router.valid || pool.count === undefined || typeof x.width !== "number") return out;
  const E = pool.count;
  let stagesOk = true;
  for (const st of router.stages) {
    const args = { ...st.args };
    const seenParams = new Set<string | undefined>();
    for (const issue of st.def.check?.(args, E) ?? []) {
      stagesOk = false;
      // One error per argument: `group_topk(9, groups = 2, keep = 2)` over 8 experts is k > E; that
      // k also exceeds keep·E/groups adds nothing.
      if (issue.param !== undefined && seenParams.has(issue.param)) continue;
      seenParams.add(issue.param);
      err(frame, "E0299", issue.message, (issue.param && st.argSpans[issue.param]) || st.call.span, {
        label: "does not fit the pool",
        secondary: [{ file: frame.file, span: e.span, message: `routes over \`${pool.name}\` (${E} expert${E === 1 ? "" : "s"}) here` }],
        help: issue.help,
      });
    }
  }
  if (!stagesOk || !poolReady || router.usedBy !== e.span) return out;
  const select = router.stages.find((s) => s.role === "select");
  const active = select?.def.active?.(select.args, E) ?? { count: E, label: "upper bound" as const };
  pool.uses.push({ active, span: e.span });
  (pool.owner!.uses ??= []).push(active);
  // The router's own weights.
  const score = router.stages[0]!;
  const D = x.width;
  const rw = score.def.weights?.(score.args, E, D) ?? [];
  const stateW = router.stages.slice(1).flatMap((s) => (s.def.weights?.(s.args, E, D) ?? []));
  const ro: Owner = {
    prefix: router.key, category: "router", members: [[...rw, ...stateW]],
    macs: [rw.filter((t) => t.matmul).reduce((s, t) => s + product(t.shape), 0)],
    span: router.decl.name.span, file: frame.file, applications: 1,
    info: { kind: "router", args: [], stages: router.stages },
  };
  frame.instance.owners.push(ro);
  if (frame.emit && x.ir !== undefined) {
    const key = frame.irPath + router.key;
    for (const w of [...rw, ...stateW]) frame.emit.weight({ name: `${key}.${w.name}`, shape: w.shape, role: w.state ? "state" : "param", init: w.state ? (w.init ?? (w.name.endsWith("running_var") ? "ones" : "zeros")) : undefined });
    const irRouter: IrRouter = {
      key, numExperts: E, dim: D,
      stages: router.stages.map((s) => ({ name: s.def.name, role: s.role, params: { ...s.args } })),
      maxPerToken: select?.def.maxPerToken?.(select.args, E) ?? E,
      scope: select?.def.scope === "run" ? "run" : "token",
      report: [...frame.reports],
      balanceCoef: frame.loss.coef,
    };
    frame.irRouters.push(irRouter);
    out.ir = frame.emit.value(D, `moe(${router.name}, ${pool.name})`);
    const poolKey = frame.irPath + pool.key;
    const spec = pool.experts[0]!;
    const loweredPool = pool.heterogeneous ? irMixedPool(poolKey, pool.experts, D) : irPool(poolKey, spec.kind, spec.args, E, D, pool.split, false);
    frame.emit.op({ op: "moe", out: out.ir, x: x.ir, router: irRouter, pool: loweredPool });
  }
  return out;
}

/** A heterogeneous pool: one member per listed expert, weights named per member (`E.j.PARAM`). */
function irMixedPool(key: string, experts: { kind: ExpertKindDef; args: Record<string, unknown> }[], dim: number): IrPool {
  const members = experts.map((s) => {
    const p = irPool(key, s.kind, s.args, 1, dim, 1, false);
    return { kind: p.kind as IrExpertSpec["kind"], hidden: p.kind === "identity" || p.kind === "zero" ? 0 : p.hidden, act: p.act, bias: p.bias };
  });
  const hidden = Math.max(0, ...members.map((m) => m.hidden));
  return { key, kind: "mixed", count: members.length, dim, hidden, act: "identity", bias: false, split: 1, shared: false, members };
}

function irPool(key: string, kind: ExpertKindDef, args: Record<string, unknown>, count: number, dim: number, split: number, shared: boolean): IrPool {
  const k = kind.name as IrPool["kind"];
  const hidden = k === "ffn" ? (args.hidden as number) : k === "lowrank" ? (args.rank as number) : 1;
  const act = ((args.act as string | undefined) ?? (k === "ffn" ? "swiglu" : "identity")) as ExpertAct;
  return { key, kind: k, count, dim, hidden, act, bias: args.bias === true, split, shared };
}

function emitScalar(frame: Frame, fn: BinaryFn, x: Extract<Value, { t: "tensor" }>, value: number, scalarFirst: boolean, e?: A.Binary): Value {
  if (x.width === undefined) {
    err(frame, "E0274", "token ids `[T]` can only be passed to `embed`", e?.span ?? { start: 0, end: 0 });
    return { t: "error" };
  }
  if (fn === "div" && !scalarFirst && value === 0) {
    err(frame, "E0277", "division by zero", e?.right.span ?? { start: 0, end: 0 });
    return { t: "error" };
  }
  const out: Value = { t: "tensor", tokens: x.tokens, width: x.width };
  if (frame.emit && x.ir !== undefined && typeof x.width === "number") {
    out.ir = frame.emit.value(x.width, "scalar");
    frame.emit.op({ op: "scalar", out: out.ir, fn, x: x.ir, value, scalarFirst });
  }
  return out;
}

// ------------------------------------------------------------------ layer calls and graphs

function callLayer(decl: TopDecl, declFile: string, e: A.Call, frame: Frame, owner: A.Ident | undefined): Value {
  if (decl.kind === "Const") return { t: "error" };
  const what = `${decl.kind === "Graph" ? "graph" : decl.kind === "Model" ? "model" : "layer"} \`${decl.name.name}\``;
  if (decl.kind === "Model") {
    err(frame, "E0261", `${what} is a whole network over token ids; it cannot be called from another declaration`, e.callee.span);
    return { t: "error" };
  }
  if (decl.kind === "Graph") {
    err(frame, "E0262", `${what} can only be used as an agent inside another graph`, e.callee.span);
    return { t: "error" };
  }
  requireLetOwner(e, frame, owner, what);
  const args = e.args ?? [];
  const tensorArgs = args.filter((a) => !a.name);
  const tensors = tensorArgs.map((a) => evalExpr(a.value, frame));
  return instantiate(decl, declFile, tensors, tensorArgs.map((a) => a.span), args.filter((a) => a.name), e, frame, owner?.name ?? decl.name.name, false);
}

/**
 * Binds hyper-parameters (explicit, else from argument shapes, else defaults, §2), elaborates the
 * callee, reports errors that arise only from these bindings at the call, and adds the child.
 */
function instantiate(
  decl: A.LayerDecl | A.GraphDecl, declFile: string, tensors: Value[], tensorSpans: A.Span[], named: A.Arg[],
  call: A.Call, frame: Frame, childName: string, asAgent: boolean,
): Value {
  const what = `${decl.kind === "Graph" ? "graph" : "layer"} \`${decl.name.name}\``;
  if (recursive(decl, call.span, frame)) return { t: "error" };
  const hyperParams = decl.params.filter((p): p is A.HyperParam => p.kind === "HyperParam");
  const tensorParams = decl.params.filter((p): p is A.TensorParam => p.kind === "TensorParam");
  const bindings = new Map<string, Value>();
  const explicitSpans = new Map<string, A.Span>();
  let ok = true;
  for (const a of named) {
    const n = a.name!.name;
    const hp = hyperParams.find((p) => p.name.name === n);
    if (!hp) {
      const isTensor = tensorParams.some((p) => p.name.name === n);
      err(frame, "E0263", isTensor ? `\`${n}\` is a tensor parameter of ${what}; pass tensors positionally` : `${what} has no hyper-parameter \`${n}\``, a.name!.span, {
        help: isTensor ? undefined : didYouMean(n, hyperParams.map((p) => p.name.name)),
        secondary: [{ file: declFile, span: decl.name.span, message: `${decl.name.name} declared here` }],
      });
      ok = false;
      continue;
    }
    if (explicitSpans.has(n)) {
      err(frame, "E0303", `hyper-parameter \`${n}\` is given twice`, a.span);
      ok = false;
      continue;
    }
    const v = evalCompileTime(a.value, frame);
    if (v.t === "error") { ok = false; continue; }
    bindings.set(n, v);
    explicitSpans.set(n, a.span);
  }
  const expectedTensors = asAgent ? 0 : tensorParams.length;
  if (tensors.length !== expectedTensors) {
    err(frame, "E0264", asAgent
      ? `an agent is named with hyper-parameter arguments only (\`${decl.name.name}(D = D)\`); the graph supplies the tensor`
      : `${what} takes ${expectedTensors} tensor argument${expectedTensors === 1 ? "" : "s"}, found ${tensors.length}`, call.span, {
      secondary: [{ file: declFile, span: decl.name.span, message: `${decl.name.name} declared here` }],
    });
    return { t: "error" };
  }
  // Bind from the shapes of tensor arguments where not explicit.
  tensorParams.forEach((p, i) => {
    const actual = tensors[i];
    if (!actual || actual.t !== "tensor") return;
    const dims = [actual.tokens, actual.width];
    p.dims.forEach((d, j) => {
      if (d.kind !== "Call" || d.args !== undefined) return;
      const hp = hyperParams.find((h) => h.name.name === d.callee.name);
      const got = dims[j];
      if (!hp || typeof got !== "number") return;
      const explicit = bindings.get(hp.name.name);
      if (explicit && explicit.t === "int" && explicit.v !== got) {
        err(frame, "E0265", `${hp.name.name} = ${explicit.v} contradicts the argument's shape, where ${hp.name.name} = ${got}`, explicitSpans.get(hp.name.name)!, {
          secondary: [{ file: frame.file, span: tensorSpans[i]!, message: `this is ${shapeText(actual)}` }],
        });
        ok = false;
      } else if (!explicit) bindings.set(hp.name.name, { t: "int", v: got });
    });
  });
  for (const hp of hyperParams) {
    if (!bindings.has(hp.name.name) && !hp.default) {
      err(frame, "E0266", `${what} needs hyper-parameter \`${hp.name.name}\`, which has no default`, call.span, {
        help: `pass it: \`${decl.name.name}(${tensors.length ? "x, " : ""}${hp.name.name} = …)\``,
      });
      ok = false;
    }
  }
  if (!ok) return { t: "error" };
  const tensorsForCallee = asAgent ? tensors : tensors;
  const key = bindingKey(decl, bindings);
  let result: ElabResult;
  if (frame.emit) {
    result = elaborate(frame.ctx, decl, declFile, bindings, { emit: frame.emit, irPath: frame.irPath + childName + frame.iterSuffix + ".", inputs: tensorsForCallee, agentCounter: { n: 0 } });
  } else {
    const cached = frame.ctx.callCache.get(key);
    result = cached ?? elaborate(frame.ctx, decl, declFile, bindings, {});
    if (!cached) frame.ctx.callCache.set(key, result);
  }
  // Errors the layer has at its defaults are reported there; new ones belong to this call.
  const atDefaults = checkAtDefaults(frame.ctx, decl, declFile);
  const knownKeys = new Set(atDefaults.diagnostics.map(diagKey));
  const bindingText = [...bindings.entries()].map(([k, v]) => `${k} = ${v.t === "int" || v.t === "float" ? v.v : v.t === "bool" || v.t === "string" ? String(v.v) : "?"}`).join(", ");
  for (const d of result.diagnostics) {
    if (d.severity !== "error" || knownKeys.has(diagKey(d))) continue;
    err(frame, d.code, `in this call of ${what}${bindingText ? ` (with ${bindingText})` : ""}: ${d.message}`, call.span, {
      label: "error with these arguments",
      secondary: [{ file: d.file, span: d.span, message: d.label ?? "the problem arises here" }, ...d.secondary],
      help: d.help,
    });
  }
  if (result.output.record) {
    err(frame, "E0267", `${what} returns several outputs (a record), so it can only be an entry point`, call.span, {
      secondary: [{ file: declFile, span: decl.name.span, message: "declared here" }],
    });
    return { t: "error" };
  }
  // Tensor arguments must match the declared shapes.
  result.tensorParams.forEach((tp, i) => {
    const actual = tensors[i];
    if (asAgent || !actual || actual.t !== "tensor") return;
    if (!dimEq(tp.tokens, actual.tokens) && typeof tp.tokens === "number") {
      err(frame, "E0268", `argument ${i + 1} of ${what} must be ${shapeText(tp)}, found ${shapeText(actual)}`, tensorSpans[i]!);
    } else if ((tp.width === undefined) !== (actual.width === undefined) || (tp.width !== undefined && !dimEq(tp.width, actual.width!) && typeof tp.width === "number")) {
      err(frame, "E0268", `argument ${i + 1} of ${what} must be ${shapeText(tp)}, found ${shapeText(actual)}`, tensorSpans[i]!, {
        secondary: [{ file: declFile, span: tp.span, message: `declared ${shapeText(tp)}` }],
      });
    }
  });
  ownerName(childName, frame, call.span);
  frame.instance.children.push({ prefix: childName + frame.iterSuffix, instance: result.instance, span: call.span, file: frame.file });
  const out = result.output.single;
  if (!out || out.t !== "tensor") return out?.t === "unknown" ? out : { t: "error" };
  const first = tensors[0];
  return { t: "tensor", tokens: first && first.t === "tensor" ? first.tokens : out.tokens, width: out.width, ir: out.ir };
}

/** Graph topologies (§11): `A -> B`, `parallel(A, B) |> mean`, agents named with hyper-parameters. */
function evalTopology(e: A.Expr, input: Value, frame: Frame, ctx: "chain" | "parallel"): Value {
  if (e.kind === "Binary" && e.op === "->") {
    const mid = evalTopology(e.left, input, frame, "chain");
    return evalTopology(e.right, mid, frame, "chain");
  }
  if (e.kind === "Binary" && e.op === "|>") {
    const left = e.left;
    const comb = e.right;
    if (left.kind !== "Call" || left.callee.name !== "parallel" || !left.args) {
      err(frame, "E0269", "in a graph, `|>` follows `parallel(…)` with a combiner (`|> mean` or `|> sum`)", e.opSpan);
      return { t: "error" };
    }
    if (comb.kind !== "Call" || comb.args !== undefined || !(GRAPH_COMBINERS as readonly string[]).includes(comb.callee.name)) {
      err(frame, "E0269", `unknown combiner; \`parallel(…)\` outputs are combined with ${GRAPH_COMBINERS.map((c) => "`" + c + "`").join(" or ")}`, comb.span, {
        help: comb.kind === "Call" ? didYouMean(comb.callee.name, GRAPH_COMBINERS) : undefined,
      });
      return { t: "error" };
    }
    const outs = left.args.map((a) => {
      if (a.name) {
        err(frame, "E0300", "`parallel` takes agents, not named arguments", a.span);
        return { t: "error" } as Value;
      }
      return evalTopology(a.value, input, frame, "parallel");
    });
    if (outs.length === 0) {
      err(frame, "E0269", "`parallel` needs at least one agent", left.span);
      return { t: "error" };
    }
    const good = outs.filter((o): o is Extract<Value, { t: "tensor" }> => o.t === "tensor");
    if (good.length !== outs.length) return { t: "error" };
    for (const o of good.slice(1)) {
      if (!dimEq(o.width!, good[0]!.width!)) {
        err(frame, "E0275", `agents in \`parallel\` return different widths (${good[0]!.width} and ${o.width})`, left.span);
        return { t: "error" };
      }
    }
    let acc: Value = good[0]!;
    if (frame.emit && acc.t === "tensor" && typeof acc.width === "number") {
      for (const o of good.slice(1)) {
        if (acc.t !== "tensor" || acc.ir === undefined || o.ir === undefined) break;
        const id = frame.emit.value(acc.width as number, "parallel");
        frame.emit.op({ op: "binary", out: id, fn: "add", a: acc.ir, b: o.ir });
        acc = { ...acc, ir: id };
      }
      if (comb.callee.name === "mean" && good.length > 1 && acc.t === "tensor" && acc.ir !== undefined) {
        const id = frame.emit.value(acc.width as number, "mean");
        frame.emit.op({ op: "scalar", out: id, fn: "mul", x: acc.ir, value: 1 / good.length, scalarFirst: false });
        acc = { ...acc, ir: id };
      }
    }
    return acc.t === "tensor" ? { t: "tensor", tokens: acc.tokens, width: acc.width, ir: acc.ir } : acc;
  }
  if (e.kind === "Call" && e.callee.name === "parallel") {
    err(frame, "E0269", "`parallel(…)` needs a combiner: `parallel(A, B) |> mean` (or `|> sum`)", e.span);
    return { t: "error" };
  }
  if (e.kind !== "Call") {
    if (e.kind !== "ErrorExpr") err(frame, "E0269", `a graph is built from agents (\`layer(D = D)\`), \`->\` and \`parallel(…) |> mean\`; found ${exprWhat(e)}`, e.span);
    return { t: "error" };
  }
  const top = frame.ctx.unit.scopes.get(frame.file)?.names.get(e.callee.name);
  if (!top || top.decl.kind === "Const" || top.decl.kind === "Model") {
    err(frame, "E0269", top ? `\`${e.callee.name}\` is not a layer or graph, so it cannot be an agent` : `\`${e.callee.name}\` is not declared`, e.callee.span, {
      help: top ? undefined : didYouMean(e.callee.name, [...(frame.ctx.unit.scopes.get(frame.file)?.names.keys() ?? [])]),
    });
    return { t: "error" };
  }
  if (input.t !== "tensor") return { t: "error" };
  const index = frame.agentCounter.n++;
  const named = (e.args ?? []).filter((a) => a.name);
  if ((e.args ?? []).some((a) => !a.name)) {
    err(frame, "E0264", `an agent is named with hyper-parameter arguments only (\`${e.callee.name}(D = D)\`); the graph supplies the tensor`, e.span);
    return { t: "error" };
  }
  const decl = top.decl;
  if (decl.kind === "Graph") {
    // A graph used as an agent: its own agents are numbered under this agent's prefix.
    return instantiateAgentGraph(decl, top.file, input, named, e, frame, String(index));
  }
  // The agent's first tensor parameter receives the input; its shape may bind hyper-parameters.
  const tp = decl.params.find((p): p is A.TensorParam => p.kind === "TensorParam");
  if (!tp || tp.dims.length !== 2 || decl.params.filter((p) => p.kind === "TensorParam").length !== 1) {
    err(frame, "E0264", `layer \`${decl.name.name}\` cannot be an agent: an agent maps one [T, D] tensor to [T, D]`, e.span);
    return { t: "error" };
  }
  const synthetic: A.Call = { ...e, args: [{ name: undefined, value: { kind: "ErrorExpr", span: e.span }, span: e.span }, ...named] };
  const out = instantiate(decl, top.file, [input], [e.span], named, synthetic, frame, String(index), false);
  if (out.t === "tensor" && input.t === "tensor" && !dimEq(out.width!, input.width!)) {
    err(frame, "E0268", `agent \`${decl.name.name}\` maps width ${input.width} to ${out.width}; agents map [T, D] to [T, D]`, e.span);
    return { t: "error" };
  }
  return out;
}

function instantiateAgentGraph(decl: A.GraphDecl, file: string, input: Value, named: A.Arg[], e: A.Call, frame: Frame, prefix: string): Value {
  if (recursive(decl, e.span, frame)) return { t: "error" };
  const bindings = new Map<string, Value>();
  for (const a of named) bindings.set(a.name!.name, evalCompileTime(a.value, frame));
  if (input.t === "tensor" && typeof input.width === "number") {
    const tp = decl.params.find((p): p is A.TensorParam => p.kind === "TensorParam");
    const d = tp?.dims[1];
    if (d && d.kind === "Call" && d.args === undefined && !bindings.has(d.callee.name)) bindings.set(d.callee.name, { t: "int", v: input.width });
  }
  const result = elaborate(frame.ctx, decl, file, bindings, frame.emit ? { emit: frame.emit, irPath: frame.irPath + prefix + ".", inputs: [input], agentCounter: { n: 0 } } : {});
  for (const d of result.diagnostics) if (d.severity === "error") err(frame, d.code, `in agent graph \`${decl.name.name}\`: ${d.message}`, e.span);
  frame.instance.children.push({ prefix, instance: result.instance, span: e.span, file: frame.file });
  return result.output.single ?? { t: "error" };
}

// ------------------------------------------------------------------ compile-time values

/** Evaluates an expression that must be known at compile time (sizes, stage arguments). */
function evalCompileTime(e: A.Expr, frame: Frame): Value {
  const v = evalExpr(e, frame);
  if (v.t === "tensor") {
    err(frame, "E0279", "expected a compile-time value (a number, constant or hyper-parameter), found a tensor", e.span);
    return { t: "error" };
  }
  return v;
}

/** A dimension in a tensor type: a number, a hyper-parameter or constant, or a symbolic name. */
function evalDim(e: A.Expr, frame: Frame): Dim {
  if (e.kind === "Call" && e.args === undefined) {
    const local = frame.scope.lookup(e.callee.name);
    const top = frame.ctx.unit.scopes.get(frame.file)?.names.get(e.callee.name);
    if (!local && (!top || top.decl.kind !== "Const")) return e.callee.name;
  }
  if (e.kind === "Binary" && ["+", "-", "*", "/"].includes(e.op)) {
    const a = evalDim(e.left, frame), b = evalDim(e.right, frame);
    if (typeof a === "string" || typeof b === "string") return a === UNKNOWN_DIM || b === UNKNOWN_DIM ? UNKNOWN_DIM : `(${a}${e.op}${b})`;
  }
  const v = evalCompileTime(e, frame);
  if (v.t === "int") {
    if (v.v < 1) err(frame, "E0256", `a dimension must be positive, found ${v.v}`, e.span);
    return v.v;
  }
  if (v.t === "unknown" || v.t === "error") return UNKNOWN_DIM;
  err(frame, "E0257", `a dimension must be an integer, found ${describeValue(v)}`, e.span);
  return UNKNOWN_DIM;
}

function constValue(decl: A.ConstDecl, file: string, frame: Frame): Value {
  const cached = frame.ctx.constCache.get(decl);
  if (cached === "pending") {
    err(frame, "E0258", `constant \`${decl.name.name}\` is defined in terms of itself`, decl.name.span);
    return { t: "error" };
  }
  if (cached) return cached;
  frame.ctx.constCache.set(decl, "pending");
  const cframe: Frame = { ...frame, file, scope: new Scope(), emit: undefined };
  const v = evalCompileTime(decl.value, cframe);
  const ok = v.t === "int" || v.t === "float" || v.t === "bool" || v.t === "string" || v.t === "error";
  if (!ok) err(cframe, "E0259", `a constant must be a number, boolean or string, found ${describeValue(v)}`, decl.value.span);
  const value: Value = ok ? v : { t: "error" };
  frame.ctx.constCache.set(decl, value);
  return value;
}

/** Checks a top-level constant on its own (so unused constants are still checked). */
function checkConst(ctx: ElabContext, decl: A.ConstDecl, file: string): Diagnostic[] {
  const frame: Frame = {
    ctx, file, decl: { kind: "Layer", name: decl.name, params: [], body: [], endSpan: decl.span, span: decl.span },
    scope: new Scope(), instance: emptyInstance("", "Layer"), iterSuffix: "", irPath: "", isModel: false, diags: [],
    ownerNames: new Map(), pools: [], routers: [], reports: [], loss: {}, irRouters: [], agentCounter: { n: 0 },
  };
  frame.ctx.constCache.delete(decl);
  constValue(decl, file, frame);
  return frame.diags;
}

// ------------------------------------------------------------------ diagnostics

function err(frame: Frame, code: string, message: string, span: A.Span, extra: { label?: string; secondary?: Label[]; help?: string } = {}): void {
  frame.diags.push({ code, severity: "error", message, file: frame.file, span, label: extra.label, secondary: extra.secondary ?? [], help: extra.help });
}
function warn(frame: Frame, code: string, message: string, span: A.Span, extra: { label?: string; secondary?: Label[]; help?: string } = {}): void {
  frame.diags.push({ code, severity: "warning", message, file: frame.file, span, label: extra.label, secondary: extra.secondary ?? [], help: extra.help });
}
function sink(frame: Frame) {
  return { error: (code: string, message: string, span: A.Span, extra?: { label?: string; help?: string }) => err(frame, code, message, span, extra) };
}
// ------------------------------------------------------------------ helpers

function findReturn(body: A.Stmt[]): A.ReturnStmt | undefined {
  return body.find((s): s is A.ReturnStmt => s.kind === "Return");
}

function flattenPipeline(e: A.Expr): { items: A.Expr[]; badOps: A.Span[] } {
  const items: A.Expr[] = [];
  const badOps: A.Span[] = [];
  const walk = (x: A.Expr) => {
    if (x.kind === "Binary" && (x.op === "|>" || x.op === "->")) {
      walk(x.left);
      if (x.op === "->") badOps.push(x.opSpan);
      walk(x.right);
    } else items.push(x);
  };
  walk(e);
  return { items, badOps };
}

function numberValue(e: A.NumberLit): Value {
  if (!e.isFloat && Number.isSafeInteger(e.value)) return { t: "int", v: e.value };
  return { t: "float", v: e.value };
}

function isNum(v: Value): v is Extract<Value, { t: "int" | "float" }> {
  return v.t === "int" || v.t === "float";
}

export function dimEq(a: Dim, b: Dim): boolean {
  return a === b || a === UNKNOWN_DIM || b === UNKNOWN_DIM;
}

function sameShape(a: Extract<Value, { t: "tensor" }>, b: Extract<Value, { t: "tensor" }>): boolean {
  if ((a.width === undefined) !== (b.width === undefined)) return false;
  return dimEq(a.tokens, b.tokens) && (a.width === undefined || dimEq(a.width, b.width!));
}

function exprWhat(e: A.Expr): string {
  switch (e.kind) {
    case "Number": return `the number ${e.text}`;
    case "String": return "a string";
    case "Bool": return `\`${e.value}\``;
    case "Call": return `\`${e.callee.name}\``;
    case "Binary": return `an expression with \`${e.op}\``;
    case "Unary": return "a negation";
    case "List": return "a list";
    case "Record": return "a record";
    case "ErrorExpr": return "an invalid expression";
  }
}

function scoreNames(reg: Registry): string {
  return [...reg.stages.values()].filter((s) => s.roles.includes("score")).map((s) => "`" + s.name + "`").join(", ");
}
function selectNames(reg: Registry): string {
  return [...reg.stages.values()].filter((s) => s.roles.includes("select")).map((s) => "`" + s.name + "`").join(", ");
}
function postNames(reg: Registry): string {
  return [...reg.stages.values()].filter((s) => s.roles.includes("post")).map((s) => "`" + s.name + "`").join(", ");
}

function suggestLetName(callee: string): string {
  return callee === "linear" ? "g" : callee === "attention" || callee === "mla" ? "attn" : callee === "embed" ? "h" : callee.length <= 3 ? callee + "1" : callee.slice(0, 3);
}

function bindingKey(decl: A.LayerDecl | A.GraphDecl, b: Map<string, Value>): string {
  const parts = [...b.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k}=${v.t}:${"v" in v ? String(v.v) : ""}`);
  return `${decl.name.name}@${decl.span.start}|${parts.join(",")}`;
}

function diagKey(d: Diagnostic): string {
  return `${d.code}|${d.file}|${d.span.start}|${d.span.end}`;
}

export type { StageDef };
