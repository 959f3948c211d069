// Dimensions: the unknown dimension, shape comparisons that let it match anything, and the error
// for weights sized by a symbolic dimension.
import type * as A from "../../syntax/ast.js";
import type { Value, Dim } from "../values.js";
import type { Frame } from "./context.js";
import { err } from "./context.js";

/** Unknown dimension (a hyper-parameter without a value while checking at defaults). */
export const UNKNOWN_DIM = "?";

/** Equal dimensions, where the unknown dimension matches anything. */
export function dimEq(a: Dim, b: Dim): boolean {
  return a === b || a === UNKNOWN_DIM || b === UNKNOWN_DIM;
}

/** Same tensor shape: both token ids `[T]` or both `[T, D]`, dimensions by `dimEq`. */
export function sameShape(a: Extract<Value, { t: "tensor" }>, b: Extract<Value, { t: "tensor" }>): boolean {
  if ((a.width === undefined) !== (b.width === undefined)) return false;
  return dimEq(a.tokens, b.tokens) && (a.width === undefined || dimEq(a.width, b.width!));
}

/** Weights need fixed sizes; a symbolic dimension like `T` cannot size them. */
export function symbolicWeightError(frame: Frame, dim: string, span: A.Span, what: string): void {
  err(frame, "E0292", `the weights of ${what} would be sized by the symbolic dimension \`${dim}\``, span, {
    help: `declare \`${dim}\` as a hyper-parameter of the layer (e.g. \`${dim} = 1024\`), so that weights have a fixed size`,
  });
}
