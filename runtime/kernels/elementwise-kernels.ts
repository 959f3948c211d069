// Elementwise kernels for the IR's `unary` (all but softmax), `binary` (either operand may have
// width 1: broadcast along the last dimension) and `scalar` ops. One thread per element; the
// function is a uniform code, so each kind is ONE pipeline per storage dtype.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { ACT_CODE, ACT_WGSL, f32Bits, header, RUN_STRUCT, WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const ELEMENTWISE_WG = 256;
export type ElementwiseUnary = "sigmoid" | "silu" | "gelu" | "relu" | "neg";
export type BinaryOp = "add" | "sub" | "mul" | "div";

const BIN_CODE: Record<BinaryOp, number> = { add: 0, sub: 1, mul: 2, div: 3 };

const ARITH_WGSL = `
fn arith(code: u32, a: f32, b: f32) -> f32 {
  switch code {
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return a / b; }
    default: { return a + b; }
  }
}
`;

function elementwise(name: string, dtype: StorageDtype, inputs: string[], paramsStruct: string, body: string): KernelSpec {
  const decl = inputs.map((n, i) => `@group(0) @binding(${i + 2}) var<storage, read> ${n}: array<st>;`).join("\n");
  const code = `${header(dtype)}
${RUN_STRUCT}
struct Params { ${paramsStruct} }
@group(0) @binding(1) var<uniform> p: Params;
${decl}
@group(0) @binding(${inputs.length + 2}) var<storage, read_write> out: array<st>;
${ACT_WGSL}
${ARITH_WGSL}
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

export function unaryParams(fn: ElementwiseUnary, width: number): number[] {
  return [width, ACT_CODE[fn], 0, 0];
}

export function unaryKernel(dtype: StorageDtype): KernelSpec {
  return elementwise(`unary[${dtype}]`, dtype, ["x"], "width: u32, fn_code: u32, _b: u32, _c: u32", `out[i] = st(act_f32(p.fn_code, f32(x[i])));`);
}

/** Params for an output of `width` from operands of widths aw, bw (1 = broadcast). */
export function binaryParams(fn: BinaryOp, width: number, aw: number, bw: number): number[] {
  return [width, aw, bw, BIN_CODE[fn]];
}

export function binaryKernel(dtype: StorageDtype): KernelSpec {
  return elementwise(
    `binary[${dtype}]`,
    dtype,
    ["a", "b"],
    "width: u32, aw: u32, bw: u32, fn_code: u32",
    `let t = i / p.width; let j = i % p.width;
  let av = f32(a[t * p.aw + select(j, 0u, p.aw == 1u)]);
  let bv = f32(b[t * p.bw + select(j, 0u, p.bw == 1u)]);
  out[i] = st(arith(p.fn_code, av, bv));`,
  );
}

/** `x op c` or, with scalarFirst, `c op x`. */
export function scalarParams(fn: BinaryOp, value: number, scalarFirst: boolean, width: number): number[] {
  return [width, BIN_CODE[fn], scalarFirst ? 1 : 0, f32Bits(value)];
}

export function scalarKernel(dtype: StorageDtype): KernelSpec {
  return elementwise(
    `scalar[${dtype}]`,
    dtype,
    ["x"],
    "width: u32, fn_code: u32, scalar_first: u32, c: f32",
    `let v = f32(x[i]);
  out[i] = st(select(arith(p.fn_code, v, p.c), arith(p.fn_code, p.c, v), p.scalar_first != 0u));`,
  );
}
