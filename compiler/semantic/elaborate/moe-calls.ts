// `moe(x, ROUTER, POOL)`: a router feeds exactly one call, its stages must fit the pool, and the
// call records the pool's active experts and creates the router's weight owner.
import type * as A from "../../syntax/ast.js";
import type { Value, Owner, PoolValue } from "../values.js";
import { instantiate } from "./layer-calls.js";
import { describeValue, product } from "../values.js";
import type { Frame } from "./context.js";
import { err } from "./context.js";
import { evalExpr, expectFloatTensor } from "./expressions.js";
import { fixPoolDim } from "./pool-decls.js";
import * as emit from "./emit-ir.js";
import { checkOwnerTensors } from "./size-limits.js";

type Tensor = Extract<Value, { t: "tensor" }>;

/** Checks `moe(x, ROUTER, POOL)` and records what it routes; lowers it when emitting. */
export function callMoe(e: A.Call, frame: Frame): Value {
  const args = e.args ?? [];
  if (args.length !== 3 || args.some((a) => a.name)) {
    err(frame, "E0295", "`moe` takes three arguments: `moe(x, ROUTER, POOL)`", e.span);
    // Still resolve what was written: its errors are real, and its names count as used.
    for (const a of args) evalExpr(a.value, frame);
    return { t: "error" };
  }
  const x = evalExpr(args[0]!.value, frame);
  const rv = evalExpr(args[1]!.value, frame);
  const pv = evalExpr(args[2]!.value, frame);
  if (pv.t === "pool") pv.pool.referenced = true;
  let ok = expectFloatTensor(x, args[0]!.span, frame, "the first argument of `moe`");
  if (rv.t !== "router") {
    if (rv.t !== "error") err(frame, "E0296", `the second argument of \`moe\` must be a router, found ${describeValue(rv)}`, args[1]!.span, { help: "declare one: `router r = linear |> softmax |> topk(2)`" });
    ok = false;
  }
  if (pv.t !== "pool" || pv.pool.shared) {
    if (pv.t !== "error") err(frame, "E0297", `the third argument of \`moe\` must be an expert pool, found ${describeValue(pv)}`, args[2]!.span, {
      help: pv.t === "pool" ? "shared pools are applied directly: `S(x)`" : "declare one: `experts E[8] = ffn(hidden = 1024)`",
    });
    ok = false;
  }
  if (!ok || x.t !== "tensor" || rv.t !== "router" || pv.t !== "pool") return x.t === "tensor" ? { t: "tensor", tokens: x.tokens, width: x.width } : { t: "error" };
  const router = rv.router, pool = pv.pool;
  if (router.iterSuffix !== frame.iterSuffix && !router.usedBy) {
    err(frame, "E0298", `router \`${router.name}\` is declared outside \`iterate\`, so it would feed a \`moe\` call in every iteration; a router feeds exactly one`, args[1]!.span, {
      secondary: [{ file: frame.file, span: router.decl.name.span, message: "declared outside the block" }],
      help: "declare the router inside the `iterate` block: each iteration then gets its own (`r.0`, `r.1`, …)",
    });
    router.usedBy = e.span;
  } else if (router.usedBy) {
    err(frame, "E0298", `router \`${router.name}\` already feeds a \`moe\` call; a router feeds exactly one`, args[1]!.span, {
      secondary: [{ file: frame.file, span: router.usedBy, message: "first used here" }],
      help: "declare a second router for this call",
    });
  } else router.usedBy = e.span;
  const out: Value = { t: "tensor", tokens: x.tokens, width: x.width };
  const poolReady = fixPoolDim(pool, x, e, frame);
  if (!router.valid || pool.count === undefined || typeof x.width !== "number") return out;
  const E = pool.count;
  let stagesOk = true;
  for (const st of router.stages) {
    const args = { ...st.args };
    const seenParams = new Set<string | undefined>();
    for (const issue of st.def.check?.(args, E) ?? []) {
      stagesOk = false;
      // One error per argument: `group_topk(9, groups = 2, keep = 2)` over 8 experts is k > E; that
      // k also exceeds keep·E/groups adds nothing.
      if (issue.param !== undefined && seenParams.has(issue.param)) continue;
      seenParams.add(issue.param);
      err(frame, "E0299", issue.message, (issue.param && st.argSpans[issue.param]) || st.call.span, {
        label: "does not fit the pool",
        secondary: [{ file: frame.file, span: e.span, message: `routes over \`${pool.name}\` (${E} expert${E === 1 ? "" : "s"}) here` }],
        help: issue.help,
      });
    }
  }
  if (!stagesOk || !poolReady || router.usedBy !== e.span) return out;
  const select = router.stages.find((s) => s.role === "select");
  const active = select?.def.active?.(select.args, E) ?? { count: E, label: "upper bound" as const };
  pool.uses.push({ active, span: e.span });
  (pool.owner!.uses ??= []).push(active);
  const members = pool.agents?.some(Boolean) ? agentMembers(pool, x as Tensor & { width: number }, e, frame) : undefined;
  if (pool.agents?.some(Boolean) && !members) return out;
  // The router's own weights.
  const score = router.stages[0]!;
  const D = x.width;
  const rw = score.def.weights?.(score.args, E, D) ?? [];
  const stateW = router.stages.slice(1).flatMap((s) => (s.def.weights?.(s.args, E, D) ?? []));
  const ro: Owner = {
    prefix: router.key, category: "router", members: [[...rw, ...stateW]],
    macs: [rw.filter((t) => t.matmul).reduce((s, t) => s + product(t.shape), 0)],
    span: router.decl.name.span, file: frame.file, applications: 1,
    info: { kind: "router", args: [], stages: router.stages },
  };
  checkOwnerTensors(ro, frame);
  frame.instance.owners.push(ro);
  const call = { router, pool, x, numExperts: E, dim: D, weights: [...rw, ...stateW], select };
  out.ir = members ? emit.moeAgents(frame, call, members) : emit.moe(frame, call);
  return out;
}

/**
 * Agents as experts (§11.1): member j of the pool is run on its own tokens, so each member body
 * is elaborated into its own IR builder from a fresh input of the pool's width (its `T` is the
 * count of its tokens); a layer member's `D` binds from that width and it must map [T, D] to
 * [T, D] (E0326). Weights are `POOL.j.…`. Undefined when a member is in error.
 */
function agentMembers(pool: PoolValue, x: Tensor & { width: number }, call: A.Call, frame: Frame): emit.AgentBody[] | undefined {
  if (pool.uses.length > 1) {
    err(frame, "E0327", `pool \`${pool.name}\` lists layers, so it is routed by one \`moe\` call (each member layer is one instance)`, call.span, {
      secondary: [{ file: frame.file, span: pool.uses[0]!.span, message: "first routed here" }],
    });
    return undefined;
  }
  const bodies: emit.AgentBody[] = [];
  let ok = true;
  pool.experts.forEach((spec, j) => {
    const body = emit.agentBody(frame, x.width);
    const input: Tensor = { t: "tensor", tokens: `${x.tokens}_${j}`, width: x.width, ir: body.input };
    const agent = pool.agents?.[j];
    if (!agent) {
      bodies.push(emit.expertKindBody(frame, body, `${pool.key}.${j}`, spec, x.width));
      return;
    }
    const named = (agent.call.args ?? []).filter((a) => a.name);
    const saved = frame.emit;
    if (saved) frame.emit = body.builder;
    let y: Value;
    try {
      y = instantiate(agent.decl, agent.file, [input], [agent.call.span], named, agent.call, frame, `${pool.key}.${j}`, false);
    } finally {
      frame.emit = saved;
    }
    if (y.t !== "tensor") { ok = false; return; }
    if (typeof y.width !== "number" || y.width !== x.width) {
      err(frame, "E0326", `member ${j} of pool \`${pool.name}\`, \`${agent.decl.name.name}\`, maps width ${x.width} to ${y.width}; a pool's members map [T, D] to [T, D]`, agent.call.span, {
        secondary: [{ file: frame.file, span: call.span, message: `routes width ${x.width} here` }],
      });
      ok = false;
      return;
    }
    bodies.push({ ...body, output: y.ir });
  });
  return ok ? bodies : undefined;
}
