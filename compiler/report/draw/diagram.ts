// The structure `moec draw` shows, as a graph of boxes: built by walking a declaration's
// statements in order and following its data flow (which values each statement reads), with the
// sizes the elaborator computed at the entry's bindings. `repeat`, `iterate` and called layers
// become group nodes holding their own diagram, drawn once (a stack shows ×N).
import type * as A from "../../syntax/ast.js";
import type { Unit } from "../../semantic/module-loader.js";
import type { Instance, ChildRef } from "../../semantic/instance.js";
import type { Owner } from "../../semantic/values.js";
import { ownerCounts, countInstance } from "../../semantic/count.js";
import { BLOCKS } from "../../semantic/blocks.js";
import { humanCount } from "../numbers.js";
import { activeText, kindText, pipelineText, poolText } from "../describe.js";

export type NodeKind =
  | "input" | "output" | "embed" | "norm" | "attention" | "ffn" | "head" | "linear"
  | "router" | "pool" | "shared" | "op" | "repeat" | "iterate" | "layer"
  /** A model agent of a decoding graph (decoding-diagram.ts). */
  | "agent";

export interface DNode {
  id: number;
  kind: NodeKind;
  title: string;
  lines: string[];
  /** The declared name (pools, routers, lets), for `data-name`. */
  name?: string;
  /** Group nodes: the body's diagram. */
  inner?: Diagram;
  /** Drawn with a dashed outline: a pool or router declared outside the group that uses it. */
  reference?: boolean;
}

export interface DEdge {
  from: number;
  to: number;
  label?: string;
  /** `route`: router → pool; `weights`: an outer pool lent to a group. */
  kind: "data" | "route" | "weights";
}

export interface Diagram {
  nodes: DNode[];
  edges: DEdge[];
  /** Loss and report statements, shown under the diagram. */
  notes: string[];
}

interface Ctx {
  unit: Unit;
  file: string;
  text: string;
  inst: Instance;
  iterSuffix: string;
  /** Names bound to data values → nodes producing them. */
  env: Map<string, number[]>;
  pools: Map<string, number>;
  routers: Map<string, number>;
  /** The select stage of each router, for edge labels (`top-2`). */
  routerSelect: Map<string, string>;
  d: Diagram;
  /** In a group: outer names read inside (→ input pills) and outer pools lent (→ weights edges). */
  outer?: { ctx: Ctx; reads: Map<string, number>; lent: Set<number> };
  agentCounter: { n: number };
}

const MAX_LINE = 46;

export function diagramOf(unit: Unit, decl: A.LayerDecl | A.GraphDecl, file: string, inst: Instance): Diagram {
  const ctx = newCtx(unit, file, inst, "");
  if (decl.kind === "Graph") graphBody(decl, ctx);
  else layerBody(decl, ctx);
  return ctx.d;
}

function newCtx(unit: Unit, file: string, inst: Instance, iterSuffix: string): Ctx {
  return {
    unit, file, text: unit.files.get(file)?.text ?? "", inst, iterSuffix, env: new Map(), pools: new Map(), routers: new Map(),
    routerSelect: new Map(), d: { nodes: [], edges: [], notes: [] }, agentCounter: { n: 0 },
  };
}

function add(ctx: Ctx, n: Omit<DNode, "id">): number {
  const id = ctx.d.nodes.length;
  ctx.d.nodes.push({ id, ...n });
  return id;
}

function edge(ctx: Ctx, from: number[], to: number, kind: DEdge["kind"] = "data", label?: string): void {
  for (const f of from) if (!ctx.d.edges.some((e) => e.from === f && e.to === to)) ctx.d.edges.push({ from: f, to, kind, ...(label ? { label } : {}) });
}

const src = (ctx: Ctx, s: A.Span) => ctx.text.slice(s.start, s.end).replace(/\s+/g, " ").trim();

/**
 * Wraps text onto lines of at most `max` characters, breaking a pipeline between stages and an
 * argument list after its commas, never inside a stage's own arguments.
 */
export function wrap(text: string, max = MAX_LINE): string[] {
  if (text.length <= max) return [text];
  const atoms: string[] = [];
  const pipeline = splitTop(text, "|> ", 0).length > 1;
  for (const part of pipeline ? splitTop(text, "|> ", 0) : splitTop(text, ", ", 1)) atoms.push(part);
  const out: string[] = [];
  let line = "";
  for (const atom of atoms) {
    if (line && line.length + atom.length > max) {
      out.push(line.trimEnd());
      line = "  " + atom;
    } else line += atom;
  }
  if (line.trim()) out.push(line.trimEnd());
  return out;
}

/** Splits after each `sep` found at paren depth ≤ `depth`, keeping the separator on the left piece. */
function splitTop(text: string, sep: string, depth: number): string[] {
  const out: string[] = [];
  let d = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "(" || ch === "[") d++;
    else if (ch === ")" || ch === "]") d--;
    else if (d <= depth && text.startsWith(sep, i)) {
      out.push(text.slice(start, i + sep.length));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  out.push(text.slice(start));
  return out;
}

function tensorParams(decl: A.LayerDecl, ctx: Ctx): void {
  for (const p of decl.params) {
    if (p.kind !== "TensorParam") continue;
    const id = add(ctx, { kind: "input", title: `${p.name.name}: [${p.dims.map((d) => src(ctx, d.span)).join(", ")}]`, lines: [], name: p.name.name });
    ctx.env.set(p.name.name, [id]);
  }
}

function layerBody(decl: A.LayerDecl, ctx: Ctx): void {
  tensorParams(decl, ctx);
  statements(decl.body, ctx);
}

function statements(body: A.Stmt[], ctx: Ctx): void {
  for (const s of body) {
    switch (s.kind) {
      case "PoolDecl": poolNode(s, ctx); break;
      case "RouterDecl": routerNode(s, ctx); break;
      case "Let": case "Assign": bind(s, ctx); break;
      case "Repeat": case "Iterate": group(s, ctx); break;
      case "Loss": ctx.d.notes.push(`loss ${src(ctx, s.call.span)}`); break;
      case "Report": ctx.d.notes.push(`report ${s.names.map((n) => n.name).join(", ")}`); break;
      case "Return": ret(s, ctx); break;
    }
  }
}

function owner(ctx: Ctx, name: string): Owner | undefined {
  return ctx.inst.owners.find((o) => o.prefix === name + ctx.iterSuffix);
}

function poolNode(s: A.PoolDecl, ctx: Ctx): void {
  const o = owner(ctx, s.name.name);
  const lines = wrap(o ? poolText(o) : src(ctx, s.expert.span));
  if (o) {
    const c = ownerCounts(o);
    lines.push(o.category === "shared" ? `always on · ${humanCount(c.total)} params` : `${humanCount(c.total)} params · ${activeText(o) || "unused"}`);
  }
  const id = add(ctx, { kind: s.shared ? "shared" : "pool", title: `${s.shared ? "shared" : "experts"} ${s.name.name}`, lines, name: s.name.name });
  ctx.pools.set(s.name.name, id);
}

function routerNode(s: A.RouterDecl, ctx: Ctx): void {
  const o = owner(ctx, s.name.name);
  const text = o?.info?.stages ? pipelineText(o.info.stages) : src(ctx, s.pipeline.span);
  const id = add(ctx, { kind: "router", title: `router ${s.name.name}`, lines: [...wrap(text), ...(s.per ? [`per ${s.per.name}`] : [])], name: s.name.name });
  ctx.routers.set(s.name.name, id);
  const select = o?.info?.stages?.find((st) => st.role === "select");
  if (select) ctx.routerSelect.set(s.name.name, selectLabel(select.def.name, select.args));
}

function selectLabel(name: string, args: Record<string, unknown>): string {
  if (name === "topk" || name === "group_topk") return `top-${args.k}`;
  if (name === "topp") return `top-p ${args.p}`;
  if (name === "threshold") return `≥ ${args.delta}`;
  if (name === "choose") return `capacity ${args.capacity}`;
  return name;
}

const BLOCK_KIND: Record<string, NodeKind> = { embed: "embed", rmsnorm: "norm", layernorm: "norm", attention: "attention", mla: "attention", lm_head: "head", linear: "linear" };

/** `let NAME = …` / `NAME = …`: a block or layer call becomes a node; other expressions an op node or an alias. */
function bind(s: A.LetStmt | A.AssignStmt, ctx: Ctx): void {
  const v = s.value;
  if (v.kind === "Call" && v.args !== undefined) {
    const callee = v.callee.name;
    const top = ctx.unit.scopes.get(ctx.file)?.names.get(callee);
    const local = lookup(ctx, callee);
    // A weight-owning block (the elaborator made an owner of this name) or a called layer.
    const isLayer = top?.decl.kind === "Layer";
    if (!local && (isLayer || BLOCKS[callee] || owner(ctx, s.name.name)?.category === "dense_ffn")) {
      const ins = v.args.filter((a) => !a.name).flatMap((a) => sources(a.value, ctx));
      const id = isLayer ? layerCall(s.name.name, v, top!.decl as A.LayerDecl, top!.file, ctx) : blockNode(s.name.name, v, ctx);
      edge(ctx, ins, id);
      ctx.env.set(s.name.name, [id]);
      return;
    }
  }
  const ins = sources(v, ctx);
  if (v.kind === "Call" && v.args === undefined) {
    ctx.env.set(s.name.name, ins); // an alias: `let h = embed_tokens`
    return;
  }
  const id = add(ctx, { kind: "op", title: `${s.name.name} = ${src(ctx, v.span)}`, lines: [] });
  edge(ctx, ins, id);
  ctx.env.set(s.name.name, [id]);
}

function blockNode(name: string, call: A.Call, ctx: Ctx): number {
  const callee = call.callee.name;
  const o = owner(ctx, name);
  const kind: NodeKind = BLOCK_KIND[callee] ?? "ffn";
  const lines: string[] = [];
  if (o?.info) {
    // The arguments the call writes, with their values; defaults (attention's dozen §13.0 options) stay out.
    const written = new Set(call.args?.flatMap((a) => (a.name ? [a.name.name] : [])) ?? []);
    const args = Object.fromEntries(Object.entries(o.info.args[0] ?? {}).filter(([k]) => written.has(k)));
    if (callee === "lm_head" && args.tied !== undefined) delete args.vocab;
    lines.push(...wrap(kindText(o.info.kind, args).replace(/^\w+\(/, "(")));
  } else lines.push(...wrap(src(ctx, call.span)));
  const tied = o?.info?.args[0]?.tied;
  if (o) lines.push(tied !== undefined ? `shares ${tied}.weight` : `${humanCount(ownerCounts(o).total)} params`);
  return add(ctx, { kind, title: `${name} = ${callee}`, lines, name });
}

function childFor(ctx: Ctx, prefix: string, span?: A.Span): ChildRef | undefined {
  return ctx.inst.children.find((c) => c.prefix === prefix && (!span || (c.span.start === span.start && c.span.end === span.end)));
}

function layerCall(name: string, call: A.Call, decl: A.LayerDecl, declFile: string, ctx: Ctx): number {
  const child = childFor(ctx, name + ctx.iterSuffix);
  const args = (call.args ?? []).filter((a) => a.name).map((a) => src(ctx, a.span)).join(", ");
  const lines: string[] = [];
  let inner: Diagram | undefined;
  if (child) {
    const c = countInstance(child.instance);
    lines.push(`${humanCount(c.total)} params · ${humanCount(c.active)} active`);
    const sub = newCtx(ctx.unit, declFile, child.instance, "");
    layerBody(decl, sub);
    inner = sub.d;
  }
  return add(ctx, { kind: "layer", title: `${name} = ${decl.name.name}(${args})`, lines, name, inner });
}

function lookup(ctx: Ctx, name: string): number[] | undefined {
  const own = ctx.env.get(name);
  if (own) return own;
  if (!ctx.outer) return undefined;
  // A value from outside the group: an input pill inside, an edge into the group outside.
  const seen = ctx.outer.reads.get(name);
  if (seen !== undefined) return [seen];
  const outerSources = lookup(ctx.outer.ctx, name);
  if (!outerSources) return undefined;
  const id = add(ctx, { kind: "input", title: name, lines: [], name });
  ctx.outer.reads.set(name, id);
  ctx.env.set(name, [id]);
  return [id];
}

/** A pool or router by name, here or in an enclosing group (then drawn as a reference). */
function weightNode(ctx: Ctx, name: string, kind: "pools" | "routers"): number | undefined {
  const own = ctx[kind].get(name);
  if (own !== undefined) return own;
  if (!ctx.outer) return undefined;
  const outerId = weightNode(ctx.outer.ctx, name, kind);
  if (outerId === undefined) return undefined;
  const o = ctx.outer.ctx.d.nodes[outerId]!;
  ctx.outer.lent.add(outerId);
  const id = add(ctx, { kind: o.kind, title: o.title, lines: ["declared outside; shared by every pass"], name: o.name, reference: true });
  ctx[kind].set(name, id);
  if (kind === "routers") {
    const sel = ctx.outer.ctx.routerSelect.get(name);
    if (sel) ctx.routerSelect.set(name, sel);
  }
  return id;
}

/** The nodes whose outputs an expression reads; `moe(x, r, E)` adds x → r → E, `S(x)` adds x → S. */
function sources(e: A.Expr, ctx: Ctx): number[] {
  switch (e.kind) {
    case "Binary": return [...new Set([...sources(e.left, ctx), ...sources(e.right, ctx)])];
    case "Unary": return sources(e.operand, ctx);
    case "Call": {
      if (e.args === undefined) return lookup(ctx, e.callee.name) ?? [];
      const args = e.args;
      if (e.callee.name === "moe" && args.length === 3) {
        const xs = sources(args[0]!.value, ctx);
        const rName = args[1]!.value.kind === "Call" ? args[1]!.value.callee.name : "";
        const pName = args[2]!.value.kind === "Call" ? args[2]!.value.callee.name : "";
        const r = weightNode(ctx, rName, "routers");
        const p = weightNode(ctx, pName, "pools");
        if (r === undefined || p === undefined) return xs;
        edge(ctx, xs, r);
        edge(ctx, [r], p, "route", ctx.routerSelect.get(rName));
        edge(ctx, xs, p);
        return [p];
      }
      const shared = weightNode(ctx, e.callee.name, "pools");
      if (shared !== undefined && !lookup(ctx, e.callee.name)) {
        const xs = args.flatMap((a) => sources(a.value, ctx));
        edge(ctx, xs, shared);
        return [shared];
      }
      return [...new Set(args.flatMap((a) => sources(a.value, ctx)))];
    }
    default: return [];
  }
}

function ret(s: A.ReturnStmt, ctx: Ctx): void {
  if (s.value.kind === "Record") {
    for (const f of s.value.fields) {
      const id = add(ctx, { kind: "output", title: `${f.name.name} = ${src(ctx, f.value.span)}`, lines: [], name: f.name.name });
      edge(ctx, sources(f.value, ctx), id);
    }
    return;
  }
  const id = add(ctx, { kind: "output", title: `return ${src(ctx, s.value.span)}`, lines: [] });
  edge(ctx, sources(s.value, ctx), id);
}

/** `repeat N as NAME from K` / `iterate N`: a group node around the body, drawn once. */
function group(s: A.RepeatStmt | A.IterateStmt, ctx: Ctx): void {
  let inst = ctx.inst;
  let iterSuffix = `${ctx.iterSuffix}.0`;
  let title: string;
  const lines: string[] = [];
  if (s.kind === "Repeat") {
    const child = childFor(ctx, s.as.name, s.as.span);
    if (child) {
      inst = child.instance;
      iterSuffix = "";
      const k = child.copies?.count ?? 1, first = child.copies?.start ?? 0;
      const c = countInstance(child.instance);
      title = `repeat ×${k} as ${s.as.name}  (${k === 1 ? `${s.as.name}.${first}` : `${s.as.name}.${first}–${first + k - 1}`})`;
      lines.push(`each layer: ${humanCount(c.total)} params · ${humanCount(c.active)} active`);
    } else title = `repeat ${src(ctx, s.count.span)} as ${s.as.name}`;
  } else {
    title = `iterate ×${src(ctx, s.count.span)}  (weights declared inside: one per pass)`;
  }
  const sub = newCtx(ctx.unit, ctx.file, inst, iterSuffix);
  const reads = new Map<string, number>();
  const lent = new Set<number>();
  sub.outer = { ctx, reads, lent };
  statements(s.body, sub);
  const id = add(ctx, { kind: s.kind === "Repeat" ? "repeat" : "iterate", title, lines, inner: sub.d });
  for (const name of reads.keys()) edge(ctx, lookup(ctx, name) ?? [], id);
  for (const p of lent) edge(ctx, [p], id, "weights");
  // Outer names rebound inside flow out of the group.
  const rebound = new Set(s.body.filter((st): st is A.AssignStmt => st.kind === "Assign").map((st) => st.name.name));
  for (const name of rebound) {
    if (!reads.has(name) && !ctx.env.has(name)) continue;
    const out = add(sub, { kind: "output", title: name, lines: [], name });
    edge(sub, sub.env.get(name) ?? [], out);
    ctx.env.set(name, [id]);
  }
}

/** A graph: agents are group nodes, `->` chains them, `parallel(…) |> mean` fans out and joins. */
function graphBody(decl: A.GraphDecl, ctx: Ctx): void {
  const inputs: number[] = [];
  for (const p of decl.params) {
    if (p.kind !== "TensorParam") continue;
    inputs.push(add(ctx, { kind: "input", title: `${p.name.name}: [${p.dims.map((d) => src(ctx, d.span)).join(", ")}]`, lines: [], name: p.name.name }));
  }
  const outs = topology(decl.topology, inputs, ctx);
  const id = add(ctx, { kind: "output", title: "output", lines: [] });
  edge(ctx, outs, id);
}

function topology(e: A.Expr, input: number[], ctx: Ctx): number[] {
  if (e.kind === "Binary" && e.op === "->") return topology(e.right, topology(e.left, input, ctx), ctx);
  if (e.kind === "Binary" && e.op === "|>" && e.left.kind === "Call" && e.left.args) {
    const outs = e.left.args.flatMap((a) => topology(a.value, input, ctx));
    const id = add(ctx, { kind: "op", title: e.right.kind === "Call" ? e.right.callee.name : "combine", lines: [] });
    edge(ctx, outs, id);
    return [id];
  }
  if (e.kind !== "Call") return input;
  if (e.callee.name === "primary_peers") return primaryPeers(e, input, ctx);
  return agentNode(e, input, ctx, String(ctx.agentCounter.n++));
}

/** `primary_peers(…)` (§11.1): every agent reads the input; the primary's cross-attention reads them all. */
function primaryPeers(e: A.Call, input: number[], ctx: Ctx): number[] {
  const args = e.args ?? [];
  const rounds = args.find((a) => a.name?.name === "rounds");
  const agents = args.filter((a) => !a.name && a.value.kind === "Call").map((a) => {
    const index = ctx.agentCounter.n++;
    return agentNode(a.value as A.Call, input, ctx, `${index}.0`, String(index));
  });
  const settings = args.filter((a) => a.name && a.name.name !== "rounds").map((a) => src(ctx, a.span)).join(", ");
  const id = add(ctx, { kind: "op", title: "primary_peers: the primary attends to its peers", lines: [`${settings}${rounds ? `, ${src(ctx, rounds.span)}` : ", rounds = 1"}`] });
  edge(ctx, agents.flat(), id);
  return [id];
}

/** One agent's node: its round-0 instance under `childPrefix` gives its counts and inner diagram. */
function agentNode(e: A.Call, input: number[], ctx: Ctx, childPrefix: string, label = childPrefix): number[] {
  const top = ctx.unit.scopes.get(ctx.file)?.names.get(e.callee.name);
  const index = label;
  const child = childFor(ctx, childPrefix);
  let inner: Diagram | undefined;
  const lines: string[] = [];
  if (child && top && (top.decl.kind === "Layer" || top.decl.kind === "Graph")) {
    const c = countInstance(child.instance);
    lines.push(`${humanCount(c.total)} params · ${humanCount(c.active)} active`);
    inner = diagramOf(ctx.unit, top.decl, top.file, child.instance);
  }
  const id = add(ctx, { kind: "layer", title: `agent ${index}: ${src(ctx, e.span)}`, lines, name: String(index), inner });
  edge(ctx, input, id);
  return [id];
}
