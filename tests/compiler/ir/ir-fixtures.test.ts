// Golden tests of the IR (DESIGN.md "the IR is small and printable"):
//
//   tests/fixtures/ir/NAME.moe   a runnable entry (small sizes); its lowered IR, printed, is NAME.ir
//
// Each fixture is lowered with verification on, must verify clean, must print as its reviewed
// golden, and must read back (compiler/ir/parse.ts) into the same program. Goldens are rewritten
// with `UPDATE_GOLDEN=1 npx vitest run tests/compiler/ir/ir-fixtures.test.ts` and reviewed in the diff.
// Below the goldens: facts checked by hand against the .moe sources, and that the verifier's pool
// tensor table agrees with the runtime binder's (runtime/weights/canonical-layout.ts).
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { lowerEntry } from "../../../compiler/driver.js";
import type { IrOp, IrProgram } from "../../../compiler/ir/ir.js";
import { printIr } from "../../../compiler/ir/print.js";
import { parseIr } from "../../../compiler/ir/parse.js";
import { verifyIr } from "../../../compiler/ir/verify.js";
import { poolTensors } from "../../../compiler/ir/pool-tensors.js";
import { canonicalLayout } from "../../../runtime/weights/canonical-layout.js";
import { matchGolden } from "../../helpers/frontend/golden.js";
import { FIXTURES, rel } from "../../helpers/frontend/paths.js";

const DIR = path.join(FIXTURES, "ir");
const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".moe")).sort().map((f) => path.join(DIR, f));

function lower(file: string): IrProgram {
  const r = lowerEntry([file], { verifyIr: true });
  expect(r.diagnostics.map((d) => `${d.code}: ${d.message}`), rel(file)).toEqual([]);
  expect(r.unsupported.map((u) => u.message), rel(file)).toEqual([]);
  expect(r.program).toBeDefined();
  return r.program!;
}

const programs = new Map<string, IrProgram>();
const program = (name: string) => {
  const file = path.join(DIR, `${name}.moe`);
  if (!programs.has(file)) programs.set(file, lower(file));
  return programs.get(file)!;
};
const ops = <K extends IrOp["op"]>(p: IrProgram, k: K) => p.ops.filter((o): o is Extract<IrOp, { op: K }> => o.op === k);
const weight = (p: IrProgram, name: string) => p.weights.find((w) => w.name === name);

describe("IR golden fixtures", () => {
  it("exist, and every golden has its fixture", () => {
    expect(files.length).toBeGreaterThanOrEqual(12);
    const orphans = fs.readdirSync(DIR).filter((f) => f.endsWith(".ir") && !fs.existsSync(path.join(DIR, f.replace(/\.ir$/, ".moe"))));
    expect(orphans).toEqual([]);
  });
  for (const file of files) {
    it(path.basename(file, ".moe"), () => {
      const p = program(path.basename(file, ".moe"));
      expect(verifyIr(p)).toEqual([]);
      const text = printIr(p);
      matchGolden(file.replace(/\.moe$/, ".ir"), text);
      const back = parseIr(text);
      expect(back).toEqual(p);
      expect(printIr(back)).toBe(text);
    });
  }

  it("together cover every op kind, unary and binary function, pool kind, stage and descriptor field", () => {
    const all = files.map((f) => program(path.basename(f, ".moe")));
    const seen = new Set<string>();
    for (const p of all) {
      for (const op of p.ops) {
        seen.add(`op:${op.op}`);
        if (op.op === "unary" || op.op === "binary" || op.op === "scalar") seen.add(`${op.op}:${op.fn}`);
        if (op.op === "scalar" && op.scalarFirst) seen.add("scalar:first");
        if (op.op === "linear" && op.bias) seen.add("linear:bias");
        if (op.op === "norm") seen.add(`norm:${op.kind}`);
        if (op.op === "attention") {
          seen.add(`qk_norm:${op.attn.qkNorm}`);
          seen.add(`rope:${op.attn.rope.kind}`);
          if (op.attn.rope.yarn) seen.add("attention:yarn");
          if (op.attn.window > 0) seen.add("attention:window");
          if (op.attn.kvHeads < op.attn.heads) seen.add("attention:gqa");
        }
        if (op.op === "mla") {
          seen.add(op.attn.qRank > 0 ? "mla:q_rank" : "mla:no_q_rank");
          if (op.attn.rope.yarn) seen.add("mla:yarn");
        }
        if (op.op === "moe" || op.op === "shared") {
          seen.add(`pool:${op.pool.kind}`);
          for (const m of op.pool.members ?? []) seen.add(`member:${m.kind}`);
          if (op.pool.split > 1) seen.add("pool:split");
          if (op.pool.bias) seen.add("pool:bias");
        }
        if (op.op === "moe") {
          for (const s of op.router.stages) seen.add(`stage:${s.name}`);
          for (const s of op.router.report) seen.add(`report:${s}`);
          if (op.router.balanceCoef !== undefined) seen.add("loss:balance");
          seen.add(`scope:${op.router.scope}`);
        }
      }
      for (const w of p.weights) if (w.role === "state") seen.add(`state:${w.init}`);
      if (p.outputs.length > 1) seen.add("outputs:record");
    }
    const want = [
      ...["linear", "unary", "binary", "scalar", "shared", "moe", "embed", "norm", "attention", "mla"].map((k) => `op:${k}`),
      "norm:rms", "norm:layer", "qk_norm:none", "qk_norm:full", "qk_norm:head", "rope:half", "rope:interleaved", "rope:none",
      "attention:yarn", "attention:window", "attention:gqa", "mla:q_rank", "mla:no_q_rank", "mla:yarn",
      ...["sigmoid", "silu", "gelu", "relu", "softmax"].map((f) => `unary:${f}`), // `neg` is never emitted: -x is x * -1
      ...["add", "sub", "mul", "div"].flatMap((f) => [`binary:${f}`, `scalar:${f}`]),
      "scalar:first", "linear:bias", "pool:split", "pool:bias", "loss:balance", "outputs:record", "scope:token", "scope:run",
      ...["ffn", "atom", "lowrank", "mixed"].map((k) => `pool:${k}`),
      ...["ffn", "atom", "lowrank", "identity", "zero"].map((k) => `member:${k}`),
      ...["linear", "cosine", "product", "softmax", "sigmoid", "log_softmax", "exp", "temp", "bias", "topk", "topp", "threshold", "group_topk", "choose", "dense", "renorm", "scale"].map((s) => `stage:${s}`),
      ...["load", "importance", "active_k", "entropy", "maxvio", "drop_rate"].map((s) => `report:${s}`),
      "state:zeros", "state:ones",
    ];
    expect(want.filter((w) => !seen.has(w))).toEqual([]);
  });
});

describe("IR fixtures checked by hand against their sources", () => {
  it("split_pool: E[4] of hidden 16 split 2 is 8 fine experts of 8; the router scores 8 with a bias", () => {
    const p = program("split_pool");
    const [moe] = ops(p, "moe");
    expect(moe!.pool).toMatchObject({ key: "E", kind: "ffn", count: 8, hidden: 8, split: 2, dim: 8, shared: false });
    expect(moe!.router).toMatchObject({ numExperts: 8, maxPerToken: 3, balanceCoef: 0.01 });
    expect(weight(p, "r.weight")!.shape).toEqual([8, 8]);
    expect(weight(p, "r.bias")!.shape).toEqual([8]);
    expect(ops(p, "shared")[0]!.pool).toMatchObject({ key: "S", count: 1, hidden: 12, act: "gelu", bias: true });
  });
  it("deepseek_v3: e_bias [N] is state starting at zero; group_topk keeps k = 2 per token", () => {
    const p = program("deepseek_v3");
    expect(weight(p, "r.e_bias")).toEqual({ name: "r.e_bias", shape: [8], role: "state", init: "zeros" });
    expect(weight(p, "r.weight")!.shape).toEqual([8, 16]);
    const r = ops(p, "moe")[0]!.router;
    expect(r.stages.map((s) => `${s.role}:${s.name}`)).toEqual(["score:linear", "transform:sigmoid", "transform:bias", "select:group_topk", "post:renorm", "post:scale"]);
    expect(r.maxPerToken).toBe(2);
    expect(ops(p, "shared")[0]!.pool.count).toBe(2);
  });
  it("atom_lowrank: product keys of 2 parts of size 4 route over 4² = 16 atoms, with batch-norm state", () => {
    const p = program("atom_lowrank");
    expect(p.weights.filter((w) => w.name.startsWith("ra.")).map((w) => `${w.name} [${w.shape}] ${w.init ?? ""}`)).toEqual([
      "ra.0.weight [4,8] ", "ra.1.weight [4,8] ",
      "ra.0.running_mean [4] zeros", "ra.0.running_var [4] ones", "ra.1.running_mean [4] zeros", "ra.1.running_var [4] ones",
    ]);
    const [a, r] = ops(p, "moe");
    expect(a!.pool).toMatchObject({ kind: "atom", count: 16, hidden: 1, act: "gelu" });
    expect(r!.pool).toMatchObject({ kind: "lowrank", count: 6, hidden: 2 });
  });
  it("elementwise: linear shapes [out, in], the width-1 gate broadcasts, 1 - b·0.5 puts the scalar first", () => {
    const p = program("elementwise");
    expect(p.weights.map((w) => `${w.name} [${w.shape}]`)).toEqual(["h.weight [4,6]", "h.bias [4]", "g.weight [1,6]", "o.weight [6,4]"]);
    const gate = ops(p, "binary").find((o) => p.values[o.b]!.width === 1)!;
    expect(p.values[gate.out]!.width).toBe(4);
    expect(ops(p, "scalar").filter((o) => o.scalarFirst).map((o) => `${o.value} ${o.fn}`)).toEqual(["1 sub", "2 div"]);
  });
  it("iterate: one router per iteration (r.0, r.1) over the same pools", () => {
    const p = program("iterate");
    expect(ops(p, "moe").map((o) => `${o.router.key}/${o.pool.key}`)).toEqual(["r.0/E", "r.1/E"]);
    expect(ops(p, "shared").length).toBe(2);
  });
  it("mixed_pool: one member per listed expert, hidden the largest member's", () => {
    const pool = ops(program("mixed_pool"), "moe")[0]!.pool;
    expect(pool.members!.map((m) => `${m.kind}:${m.hidden}:${m.act}:${m.bias}`)).toEqual([
      "ffn:16:swiglu:false", "ffn:4:relu:true", "lowrank:2:identity:false", "atom:1:swiglu:false", "identity:0:identity:false", "zero:0:identity:false",
    ]);
    expect(pool).toMatchObject({ count: 6, hidden: 16 });
  });
  it("graph_parallel: `|> mean` over two agents is an add and a multiply by 1/2", () => {
    const p = program("graph_parallel");
    expect(p.ops.slice(-2).map((o) => o.op)).toEqual(["binary", "scalar"]);
    expect(ops(p, "scalar")[0]).toMatchObject({ fn: "mul", value: 0.5, scalarFirst: false });
  });
});

describe("the verifier's pool tensors agree with the runtime binder's canonical layout", () => {
  for (const file of files) {
    it(path.basename(file, ".moe"), () => {
      const p = program(path.basename(file, ".moe"));
      const layout = canonicalLayout(p);
      expect(layout.problems).toEqual([]);
      const mixed = new Set(layout.pools.filter((q) => q.kind === "mixed").map((q) => q.key));
      const runtime = [
        ...layout.poolTensors.map((t) => `${t.name} [${t.shape}]`),
        ...layout.tensors.filter((t) => [...mixed].some((k) => t.name.startsWith(`${k}.`))).map((t) => `${t.name} [${t.shape}]`),
      ].sort();
      const ours = layout.pools.flatMap((q) => poolTensors(q).map((t) => `${t.name} [${t.shape}]`)).sort();
      expect(ours).toEqual(runtime);
    });
  }
});
