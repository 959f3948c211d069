// The kernels around an agents-pool member (LANGUAGE.md §11.1, lower-moe-agents.ts): compaction
// of the tokens routed to member j in position order (rows, their weights and the count, which
// becomes the member's run.T), the gather of those rows of x, and the weighted scatter-add of the
// member's output rows back to their tokens. The gather and scatter run under the pool's run
// uniform (grids sized by the run's T) and read the count from storage.

import type { StorageDtype } from "../gpu/buffers.js";
import { defineKernel, type ParamValues, read, write } from "./define-kernel.js";
import { threadMain } from "./wgsl-common.js";

export const AGENT_WG = 256;

const SELECT_UNIFORMS = { member: "u32", max_k: "u32" } as const;

export function agentSelectParams(member: number, maxK: number): ParamValues<typeof SELECT_UNIFORMS> {
  return { member, max_k: maxK };
}

/**
 * One thread walks the run's tokens in order and keeps those whose selection holds the member:
 * rows[n] = t, rw[n] = that slot's weight; then cnt = [n, 0, 0, 0], the layout of the run uniform
 * (T, pos0, …), so a copy makes it the member's run.T. O(T·k) serial work: the counts of all
 * members are small next to the members' own GEMMs at the sizes this runs; a parallel scan is the
 * upgrade path.
 */
export function agentSelectKernel() {
  return defineKernel({
    name: "agent-select",
    uniforms: SELECT_UNIFORMS,
    buffers: { tok_count: read("array<u32>"), ids: read("array<u32>"), wts: read("array<f32>"), rows: write("array<u32>"), rw: write("array<f32>"), cnt: write("array<u32>") },
    body: /* wgsl */ `
@compute @workgroup_size(1)
fn main() {
  var n = 0u;
  for (var t = 0u; t < run.T; t++) {
    let c = tok_count[t];
    for (var k = 0u; k < c; k++) {
      let slot = t * p.max_k + k;
      if (ids[slot] == p.member) {
        rows[n] = t;
        rw[n] = wts[slot];
        n++;
      }
    }
  }
  cnt[0] = n;
  cnt[1] = 0u;
  cnt[2] = 0u;
  cnt[3] = 0u;
}
`,
  });
}

const ROW_UNIFORMS = { width: "u32" } as const;

export function agentRowParams(width: number): ParamValues<typeof ROW_UNIFORMS> {
  return { width };
}

/** out[r] = x[rows[r]] for r < cnt[0] (the member's input, compacted). */
export function agentGatherKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `agent-gather[${dtype}]`,
    dtype,
    uniforms: ROW_UNIFORMS,
    buffers: { x: read(), rows: read("array<u32>"), cnt: read("array<u32>"), out: write() },
    body: /* wgsl */ `
${threadMain(AGENT_WG)}
  if (i >= run.T * p.width) { return; }
  let r = i / p.width;
  if (r >= cnt[0]) { return; }
  out[i] = x[rows[r] * p.width + i % p.width];
}
`,
  });
}

/** out[rows[r]] += rw[r] · y[r] for r < cnt[0]: rows are distinct tokens, so no two threads meet. */
export function agentScatterKernel(dtype: StorageDtype) {
  return defineKernel({
    name: `agent-scatter[${dtype}]`,
    dtype,
    uniforms: ROW_UNIFORMS,
    buffers: { y: read(), rows: read("array<u32>"), rw: read("array<f32>"), cnt: read("array<u32>"), out: write() },
    body: /* wgsl */ `
${threadMain(AGENT_WG)}
  if (i >= run.T * p.width) { return; }
  let r = i / p.width;
  if (r >= cnt[0]) { return; }
  let o = rows[r] * p.width + i % p.width;
  out[o] = st(f32(out[o]) + rw[r] * f32(y[i]));
}
`,
  });
}
