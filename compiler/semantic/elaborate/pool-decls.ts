// Expert pools: declarations (size, heterogeneous lists, split), expert kinds with their arguments,
// applying a shared pool, fixing a pool's input width at its first use, and its active count.
// Expert-kind-specific checking decisions are gathered here.
import type * as A from "../../syntax/ast.js";
import type { TensorShape, ActiveCount } from "../../../stdlib/registry.js";
import type { Value, PoolValue, ExpertSpec, AgentMemberDecl } from "../values.js";
import { describeValue, product } from "../values.js";
import { bindArgs } from "../bind-args.js";
import { didYouMean } from "../suggest.js";
import { UNKNOWN_DIM, symbolicWeightError } from "./shapes.js";
import type { Frame } from "./context.js";
import { declareLocal, ownerName, err, warn, sink, exprWhat } from "./context.js";
import { evalExpr, expectFloatTensor, evalCompileTime } from "./expressions.js";
import * as emit from "./emit-ir.js";
import { checkOwnerTensors, checkPoolSize } from "./size-limits.js";

/** `experts E[N] = KIND(…)`, `experts E = [KIND(…), …]`, `shared S[N] = KIND(…)`, with `split M`. */
export function poolDecl(s: A.PoolDecl, frame: Frame): void {
  const what = s.shared ? "shared pool" : "expert pool";
  let count: number | undefined;
  let experts: ExpertSpec[] = [];
  let heterogeneous = false;
  let agents: PoolValue["agents"];
  if (s.count) {
    const c = evalCompileTime(s.count, frame);
    if (c.t === "int") {
      if (c.v < 1) err(frame, "E0230", `${s.shared ? "a" : "an"} ${what} needs at least one expert, found ${c.v}`, s.count.span, { label: "pool size < 1" });
      else if (checkPoolSize(c.v, s.count.span, frame, s.name.name)) count = c.v;
    } else if (c.t !== "unknown" && c.t !== "error") {
      err(frame, "E0231", `the size of ${what} \`${s.name.name}\` must be an integer, found ${describeValue(c)}`, s.count.span);
    }
    const spec = expertSpec(s.expert, frame);
    if (spec) experts = [spec];
  } else if (s.expert.kind === "List") {
    heterogeneous = true;
    if (s.shared) err(frame, "E0232", "a shared pool is declared with a size: `shared S[N] = KIND(…)`", s.name.span);
    s.expert.items.forEach((item, j) => {
      // A layer or graph in the list is an agent (§11.1): a weightless placeholder expert here,
      // instantiated on its tokens at the `moe` call, where the pool's width is known.
      const agent = !s.shared ? agentMember(item, frame) : undefined;
      if (agent === null) return;
      if (agent) {
        (agents ??= [])[j] = agent;
        experts.push({ kind: frame.ctx.registry.expertKinds.get("identity")!, args: {}, span: item.span });
        return;
      }
      const spec = expertSpec(item, frame);
      if (spec) experts.push(spec);
    });
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
          if (count !== undefined) count = checkPoolSize(count * split, s.split.span, frame, s.name.name) ? count * split : undefined;
        }
      }
    } else if (m.t !== "unknown" && m.t !== "error") {
      err(frame, "E0236", `\`split\` takes a positive integer, found ${describeValue(m)}`, s.split.span);
    }
  }
  const pool: PoolValue = {
    name: s.name.name, key: "", shared: s.shared, count, experts, heterogeneous, split, decl: s, uses: [],
    ...(agents ? { agents } : {}),
  };
  pool.key = ownerName(s.name.name, frame, s.name.span);
  frame.pools.push(pool);
  if (!frame.ctx.poolsByDecl.has(s)) frame.ctx.poolsByDecl.set(s, pool);
  if (!declareLocal(s.name, { value: { t: "pool", pool }, span: s.name.span, kind: "pool" }, frame)) pool.duplicate = true;
}

/** A list item naming a layer or graph of the file (not an expert kind): an agent member. */
function agentMember(e: A.Expr, frame: Frame): AgentMemberDecl | undefined | null {
  if (e.kind !== "Call" || frame.ctx.registry.expertKinds.has(e.callee.name)) return undefined;
  const top = frame.ctx.unit.scopes.get(frame.file)?.names.get(e.callee.name);
  if (!top || (top.decl.kind !== "Layer" && top.decl.kind !== "Graph")) return undefined;
  const positional = (e.args ?? []).find((a) => !a.name);
  if (positional) {
    err(frame, "E0325", `a layer in a pool is named with hyper-parameter arguments only (\`${e.callee.name}(I = 1024)\`); the pool supplies the tensor`, positional.span, { label: "a positional argument" });
    return null;
  }
  return { call: e, decl: top.decl, file: top.file };
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
        (isLayer ? `\`${e.callee.name}\` is a ${isLayer.decl.kind.toLowerCase()}; a pool of one kind holds expert kinds (${[...frame.ctx.registry.expertKinds.keys()].join(", ")}), and layers go in a list: \`experts A = [${e.callee.name}(…), …]\`` : `expert kinds: ${[...frame.ctx.registry.expertKinds.keys()].join(", ")}`),
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

/** `S(x)`: a shared pool applied to every token; its first use fixes its width. */
export function applyShared(pool: PoolValue, e: A.Call, frame: Frame): Value {
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
  out.ir = emit.sharedPool(frame, pool, x);
  return out;
}

/** Fixes a pool's input size at its first application and creates its weight owner. */
export function fixPoolDim(pool: PoolValue, x: Extract<Value, { t: "tensor" }>, use: A.Call, frame: Frame): boolean {
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
  else members.push(pool.experts[0]!.kind.weights(pool.experts[0]!.args, x.width));
  // Sizes are checked on the distinct tensor lists, before a homogeneous pool's list is repeated.
  if (!checkOwnerTensors({ prefix: pool.key, category: "experts", members, macs: [], span: pool.decl.name.span, file: frame.file, applications: 0 }, frame)) return false;
  if (!pool.heterogeneous) for (let i = 1; i < pool.count; i++) members.push(members[0]!);
  // Members of a homogeneous pool share one tensor list: count its products once (4096 atoms).
  const macOf = (m: TensorShape[]) => m.filter((t) => t.matmul).reduce((s, t) => s + product(t.shape), 0);
  const macs = pool.heterogeneous ? members.map(macOf) : new Array<number>(members.length).fill(macOf(members[0] ?? []));
  pool.owner = { prefix: pool.key, category: pool.shared ? "shared" : "experts", members, macs, span: pool.decl.name.span, file: frame.file, applications: 0 };
  pool.owner.info = { kind: pool.heterogeneous ? "mixed" : pool.experts[0]!.kind.name, args: pool.experts.map((s) => s.args), split: pool.split, ...(pool.heterogeneous ? { kinds: pool.experts.map((s, j) => pool.agents?.[j]?.decl.name.name ?? s.kind.name) } : {}) };
  frame.instance.owners.push(pool.owner);
  return true;
}

/** A pool's "never used" warning and its count of active experts over its uses. */
export function finishPools(frame: Frame, quiet: boolean): void {
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
