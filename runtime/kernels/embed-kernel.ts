// Embedding gather (the IR's `embed`): out[t, d] = W[ids[t], d], one thread per element. W may be
// bound as a chunk of rows [g0, g1) when the table is above the binding limit (150k × 2048 f32 is
// 1.2 GB): a dispatch writes only the rows whose id falls in its chunk, so a table costs one
// dispatch per chunk. Ids were range-checked on the host (an id outside the vocabulary is an
// error naming the position before anything runs).

import type { StorageDtype } from "../gpu/buffers.js";
import { defineKernel, read, write } from "./define-kernel.js";
import { threadMain } from "./wgsl-common.js";

export const EMBED_WG = 256;

export function embedKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `embed[${dtype}]`,
    dtype,
    uniforms: { D: "u32", g0: "u32", g1: "u32" },
    buffers: { ids: read("array<i32>"), weight: read(), out: write() },
    body: /* wgsl */ `
${threadMain(EMBED_WG)}
  if (i >= run.T * p.D) { return; }
  let t = i / p.D;
  let d = i % p.D;
  let id = u32(ids[t]);
  if (id >= p.g0 && id < p.g1) { out[i] = weight[(id - p.g0) * p.D + d]; }
}
`,
  });
}
