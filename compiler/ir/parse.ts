// Reads the IR's text form (compiler/ir/print.ts) back into an IrProgram, so that tests can state
// a program, or a pass's expected result, as text: parseIr(printIr(p)) deep-equals p, and
// printIr(parseIr(t)) === t for every printed t. It checks the form, not the meaning (that is
// verifyIr's job), and throws IrParseError with the line of the first problem.
import type { BinaryFn, ExpertAct, IrAgentMember, IrExpertSpec, IrOp, IrPool, IrProgram, IrRope, IrRouter, IrStage, IrValue, IrWeight, UnaryFn } from "./ir.js";

export class IrParseError extends Error {
  constructor(readonly line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = "IrParseError";
  }
}

const NUMBER = /^-?(?:Infinity|NaN|\d+(?:\.\d+)?(?:e[+-]?\d+)?)/;

/** A cursor over one line; every read skips the spaces before it. */
class Line {
  private pos = 0;
  constructor(readonly text: string, readonly no: number) {}
  fail(what: string): never {
    throw new IrParseError(this.no, `expected ${what} at column ${this.pos + 1}: ${this.text.trim()}`);
  }
  private skip(): void {
    while (this.text[this.pos] === " ") this.pos++;
  }
  private match(re: RegExp): string | undefined {
    this.skip();
    const m = re.exec(this.text.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
  peek(s: string): boolean {
    this.skip();
    return this.text.startsWith(s, this.pos);
  }
  eat(s: string): void {
    if (!this.peek(s)) this.fail(`\`${s}\``);
    this.pos += s.length;
  }
  atEnd(): boolean {
    this.skip();
    return this.pos >= this.text.length;
  }
  end(): void {
    if (!this.atEnd()) this.fail("the end of the line");
  }
  word(): string {
    return this.match(/^[A-Za-z0-9_][A-Za-z0-9_.]*/) ?? this.fail("a word");
  }
  str(): string {
    const s = this.match(/^"(?:[^"\\]|\\.)*"/) ?? this.fail("a string");
    return JSON.parse(s) as string;
  }
  name(): string {
    return this.peek("\"") ? this.str() : this.word();
  }
  num(): number {
    const s = this.match(NUMBER) ?? this.fail("a number");
    return Number(s);
  }
  bool(): boolean {
    const w = this.word();
    if (w !== "true" && w !== "false") this.fail("true or false");
    return w === "true";
  }
  oneOf<T extends string>(options: readonly T[]): T {
    const w = this.word();
    if (!(options as readonly string[]).includes(w)) this.fail(options.join(" | "));
    return w as T;
  }
  /** `key=`, checked. */
  key(k: string): void {
    this.eat(`${k}=`);
  }
  ref(): number {
    this.eat("%");
    return this.num();
  }
}

const ACTS: readonly ExpertAct[] = ["swiglu", "geglu", "relu", "gelu", "silu", "identity"];
const UNARY: readonly UnaryFn[] = ["sigmoid", "silu", "gelu", "relu", "softmax", "neg"];
const BINARY: readonly BinaryFn[] = ["add", "sub", "mul", "div"];
const ROLES: readonly IrStage["role"][] = ["score", "transform", "select", "post"];

function parseShape(l: Line): number[] {
  l.eat("[");
  const dims: number[] = [];
  while (!l.peek("]")) {
    if (dims.length) l.eat(",");
    dims.push(l.num());
  }
  l.eat("]");
  return dims;
}

function parseValueHead(l: Line, id: number): IrValue {
  const dtype = l.peek("i32") ? "i32" : "f32";
  l.eat(`${dtype}[T`);
  let width = 1;
  if (l.peek(",")) {
    l.eat(",");
    width = l.num();
  } else if (dtype === "f32") l.fail("`, WIDTH`");
  l.eat("]");
  const name = l.str();
  let vid = id;
  if (l.peek("id=")) {
    l.key("id");
    vid = l.num();
  }
  return { id: vid, width, dtype, name };
}

/** `from=[NAME: SOURCE, …]` names where plugin stages and kinds came from; their implementations
 *  are code, not text, so a parsed program carries none (compile the source to run it). */
function skipPluginSources(l: Line): void {
  if (!l.peek("from=")) return;
  l.key("from");
  l.eat("[");
  while (!l.peek("]")) {
    l.name();
    l.eat(":");
    l.name();
    if (l.peek(",")) l.eat(",");
  }
  l.eat("]");
}

function parseStage(l: Line): IrStage {
  const role = l.oneOf(ROLES);
  const name = l.name();
  const params: IrStage["params"] = {};
  if (l.peek("(")) {
    l.eat("(");
    while (!l.peek(")")) {
      if (Object.keys(params).length) l.eat(",");
      const k = l.name();
      l.eat("=");
      params[k] = l.peek("\"") ? l.str() : l.peek("true") || l.peek("false") ? l.bool() : l.num();
    }
    l.eat(")");
  }
  l.end();
  return { name, role, params };
}

function parseRouterHead(l: Line, key: string): IrRouter {
  l.eat("router");
  l.key("experts"); const numExperts = l.num();
  l.key("dim"); const dim = l.num();
  l.key("maxPerToken"); const maxPerToken = l.num();
  l.key("scope"); const scope = l.oneOf(["token", "run"] as const);
  let unit: "sequence" | undefined;
  if (l.peek("per=")) { l.key("per"); unit = l.oneOf(["sequence"] as const); }
  l.key("report"); l.eat("[");
  const report: string[] = [];
  while (!l.peek("]")) {
    if (report.length) l.eat(",");
    report.push(l.name());
  }
  l.eat("]");
  const r: IrRouter = { key, numExperts, dim, stages: [], maxPerToken, scope, report, ...(unit ? { unit } : {}) };
  if (l.peek("balance=")) {
    l.key("balance");
    r.balanceCoef = l.num();
  }
  skipPluginSources(l);
  l.end();
  return r;
}

function parsePoolHead(l: Line, key: string): { pool: IrPool; members: number } {
  l.eat("pool");
  const kind = l.name();
  l.key("count"); const count = l.num();
  l.key("dim"); const dim = l.num();
  l.key("hidden"); const hidden = l.num();
  l.key("act"); const act = l.oneOf(ACTS);
  l.key("bias"); const bias = l.bool();
  l.key("split"); const split = l.num();
  l.key("shared"); const shared = l.bool();
  let members = -1;
  if (l.peek("members=")) {
    l.key("members");
    members = l.num();
  }
  skipPluginSources(l);
  l.end();
  return { pool: { key, kind, count, dim, hidden, act, bias, split, shared, ...(members >= 0 ? { members: [] } : {}) }, members };
}

function parseMember(l: Line, j: number): IrExpertSpec {
  l.eat(`member ${j}:`);
  const kind = l.name();
  if (kind === "mixed") l.fail("a member's expert kind");
  l.key("hidden"); const hidden = l.num();
  l.key("act"); const act = l.oneOf(ACTS);
  l.key("bias"); const bias = l.bool();
  skipPluginSources(l);
  l.end();
  return { kind, hidden, act, bias };
}

/** `rope KIND theta=… dim=…`, then an optional `  yarn …` line. */
function parseRope(body: Body): IrRope {
  const l = body.take(2);
  l.eat("rope");
  const kind = l.oneOf(["half", "interleaved", "none"] as const);
  l.key("theta"); const theta = l.num();
  l.key("dim"); const dim = l.num();
  l.end();
  const rope: IrRope = { kind, theta, dim };
  if (body.next(4, ["yarn"])) {
    const y = body.take(4);
    y.eat("yarn");
    y.key("factor"); const factor = y.num();
    y.key("original"); const original = y.num();
    y.key("beta_fast"); const betaFast = y.num();
    y.key("beta_slow"); const betaSlow = y.num();
    y.key("mscale"); const mscale = y.num();
    y.key("mscale_all_dim"); const mscaleAllDim = y.num();
    y.end();
    rope.yarn = { factor, original, betaFast, betaSlow, mscale, mscaleAllDim };
  }
  return rope;
}

/** The lines after an op: its descriptors, indented by 2 (heads) and 4 (stages, members). */
interface Body {
  take(indent: number): Line;
  /** Whether the next line is indented by `indent` and starts with one of `words`. */
  next(indent: number, words: readonly string[]): boolean;
  /** The consecutive next lines that start with `prefix`, without it (an agents member's body). */
  block(prefix: string): string[];
}

/** The right-hand side of an op line, then its descriptor lines. */
function parseOp(l: Line, out: number, body: Body): IrOp {
  const op = l.oneOf(["linear", "unary", "binary", "scalar", "shared", "moe", "embed", "norm", "attention", "mla", "peer_attention", "moe_agents"] as const);
  const pool = (key: string): IrPool => {
    const { pool: p, members } = parsePoolHead(body.take(2), key);
    for (let j = 0; j < members; j++) p.members!.push(parseMember(body.take(4), j));
    return p;
  };
  switch (op) {
    case "linear": {
      const x = l.ref();
      l.key("weight"); const weight = l.name();
      l.key("out"); const outDim = l.num();
      l.key("bias"); const bias = l.bool();
      l.end();
      return { op, out, x, weight, outDim, bias };
    }
    case "unary": { const fn = l.oneOf(UNARY); const x = l.ref(); l.end(); return { op, out, fn, x }; }
    case "binary": { const fn = l.oneOf(BINARY); const a = l.ref(); l.eat(","); const b = l.ref(); l.end(); return { op, out, fn, a, b }; }
    case "scalar": {
      const fn = l.oneOf(BINARY);
      const scalarFirst = !l.peek("%");
      const first = scalarFirst ? l.num() : l.ref();
      l.eat(",");
      const second = scalarFirst ? l.ref() : l.num();
      l.end();
      return scalarFirst ? { op, out, fn, x: second, value: first, scalarFirst } : { op, out, fn, x: first, value: second, scalarFirst };
    }
    case "shared": { const x = l.ref(); l.key("pool"); const key = l.name(); l.end(); return { op, out, x, pool: pool(key) }; }
    case "moe": {
      const x = l.ref();
      l.key("router"); const rkey = l.name();
      l.key("pool"); const pkey = l.name();
      l.end();
      const router = parseRouterHead(body.take(2), rkey);
      while (body.next(4, ROLES)) router.stages.push(parseStage(body.take(4)));
      return { op, out, x, router, pool: pool(pkey) };
    }
    case "embed": {
      const ids = l.ref();
      l.key("weight"); const weight = l.name();
      l.key("vocab"); const vocab = l.num();
      l.end();
      return { op, out, ids, weight, vocab };
    }
    case "norm": {
      const kind = l.oneOf(["rms", "layer"] as const);
      const x = l.ref();
      l.key("weight"); const weight = l.name();
      l.key("eps"); const eps = l.num();
      l.end();
      return { op, out, x, kind, weight, eps };
    }
    case "attention": {
      const x = l.ref();
      l.key("key"); const key = l.name();
      l.end();
      const h = body.take(2);
      h.eat("attention");
      h.key("heads"); const heads = h.num();
      h.key("kv_heads"); const kvHeads = h.num();
      h.key("head_dim"); const headDim = h.num();
      h.key("bias"); const bias = h.bool();
      h.key("qk_norm"); const qkNorm = h.oneOf(["none", "full", "head"] as const);
      h.key("qk_eps"); const qkEps = h.num();
      h.key("window"); const window = h.num();
      h.end();
      return { op, out, x, attn: { key, heads, kvHeads, headDim, bias, qkNorm, qkEps, rope: parseRope(body), window } };
    }
    case "mla": {
      const x = l.ref();
      l.key("key"); const key = l.name();
      l.end();
      const h = body.take(2);
      h.eat("mla");
      h.key("heads"); const heads = h.num();
      h.key("q_rank"); const qRank = h.num();
      h.key("kv_rank"); const kvRank = h.num();
      h.key("nope_dim"); const nopeDim = h.num();
      h.key("rope_dim"); const ropeDim = h.num();
      h.key("v_dim"); const vDim = h.num();
      h.key("norm_eps"); const normEps = h.num();
      h.end();
      return { op, out, x, attn: { key, heads, qRank, kvRank, nopeDim, ropeDim, vDim, normEps, rope: parseRope(body) } };
    }
    case "moe_agents": {
      const x = l.ref();
      l.key("router"); const rkey = l.name();
      l.key("pool"); const key = l.name();
      l.key("members"); const n = l.num();
      l.end();
      const router = parseRouterHead(body.take(2), rkey);
      while (body.next(4, ROLES)) router.stages.push(parseStage(body.take(4)));
      const members: IrAgentMember[] = [];
      for (let j = 0; j < n; j++) {
        const h = body.take(2);
        h.eat(`member ${j}:`);
        h.end();
        const sub = parseIr(body.block("    | ").join("\n") + "\n");
        members.push({ values: sub.values, input: sub.inputs[0]!.value, output: sub.outputs[0]!.value, ops: sub.ops });
      }
      return { op, out, x, router, key, members };
    }
    case "peer_attention": {
      const x = l.ref();
      l.key("peers"); l.eat("[");
      const peers: number[] = [];
      while (!l.peek("]")) {
        if (peers.length) l.eat(",");
        peers.push(l.ref());
      }
      l.eat("]");
      l.key("key"); const key = l.name();
      l.key("heads"); const heads = l.num();
      l.key("out"); const outDim = l.num();
      l.end();
      return { op, out, x, peers, key, heads, outDim };
    }
  }
}

/** Parses the text form; throws IrParseError at the first line that does not fit it. */
export function parseIr(text: string): IrProgram {
  const raw = text.replace(/\r\n/g, "\n").split("\n");
  if (raw[raw.length - 1] === "") raw.pop();
  let i = 0;
  const next = (): Line | undefined => (i < raw.length ? new Line(raw[i]!, ++i) : undefined);
  const head = next() ?? new Line("", 1);
  head.eat("ir ");
  const p: IrProgram = { entry: head.name(), values: [], inputs: [], outputs: [], weights: [], ops: [] };
  if (head.peek("model")) {
    head.eat("model");
    p.model = true;
  }
  head.end();
  const body: Body = {
    take(indent) {
      const l = next();
      if (!l || !new RegExp(`^ {${indent}}\\S`).test(l.text)) throw new IrParseError(l?.no ?? i, `expected a descriptor line indented by ${indent}`);
      return l;
    },
    next: (indent, words) => i < raw.length && words.some((w) => raw[i]!.startsWith(`${" ".repeat(indent)}${w} `)),
    block(prefix) {
      const lines: string[] = [];
      while (i < raw.length && raw[i]!.startsWith(prefix)) lines.push(raw[i++]!.slice(prefix.length));
      if (!lines.length) throw new IrParseError(i + 1, `expected lines starting with \`${prefix.trim()}\``);
      return lines;
    },
  };
  for (let l = next(); l; l = next()) {
    if (/^\s/.test(l.text)) l.fail("a line that is not indented (a descriptor without its op)");
    if (l.peek("weight ")) {
      l.eat("weight");
      const name = l.name();
      l.eat(":");
      const w: IrWeight = { name, shape: parseShape(l), role: l.oneOf(["param", "state"] as const) };
      if (l.peek("init=")) { l.key("init"); w.init = l.oneOf(["zeros", "ones"] as const); }
      l.end();
      p.weights.push(w);
    } else if (l.peek("output ")) {
      l.eat("output");
      const name = l.name();
      l.eat("=");
      p.outputs.push({ name, value: l.ref() });
      l.end();
    } else if (l.peek("%")) {
      const id = l.ref();
      if (l.peek(":")) { l.eat(":"); p.values[id] = parseValueHead(l, id); }
      l.eat("=");
      if (l.peek("input ")) { l.eat("input"); p.inputs.push({ name: l.name(), value: id }); l.end(); }
      else if (l.peek("undef")) { l.eat("undef"); l.end(); }
      else p.ops.push(parseOp(l, id, body));
    } else l.fail("`weight`, `%N`, or `output`");
  }
  for (let k = 0; k < p.values.length; k++) if (!p.values[k]) throw new IrParseError(i, `value %${k} is never declared`);
  return p;
}
