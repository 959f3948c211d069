// Tolerance checks for GPU-vs-reference comparisons: |gpu − ref| ≤ atol + rtol·|ref|.

export interface ErrorReport {
  maxAbs: number;
  maxRel: number;
  worstIndex: number;
  /** Largest (|gpu − ref| − rtol·|ref|): ≤ atol means within tolerance. */
  excess: number;
}

export function compare(gpu: ArrayLike<number>, ref: ArrayLike<number>, rtol = 1e-4): ErrorReport {
  if (gpu.length !== ref.length) throw new Error(`length mismatch: gpu ${gpu.length}, reference ${ref.length}`);
  let maxAbs = 0;
  let maxRel = 0;
  let worstIndex = -1;
  let excess = 0;
  for (let i = 0; i < ref.length; i++) {
    const g = gpu[i]!;
    const r = ref[i]!;
    const d = Math.abs(g - r);
    if (!(d <= maxAbs) || Number.isNaN(g)) {
      maxAbs = Number.isNaN(g) ? Infinity : d;
      worstIndex = i;
    }
    if (Math.abs(r) > 1e-3) maxRel = Math.max(maxRel, d / Math.abs(r));
    excess = Math.max(excess, Number.isNaN(g) ? Infinity : d - rtol * Math.abs(r));
  }
  return { maxAbs, maxRel, worstIndex, excess };
}

export function expectClose(gpu: ArrayLike<number>, ref: ArrayLike<number>, atol = 2e-4, rtol = 1e-4, what = "values"): ErrorReport {
  const rep = compare(gpu, ref, rtol);
  if (rep.excess > atol) {
    const i = rep.worstIndex;
    throw new Error(`${what}: max |gpu − ref| = ${rep.maxAbs.toExponential(3)} at [${i}] (gpu ${gpu[i]}, ref ${ref[i]}), above ${atol} + ${rtol}·|ref|`);
  }
  return rep;
}
