// The fused router kernel: gate GEMM, score transforms, selection, post-select normalization
// and the per-expert counts, in ONE dispatch. Outputs per token: count [T], expert ids and
// weights [T·maxPerToken] (ragged selection fits: count ≤ maxPerToken); per expert: atomic
// counts [E] for the dispatch kernel. Two forms with identical results up to rounding:
// subgroup reductions where the adapter has `subgroups`, workgroup-memory reductions otherwise.

import type { StorageDtype } from "../gpu/buffers.js";
import type { KernelSpec } from "./kernel-spec.js";
import { SUBGROUP_ROUTER_TOKENS, SUBGROUP_ROUTER_WG, subgroupRouterKernel } from "./router-kernel-subgroup.js";
import { WORKGROUP_ROUTER_TOKENS, WORKGROUP_ROUTER_WG, workgroupRouterKernel } from "./router-kernel-workgroup.js";

export * from "./router-options.js";

export interface RouterKernelChoice {
  spec: KernelSpec;
  /** Tokens per workgroup (grid = ceil(T / this)). */
  tokensPerWorkgroup: number;
  /** Half the workgroup size, for the Params word the workgroup form's reductions use. */
  wgHalf: number;
}

export function routerKernel(o: { dtype: StorageDtype; subgroups: boolean }): RouterKernelChoice {
  return o.subgroups
    ? { spec: subgroupRouterKernel(o.dtype), tokensPerWorkgroup: SUBGROUP_ROUTER_TOKENS, wgHalf: SUBGROUP_ROUTER_WG / 2 }
    : { spec: workgroupRouterKernel(o.dtype), tokensPerWorkgroup: WORKGROUP_ROUTER_TOKENS, wgHalf: WORKGROUP_ROUTER_WG / 2 };
}
