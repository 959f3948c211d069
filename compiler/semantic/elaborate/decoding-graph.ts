// Decoding graphs (LANGUAGE.md §11.2): a `graph g(tokens: [T]) = FORM` over model agents checks
// here and becomes a DecodingGraph (compiler/ir/decoding-graph.ts): each model agent compiled
// alone at its bindings (own IR, own weight names), numbered in reading order, and the form with
// its named arguments. Forms do not nest: each form's operands are model agents.
import type * as A from "../../syntax/ast.js";
import type { DecodingAgent, DecodingForm, DecodingGraph, DecodingSep } from "../../ir/decoding-graph.js";
import { IrBuilder } from "../../ir/ir-builder.js";
import type { Value } from "../values.js";
import { didYouMean } from "../suggest.js";
import type { Frame } from "./context.js";
import { err, exprWhat } from "./context.js";
import { elaborate } from "./declarations.js";
import { evalCompileTime } from "./expressions.js";

const FORMS = ["chain", "parallel", "relay", "debate", "cascade", "route", "concurrent"] as const;
const COMBINERS = { parallel: ["mean", "vote"], debate: ["vote", "first"] } as const;

/** Named arguments each form takes (every form takes `sep`, §11.2). */
const FORM_ARGS: Record<string, readonly string[]> = {
  chain: ["sep"], parallel: ["sep"], relay: ["after", "sep"], debate: ["rounds", "sep"], cascade: ["confidence", "sep"], route: ["sep"],
  concurrent: ["threads", "sep"],
};

/** The decoding graph of `topology`, or undefined after reporting why there is none. */
export function evalDecodingGraph(topology: A.Expr, frame: Frame): DecodingGraph | undefined {
  const agents: DecodingAgent[] = [];
  const form = evalForm(topology, frame, agents);
  if (!form || agents.length === 0) return undefined;
  const writers = form.kind === "route" ? form.agents : form.kind === "model" || form.kind === "concurrent" ? [form.agent] : form.agents;
  const first = agents[writers[0]!]!;
  for (const i of writers.slice(1)) {
    const a = agents[i]!;
    if (a.vocab !== first.vocab || a.embedVocab !== first.embedVocab) {
      err(frame, "E0312", `the agents of a decoding graph share one vocabulary: agent ${first.index} (\`${first.model}\`) has V = ${first.vocab}, agent ${a.index} (\`${a.model}\`) has V = ${a.vocab}${a.embedVocab !== a.vocab ? ` (embed ${a.embedVocab})` : ""}`, topology.span);
      return undefined;
    }
  }
  if (form.kind === "route") {
    const r = agents[form.router]!;
    if (r.vocab !== form.agents.length) {
      err(frame, "E0313", `\`route\`'s router \`${r.model}\` must output one logit per agent after it: its lm_head has ${r.vocab} outputs, and ${form.agents.length} agents follow it`, topology.span);
      return undefined;
    }
    if (r.embedVocab !== first.embedVocab) {
      err(frame, "E0313", `\`route\`'s router \`${r.model}\` reads the agents' vocabulary: its embed has ${r.embedVocab} ids, the agents' ${first.embedVocab}`, topology.span);
      return undefined;
    }
  }
  return { name: frame.decl.name.name, form, agents, vocab: first.vocab };
}

function evalForm(e: A.Expr, frame: Frame, agents: DecodingAgent[]): DecodingForm | undefined {
  if (e.kind === "Binary" && e.op === "->") {
    // `A -> B -> C` is chain(A, B, C) with an empty sep.
    const operands: A.Expr[] = [];
    const flatten = (x: A.Expr): void => (x.kind === "Binary" && x.op === "->" ? (flatten(x.left), flatten(x.right)) : void operands.push(x));
    flatten(e);
    const ids = operands.map((o) => agentOperand(o, frame, agents));
    return ids.every((i) => i !== undefined) ? { kind: "chain", agents: ids as number[], sep: { ids: [] } } : undefined;
  }
  if (e.kind === "Binary" && e.op === "|>") return evalCombined(e, frame, agents);
  if (e.kind !== "Call") {
    if (e.kind !== "ErrorExpr") err(frame, "E0311", `a decoding graph is a model agent or a form of §11.2 (\`chain\`, \`parallel(…) |> mean\`, \`relay\`, \`debate\`, \`cascade\`, \`route\`); found ${exprWhat(e)}`, e.span);
    return undefined;
  }
  const name = e.callee.name;
  if (name === "parallel" || name === "debate") {
    err(frame, "E0311", `\`${name}(…)\` needs a combiner: \`${name}(…) |> ${COMBINERS[name][0]}\` (or \`|> ${COMBINERS[name][1]}\`)`, e.span);
    return undefined;
  }
  if (name === "chain" || name === "relay" || name === "cascade" || name === "route" || name === "concurrent") {
    const parts = formCall(e, frame, agents);
    if (!parts) return undefined;
    const { ids, named } = parts;
    switch (name) {
      case "chain":
        return atLeast(ids, 1, e, frame) ? { kind: "chain", agents: ids, sep: sepArg(named, frame) } : undefined;
      case "relay": {
        const after = intArg(named, "after", e, frame, 1);
        return after !== undefined && atLeast(ids, 1, e, frame) ? { kind: "relay", agents: ids, after } : undefined;
      }
      case "cascade": {
        if (ids.length !== 2) {
          err(frame, "E0311", `\`cascade\` takes exactly two agents (a small one, then the one it escalates to); found ${ids.length}`, e.span);
          return undefined;
        }
        const a = named.get("confidence");
        if (!a) return void err(frame, "E0314", "`cascade` needs `confidence = θ` (a probability in [0, 1])", e.span);
        const v = evalCompileTime(a.value, frame);
        const th = v.t === "int" || v.t === "float" ? v.v : NaN;
        if (!(th >= 0 && th <= 1)) return void err(frame, "E0314", `\`confidence\` is a probability in [0, 1]; found ${v.t === "error" ? "an error" : describe(v)}`, a.value.span);
        return { kind: "cascade", agents: [ids[0]!, ids[1]!], confidence: th };
      }
      case "route":
        return atLeast(ids, 2, e, frame) ? { kind: "route", router: ids[0]!, agents: ids.slice(1) } : undefined;
      case "concurrent": {
        // Group Think: N threads of ONE model over one shared cache.
        if (ids.length !== 1) {
          err(frame, "E0311", `\`concurrent\` takes exactly one agent (its N threads share that model's KV cache); found ${ids.length}`, e.span);
          return undefined;
        }
        const threads = intArg(named, "threads", e, frame, 1);
        return threads === undefined ? undefined : { kind: "concurrent", agent: ids[0]!, threads };
      }
    }
  }
  if ((FORMS as readonly string[]).includes(name)) return undefined;
  const id = agentOperand(e, frame, agents);
  return id === undefined ? undefined : { kind: "model", agent: id };
}

/** `parallel(…) |> mean | vote`, `debate(…) |> vote | first`. */
function evalCombined(e: A.Binary, frame: Frame, agents: DecodingAgent[]): DecodingForm | undefined {
  const left = e.left, comb = e.right;
  if (left.kind !== "Call" || (left.callee.name !== "parallel" && left.callee.name !== "debate") || !left.args) {
    err(frame, "E0311", "in a decoding graph, `|>` follows `parallel(…)` (`|> mean`, `|> vote`) or `debate(…)` (`|> vote`, `|> first`)", e.opSpan);
    return undefined;
  }
  const form = left.callee.name;
  const allowed: readonly string[] = COMBINERS[form];
  const cname = comb.kind === "Call" && comb.args === undefined ? comb.callee.name : undefined;
  if (cname === "sum" && form === "parallel") {
    err(frame, "E0316", "`parallel(…) |> sum` over models has no meaning (logits do not add); combine models with `|> mean` (an ensemble) or `|> vote`", comb.span);
    return undefined;
  }
  if (cname === undefined || !allowed.includes(cname)) {
    err(frame, "E0311", `unknown combiner; \`${form}(…)\` over models is combined with ${allowed.map((c) => "`" + c + "`").join(" or ")}`, comb.span, { help: cname ? didYouMean(cname, allowed) : undefined });
    return undefined;
  }
  const parts = formCall(left, frame, agents);
  if (!parts || !atLeast(parts.ids, 1, left, frame)) return undefined;
  if (form === "parallel") return cname === "mean" ? { kind: "mean", agents: parts.ids } : { kind: "vote", agents: parts.ids };
  const rounds = intArg(parts.named, "rounds", left, frame, 1);
  return rounds === undefined ? undefined : { kind: "debate", agents: parts.ids, rounds, sep: sepArg(parts.named, frame), combiner: cname as "vote" | "first" };
}

/** A form call's agents (positional, numbered now, in reading order) and its checked named arguments. */
function formCall(e: A.Call, frame: Frame, agents: DecodingAgent[]): { ids: number[]; named: Map<string, A.Arg> } | undefined {
  const form = e.callee.name;
  const named = new Map<string, A.Arg>();
  const ids: (number | undefined)[] = [];
  let ok = true;
  for (const a of e.args ?? []) {
    if (!a.name) {
      ids.push(agentOperand(a.value, frame, agents));
      continue;
    }
    const known = FORM_ARGS[form] ?? [];
    if (!known.includes(a.name.name)) {
      err(frame, "E0314", `\`${form}\` has no argument \`${a.name.name}\`${known.length ? ` (it takes ${known.map((k) => "`" + k + "`").join(", ")})` : ""}`, a.name.span, { help: didYouMean(a.name.name, known) });
      ok = false;
    } else if (named.has(a.name.name)) {
      err(frame, "E0314", `\`${a.name.name}\` is given twice`, a.name.span);
      ok = false;
    } else named.set(a.name.name, a);
  }
  if (!ok || ids.some((i) => i === undefined)) return undefined;
  return { ids: ids as number[], named };
}

function atLeast(ids: number[], n: number, e: A.Call, frame: Frame): boolean {
  if (ids.length >= n) return true;
  err(frame, "E0311", `\`${e.callee.name}\` needs at least ${n} agent${n === 1 ? "" : "s"}; found ${ids.length}`, e.span);
  return false;
}

function intArg(named: Map<string, A.Arg>, name: string, e: A.Call, frame: Frame, min: number): number | undefined {
  const a = named.get(name);
  if (!a) return void err(frame, "E0314", `\`${e.callee.name}\` needs \`${name} = N\` (an integer ≥ ${min})`, e.span);
  const v = evalCompileTime(a.value, frame);
  if (v.t !== "int" || v.v < min) return void err(frame, "E0314", `\`${name}\` is an integer ≥ ${min}; found ${describe(v)}`, a.value.span);
  return v.v;
}

/** `sep = [ids]` or `sep = "text"`; default empty. */
function sepArg(named: Map<string, A.Arg>, frame: Frame): DecodingSep {
  const a = named.get("sep");
  if (!a) return { ids: [] };
  if (a.value.kind === "List") {
    const ids: number[] = [];
    for (const item of a.value.items) {
      const v = evalCompileTime(item, frame);
      if (v.t !== "int" || v.v < 0) err(frame, "E0314", `\`sep\` is a list of token ids (integers ≥ 0) or a string; found ${describe(v)}`, item.span);
      else ids.push(v.v);
    }
    return { ids };
  }
  const v = evalCompileTime(a.value, frame);
  if (v.t === "string") return { text: v.v };
  err(frame, "E0314", `\`sep\` is a list of token ids (\`sep = [198]\`) or a string (\`sep = "\\n\\n"\`); found ${describe(v)}`, a.value.span);
  return { ids: [] };
}

function describe(v: Value): string {
  return v.t === "int" || v.t === "float" ? String(v.v) : v.t === "string" ? JSON.stringify(v.v) : v.t === "bool" ? String(v.v) : `a ${v.t}`;
}

/** A model agent `m(HYPER = …)`: compiled alone at its bindings; its number is the next in reading order. */
function agentOperand(e: A.Expr, frame: Frame, agents: DecodingAgent[]): number | undefined {
  if (e.kind === "Call" && (FORMS as readonly string[]).includes(e.callee.name)) {
    err(frame, "E0311", `decoding forms do not nest yet: \`${e.callee.name}(…)\` cannot be an agent of another form; give its agents as models`, e.span);
    return undefined;
  }
  if (e.kind === "Binary") {
    err(frame, "E0311", "decoding forms do not nest yet: an agent of a form is a model call such as `m(L = 2)`", e.span);
    return undefined;
  }
  if (e.kind !== "Call") {
    if (e.kind !== "ErrorExpr") err(frame, "E0311", `an agent of a decoding graph is a model call such as \`m(L = 2)\`; found ${exprWhat(e)}`, e.span);
    return undefined;
  }
  const top = frame.ctx.unit.scopes.get(frame.file)?.names.get(e.callee.name);
  if (!top) {
    err(frame, "E0285", `\`${e.callee.name}\` is not declared`, e.callee.span, { help: didYouMean(e.callee.name, [...(frame.ctx.unit.scopes.get(frame.file)?.names.keys() ?? [])]) });
    return undefined;
  }
  const decl = top.decl;
  if (decl.kind !== "Model") {
    err(frame, "E0310", `\`${e.callee.name}\` is a ${decl.kind === "Const" ? "constant" : decl.kind === "Graph" ? "graph" : "layer"}; the agents of a graph over token ids (\`tokens: [T]\`) are models, and a graph's agents are all of one size`, e.callee.span);
    return undefined;
  }
  const bindings = new Map<string, Value>();
  const hyper = decl.params.filter((p): p is A.HyperParam => p.kind === "HyperParam").map((p) => p.name.name);
  for (const a of e.args ?? []) {
    if (!a.name) {
      err(frame, "E0264", `an agent is named with hyper-parameter arguments only (\`${e.callee.name}(L = 2)\`); the graph supplies the tokens`, a.span);
      return undefined;
    }
    if (!hyper.includes(a.name.name)) {
      err(frame, "E0300", `model \`${decl.name.name}\` has no hyper-parameter \`${a.name.name}\``, a.name.span, { help: didYouMean(a.name.name, hyper) });
      return undefined;
    }
    bindings.set(a.name.name, evalCompileTime(a.value, frame));
  }
  const index = frame.agentCounter.n++;
  const builder = new IrBuilder();
  const r = elaborate(frame.ctx, decl, top.file, bindings, { emit: builder, entry: true });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  for (const d of errors) err(frame, d.code, `in agent ${index} (\`${decl.name.name}\`): ${d.message}`, e.span);
  frame.instance.children.push({ prefix: String(index), instance: r.instance, span: e.span, file: frame.file });
  if (errors.length || builder.unsupported.length) {
    for (const u of builder.unsupported) err(frame, "E0315", `agent ${index} (\`${decl.name.name}\`) cannot run yet: ${u.message}`, e.span);
    return undefined;
  }
  const program = builder.build(decl.name.name, true);
  const out = program.outputs[0];
  const embed = program.ops.find((o) => o.op === "embed");
  if (!out || program.outputs.length !== 1 || !embed || embed.op !== "embed") {
    err(frame, "E0310", `model \`${decl.name.name}\` cannot be a decoding agent: it must embed token ids and return one tensor of logits`, e.span);
    return undefined;
  }
  const agent: DecodingAgent = { index, model: decl.name.name, program, vocab: program.values[out.value]!.width, embedVocab: embed.vocab };
  agents[index] = agent;
  return index;
}
