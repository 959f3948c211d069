// Lowering of `moe_agents` (LANGUAGE.md §11.1, agents as experts): every member is a sub-program
// run on ITS tokens only, inside the run's one command buffer. The member's token count exists
// only on the GPU, so it becomes the member's own run uniform:
//
//   router (lower-router.ts, over the run's T)
//   per member j:  select_j ─► copy count ─► run_j ─► gather_j ─► the member's ops ─► scatter_j
//
// select_j compacts the tokens whose selection holds j, in position order (rows_j, their weights,
// the count n_j laid out as the run uniform {T, pos0, …}); a buffer copy makes it run_j, the run
// uniform every kernel of the member reads, so the member's kernels see T = n_j (its own routing,
// expert choice's capacity included, sees only those tokens). Buffers and grids are sized by the
// run's T, an upper bound: past n_j the kernels return early, and a member with no token does no
// work. gather_j writes the member's input rows; its ops are lowered by the ordinary lowerings in a
// scoped BuildContext (its values, run_j; build-context.ts `scoped`); scatter_j adds
// weight · output row into the pool's output (zeroed at the start of the run).
// Not collected inside members: routing statistics and router state updates (a member router's
// state is read, never updated). The run cannot be split into token chunks.

import type { IrAgentMember, IrOp, IrProgram } from "../../compiler/ir/ir.js";
import { bytesPer, uniformBuffer } from "../gpu/buffers.js";
import { AGENT_WG, agentGatherKernel, agentRowParams, agentScatterKernel, agentSelectKernel, agentSelectParams } from "../kernels/agent-kernels.js";
import { type BuildContext, type Lowering, record, type Step } from "./build-context.js";
import { elementwiseGrid } from "./grids.js";
import { lowerAttention } from "./lower-attention.js";
import { lowerMla } from "./lower-mla.js";
import { lowerNorm } from "./lower-model-ops.js";
import { lowerSimpleOp } from "./lower-ops.js";
import { lowerPeerAttention } from "./lower-peer-attention.js";
import { lowerRoutedPool, lowerSharedPool } from "./lower-pools.js";
import { routeSlots } from "./route-slots.js";

type AgentsOp = Extract<IrOp, { op: "moe_agents" }>;

/** One member's recorded work: its select step, count copy, gather, body lowerings and scatter. */
interface MemberPlan {
  select: Step;
  cnt: GPUBuffer;
  run: GPUBuffer;
  gather: Step;
  body: Lowering[];
  scatter: Step;
}

export async function lowerMoeAgents(b: BuildContext, op: AgentsOp, index: number, name: string): Promise<Lowering> {
  if (b.generation) throw new Error(`moe '${name}': a pool of layers runs over a whole run, not a cached decode step`);
  const D = b.width(op.x);
  const maxDim = b.gpu.limits.maxComputeWorkgroupsPerDimension;
  const routed = await routeSlots(b, { op: "moe", out: op.out, x: op.x, router: op.router, pool: { key: op.key, kind: "mixed", count: op.members.length, dim: D, hidden: 0, act: "identity", bias: false, split: 1, shared: false } }, name);
  const out = b.value(op.out);
  const rowsGrid = (T: number) => elementwiseGrid(T * D, AGENT_WG, maxDim);
  const clears: GPUBuffer[] = [...routed.clears, out];
  const members: MemberPlan[] = [];
  for (const [j, m] of op.members.entries()) {
    const what = `${name}.member${j}`;
    const rows = b.storage(b.cap, `${what}.rows`, 4);
    const rw = b.storage(b.cap, `${what}.weights`, 4);
    const cnt = b.storage(4, `${what}.count`, 4);
    const run = uniformBuffer(b.device, [0, 0, 0, 0], `${what}.run`);
    const { ctx, values } = memberContext(b, m, `${op.key}.${j}`, run);
    const select = await b.step(agentSelectKernel(), agentSelectParams(j, routed.maxK), { tok_count: routed.tokCount, ids: routed.ids, wts: routed.wts, rows, rw, cnt }, () => [1, 1, 1]);
    const gather = await b.step(agentGatherKernel(b.dtype), agentRowParams(D), { x: b.value(op.x), rows, cnt, out: values.get(m.input)! }, rowsGrid);
    const body = await Promise.all(m.ops.map((o, i) => lowerMemberOp(ctx, o, i, `${what}.${i}`)));
    const scatter = await b.step(agentScatterKernel(b.dtype), agentRowParams(D), { y: values.get(m.output)!, rows, rw, cnt, out }, rowsGrid);
    for (const l of body) clears.push(...l.clears);
    members.push({ select, cnt, run, gather, body, scatter });
    b.adoptUniform(run);
  }
  return {
    op: index,
    kind: "moe_agents",
    name,
    clears,
    wholeRun: "a pool of layers compacts each member's tokens over the whole run",
    async encode(rec, T) {
      routed.prepare(T);
      for (const s of routed.steps) record(rec, s, T);
      for (const m of members) {
        record(rec, m.select, T);
        rec.copy(m.cnt, 0, m.run, 0, 16);
        record(rec, m.gather, T);
        // Grids by the run's T (an upper bound); the kernels read the member's count from run_j.
        for (const l of m.body) await l.encode(rec, T);
        record(rec, m.scatter, T);
      }
    },
    ...routed.lowering,
  };
}

/** The scoped context of member `key`: a buffer per member value, sized by the plan's capacity. */
function memberContext(b: BuildContext, m: IrAgentMember, key: string, run: GPUBuffer) {
  const program: IrProgram = { entry: key, values: m.values, inputs: [{ name: "x", value: m.input }], outputs: [{ name: "y", value: m.output }], weights: [], ops: m.ops };
  const values = new Map(m.values.map((v) => [v.id, b.storage(b.cap * v.width, `${key} value ${v.name}`, bytesPer(b.dtype))] as const));
  return { ctx: b.scoped(program, run, values), values };
}

/** A member's op through the ordinary lowerings (no cross-op fusions inside a member). */
function lowerMemberOp(ctx: BuildContext, op: IrOp, i: number, name: string): Promise<Lowering> {
  switch (op.op) {
    case "moe": return lowerRoutedPool(ctx, op, i, name);
    case "moe_agents": return lowerMoeAgents(ctx, op, i, name);
    case "shared": return lowerSharedPool(ctx, op, i, name);
    case "norm": return lowerNorm(ctx, op, i, name);
    case "attention": return lowerAttention(ctx, op, i, name);
    case "mla": return lowerMla(ctx, op, i, name);
    case "peer_attention": return lowerPeerAttention(ctx, op, i, name);
    case "embed": throw new Error(`${name}: a pool member reads tensors, not token ids`);
    default: return lowerSimpleOp(ctx, op, i, name);
  }
}
