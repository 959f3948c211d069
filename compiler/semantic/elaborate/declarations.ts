// Elaborates one layer, model or graph declaration at bindings: the walk's entry point, with the
// defaults cache and the recursion guard.
import type * as A from "../../syntax/ast.js";
import type { Value } from "../values.js";
import { emptyInstance } from "../instance.js";
import type { LayerOutput, ElabResult, ElabContext, ElabOptions, Frame } from "./context.js";
import { Scope, err } from "./context.js";
import { bindHyperParams, bindTensorParams } from "./decl-params.js";
import { elaborateBody, evalReturn, finishLayer } from "./statements.js";
import { evalTopology } from "./graph-topology.js";
import { evalDecodingGraph } from "./decoding-graph.js";
import * as emit from "./emit-ir.js";
import { callTooDeep, checkTotals } from "./size-limits.js";

/** Checks a declaration at its defaults (cached). */
export function checkAtDefaults(ctx: ElabContext, decl: A.LayerDecl | A.GraphDecl, file: string): ElabResult {
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
export function elaborate(ctx: ElabContext, decl: A.LayerDecl | A.GraphDecl, file: string, bindings: Map<string, Value>, opts: ElabOptions = {}): ElabResult {
  ctx.inProgress.push(decl);
  try {
    return elaborateNow(ctx, decl, file, bindings, opts);
  } finally {
    ctx.inProgress.pop();
  }
}

/** Reports a layer or graph that uses itself (directly or through others): it would never finish. */
export function recursive(decl: A.LayerDecl | A.GraphDecl, span: A.Span, frame: Frame): boolean {
  if (callTooDeep(frame.ctx.inProgress.length, span, frame)) return true;
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
  // Parameters: hyper-parameters first (tensor shapes may name any of them), in order.
  const hyper = bindHyperParams(decl, bindings, frame);
  const tensorParams = bindTensorParams(decl, opts, frame);

  const output: LayerOutput = {};
  if (decl.kind === "Graph") {
    const input = [...frame.scope.vars.values()].find((b) => b.kind === "tensor");
    const tokenParam = decl.params.find((p): p is A.TensorParam => p.kind === "TensorParam" && p.dims.length === 1);
    if (tokenParam) {
      // Over token ids: a decoding graph of model agents (§11.2).
      output.decoding = evalDecodingGraph(decl.topology, frame);
    } else if (!input) {
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
  checkTotals(frame.instance, decl, frame);
  if (opts.entry && !output.decoding) emit.outputs(frame, output);
  return { instance: frame.instance, output, diagnostics: frame.diags, tensorParams, hyper };
}

function findReturn(body: A.Stmt[]): A.ReturnStmt | undefined {
  return body.find((s): s is A.ReturnStmt => s.kind === "Return");
}
