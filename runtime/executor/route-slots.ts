// The router half of a routed pool, for the lowerings of fine and mixed pools (lower-moe-fine.ts,
// lower-moe-mixed.ts): one fused router dispatch producing per-token slots and per-expert counts.
// It builds the same router step as lowerMoeFused, so every pool kind routes identically.

import type { IrOp } from "../../compiler/ir/ir.js";
import { routerKernel, routerKernelOptions, routerMaxPerToken, routerParams } from "../kernels/router-kernel.js";
import { grid2D } from "../kernels/wgsl-common.js";
import type { BuildContext, Step } from "./build-context.js";
import type { RoutedSlots } from "./lower-moe-fused.js";

type MoeOp = Extract<IrOp, { op: "moe" }>;

export interface RouterSteps extends RoutedSlots {
  steps: Step[];
  /** Zeroed at the start of every run. */
  clears: GPUBuffer[];
}

export async function routeSlots(b: BuildContext, op: MoeOp, name: string): Promise<RouterSteps> {
  const { router, pool } = op;
  if (router.scope !== "token") throw new Error(`moe '${name}': batch-scope routing (expert choice) is not implemented on the GPU yet`);
  if (router.numExperts !== pool.count) throw new Error(`moe '${name}': router has ${router.numExperts} experts, pool ${pool.count}`);
  const ro = routerKernelOptions(router, b.dtype);
  const E = pool.count;
  const D = pool.dim;
  const maxK = routerMaxPerToken(ro);
  const cap = b.cap;
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const scr = b.storage(cap * E, `${name}.scores`, 4);
  const tokCount = b.storage(cap, `${name}.tok_count`, 4);
  const ids = b.storage(cap * maxK, `${name}.ids`, 4);
  const wts = b.storage(cap * maxK, `${name}.wts`, 4);
  const expertCount = b.storage(E, `${name}.expert_count`, 4);
  const rk = routerKernel({ dtype: b.dtype, subgroups: b.useSubgroups });
  const res: Record<string, GPUBuffer> = {
    params: b.uniform(routerParams(ro, D, rk.wgHalf), `${name}.router.params`),
    x: b.value(op.x),
    weight: b.weights.whole(`${router.key}.weight`, [E, D], `router '${router.key}'`),
    bias: ro.scoreBias ? b.weights.whole(`${router.key}.bias`, [E], `router '${router.key}' bias`) : b.dummy(),
    ebias: ro.selectionBias ? b.weights.stateF32(`${router.key}.e_bias`, E) : b.dummy(),
    scr,
    tok_count: tokCount,
    ids,
    wts,
    expert_count: expertCount,
  };
  const step = await b.step(rk.spec, res, (T) => grid2D(Math.ceil(T / rk.tokensPerWorkgroup), maxDim));
  return { steps: [step], clears: [expertCount], tokCount, ids, wts, expertCount, maxK };
}
