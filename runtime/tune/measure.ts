// Timing a class's candidates: each is run once to warm up (its pipelines compile there) and its
// output compared with the first candidate's (so a kernel that computes the wrong answer cannot
// win, however fast); then the eligible ones are timed round-robin, `reps` rounds of one run each,
// so a change in the machine's load falls on every candidate alike; a time is the median. The
// runner says how a candidate is run and timed (GPU timestamps or wall clock: gemm-problem.ts).

import { sameShape, shapeName, type TunedShape } from "./tuned-shape.js";
import type { CandidateTime } from "./tuning-table.js";

export interface CandidateRun {
  output: Float32Array;
  /** Milliseconds of this run. */
  ms: number;
}

export interface MeasureOptions {
  warmup: number;
  reps: number;
  /** Agreement with the first candidate's output: |a − b| ≤ atol + rtol·|b|. */
  rtol: number;
  atol: number;
  /** How much faster than the first candidate (the fallback) another must be to be chosen: 0.05 =
   *  5 %. Timing noise on a shared machine is of that order; below it the fallback stays. */
  margin: number;
  /** Called before each candidate (progress on a terminal). */
  onCandidate?(shape: TunedShape, index: number, count: number): void;
}

export interface Measured {
  candidates: CandidateTime[];
  /** The fastest eligible candidate, or the first where none beats it by the margin. */
  best: { shape: TunedShape; ms: number };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Where `got` first leaves the tolerance around `want`, as a message, or undefined. */
export function outputMismatch(got: Float32Array, want: Float32Array, rtol: number, atol: number): string | undefined {
  if (got.length !== want.length) return `output has ${got.length} values, the first candidate's ${want.length}`;
  for (let i = 0; i < got.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (!(Math.abs(g - w) <= atol + rtol * Math.abs(w))) return `output[${i}] = ${g}, the first candidate's ${w}`;
  }
  return undefined;
}

/** A candidate made ready to run (its executor built); `close` frees it. */
export interface OpenCandidate {
  run(): Promise<CandidateRun>;
  close(): void;
}

/** Times every candidate (the first is the reference output: put the fallback there). */
export async function measureCandidates(shapes: readonly TunedShape[], open: (shape: TunedShape) => Promise<OpenCandidate>, o: MeasureOptions): Promise<Measured> {
  if (shapes.length === 0) throw new Error("internal: no candidates to measure");
  const unique = shapes.filter((s, i) => shapes.findIndex((t) => sameShape(s, t)) === i);
  const rejected = new Map<TunedShape, string>();
  const opened: { shape: TunedShape; c: OpenCandidate; times: number[] }[] = [];
  let reference: Float32Array | undefined;
  try {
    for (const [i, shape] of unique.entries()) {
      o.onCandidate?.(shape, i, unique.length);
      const c = await open(shape);
      opened.push({ shape, c, times: [] });
      let first = await c.run();
      for (let w = 1; w < o.warmup; w++) first = await c.run();
      reference ??= first.output;
      const wrong = outputMismatch(first.output, reference, o.rtol, o.atol);
      if (wrong) {
        opened.pop();
        c.close();
        rejected.set(shape, wrong);
      }
    }
    for (let r = 0; r < o.reps; r++) for (const x of opened) x.times.push((await x.c.run()).ms);
  } finally {
    for (const x of opened) x.c.close();
  }
  const candidates: CandidateTime[] = unique.map((shape) => {
    const why = rejected.get(shape);
    return why !== undefined ? { shape, rejected: why } : { shape, ms: median(opened.find((x) => x.shape === shape)!.times) };
  });
  const eligible = candidates.filter((c): c is CandidateTime & { ms: number } => c.ms !== undefined);
  // The first candidate disagrees with itself only when its output is not finite.
  if (eligible.length === 0) throw new Error(`the reference candidate ${shapeName(unique[0]!)} produced a non-finite output (${candidates[0]!.rejected})`);
  const fastest = eligible.reduce((a, b) => (b.ms < a.ms ? b : a));
  const first = candidates[0]!;
  const best = first.ms !== undefined && fastest.ms * (1 + o.margin) > first.ms ? (first as typeof fastest) : fastest;
  return { candidates, best: { shape: best.shape, ms: best.ms } };
}
