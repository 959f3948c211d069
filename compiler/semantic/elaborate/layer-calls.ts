// Calling a layer: binding its hyper-parameters at the call (§2), elaborating it there, and
// reporting at the call the errors that arise only from these bindings.
import type * as A from "../../syntax/ast.js";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { TopDecl } from "../module-loader.js";
import type { Value } from "../values.js";
import { shapeText } from "../values.js";
import { didYouMean } from "../suggest.js";
import type { ElabResult, Frame } from "./context.js";
import { ownerName, err } from "./context.js";
import { checkAtDefaults, elaborate, recursive } from "./declarations.js";
import { evalExpr, evalCompileTime } from "./expressions.js";
import { requireLetOwner } from "./calls.js";
import { dimEq } from "./shapes.js";
import * as emit from "./emit-ir.js";

/** `let NAME = LAYER(x, …)`: models and graphs cannot be called this way. */
export function callLayer(decl: TopDecl, declFile: string, e: A.Call, frame: Frame, owner: A.Ident | undefined): Value {
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
export function instantiate(
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
  const lowering = emit.calleeOptions(frame, childName + frame.iterSuffix, tensorsForCallee);
  if (lowering) {
    result = elaborate(frame.ctx, decl, declFile, bindings, lowering);
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
    // Too deep a chain is reported once, at the call that goes too deep, not wrapped 200 times.
    if (d.code === "E0505") {
      frame.diags.push(d);
      continue;
    }
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

function bindingKey(decl: A.LayerDecl | A.GraphDecl, b: Map<string, Value>): string {
  const parts = [...b.entries()].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => `${k}=${v.t}:${"v" in v ? String(v.v) : ""}`);
  return `${decl.name.name}@${decl.span.start}|${parts.join(",")}`;
}

function diagKey(d: Diagnostic): string {
  return `${d.code}|${d.file}|${d.span.start}|${d.span.end}`;
}
