// A router's gate GEMM matrix above the storage binding limit (E·D·bytes > 128 MiB on lavapipe:
// E = 4096, D = 16384 at f32 is 256 MiB) is split over expert ranges: the weight store uploads it
// as row chunks (never cutting a row), and each chunk is one dispatch of the router-gate GEMM
// (gemm/linear-gemm.ts) writing its columns of the score rows. The router kernel then runs with
// R_PRECOMPUTED (no GEMM of its own) and does everything after the dot products — bias, cosine
// norms, product keys, plugin scores, transforms, selection — unchanged. Cost: one dispatch more
// per chunk.

import { bytesPer } from "../gpu/buffers.js";
import { LINEAR_BM, routerGateKernel, routerGateParams } from "../kernels/gemm/linear-gemm.js";
import { grid2D } from "../kernels/wgsl-common.js";
import type { BuildContext, Step } from "./build-context.js";

export interface RouterGateSplit {
  /** One dispatch per row chunk; record them before the router pass that computes the scores. */
  steps: Step[];
  /** A buffer to bind as the router kernel's `weight` (not read: its GEMM is off). */
  weight: GPUBuffer;
  /** Row chunks [g0, g1) of the whole GEMM matrix, in order. */
  chunks: { g0: number; g1: number }[];
}

/**
 * Splits the router's GEMM (`tensors` stacked in order, [rows_i, D] each) when it exceeds the
 * weight binding limit; null when it fits one binding (the router kernel does its own GEMM).
 * Output: scr[goff + t·gstride + r] for every row r.
 */
export async function splitRouterGate(
  b: BuildContext,
  o: { key: string; tensors: { name: string; rows: number }[]; D: number; x: GPUBuffer; scr: GPUBuffer; goff: number; gstride: number; name: string },
): Promise<RouterGateSplit | null> {
  const rows = o.tensors.reduce((a, t) => a + t.rows, 0);
  if (rows * o.D * bytesPer(b.dtype) <= b.weights.maxBindingBytes) return null;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const spec = routerGateKernel(b.dtype);
  const steps: Step[] = [];
  const chunks: { g0: number; g1: number }[] = [];
  let weight: GPUBuffer | undefined;
  let base = 0;
  for (const t of o.tensors) {
    const ct = b.weights.chunked(t.name, t.rows, o.D, `router '${o.key}' [${t.rows}, ${o.D}]`);
    for (const c of ct.chunks) {
      const g0 = base + c.g0;
      const g1 = base + c.g1;
      const p = routerGateParams({ K: o.D, g0, g1, goff: o.goff, gstride: o.gstride });
      steps.push(await b.step(spec, p.values, { x: o.x, weight: c.buffer, scr: o.scr }, (T) => grid2D(p.ntn * Math.ceil(T / LINEAR_BM), maxDim)));
      chunks.push({ g0, g1 });
      weight ??= c.buffer;
    }
    base += t.rows;
  }
  return { steps, weight: weight!, chunks };
}
