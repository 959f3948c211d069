// Writes this run's key/value rows into a KV cache (generation, docs/generation.md): row t of
// the source (absolute position s = pos0 + t, pos0 from the run uniform) goes to cache row
// s mod ring, converted to the cache's dtype. A cache of `ring` rows holds the last `ring`
// positions: for full attention ring = the context (s < ring always), for a sliding window of W
// ring = W, so rows older than the run's last W positions are skipped (their slot belongs to a
// later row of the same run). One thread per element; a span of n values at `src_off` of rows of
// stride `src_ld`, written at `dst_off` of cache rows of stride `dst_ld`.

import type { StorageDtype } from "../../gpu/buffers.js";
import { defineKernel, read, write } from "../define-kernel.js";
import { threadMain } from "../wgsl-common.js";

export const KV_WRITE_WG = 256;

export function kvCacheWriteKernel(dtype: StorageDtype, kvDtype: StorageDtype) {
  return defineKernel({
    name: `kv_cache_write[${dtype},kv${kvDtype}]`,
    dtype,
    f16: kvDtype === "f16",
    uniforms: { src_ld: "u32", src_off: "u32", dst_ld: "u32", dst_off: "u32", n: "u32", ring: "u32" },
    buffers: { src: read(), cache: write(`array<${kvDtype}>`) },
    body: /* wgsl */ `
${threadMain(KV_WRITE_WG)}
  if (i >= run.T * p.n) { return; }
  let t = i / p.n;
  let j = i % p.n;
  let s = run.pos0 + t;
  // Only the run's last ring positions survive in a ring of that many rows.
  if (s + p.ring < run.pos0 + run.T) { return; }
  cache[(s % p.ring) * p.dst_ld + p.dst_off + j] = ${kvDtype}(src[t * p.src_ld + p.src_off + j]);
}
`,
  });
}
