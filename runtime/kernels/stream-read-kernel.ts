// A plain streaming read: the yardstick of a decode step's bandwidth (runtime/bench/stream-read.ts).
// Every thread sums a grid-strided range of vec4<f32> words (neighbouring threads read
// neighbouring words, so each pass over the grid reads one contiguous block) and writes its sum
// to one word of `out`, so no read can be optimised away. It does no other work.

import { defineKernel, type ParamValues, read, write } from "./define-kernel.js";
import { WG_BUILTINS, WG_LINEAR } from "./wgsl-common.js";

export const STREAM_READ_WG = 256;
/** vec4 words each thread reads (about): enough work per thread to hide its start-up. */
const WORDS_PER_THREAD = 64;

const STREAM_READ_UNIFORMS = { n_vec4: "u32" } as const;

export function streamReadParams(nVec4: number): ParamValues<typeof STREAM_READ_UNIFORMS> {
  return { n_vec4: nVec4 };
}

/** Workgroups of a read over `nVec4` words (one dimension: at most 65 535). */
export function streamReadWorkgroups(nVec4: number): number {
  return Math.max(1, Math.min(65535, Math.ceil(nVec4 / (STREAM_READ_WG * WORDS_PER_THREAD))));
}

export function streamReadKernel() {
  return defineKernel({
    name: "stream_read",
    uniforms: STREAM_READ_UNIFORMS,
    buffers: { x: read("array<vec4<f32>>"), out: write("array<f32>") },
    body: /* wgsl */ `
@compute @workgroup_size(${STREAM_READ_WG})
fn main(${WG_BUILTINS}) {
  ${WG_LINEAR}
  let thread = wg_linear * ${STREAM_READ_WG}u + tid;
  let stride = nwg.x * nwg.y * nwg.z * ${STREAM_READ_WG}u;
  var acc = vec4<f32>(0.0);
  for (var i = thread; i < p.n_vec4; i += stride) { acc += x[i]; }
  out[thread] = acc.x + acc.y + acc.z + acc.w;
}
`,
  });
}
