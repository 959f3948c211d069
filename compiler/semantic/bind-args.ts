// Binds a call's written arguments to typed parameters (ParamSpec): positional in order, named by
// name, enum values from their vocabularies, ranges and defaults. Used for router stages, expert
// kinds and built-in blocks alike, so every one reports the same messages.
import type * as A from "../syntax/ast.js";
import type { ArgValues, ParamSpec } from "../../stdlib/registry.js";
import type { Value } from "./values.js";
import { describeValue } from "./values.js";
import { didYouMean } from "./suggest.js";

export interface BoundArgs {
  values: ArgValues;
  spans: Record<string, A.Span>;
  /** Whether every required parameter got a usable value (false after an error or an unknown). */
  complete: boolean;
}

export interface ArgSink {
  error(code: string, message: string, span: A.Span, extra?: { label?: string; help?: string }): void;
}

/**
 * @param evalValue evaluates an argument expression in the caller's scope (names → values).
 * @param what e.g. "router stage `topk`", for messages.
 */
export function bindArgs(
  args: A.Arg[],
  specs: readonly ParamSpec[],
  call: A.Call,
  what: string,
  evalValue: (e: A.Expr, spec: ParamSpec) => Value,
  sink: ArgSink,
): BoundArgs {
  const values: ArgValues = {};
  const spans: Record<string, A.Span> = {};
  let complete = true;
  const positional = specs.filter((s) => s.positional);
  let posIndex = 0;
  let sawNamed = false;
  /** A positional argument written after named ones: it was reported, so do not also call it missing. */
  let misplacedPositional = false;

  for (const arg of args) {
    let spec: ParamSpec | undefined;
    if (arg.name) {
      sawNamed = true;
      spec = specs.find((s) => s.name === arg.name!.name);
      if (!spec) {
        sink.error("E0300", `${what} has no parameter \`${arg.name.name}\``, arg.name.span, {
          label: "unknown parameter",
          help: didYouMean(arg.name.name, specs.map((s) => s.name)) ?? (specs.length ? `its parameters are ${specs.map((s) => "`" + s.name + "`").join(", ")}` : `it takes no arguments`),
        });
        complete = false;
        continue;
      }
    } else {
      if (sawNamed) {
        misplacedPositional = true;
        sink.error("E0301", `a positional argument cannot follow named arguments`, arg.span, { label: "positional after named" });
        complete = false;
        continue;
      }
      spec = positional[posIndex++];
      if (!spec) {
        const named = specs.filter((s) => !s.positional).map((s) => s.name);
        sink.error("E0302", `${what} takes ${positional.length === 0 ? "no positional arguments" : `at most ${positional.length} positional argument${positional.length > 1 ? "s" : ""}`}`, arg.span, {
          label: "unexpected argument",
          help: named.length ? `name it: ${named.map((n) => "`" + n + " = …`").join(", ")}` : undefined,
        });
        complete = false;
        continue;
      }
    }
    if (spec.name in spans) {
      sink.error("E0303", `parameter \`${spec.name}\` of ${what} is given twice`, arg.span, { label: "given again here" });
      complete = false;
      continue;
    }
    spans[spec.name] = arg.span;
    const v = convert(arg.value, spec, what, evalValue, sink);
    if (v === undefined) complete = false;
    else values[spec.name] = v;
  }

  for (const spec of specs) {
    if (spec.name in spans) continue;
    if (spec.default !== undefined) {
      values[spec.name] = spec.default;
    } else if (!spec.optional && !(misplacedPositional && spec.positional)) {
      sink.error("E0304", `${what} needs the argument \`${spec.name}\` (${spec.doc})`, call.span, {
        label: `\`${spec.name}\` missing`,
        help: `write \`${call.callee.name}(${spec.name} = …)\``,
      });
      complete = false;
    }
  }
  return { values, spans, complete };
}

function convert(
  expr: A.Expr,
  spec: ParamSpec,
  what: string,
  evalValue: (e: A.Expr, spec: ParamSpec) => Value,
  sink: ArgSink,
): number | boolean | string | undefined {
  if (spec.type === "enum") {
    if (expr.kind === "Call" && expr.args === undefined && spec.values!.includes(expr.callee.name)) return expr.callee.name;
    if (expr.kind === "String" && spec.values!.includes(expr.value)) return expr.value;
    // An enum may list `true`/`false` among its values (attention's `qk_norm = true`).
    if (expr.kind === "Bool" && spec.values!.includes(String(expr.value))) return String(expr.value);
    const written = expr.kind === "Call" ? expr.callee.name : undefined;
    sink.error("E0305", `\`${spec.name}\` of ${what} must be one of ${spec.values!.map((v) => "`" + v + "`").join(", ")}${written ? `, not \`${written}\`` : ""}`, expr.span, {
      label: "not a valid value",
      help: written ? didYouMean(written, spec.values!) : undefined,
    });
    return undefined;
  }
  const v = evalValue(expr, spec);
  if (v.t === "error" || v.t === "unknown") return undefined;
  switch (spec.type) {
    case "bool":
      if (v.t === "bool") return v.v;
      break;
    case "string":
      if (v.t === "string") return v.v;
      break;
    case "int":
      if (v.t === "int") return checkRange(v.v, spec, what, expr, sink);
      if (v.t === "float" && Number.isInteger(v.v)) {
        sink.error("E0306", `\`${spec.name}\` of ${what} must be an integer; write \`${v.v}\` without a decimal point`, expr.span, { label: "a float" });
        return undefined;
      }
      break;
    case "number":
      if (v.t === "int" || v.t === "float") return checkRange(v.v, spec, what, expr, sink);
      break;
  }
  sink.error("E0307", `\`${spec.name}\` of ${what} must be ${spec.type === "int" ? "an integer" : spec.type === "number" ? "a number" : spec.type === "bool" ? "`true` or `false`" : "a string"}, found ${describeValue(v)}`, expr.span, { label: "wrong type" });
  return undefined;
}

function checkRange(n: number, spec: ParamSpec, what: string, expr: A.Expr, sink: ArgSink): number | undefined {
  if (spec.min !== undefined && (spec.minExclusive ? n <= spec.min : n < spec.min)) {
    sink.error("E0308", `\`${spec.name}\` of ${what} must be ${spec.minExclusive ? "greater than" : "at least"} ${spec.min}, found ${n}`, expr.span, { label: "out of range" });
    return undefined;
  }
  if (spec.max !== undefined && n > spec.max) {
    sink.error("E0308", `\`${spec.name}\` of ${what} must be at most ${spec.max}, found ${n}`, expr.span, { label: "out of range" });
    return undefined;
  }
  return n;
}
