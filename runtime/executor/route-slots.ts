// The router half of a routed pool for every pool lowering (lower-moe-fused.ts, lower-moe-fine.ts,
// lower-moe-mixed.ts): the same lowerRouter as ffn pools (every §5 stage, expert choice,
// statistics, state), plus the Lowering fields that carry its statistics and state.

import type { IrOp } from "../../compiler/ir/ir.js";
import type { BuildContext, Lowering, Step } from "./build-context.js";
import type { RoutedSlots } from "./lower-moe-fused.js";
import { lowerRouter, type RouterLowering } from "./lower-router.js";

type MoeOp = Extract<IrOp, { op: "moe" }>;

export interface RouterSteps extends RoutedSlots {
  steps: Step[];
  /** Zeroed at the start of every run. */
  clears: GPUBuffer[];
  /** Per-run uniform writes, before recording (expert choice's capacity depends on T). */
  prepare(T: number): void;
  /** The Lowering fields of a routed op. */
  lowering: Pick<Lowering, "routing" | "routerStats" | "routerState" | "wholeRun">;
}

export async function routeSlots(b: BuildContext, op: MoeOp, name: string): Promise<RouterSteps> {
  const { router, pool } = op;
  if (router.numExperts !== pool.count) throw new Error(`moe '${name}': router has ${router.numExperts} experts, pool ${pool.count}`);
  const rl: RouterLowering = await lowerRouter(b, router, b.value(op.x), name, b.routing);
  const { maxK, tokCount, ids, wts, expertCount } = rl;
  return {
    steps: rl.steps,
    clears: rl.clears,
    prepare: (T) => rl.prepare(T),
    tokCount,
    ids,
    wts,
    expertCount,
    maxK,
    lowering: {
      routing: { key: router.key, maxPerToken: maxK, tokCount, ids, wts }, routerStats: rl.stats, routerState: rl.state,
      ...(router.unit === "sequence" ? { wholeRun: `router '${router.key}' routes per sequence, from the mean of the whole run's tokens` } : {}),
    },
  };
}
