// The IR verifier (compiler/ir/verify.ts): hand-built sound programs verify clean; hand-broken
// ones (one defect each) give exactly the expected messages, with the op's index. Then how it is
// wired: the driver verifies after lowering (option or MOEC_DEBUG), and runPasses verifies around
// each pass, naming the pass that broke the IR.
import { afterEach, describe, expect, it } from "vitest";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { IrVerifyError, assertValidIr, irDebugEnabled, verifyIr } from "../../../compiler/ir/verify.js";
import { printIr } from "../../../compiler/ir/print.js";
import { parseIr } from "../../../compiler/ir/parse.js";
import { canonicalizeRouterPass, runPasses, type IrPass } from "../../../compiler/ir/passes/run-passes.js";
import { lowerEntry } from "../../../compiler/driver.js";
import { createStdRegistry } from "../../../stdlib/index.js";
import { ProgramBuilder, moeProgram, pool, router, stages } from "../../helpers/ir-programs.js";
import { memoryHost } from "../../helpers/frontend/memory-host.js";

/** x [T, 8] → g = linear(x, 4) → s = sigmoid(g) → y = moe(x) + s·… : small and sound. */
function sound(): IrProgram {
  const b = new ProgramBuilder();
  const x = b.input("x", 8);
  const g = b.linear(x, "g", 4);
  const s = b.unary("sigmoid", g);
  const m = b.moe(x, router({ numExperts: 4, dim: 8, stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") }), pool({ count: 4, dim: 8, hidden: 16 }));
  const h = b.linear(s, "h", 8);
  return b.output("y", b.binary("add", m, h)).build("sound");
}

const moeOp = (p: IrProgram) => p.ops.find((o) => o.op === "moe") as Extract<IrProgram["ops"][number], { op: "moe" }>;

describe("sound programs verify clean", () => {
  it("hand-built ones", () => {
    expect(verifyIr(sound())).toEqual([]);
    expect(verifyIr(moeProgram({ D: 8, E: 4, I: 16, stages: stages("linear", "sigmoid", ["bias", { mode: "aux_free", rate: 0.001 }], ["topk", { k: 2 }]) }))).toEqual([]);
  });
});

describe("broken programs give every problem, with the op", () => {
  it("an operand used before its definition", () => {
    const p = sound();
    [p.ops[0], p.ops[1]] = [p.ops[1]!, p.ops[0]!];
    expect(verifyIr(p)).toEqual(["op 0 (unary %2): operand x %1 is used before it is defined (by op 1)"]);
  });
  it("an operand nothing defines, and a value nothing defines", () => {
    const p = sound();
    p.values.push({ id: 6, width: 8, dtype: "f32", name: "ghost" });
    p.ops[3] = { op: "linear", out: 4, x: 6, weight: "h", outDim: 8, bias: false };
    expect(verifyIr(p)).toEqual([
      "op 3 (linear %4): operand x %6 is used before it is defined (nothing defines it)",
      'value %6 "ghost": no input or op defines it',
      // h.weight is listed but, with its operand unknown, no longer derived: nothing reads it.
      "weight h.weight: no op reads it",
    ]);
  });
  it("a value defined twice", () => {
    const p = sound();
    p.ops[1] = { op: "unary", out: 1, fn: "sigmoid", x: 1 };
    expect(verifyIr(p)).toEqual([
      'op 1 (unary %1): defines %1 again; it is already defined by op 0',
      "op 3 (linear %4): operand x %2 is used before it is defined (nothing defines it)",
      'value %2 "sigmoid#1": no input or op defines it',
      "weight h.weight: no op reads it",
    ]);
  });
  it("a value whose id is not its index", () => {
    const p = sound();
    p.values[2] = { ...p.values[2]!, id: 7 };
    expect(verifyIr(p)).toEqual(['value %2 "sigmoid#1": its id is 7; the value at index i must have id i']);
  });
  it("width mismatches: a linear's result, a unary's, a broadcast, moe against its pool", () => {
    const p = sound();
    p.values[1]!.width = 5; // g: linear out = 4
    expect(verifyIr(p)).toEqual([
      "op 0 (linear %1): result has width 5, but its out is 4",
      "op 1 (unary %2): result has width 4, but its operand's is 5",
    ]);
    const q = sound();
    q.values[4]!.width = 3; // h = linear(s, 8) stored as width 3: h + moe no longer broadcasts
    expect(verifyIr(q)).toEqual([
      "op 3 (linear %4): result has width 3, but its out is 8",
      "op 4 (binary %5): operand widths 8 and 3 differ and neither is 1 (broadcast)",
    ]);
    const r = sound();
    moeOp(r).pool.dim = 6;
    expect(verifyIr(r)).toContain("op 2 (moe %3): operand x has width 8, but pool E has dim 6");
    expect(verifyIr(r)).toContain("op 2 (moe %3): router r has dim 8, but pool E has dim 6");
    expect(verifyIr(r)).toContain("op 2 (moe %3): result has width 8, but pool E's dim is 6");
  });
  it("a router over a different number of experts than its pool", () => {
    const p = sound();
    moeOp(p).pool.count = 6;
    expect(verifyIr(p)).toEqual([
      "op 2 (moe %3): router r routes over 4 experts, but pool E has 6",
      // The listed (stacked) pool tensors still have 4 experts.
      "weight E.w_gate: listed as [4, 16, 8], but pool E implies [6, 16, 8]",
      "weight E.w_up: listed as [4, 16, 8], but pool E implies [6, 16, 8]",
      "weight E.w_down: listed as [4, 8, 16], but pool E implies [6, 8, 16]",
    ]);
  });
  it("token ids (i32) into a float op", () => {
    const b = new ProgramBuilder();
    b.input("ids", 1);
    const p = b.build("ids");
    p.values[0]!.dtype = "i32";
    p.values.push({ id: 1, width: 4, dtype: "f32", name: "g" });
    p.ops.push({ op: "linear", out: 1, x: 0, weight: "g", outDim: 4, bias: false });
    p.weights.push({ name: "g.weight", shape: [4, 1], role: "param" });
    p.outputs.push({ name: "y", value: 1 });
    expect(verifyIr(p)).toEqual(['op 0 (linear %1): operand x %0 "ids" is i32 (token ids); linear takes f32']);
  });
  it("missing, misshapen, duplicate and unread weights", () => {
    const p = sound();
    p.weights = p.weights.filter((w) => w.name !== "g.weight");
    expect(verifyIr(p)).toEqual(["op 0 (linear %1): reads g.weight [4, 8], which `weights` does not list"]);
    const q = sound();
    q.weights.find((w) => w.name === "r.weight")!.shape = [4, 9];
    q.weights.find((w) => w.name === "E.w_up")!.shape = [4, 8, 16];
    q.weights.push({ name: "h.weight", shape: [8, 4], role: "param" }, { name: "stray.weight", shape: [2], role: "param" }, { name: "E.w_side", shape: [2], role: "param" });
    expect(verifyIr(q)).toEqual([
      "weight h.weight: listed twice (the second time at index 6)",
      "op 2 (moe %3): reads r.weight as [4, 8], but `weights` lists it as [4, 9]",
      "weight E.w_up: listed as [4, 8, 16], but pool E implies [4, 16, 8]",
      "weight stray.weight: no op reads it",
      "weight E.w_side: lies under pool E but is not one of its tensors (w_gate, w_up, w_down)",
    ]);
  });
  it("router state with the wrong role or init", () => {
    const p = moeProgram({ D: 8, E: 4, I: 16, stages: stages("linear", ["bias", { mode: "aux_free", rate: 0.001 }], ["topk", { k: 2 }]) });
    p.weights.find((w) => w.name === "r.e_bias")!.init = "ones";
    expect(verifyIr(p)).toEqual(["op 0 (moe %1): state r.e_bias starts as zeros, but `weights` gives init ones"]);
    p.weights.find((w) => w.name === "r.e_bias")!.role = "param";
    expect(verifyIr(p)).toEqual(["weight r.e_bias: only state has an init value", "op 0 (moe %1): reads r.e_bias as state, but `weights` lists it as param"]);
  });
  it("stage roles out of order: score first, transforms, exactly one select, posts", () => {
    const p = sound();
    moeOp(p).router.stages = stages("linear", ["topk", { k: 2 }], "renorm");
    moeOp(p).router.stages.push({ name: "softmax", role: "transform", params: {} });
    expect(verifyIr(p)).toEqual(["op 2 (moe %3): router r: stage 3 `softmax` is a transform stage after the post stage `renorm` (order: score, transforms, select, post-select)"]);
    moeOp(p).router.stages = [{ name: "softmax", role: "transform", params: {} }, ...stages("linear", ["topk", { k: 2 }])];
    expect(verifyIr(p)).toEqual([
      "op 2 (moe %3): router r: stage 0 `softmax` is a transform stage; the first stage must be the score",
      "op 2 (moe %3): router r: stage 1 `linear` is a score stage; only the first stage scores",
    ]);
    moeOp(p).router.stages = stages("linear", ["topk", { k: 2 }], ["topk", { k: 2 }]);
    expect(verifyIr(p)).toEqual(["op 2 (moe %3): router r: has 2 select stages; a router has exactly one"]);
    moeOp(p).router.stages = stages("linear", "renorm", ["topk", { k: 2 }]);
    expect(verifyIr(p)).toEqual(["op 2 (moe %3): router r: stage 2 `topk` is a select stage after the post stage `renorm` (order: score, transforms, select, post-select)"]);
  });
  it("stages against their definitions: role, parameters, maxPerToken, scope, unknown names", () => {
    const p = sound();
    const r = moeOp(p).router;
    r.stages[1] = { name: "renorm", role: "transform", params: {} };
    r.stages[2] = { name: "topk", role: "select", params: { k: 2, kk: 1 } };
    r.maxPerToken = 3;
    expect(verifyIr(p)).toEqual([
      "op 2 (moe %3): router r: stage 1 `renorm` cannot be a transform stage (it is post)",
      "op 2 (moe %3): router r: stage 2 `topk` has no parameter `kk`",
      "op 2 (moe %3): router r: maxPerToken 3, but its select stage `topk` gives 2",
    ]);
    const q = sound();
    moeOp(q).router.stages[2] = { name: "choose", role: "select", params: { capacity: 2 } };
    moeOp(q).router.maxPerToken = 4;
    expect(verifyIr(q)).toEqual(["op 2 (moe %3): router r: scope token, but its select stage `choose` has scope run"]);
    moeOp(q).router.stages[1] = { name: "no_such_stage", role: "transform", params: {} };
    expect(verifyIr(q)).toContain("op 2 (moe %3): router r: stage 1 `no_such_stage` is neither a standard stage nor a loaded plugin's");
  });
  it("malformed descriptors: split not dividing, a mixed pool's members, a pool key meaning two pools", () => {
    const p = sound();
    moeOp(p).pool.split = 3;
    expect(verifyIr(p)).toEqual(["op 2 (moe %3): pool E: split 3 does not divide its 4 experts"]);
    const q = moeProgram({ D: 8, E: 2, I: 4, stages: stages("linear", ["topk", { k: 1 }]) });
    const qp = moeOp(q).pool;
    Object.assign(qp, { kind: "mixed", hidden: 4, act: "identity", members: [{ kind: "ffn", hidden: 4, act: "relu", bias: false }] });
    q.weights = q.weights.filter((w) => !w.name.startsWith("E."));
    expect(verifyIr(q)).toEqual(["op 0 (moe %1): pool E: count 2 but 1 members"]);
    const s = sound();
    const b2 = { ...moeOp(s), out: 6, router: { ...moeOp(s).router, key: "r2" }, pool: { ...moeOp(s).pool, hidden: 8 } };
    s.values.push({ id: 6, width: 8, dtype: "f32", name: "m2" });
    s.ops.push(b2);
    s.outputs.push({ name: "z", value: 6 });
    s.weights.push({ name: "r2.weight", shape: [4, 8], role: "param" });
    expect(verifyIr(s)).toEqual(["op 5 (moe %6): pool E differs from the pool of that key in op 2 (moe %3)"]);
  });
  it("inputs and outputs that refer to nothing", () => {
    const p = sound();
    p.outputs.push({ name: "z", value: 42 }, { name: "y", value: 0 });
    expect(verifyIr(p)).toEqual(["output z: %42 is not a defined value", "output y: the name is used by another output"]);
  });
  it("assertValidIr throws all problems at once, as an internal error", () => {
    const p = sound();
    p.values[1]!.width = 5;
    expect(() => assertValidIr(p, "of `sound` after lowering")).toThrowError(IrVerifyError);
    try {
      assertValidIr(p, "of `sound` after lowering");
    } catch (e) {
      expect((e as IrVerifyError).problems.length).toBe(2);
      expect((e as Error).message).toBe([
        "internal error: the IR of `sound` after lowering is malformed (a bug in moec):",
        "  - op 0 (linear %1): result has width 5, but its out is 4",
        "  - op 1 (unary %2): result has width 4, but its operand's is 5",
      ].join("\n"));
    }
  });
});

describe("wiring: the driver verifies every lowered program in tests and debug builds", () => {
  const saved = process.env.MOEC_DEBUG;
  afterEach(() => {
    process.env.MOEC_DEBUG = saved;
  });
  // A stage only the checker knows (no spec, not in the runtime's table): the IR names a stage
  // the runtime cannot run, so lowering produces IR the verifier must reject.
  const registry = () => {
    const reg = createStdRegistry();
    reg.addStage({ name: "checker_only", roles: ["transform"], params: [], doc: "test", source: "test" });
    return reg;
  };
  const source = "layer a(x: [T, D], D = 8) {\n  experts E[4] = ffn(hidden = 8)\n  router r = linear |> checker_only |> topk(2)\n  return moe(x, r, E)\n}\n";
  const lower = (opts: { verifyIr?: boolean } = {}) => lowerEntry(["/mem/a.moe"], { host: memoryHost({ "a.moe": source }), registry: registry(), ...opts });

  it("vitest turns debug checks on", () => {
    expect(irDebugEnabled()).toBe(true);
  });
  it("with verification on (the default in tests), a malformed lowering is an IrVerifyError naming the op", () => {
    expect(() => lower()).toThrowError(/the IR of `a` after lowering is malformed[\s\S]*op 0 \(moe %1\): router r: stage 1 `checker_only` is neither a standard stage/);
    expect(() => lower({ verifyIr: true })).toThrowError(IrVerifyError);
  });
  it("off when asked, or without MOEC_DEBUG", () => {
    expect(lower({ verifyIr: false }).program).toBeDefined();
    process.env.MOEC_DEBUG = "";
    expect(irDebugEnabled()).toBe(false);
    expect(lower().program).toBeDefined();
    process.env.MOEC_DEBUG = "0";
    expect(lower().program).toBeDefined();
  });
});

describe("runPasses verifies around each pass", () => {
  const before = printIr(moeProgram({ D: 8, E: 4, I: 16, stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") }));
  it("canonicalize-router: softmax |> topk |> renorm becomes topk |> softmax (a before/after pair)", () => {
    const after = before.replace("    transform softmax\n    select topk(k=2)\n    post renorm\n", "    select topk(k=2)\n    post softmax\n");
    expect(after).not.toBe(before);
    expect(printIr(runPasses(parseIr(before), ["canonicalize-router"], { verify: true }))).toBe(after);
    expect(printIr(runPasses(parseIr(before), [canonicalizeRouterPass], { verify: true }))).toBe(after);
  });
  it("a pass that breaks the IR is named", () => {
    const dropSelect: IrPass = {
      name: "drop-select",
      run: (p) => ({ ...p, ops: p.ops.map((o) => (o.op === "moe" ? { ...o, router: { ...o.router, stages: o.router.stages.filter((s) => s.role !== "select") } } : o)) }),
    };
    expect(() => runPasses(parseIr(before), ["canonicalize-router", dropSelect])).toThrowError(/the IR of `test` after pass `drop-select` is malformed[\s\S]*op 0 \(moe %1\): router r: has 0 select stages/);
  });
  it("and a program that is malformed to begin with is caught before the first pass", () => {
    const p = parseIr(before);
    p.values[1]!.width = 3;
    expect(() => runPasses(p, ["canonicalize-router"], { verify: true })).toThrowError(/before the first pass/);
    expect(() => runPasses(p, ["no-such-pass"], { verify: false })).toThrowError(/unknown IR pass `no-such-pass`/);
  });
});
