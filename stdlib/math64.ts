// float64 scalar and vector math for every reference (the interpreter, expert kinds, upcycling).
// Written independently of the WGSL kernels: erf here is a Taylor series / continued fraction
// good to ~1e-15.

import { sigmoid64, softmax64, logSoftmax64 } from "./stages/std-spec.js";

/** erf(x) to ~1e-15: Maclaurin series for |x| < 3, Lentz continued fraction of erfc beyond. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    let sum = x;
    let term = x;
    const x2 = x * x;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const c = term / (2 * n + 1);
      sum += c;
      if (Math.abs(c) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 27) return Math.sign(x);
  // erfc(z) = exp(-z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …))))
  let f = ax;
  let C = ax;
  let D = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    D = 1 / (ax + a * D);
    C = ax + a / C;
    const d = C * D;
    f *= d;
    if (Math.abs(d - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x > 0 ? 1 - erfc : erfc - 1;
}

// The row functions are the std stage specs' own (one float64 implementation).
export const sigmoid = sigmoid64;
export const silu = (x: number): number => x * sigmoid(x);
export const gelu = (x: number): number => 0.5 * x * (1 + erf(x / Math.SQRT2));
export const relu = (x: number): number => (x > 0 ? x : 0);
export const softmax = softmax64;
export const logSoftmax = logSoftmax64;

export function matVec(W: ArrayLike<number>, off: number, rows: number, cols: number, x: ArrayLike<number>, b?: ArrayLike<number>, bOff = 0): Float64Array {
  const y = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = b ? b[bOff + r]! : 0;
    const base = off + r * cols;
    for (let c = 0; c < cols; c++) s += W[base + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

export const dot = (a: ArrayLike<number>, b: ArrayLike<number>, bOff = 0): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[bOff + i]!;
  return s;
};
