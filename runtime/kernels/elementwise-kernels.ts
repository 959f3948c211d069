// Elementwise kernels for the IR's `unary` (all but softmax), `binary` (either operand may have
// width 1: broadcast along the last dimension) and `scalar` ops. One thread per element.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { ACT_WGSL, actExpr, f32Lit, header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const ELEMENTWISE_WG = 256;
export type ElementwiseUnary = "sigmoid" | "silu" | "gelu" | "relu" | "neg";
export type BinaryOp = "add" | "sub" | "mul" | "div";

const OPS: Record<BinaryOp, string> = { add: "+", sub: "-", mul: "*", div: "/" };

function elementwise(name: string, dtype: StorageDtype, inputs: string[], paramsStruct: string, body: string): KernelSpec {
  const decl = inputs.map((n, i) => `@group(0) @binding(${i + 2}) var<storage, read> ${n}: array<st>;`).join("\n");
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { ${paramsStruct} }
@group(0) @binding(1) var<uniform> p: Params;
${decl}
@group(0) @binding(${inputs.length + 2}) var<storage, read_write> out: array<st>;
${ACT_WGSL}
@compute @workgroup_size(${ELEMENTWISE_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let i = wg_linear * ${ELEMENTWISE_WG}u + tid;
  if (i >= run.T * p.width) { return; }
  ${body}
}
`;
  return {
    name,
    code,
    entryPoint: "main",
    bindings: [
      { name: "run", kind: "uniform" },
      { name: "params", kind: "uniform" },
      ...inputs.map((n) => ({ name: n, kind: "read" as const })),
      { name: "out", kind: "storage" },
    ],
  };
}

/** Params: [width]. */
export function unaryKernel(fn: ElementwiseUnary, dtype: StorageDtype): KernelSpec {
  const expr = fn === "neg" ? "-v" : actExpr(fn, "v");
  return elementwise(`unary[${fn},${dtype}]`, dtype, ["x"], "width: u32, _a: u32, _b: u32, _c: u32", `let v = f32(x[i]); out[i] = st(${expr});`);
}

/** Params: [width (of the output), aWidth, bWidth]; a width-1 operand is broadcast. */
export function binaryKernel(fn: BinaryOp, dtype: StorageDtype): KernelSpec {
  return elementwise(
    `binary[${fn},${dtype}]`,
    dtype,
    ["a", "b"],
    "width: u32, aw: u32, bw: u32, _c: u32",
    `let t = i / p.width; let j = i % p.width;
  let av = f32(a[t * p.aw + select(j, 0u, p.aw == 1u)]);
  let bv = f32(b[t * p.bw + select(j, 0u, p.bw == 1u)]);
  out[i] = st(av ${OPS[fn]} bv);`,
  );
}

/** `x op c` or, with scalarFirst, `c op x`; the constant is baked (it is a program literal). */
export function scalarKernel(fn: BinaryOp, value: number, scalarFirst: boolean, dtype: StorageDtype): KernelSpec {
  const c = f32Lit(value);
  const expr = scalarFirst ? `${c} ${OPS[fn]} v` : `v ${OPS[fn]} ${c}`;
  return elementwise(`scalar[${expr.replace("v", "x")},${dtype}]`, dtype, ["x"], "width: u32, _a: u32, _b: u32, _c: u32", `let v = f32(x[i]); out[i] = st(${expr});`);
}
