// `primary_peers(A, B, …, latent = ds, heads = h, rounds = Q)` (LANGUAGE.md §11.1, Mixture of
// Thoughts): every agent keeps its own stream, all starting from the graph input; in round q each
// agent applies its own instance q of its layer (weights `i.q.…`), every stream is projected to the
// latent (`peers.q.i.weight` [ds, D]), and only the primary (agent 0) is updated by a causal
// cross-attention over the peers' latents (`peers.q.wq|wk|wv|wo`). Checks: at least 2 agents,
// `latent` and `heads` given as positive integers, `rounds` ≥ 1, `heads` dividing `latent`.
import type * as A from "../../syntax/ast.js";
import type { Value } from "../values.js";
import type { TensorShape } from "../../../stdlib/registry.js";
import type { Frame } from "./context.js";
import { err } from "./context.js";
import { evalCompileTime } from "./expressions.js";
import { evalAgent } from "./graph-topology.js";
import * as emit from "./emit-ir.js";

type Tensor = Extract<Value, { t: "tensor" }>;

const PARAMS = ["latent", "heads", "rounds"] as const;
type Param = (typeof PARAMS)[number];

export function evalPrimaryPeers(e: A.Call, input: Value, frame: Frame): Value {
  const args = e.args ?? [];
  let ok = true;
  const values = new Map<Param, { v: number; span: A.Span }>();
  for (const a of args.filter((x) => x.name)) {
    const n = a.name!.name;
    if (!(PARAMS as readonly string[]).includes(n)) {
      err(frame, "E0322", `\`primary_peers\` has no argument \`${n}\`; its arguments are ${PARAMS.map((p) => `\`${p}\``).join(", ")}`, a.name!.span);
      ok = false;
      continue;
    }
    if (values.has(n as Param)) {
      err(frame, "E0322", `\`${n}\` is given twice`, a.span);
      ok = false;
      continue;
    }
    const v = evalCompileTime(a.value, frame);
    if (v.t !== "int" || v.v < 1) {
      if (v.t !== "error") err(frame, "E0322", `\`${n}\` of \`primary_peers\` is a positive integer`, a.value.span, { label: "not a positive integer" });
      ok = false;
      continue;
    }
    values.set(n as Param, { v: v.v, span: a.value.span });
  }
  for (const need of ["latent", "heads"] as const) {
    if (!values.has(need) && ok) {
      err(frame, "E0322", `\`primary_peers\` needs \`${need} = …\``, e.span, { help: "write `primary_peers(A, B, latent = 64, heads = 4)`" });
      ok = false;
    }
  }
  const agents = args.filter((x) => !x.name);
  if (agents.length < 2) {
    err(frame, "E0321", `\`primary_peers\` needs a primary and at least one peer; found ${agents.length} agent${agents.length === 1 ? "" : "s"}`, e.callee.span);
    ok = false;
  }
  const latent = values.get("latent"), heads = values.get("heads");
  if (latent && heads && latent.v % heads.v !== 0) {
    err(frame, "E0323", `${heads.v} heads do not divide latent = ${latent.v}`, heads.span, {
      label: `${latent.v} is not a multiple of ${heads.v}`,
      secondary: [{ file: frame.file, span: latent.span, message: "latent width set here" }],
    });
    ok = false;
  }
  // Every agent is a declared layer or graph named with hyper-parameters.
  const resolved: { call: A.Call; top: { decl: A.LayerDecl | A.GraphDecl; file: string } }[] = [];
  for (const a of agents) {
    const x = a.value;
    const top = x.kind === "Call" ? frame.ctx.unit.scopes.get(frame.file)?.names.get(x.callee.name) : undefined;
    if (x.kind !== "Call" || !top || (top.decl.kind !== "Layer" && top.decl.kind !== "Graph")) {
      if (x.kind !== "ErrorExpr") {
        err(frame, "E0324", "an agent of `primary_peers` is a layer or graph named with hyper-parameters (`mixtral_moe(D = D)`)", x.span, {
          label: top?.decl.kind === "Model" ? "a model: tensor graphs take layers" : "not a layer or graph",
        });
      }
      ok = false;
      continue;
    }
    resolved.push({ call: x, top: { decl: top.decl, file: top.file } });
  }
  if (!ok || input.t !== "tensor") return { t: "error" };
  const indices = resolved.map(() => frame.agentCounter.n++);
  const Q = values.get("rounds")?.v ?? 1;
  const ds = latent!.v, h = heads!.v;
  let streams: Value[] = resolved.map(() => input);
  for (let q = 0; q < Q; q++) {
    streams = resolved.map((r, i) => evalAgent(r.call, r.top, streams[i]!, frame, `${indices[i]}.${q}`));
    const good = streams.filter((s): s is Tensor => s.t === "tensor");
    if (good.length !== streams.length) return { t: "error" };
    const D = good[0]!.width;
    if (typeof D !== "number") return good[0]!;
    const z = good.map((s, i) => emit.peerProjection(frame, `peers.${q}.${i}`, s, ds));
    peerOwners(frame, q, good.length, D, ds, e.span);
    streams[0] = emit.peerUpdate(frame, `peers.${q}`, good[0]!, z[0]!, z.slice(1), h);
  }
  return streams[0]!;
}

/** `moec info`'s weight owners of round q: the n projections and the cross-attention. */
function peerOwners(frame: Frame, q: number, n: number, D: number, ds: number, span: A.Span): void {
  const mat = (name: string, shape: number[]): TensorShape => ({ name, shape, matmul: true });
  for (let i = 0; i < n; i++) {
    frame.instance.owners.push({ prefix: `peers.${q}.${i}`, category: "linear", members: [[mat("weight", [ds, D])]], macs: [ds * D], span, file: frame.file, applications: 1 });
  }
  // Per token: the query (ds²), every peer's key and value (2·ds² each), the output (D·ds).
  const members = [[mat("wq", [ds, ds]), mat("wk", [ds, ds]), mat("wv", [ds, ds]), mat("wo", [D, ds])]];
  frame.instance.owners.push({ prefix: `peers.${q}`, category: "linear", members, macs: [ds * ds + 2 * (n - 1) * ds * ds + D * ds], span, file: frame.file, applications: 1 });
}
