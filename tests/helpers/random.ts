// Seeded random numbers for runtime tests: weights from N(0, 1/fan_in), unit-scale inputs.

import type { IrProgram } from "../../compiler/ir/ir.js";

/** mulberry32: small, fast, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function normal(r: () => number): number {
  // Box–Muller.
  const u = Math.max(r(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
}

export function normals(r: () => number, n: number, std = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = normal(r) * std;
  return out;
}

/** Every weight of the program from N(0, 1/fan_in) (fan_in = last dimension); state tensors 0. */
export function randomWeights(program: IrProgram, seed: number, opts: { biasStd?: number } = {}): Map<string, Float32Array> {
  const r = rng(seed);
  const w = new Map<string, Float32Array>();
  for (const t of program.weights) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.role === "state") {
      w.set(t.name, new Float32Array(n));
      continue;
    }
    const isBias = /\.(bias|b_up|b_gate|b_down)$/.test(t.name);
    const fanIn = t.shape[t.shape.length - 1]!;
    w.set(t.name, normals(r, n, isBias ? (opts.biasStd ?? 0.1) : 1 / Math.sqrt(fanIn)));
  }
  return w;
}
