// Graph topologies (§11): agents chained with `->`, `parallel(…) |> mean`, graphs used as agents.
import type * as A from "../../syntax/ast.js";
import { GRAPH_COMBINERS } from "../../../stdlib/registry.js";
import type { Value } from "../values.js";
import { didYouMean } from "../suggest.js";
import type { Frame } from "./context.js";
import { err, exprWhat } from "./context.js";
import { elaborate, recursive } from "./declarations.js";
import { instantiate } from "./layer-calls.js";
import { evalCompileTime } from "./expressions.js";
import { dimEq } from "./shapes.js";
import * as emit from "./emit-ir.js";
import { evalPrimaryPeers } from "./primary-peers.js";

/** Graph topologies (§11): `A -> B`, `parallel(A, B) |> mean`, agents named with hyper-parameters. */
export function evalTopology(e: A.Expr, input: Value, frame: Frame, ctx: "chain" | "parallel"): Value {
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
    const acc = emit.parallel(frame, good, comb.callee.name);
    return { t: "tensor", tokens: acc.tokens, width: acc.width, ir: acc.ir };
  }
  if (e.kind === "Call" && e.callee.name === "primary_peers") return evalPrimaryPeers(e, input, frame);
  if (e.kind === "Call" && e.callee.name === "parallel") {
    err(frame, "E0269", "`parallel(…)` needs a combiner: `parallel(A, B) |> mean` (or `|> sum`)", e.span);
    return { t: "error" };
  }
  if (e.kind !== "Call") {
    if (e.kind !== "ErrorExpr") err(frame, "E0269", `a graph is built from agents (\`layer(D = D)\`), \`->\` and \`parallel(…) |> mean\`; found ${exprWhat(e)}`, e.span);
    return { t: "error" };
  }
  const top = frame.ctx.unit.scopes.get(frame.file)?.names.get(e.callee.name);
  if (top?.decl.kind === "Model") {
    err(frame, "E0310", `\`${e.callee.name}\` is a model; a graph's agents are all of one size, and a graph over tensors (\`x: [T, D]\`) takes layers — a graph of models takes \`tokens: [T]\``, e.callee.span);
    return { t: "error" };
  }
  if (!top || top.decl.kind === "Const") {
    err(frame, "E0269", top ? `\`${e.callee.name}\` is not a layer or graph, so it cannot be an agent` : `\`${e.callee.name}\` is not declared`, e.callee.span, {
      help: top ? undefined : didYouMean(e.callee.name, [...(frame.ctx.unit.scopes.get(frame.file)?.names.keys() ?? [])]),
    });
    return { t: "error" };
  }
  if (input.t !== "tensor") return { t: "error" };
  return evalAgent(e, { decl: top.decl, file: top.file }, input, frame, String(frame.agentCounter.n++));
}

/** A declared layer or graph `e` (named with hyper-parameters only) run as an agent on `input`,
 *  its weights under `prefix.` (the agent's number; `i.q` for round q of `primary_peers`). */
export function evalAgent(e: A.Call, top: { decl: A.LayerDecl | A.GraphDecl; file: string }, input: Value, frame: Frame, prefix: string): Value {
  const named = (e.args ?? []).filter((a) => a.name);
  if ((e.args ?? []).some((a) => !a.name)) {
    err(frame, "E0264", `an agent is named with hyper-parameter arguments only (\`${e.callee.name}(D = D)\`); the graph supplies the tensor`, e.span);
    return { t: "error" };
  }
  const decl = top.decl;
  if (decl.kind === "Graph") {
    // A graph used as an agent: its own agents are numbered under this agent's prefix.
    return instantiateAgentGraph(decl, top.file, input, named, e, frame, prefix);
  }
  // The agent's first tensor parameter receives the input; its shape may bind hyper-parameters.
  const tp = decl.params.find((p): p is A.TensorParam => p.kind === "TensorParam");
  if (!tp || tp.dims.length !== 2 || decl.params.filter((p) => p.kind === "TensorParam").length !== 1) {
    err(frame, "E0264", `layer \`${decl.name.name}\` cannot be an agent: an agent maps one [T, D] tensor to [T, D]`, e.span);
    return { t: "error" };
  }
  const synthetic: A.Call = { ...e, args: [{ name: undefined, value: { kind: "ErrorExpr", span: e.span }, span: e.span }, ...named] };
  const out = instantiate(decl, top.file, [input], [e.span], named, synthetic, frame, prefix, false);
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
  const result = elaborate(frame.ctx, decl, file, bindings, emit.calleeOptions(frame, prefix, [input]) ?? {});
  for (const d of result.diagnostics) if (d.severity === "error") err(frame, d.code, `in agent graph \`${decl.name.name}\`: ${d.message}`, e.span);
  frame.instance.children.push({ prefix, instance: result.instance, span: e.span, file: frame.file });
  return result.output.single ?? { t: "error" };
}
