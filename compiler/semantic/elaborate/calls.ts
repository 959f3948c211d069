// What a call `NAME(…)` means, resolved by position (LANGUAGE.md §2): a local, a top-level
// declaration, a built-in block, a function, `moe`; plus argument conventions calls share.
import type * as A from "../../syntax/ast.js";
import { BUILTIN_FUNCTIONS, GRAPH_COMBINERS } from "../../../stdlib/registry.js";
import type { Value } from "../values.js";
import { describeValue } from "../values.js";
import { BLOCKS } from "../blocks.js";
import { didYouMean } from "../suggest.js";
import type { Frame } from "./context.js";
import { Scope, err } from "./context.js";
import { evalExpr, constValue } from "./expressions.js";
import { callElementwise, callBlock } from "./block-calls.js";
import { applyShared } from "./pool-decls.js";
import { callMoe } from "./moe-calls.js";
import { callLayer } from "./layer-calls.js";

/** Resolves `NAME` or `NAME(…)` by what the name means here, innermost first. */
export function evalCall(e: A.Call, frame: Frame, owner?: A.Ident): Value {
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

/** A weight-owning call must be a `let`'s right-hand side, which names its weights. */
export function requireLetOwner(e: A.Call, frame: Frame, owner: A.Ident | undefined, what: string): boolean {
  if (owner) return true;
  err(frame, "E0286", `${what} owns weights, so it must be the right-hand side of a \`let\``, e.span, {
    label: "owns weights",
    help: `bind it first: \`let ${suggestLetName(e.callee.name)} = ${e.callee.name}(…)\`, then use \`${suggestLetName(e.callee.name)}\``,
  });
  return false;
}

/** Splits a call's arguments into `expected` leading tensors and named hyper-parameters. */
export function positionalTensors(e: A.Call, frame: Frame, expected: number, what: string): { values: Value[]; named: A.Arg[] } | undefined {
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

function suggestLetName(callee: string): string {
  return callee === "linear" ? "g" : callee === "attention" || callee === "mla" ? "attn" : callee === "embed" ? "h" : callee.length <= 3 ? callee + "1" : callee.slice(0, 3);
}
