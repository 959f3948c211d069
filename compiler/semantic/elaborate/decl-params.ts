// The parameters of a declaration: hyper-parameters bound from the call or their defaults, then
// tensor parameters sized by them (and, when lowering, their IR values).
import type * as A from "../../syntax/ast.js";
import type { Value } from "../values.js";
import { describeValue } from "../values.js";
import type { ElabResult, ElabOptions, Frame } from "./context.js";
import { err } from "./context.js";
import { evalCompileTime, evalDim } from "./expressions.js";
import * as emit from "./emit-ir.js";

/** Binds the hyper-parameters (explicit, else default, else unknown) and reports duplicate parameters. */
export function bindHyperParams(decl: A.LayerDecl | A.GraphDecl, bindings: Map<string, Value>, frame: Frame): Map<string, Value> {
  const hyper = new Map<string, Value>();
  const seen = new Map<string, A.Span>();
  for (const p of decl.params) {
    const prev = seen.get(p.name.name);
    if (prev) {
      err(frame, "E0210", `parameter \`${p.name.name}\` is declared twice`, p.name.span, { label: "declared again here", secondary: [{ file: frame.file, span: prev, message: "first declared here" }] });
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
  return hyper;
}

/** Binds the tensor parameters to their shapes; they take the caller's IR values (`inputs`) or become IR inputs. */
export function bindTensorParams(decl: A.LayerDecl | A.GraphDecl, opts: ElabOptions, frame: Frame): ElabResult["tensorParams"] {
  const tensorParams: ElabResult["tensorParams"] = [];
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
    } else if (value.t === "tensor") {
      value = emit.input(frame, p.name.name, value);
    }
    frame.scope.vars.set(p.name.name, { value, span: p.name.span, kind: "tensor" });
  }
  return tensorParams;
}
