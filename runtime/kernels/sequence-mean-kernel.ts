// `per sequence` routing (LANGUAGE.md §11.1): the router's score stage reads the mean over the
// run's tokens of its input. This kernel writes that mean row into every row of a [T, width]
// buffer, so the one fused router kernel runs unchanged on it and every token gets the same
// decision and weights (ties, post-select stages and statistics included), with no broadcast pass
// of its own. One thread per column sums the run's T rows in f32, in row order.

import type { StorageDtype } from "../gpu/buffers.js";
import { defineKernel, type ParamValues, read, write } from "./define-kernel.js";
import { threadMain } from "./wgsl-common.js";

export const SEQUENCE_MEAN_WG = 64;

const UNIFORMS = { width: "u32" } as const;

export function sequenceMeanParams(width: number): ParamValues<typeof UNIFORMS> {
  return { width };
}

export function sequenceMeanKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `sequence-mean[${dtype}]`,
    dtype,
    uniforms: UNIFORMS,
    buffers: { x: read(), out: write() },
    body: /* wgsl */ `
${threadMain(SEQUENCE_MEAN_WG)}
  if (i >= p.width || run.T == 0u) { return; }
  var s = 0.0;
  for (var t = 0u; t < run.T; t++) { s += f32(x[t * p.width + i]); }
  let m = st(s / f32(run.T));
  for (var t = 0u; t < run.T; t++) { out[t * p.width + i] = m; }
}
`,
  });
}
