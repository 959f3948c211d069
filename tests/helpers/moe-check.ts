// GPU-vs-float64-reference check for programs with routers, robust to near-ties:
// - the output is compared with the reference evaluated on the GPU's OWN selection (so a
//   near-tie that f32 and float64 break differently cannot fail the numeric check);
// - the selection itself is compared with the reference's independent selection on every token
//   whose decision is robust (all selected scores beat all unselected ones by > margin, and
//   threshold / top-p cut points are further than margin away).

import type { IrProgram, IrRouter } from "../../compiler/ir/ir.js";
import type { GpuContext } from "../../runtime/gpu/device.js";
import { createExecutor } from "../../runtime/executor/executor.js";
import type { ExecutorOptions, RunInfo } from "../../runtime/executor/types.js";
import { interpretReference, type RouterTrace } from "../../runtime/reference/interpret.js";
import { compare, type ErrorReport } from "./numerics.js";

export interface CheckResult {
  outputs: Map<string, { gpu: Float32Array; ref: Float64Array; err: ErrorReport }>;
  info: RunInfo;
  /** Tokens whose selection was robust enough to compare, and how many of them differed. */
  selection: { checked: number; total: number; mismatches: string[] };
  /** Max |gpu routing weight − reference weight| over all slots. */
  routingWeightErr: number;
}

function routerOf(program: IrProgram, key: string): IrRouter {
  for (const op of program.ops) if ((op.op === "moe" || op.op === "moe_agents") && op.router.key === key) return op.router;
  throw new Error(`no router ${key}`);
}

/** Is the reference's selection for this token far from any tie? */
export function robust(router: IrRouter, trace: RouterTrace, t: number, margin: number): boolean {
  const sel = trace.streams[t]!.sel;
  const w = trace.streams[t]!.w;
  const chosen = new Set(trace.selection[t]!.ids);
  const stage = router.stages.find((s) => s.role === "select")!;
  let minChosen = Infinity;
  let maxOther = -Infinity;
  sel.forEach((v, e) => {
    if (chosen.has(e)) minChosen = Math.min(minChosen, v);
    else maxOther = Math.max(maxOther, v);
  });
  // topk/topp/threshold ties may only matter between the chosen and the rest.
  if (stage.name !== "dense" && chosen.size > 0 && maxOther > -Infinity && minChosen - maxOther <= margin) return false;
  if (stage.name === "threshold") {
    const delta = stage.params["delta"] as number;
    if (Array.from(sel).some((v) => Math.abs(v - delta) <= margin)) return false;
  }
  if (stage.name === "topp") {
    // The cumulative weight must cross p clearly.
    const p = stage.params["p"] as number;
    const order = trace.selection[t]!.ids.length;
    const sorted = Array.from(sel.keys()).sort((a, b) => sel[b]! - sel[a]! || a - b);
    let cum = 0;
    for (let i = 0; i < order; i++) {
      cum += w[sorted[i]!]!;
      if (Math.abs(cum - p) <= margin) return false;
    }
  }
  return true;
}

export async function checkProgram(
  ctx: GpuContext,
  program: IrProgram,
  weights: Map<string, Float32Array>,
  inputs: Map<string, Float32Array>,
  T: number,
  opts: ExecutorOptions & { margin?: number } = {},
): Promise<CheckResult> {
  const exec = await createExecutor(ctx, program, weights, opts);
  try {
    const out = await exec.run(inputs, T, { returnRouting: true });
    const routing = exec.lastRouting!;
    const forced = new Map<string, number[][]>();
    for (const [key, r] of routing) {
      forced.set(
        key,
        Array.from({ length: T }, (_, t) => Array.from(r.ids.subarray(t * r.maxPerToken, t * r.maxPerToken + r.counts[t]!))),
      );
    }
    const trace = new Map<string, RouterTrace>();
    interpretReference(program, weights, inputs, T, { trace });
    const forcedTrace = new Map<string, RouterTrace>();
    const ref = interpretReference(program, weights, inputs, T, { forcedSelection: forced, trace: forcedTrace });

    const outputs: CheckResult["outputs"] = new Map();
    for (const o of program.outputs) {
      const gpu = out.get(o.name)!;
      const r = ref.get(o.name)!;
      outputs.set(o.name, { gpu, ref: r, err: compare(gpu, r) });
    }
    const selection = { checked: 0, total: 0, mismatches: [] as string[] };
    let routingWeightErr = 0;
    for (const [key, r] of routing) {
      const router = routerOf(program, key);
      const tr = trace.get(key)!;
      const ftr = forcedTrace.get(key)!;
      for (let t = 0; t < T; t++) {
        selection.total++;
        const gpuIds = forced.get(key)![t]!;
        ftr.selection[t]!.weights.forEach((w, j) => {
          routingWeightErr = Math.max(routingWeightErr, Math.abs(w - r.weights[t * r.maxPerToken + j]!));
        });
        if (!robust(router, tr, t, opts.margin ?? 1e-4)) continue;
        selection.checked++;
        const refIds = tr.selection[t]!.ids;
        const same = gpuIds.length === refIds.length && [...gpuIds].sort((a, b) => a - b).join() === [...refIds].sort((a, b) => a - b).join();
        if (!same) selection.mismatches.push(`${key} token ${t}: gpu [${gpuIds}] vs reference [${refIds}]`);
      }
    }
    return { outputs, info: exec.lastRunInfo!, selection, routingWeightErr };
  } finally {
    exec.dispose();
  }
}
