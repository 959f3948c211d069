// Elementwise kernels for the IR's `unary` (all but softmax), `binary` (either operand may have
// width 1: broadcast along the last dimension) and `scalar` ops. One thread per element; the
// function is a uniform code, so each kind is ONE pipeline per storage dtype.

import type { StorageDtype } from "../gpu/buffers.js";
import { type BufferDecl, defineKernel, type ParamValues, read, type UniformType, write } from "./define-kernel.js";
import { ACT_CODE, ACT_WGSL, threadMain } from "./wgsl-common.js";

export const ELEMENTWISE_WG = 256;
export type ElementwiseUnary = "sigmoid" | "silu" | "gelu" | "relu" | "neg";
export type BinaryOp = "add" | "sub" | "mul" | "div";

/** Codes of `arith` below. */
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

/** One thread per element i < T·width; `inputs` are read, `out` written. */
function elementwise<const U extends Record<string, UniformType>, const B extends Record<string, BufferDecl>>(
  name: string,
  dtype: StorageDtype,
  uniforms: U,
  inputs: B,
  body: string,
) {
  return defineKernel({
    name,
    dtype,
    uniforms,
    buffers: { ...inputs, out: write() },
    body: /* wgsl */ `${ACT_WGSL}
${ARITH_WGSL}
${threadMain(ELEMENTWISE_WG)}
  if (i >= run.T * p.width) { return; }
  ${body}
}
`,
  });
}

const UNARY_UNIFORMS = { width: "u32", fn_code: "u32" } as const;

export function unaryParams(fn: ElementwiseUnary, width: number): ParamValues<typeof UNARY_UNIFORMS> {
  return { width, fn_code: ACT_CODE[fn] };
}

export function unaryKernel(dtype: StorageDtype) {
  return elementwise(`unary[${dtype}]`, dtype, UNARY_UNIFORMS, { x: read() }, `out[i] = st(act_f32(p.fn_code, f32(x[i])));`);
}

const BINARY_UNIFORMS = { width: "u32", aw: "u32", bw: "u32", fn_code: "u32" } as const;

/** Params for an output of `width` from operands of widths aw, bw (1 = broadcast). */
export function binaryParams(fn: BinaryOp, width: number, aw: number, bw: number): ParamValues<typeof BINARY_UNIFORMS> {
  return { width, aw, bw, fn_code: BIN_CODE[fn] };
}

export function binaryKernel(dtype: StorageDtype) {
  return elementwise(
    `binary[${dtype}]`,
    dtype,
    BINARY_UNIFORMS,
    { a: read(), b: read() },
    `let t = i / p.width; let j = i % p.width;
  let av = f32(a[t * p.aw + select(j, 0u, p.aw == 1u)]);
  let bv = f32(b[t * p.bw + select(j, 0u, p.bw == 1u)]);
  out[i] = st(arith(p.fn_code, av, bv));`,
  );
}

const SCALAR_UNIFORMS = { width: "u32", fn_code: "u32", scalar_first: "u32", c: "f32" } as const;

/** `x op c` or, with scalarFirst, `c op x`. */
export function scalarParams(fn: BinaryOp, value: number, scalarFirst: boolean, width: number): ParamValues<typeof SCALAR_UNIFORMS> {
  return { width, fn_code: BIN_CODE[fn], scalar_first: scalarFirst ? 1 : 0, c: value };
}

export function scalarKernel(dtype: StorageDtype) {
  return elementwise(
    `scalar[${dtype}]`,
    dtype,
    SCALAR_UNIFORMS,
    { x: read() },
    `let v = f32(x[i]);
  out[i] = st(select(arith(p.fn_code, v, p.c), arith(p.fn_code, p.c, v), p.scalar_first != 0u));`,
  );
}
