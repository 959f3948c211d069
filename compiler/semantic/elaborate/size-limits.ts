// Size limits of the checker: numbers, pools, tensors, copies, call depth and whole-declaration
// counts beyond what any device can hold (or any count can state exactly) are located errors
// naming the limit, decided before anything is materialised per member, copy or iteration.
// Every example, DeepSeek-V3 at full size included, is far inside them (docs/diagnostics.md E050x).
import type * as A from "../../syntax/ast.js";
import type { Owner } from "../values.js";
import { product } from "../values.js";
import type { Frame } from "./context.js";
import { err } from "./context.js";
import type { Instance } from "../instance.js";
import { countInstance } from "../count.js";

/** Experts in one pool, after `split` (PEER's 1024² = 1,048,576 atoms is the largest published). */
export const MAX_POOL_EXPERTS = 2 ** 20;
/** Elements of one weight tensor: 2^38 ≈ 2.7·10^11, 550 GB in bf16, more than any device's memory. */
export const MAX_TENSOR_ELEMENTS = 2 ** 38;
/** Parameters of one declaration with everything it calls: 2^45 ≈ 3.5·10^13 (DeepSeek-V3 has 6.7·10^11). */
export const MAX_TOTAL_WEIGHTS = 2 ** 45;
/** FLOPs per token of one declaration: beyond 2^53 a count is no longer an exact integer. */
export const MAX_FLOPS_PER_TOKEN = 2 ** 53;
/** Passes of one `iterate` and copies of one `repeat` (DeepSeek-V3 repeats 61 layers). */
export const MAX_COPIES = 4096;
/** Layer and graph calls nested inside one another (examples nest at most 4). */
export const MAX_CALL_DEPTH = 200;
/** Constants whose values wait on one another (`const a = b + 1`, `const b = c + 1`, …). */
export const MAX_CONST_DEPTH = 500;

const big = (n: number) => (Number.isSafeInteger(n) ? n.toLocaleString("en-US") : n.toExponential(3));

/** A compile-time number that is not finite, or an integer beyond 2^53: reported, undefined. */
export function checkNumber(v: number, isInt: boolean, span: A.Span, frame: Frame, what: string): boolean {
  if (!Number.isFinite(v)) {
    err(frame, "E0500", `${what} is not a finite number`, span, { label: "beyond ±1.8·10^308", help: "compile-time numbers are finite 64-bit floats" });
    return false;
  }
  if (isInt && !Number.isSafeInteger(v)) {
    err(frame, "E0500", `${what} is ${big(v)}, beyond the exact integer range (2^53 = 9,007,199,254,740,992)`, span, { label: "too large to be exact", help: "sizes are exact integers below 2^53; no device holds anything that large" });
    return false;
  }
  return true;
}

/** A pool of more than MAX_POOL_EXPERTS experts: reported at its size (or `split`). */
export function checkPoolSize(count: number, span: A.Span, frame: Frame, name: string): boolean {
  if (count <= MAX_POOL_EXPERTS) return true;
  err(frame, "E0501", `pool \`${name}\` has ${big(count)} experts; a pool holds at most ${big(MAX_POOL_EXPERTS)} (2^20)`, span, {
    label: "too many experts", help: "PEER's million atoms (1024²) is the largest pool moec counts, lowers and runs",
  });
  return false;
}

/** A weight tensor of more than MAX_TENSOR_ELEMENTS elements: reported at the owner, naming the tensor. */
export function checkOwnerTensors(owner: Owner, frame: Frame): boolean {
  const seen = new Set<unknown>();
  for (const member of owner.members) {
    if (seen.has(member)) continue; // a homogeneous pool's members share one list
    seen.add(member);
    for (const t of member) {
      const n = product(t.shape);
      if (n <= MAX_TENSOR_ELEMENTS) continue;
      err(frame, "E0502", `weight \`${owner.prefix}.${t.name}\` of shape [${t.shape.join(", ")}] has ${big(n)} elements; a tensor holds at most ${big(MAX_TENSOR_ELEMENTS)} (2^38)`, owner.span, {
        label: "tensor too large for any device", help: "check the sizes this weight is made of",
      });
      return false;
    }
  }
  return true;
}

/** A `repeat` or `iterate` count above MAX_COPIES: reported at the count. */
export function checkCopies(n: number, span: A.Span, frame: Frame, what: "iterate" | "repeat"): boolean {
  if (n <= MAX_COPIES) return true;
  err(frame, "E0504", `\`${what} ${big(n)}\`: at most ${big(MAX_COPIES)} ${what === "iterate" ? "passes" : "copies"}`, span, {
    label: `too many ${what === "iterate" ? "passes" : "copies"}`, help: "each pass or copy has its own weights and operations; DeepSeek-V3 repeats 61 layers",
  });
  return false;
}

/** Calls nested deeper than MAX_CALL_DEPTH: reported at the call that would go deeper. */
export function callTooDeep(depth: number, span: A.Span, frame: Frame): boolean {
  if (depth < MAX_CALL_DEPTH) return false;
  err(frame, "E0505", `layer and graph calls nest more than ${MAX_CALL_DEPTH} deep here`, span, {
    label: "one call too deep", help: "flatten the chain: call the layers one after another in a `model` (or `repeat` them)",
  });
  return true;
}

/** A constant defined through more than MAX_CONST_DEPTH others not yet evaluated: reported at its name. */
export function constsTooDeep(depth: number, span: A.Span, frame: Frame): boolean {
  if (depth < MAX_CONST_DEPTH) return false;
  err(frame, "E0505", `constants are defined through more than ${MAX_CONST_DEPTH} others here`, span, {
    label: "one constant too deep", help: "define the constants in fewer steps (each may use any number of others)",
  });
  return true;
}

/** A declaration whose weights or FLOPs per token exceed the limits: reported at its name. */
export function checkTotals(instance: Instance, decl: A.LayerDecl | A.GraphDecl, frame: Frame): void {
  const c = countInstance(instance);
  if (c.total > MAX_TOTAL_WEIGHTS) {
    err(frame, "E0503", `\`${decl.name.name}\` has ${big(c.total)} weights; a program holds at most ${big(MAX_TOTAL_WEIGHTS)} (2^45)`, decl.name.span, {
      label: "too many weights for any device", help: "check its sizes, pool sizes and repeat counts",
    });
  } else if (c.flops > MAX_FLOPS_PER_TOKEN) {
    err(frame, "E0503", `\`${decl.name.name}\` needs ${big(c.flops)} FLOPs per token; a count beyond 2^53 is not exact`, decl.name.span, {
      label: "too many FLOPs per token", help: "check its sizes and iterate counts",
    });
  }
}
