// Statements of a layer or model body: let/assign, iterate/repeat, loss/report/return, and the
// checks run once a body is finished (unused routers and pools).
import type * as A from "../../syntax/ast.js";
import type { ParamSpec } from "../../../stdlib/registry.js";
import { REPORT_NAMES, LOSS_NAMES } from "../../../stdlib/registry.js";
import type { Value } from "../values.js";
import { describeValue, shapeText } from "../values.js";
import { bindArgs } from "../bind-args.js";
import { didYouMean } from "../suggest.js";
import { emptyInstance } from "../instance.js";
import type { LayerOutput, Frame } from "./context.js";
import { Scope, declareLocal, ownerName, err, warn, sink } from "./context.js";
import { poolDecl, finishPools } from "./pool-decls.js";
import { routerDecl } from "./router-decls.js";
import { evalExpr, expectFloatTensor, evalCompileTime } from "./expressions.js";
import { sameShape } from "./shapes.js";
import * as emit from "./emit-ir.js";
import { checkCopies } from "./size-limits.js";

/** Runs a body's statements in order; `top` is the layer's own body, not an inner block. */
export function elaborateBody(body: A.Stmt[], frame: Frame, top: boolean): void {
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
  if (!checkCopies(n.v, s.count.span, frame, "iterate")) {
    runBlock(s.body, frame, frame.iterSuffix + ".0"); // its errors are still found
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
  if (n.t === "int" && n.v >= 1) {
    if (!checkCopies(n.v, s.count.span, frame, "repeat")) return;
    count = n.v;
  } else if (n.t !== "unknown" && n.t !== "error") err(frame, "E0252", `\`repeat\` takes a positive integer, found ${n.t === "int" ? n.v : describeValue(n)}`, s.count.span);
  if (from.t === "int" && from.v >= 0) start = from.v;
  else if (from.t !== "unknown" && from.t !== "error") err(frame, "E0253", `\`from\` takes a non-negative integer, found ${from.t === "int" ? from.v : describeValue(from)}`, s.from!.span);
  // The copies are identical: the body is checked once into a child instance named NAME.(K+i)
  // (its counts are multiplied by the copies). Lowering runs the body once per copy, under the
  // IR path NAME.(K+i).; each copy reads what the previous one assigned (`h = h + attn`), and
  // only the first copy's diagnostics are kept (the others would repeat them).
  const child = emptyInstance(s.as.name, "Repeat");
  const copyFrame = (i: number, instance: typeof child, diags: Frame["diags"]): Frame => ({
    ...frame, scope: new Scope(frame.scope), instance, iterSuffix: "", ownerNames: new Map(), pools: [], routers: [], diags,
    irPath: frame.emit ? emit.repeatPath(frame, s.as.name, start + i) : frame.irPath,
  });
  for (let i = 0; i < (frame.emit ? count : 1); i++) {
    const inner = i === 0 ? copyFrame(0, child, frame.diags) : copyFrame(i, emptyInstance(s.as.name, "Repeat"), []);
    elaborateBody(s.body, inner, false);
    finishLayer(inner);
  }
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
  emit.routerLoss(frame);
}

function reportStmt(s: A.ReportStmt, frame: Frame): void {
  for (const n of s.names) {
    if (!(REPORT_NAMES as readonly string[]).includes(n.name)) {
      err(frame, "E0255", `unknown statistic \`${n.name}\``, n.span, { label: "cannot report this", help: didYouMean(n.name, REPORT_NAMES) ?? `statistics: ${REPORT_NAMES.join(", ")}` });
    } else if (!frame.reports.includes(n.name)) frame.reports.push(n.name);
  }
  emit.routerReports(frame);
}

/** `return EXPR` or `return { name: EXPR, … }`: every output a `[T, D]` tensor. */
export function evalReturn(s: A.ReturnStmt, frame: Frame): LayerOutput {
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
export function finishLayer(frame: Frame): void {
  // After a syntax error the body may have lost the statements that used these declarations.
  const quiet = frame.decl.kind !== "Graph" && frame.decl.recovered === true;
  for (const r of frame.routers) {
    if (!r.usedBy && !r.referenced && r.valid && !quiet && !r.duplicate) warn(frame, "W0001", `router \`${r.name}\` does not feed any \`moe\` call`, r.decl.name.span, { help: `use it: \`moe(x, ${r.name}, POOL)\`` });
  }
  finishPools(frame, quiet);
}
