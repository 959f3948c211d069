// Small builders for the model-block descriptors (IrAttention, IrMla, IrRope) and their weights,
// for tests of the attention reference: defaults as §13 gives them, every field overridable.
import { expect } from "vitest";
import type { IrAttention, IrMla, IrRope } from "../../compiler/ir/ir.js";

export type Yarn = NonNullable<IrRope["yarn"]>;

export const yarn = (factor: number, original: number, mscale = 1, mscaleAllDim = 0): Yarn => ({ factor, original, betaFast: 32, betaSlow: 1, mscale, mscaleAllDim });

export const rope = (kind: IrRope["kind"], dim: number, theta = 10000, y?: Yarn): IrRope => ({ kind, theta, dim, ...(y ? { yarn: y } : {}) });

export const attn = (o: Partial<IrAttention> & Pick<IrAttention, "heads" | "kvHeads" | "headDim" | "rope">): IrAttention => ({
  key: "a",
  bias: false,
  qkNorm: "none",
  qkEps: 1e-6,
  window: 0,
  ...o,
});

export const mlaDesc = (o: Partial<IrMla> & Pick<IrMla, "heads" | "qRank" | "kvRank" | "nopeDim" | "ropeDim" | "vDim" | "rope">): IrMla => ({ key: "m", normEps: 1e-6, ...o });

/** Weights of one block: `{ wq: [...] }` under key `a` → Map `a.wq` → values. */
export function blockMap(key: string, tensors: Record<string, number[]>): Map<string, Float64Array> {
  return new Map(Object.entries(tensors).map(([n, v]) => [`${key}.${n}`, Float64Array.from(v)]));
}

/** The n × n identity, row-major. */
export const eye = (n: number): number[] => Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));

/** Row-major [rows, cols] from its columns: column t of W is what W·x gives for x = e_t. */
export function fromColumns(columns: number[][]): number[] {
  const rows = columns[0]!.length;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) for (const c of columns) out.push(c[r]!);
  return out;
}

/** T rows of width D, flattened. */
export const rowsOf = (...rows: number[][]): Float64Array => Float64Array.from(rows.flat());

/** Each value within 10^−digits / 2 of its hand-derived counterpart (vitest's toBeCloseTo), lengths equal. */
export function expectValues(got: ArrayLike<number>, want: number[], digits = 13): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => expect(got[i]!, `[${i}]`).toBeCloseTo(w, digits));
}
