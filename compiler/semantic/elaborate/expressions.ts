// Expressions: literals, negation, binary arithmetic on numbers and tensors, compile-time values,
// dimensions in tensor types, and top-level constants.
import type * as A from "../../syntax/ast.js";
import type { Diagnostic } from "../../diagnostics/diagnostic.js";
import type { Value, Dim } from "../values.js";
import { describeValue, shapeText } from "../values.js";
import { emptyInstance } from "../instance.js";
import type { BinaryFn } from "../../ir/ir.js";
import { UNKNOWN_DIM, dimEq } from "./shapes.js";
import type { ElabContext, Frame } from "./context.js";
import { Scope, err } from "./context.js";
import { evalCall } from "./calls.js";
import * as emit from "./emit-ir.js";
import { checkNumber, constsTooDeep } from "./size-limits.js";

/** Evaluates an expression; `owner` is the `let` name when the expression is a let's right-hand side. */
export function evalExpr(e: A.Expr, frame: Frame, owner?: A.Ident): Value {
  switch (e.kind) {
    case "Number":
      return numberValue(e, frame);
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
      if (v.t === "tensor") return tensorScalar(frame, "mul", v, -1, false, e);
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
  if (a.t === "tensor" && isNum(b)) return tensorScalar(frame, fn, a, b.v, false, e);
  if (isNum(a) && b.t === "tensor") return tensorScalar(frame, fn, b, a.v, true, e);
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
    out.ir = emit.binary(frame, e.op, fn, a, b, width);
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
  const r = arithUnchecked(fn, a, b, e, frame);
  if ((r.t === "int" || r.t === "float") && !checkNumber(r.v, r.t === "int", e.opSpan, frame, `the result of \`${e.op}\``)) return { t: "error" };
  return r;
}

function arithUnchecked(fn: BinaryFn, a: Extract<Value, { t: "int" | "float" }>, b: Extract<Value, { t: "int" | "float" }>, e: A.Binary, frame: Frame): Value {
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

/** `tensor OP number` or `number OP tensor` (`scalarFirst`): checked here, lowered to a scalar op. */
function tensorScalar(frame: Frame, fn: BinaryFn, x: Extract<Value, { t: "tensor" }>, value: number, scalarFirst: boolean, e: A.Binary | A.Unary): Value {
  if (x.width === undefined) {
    err(frame, "E0274", "token ids `[T]` can only be passed to `embed`", e.span);
    return { t: "error" };
  }
  if (fn === "div" && !scalarFirst && value === 0) {
    err(frame, "E0277", "division by zero", e.kind === "Binary" ? e.right.span : e.span);
    return { t: "error" };
  }
  const out: Value = { t: "tensor", tokens: x.tokens, width: x.width };
  out.ir = emit.scalar(frame, fn, x, value, scalarFirst);
  return out;
}

/** True for a `[T, D]` tensor; otherwise reports (unless already poisoned) and returns false. */
export function expectFloatTensor(v: Value, span: A.Span, frame: Frame, what: string): boolean {
  if (v.t === "tensor" && v.width !== undefined) return true;
  if (v.t === "error" || v.t === "unknown") return false;
  if (v.t === "tensor") {
    err(frame, "E0274", `${what} must be a [T, D] tensor; token ids [T] can only be passed to \`embed\``, span);
    return false;
  }
  err(frame, "E0288", `${what} must be a tensor, found ${describeValue(v)}`, span);
  return false;
}

/** Evaluates an expression that must be known at compile time (sizes, stage arguments). */
export function evalCompileTime(e: A.Expr, frame: Frame): Value {
  const v = evalExpr(e, frame);
  if (v.t === "tensor") {
    err(frame, "E0279", "expected a compile-time value (a number, constant or hyper-parameter), found a tensor", e.span);
    return { t: "error" };
  }
  return v;
}

/** A dimension in a tensor type: a number, a hyper-parameter or constant, or a symbolic name. */
export function evalDim(e: A.Expr, frame: Frame): Dim {
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

/** Constants being evaluated at once, per checker: each waits for the ones its value names. */
const pendingConsts = new WeakMap<ElabContext, number>();

/** A top-level constant's value, evaluated once in its own file; a cycle is an error. */
export function constValue(decl: A.ConstDecl, file: string, frame: Frame): Value {
  const cached = frame.ctx.constCache.get(decl);
  if (cached === "pending") {
    err(frame, "E0258", `constant \`${decl.name.name}\` is defined in terms of itself`, decl.name.span);
    return { t: "error" };
  }
  if (cached) return cached;
  const depth = pendingConsts.get(frame.ctx) ?? 0;
  if (constsTooDeep(depth, decl.name.span, frame)) return { t: "error" };
  frame.ctx.constCache.set(decl, "pending");
  const cframe: Frame = { ...frame, file, scope: new Scope(), emit: undefined };
  pendingConsts.set(frame.ctx, depth + 1);
  let v: Value;
  try {
    v = evalCompileTime(decl.value, cframe);
  } finally {
    pendingConsts.set(frame.ctx, depth);
  }
  const ok = v.t === "int" || v.t === "float" || v.t === "bool" || v.t === "string" || v.t === "error";
  if (!ok) err(cframe, "E0259", `a constant must be a number, boolean or string, found ${describeValue(v)}`, decl.value.span);
  const value: Value = ok ? v : { t: "error" };
  frame.ctx.constCache.set(decl, value);
  return value;
}

/** Checks a top-level constant on its own (so unused constants are still checked). */
export function checkConst(ctx: ElabContext, decl: A.ConstDecl, file: string): Diagnostic[] {
  const frame: Frame = {
    ctx, file, decl: { kind: "Layer", name: decl.name, params: [], body: [], endSpan: decl.span, span: decl.span },
    scope: new Scope(), instance: emptyInstance("", "Layer"), iterSuffix: "", irPath: "", isModel: false, diags: [],
    ownerNames: new Map(), pools: [], routers: [], reports: [], loss: {}, irRouters: [], agentCounter: { n: 0 },
  };
  frame.ctx.constCache.delete(decl);
  constValue(decl, file, frame);
  return frame.diags;
}

function numberValue(e: A.NumberLit, frame: Frame): Value {
  if (!checkNumber(e.value, !e.isFloat, e.span, frame, `the number \`${frame.ctx.unit.files.get(frame.file)?.text.slice(e.span.start, e.span.end) ?? e.value}\``)) return { t: "error" };
  if (!e.isFloat) return { t: "int", v: e.value };
  return { t: "float", v: e.value };
}

function isNum(v: Value): v is Extract<Value, { t: "int" | "float" }> {
  return v.t === "int" || v.t === "float";
}
