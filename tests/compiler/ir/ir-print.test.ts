// The IR's text form (compiler/ir/print.ts) and its reader (compiler/ir/parse.ts): a hand-built
// program prints as hand-written text; numbers and names print exactly; every field of a program
// shows in the text (changing any one changes the text); print → parse → print is the identity,
// and parse errors name their line.
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { printIr, printName, printNumber } from "../../../compiler/ir/print.js";
import { IrParseError, parseIr } from "../../../compiler/ir/parse.js";
import { ProgramBuilder, pool, router, stages } from "../../helpers/ir-programs.js";
import { FIXTURES } from "../../helpers/frontend/paths.js";

/** y = sigmoid(g) * moe(x) + 1 - x: every op kind but shared, plus a shared pool. */
function sample(): IrProgram {
  const b = new ProgramBuilder();
  const x = b.input("x", 8);
  const g = b.linear(x, "g", 1, true);
  const s = b.unary("sigmoid", g);
  const m = b.moe(x, { ...router({ numExperts: 4, dim: 8, stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") }), report: ["load"], balanceCoef: 0.01 }, pool({ count: 4, dim: 8, hidden: 16 }));
  const sh = b.shared(x, pool({ count: 1, dim: 8, hidden: 4, act: "relu", shared: true }));
  const y = b.binary("add", b.binary("mul", s, m), sh);
  return b.output("y", b.scalar("sub", y, 1, true)).build("sample");
}

const SAMPLE_TEXT = `ir sample
weight g.weight: [1, 8] param
weight g.bias: [1] param
weight E.w_gate: [4, 16, 8] param
weight E.w_up: [4, 16, 8] param
weight E.w_down: [4, 8, 16] param
weight r.weight: [4, 8] param
weight S.w_up: [1, 4, 8] param
weight S.w_down: [1, 8, 4] param
%0: f32[T, 8] "x" = input x
%1: f32[T, 1] "g" = linear %0 weight=g out=1 bias=true
%2: f32[T, 1] "sigmoid#1" = unary sigmoid %1
%3: f32[T, 8] "moe#2" = moe %0 router=r pool=E
  router experts=4 dim=8 maxPerToken=2 scope=token report=[load] balance=0.01
    score linear
    transform softmax
    select topk(k=2)
    post renorm
  pool ffn count=4 dim=8 hidden=16 act=swiglu bias=false split=1 shared=false
%4: f32[T, 8] "S(x)" = shared %0 pool=S
  pool ffn count=1 dim=8 hidden=4 act=relu bias=false split=1 shared=true
%5: f32[T, 8] "mul#4" = binary mul %2, %3
%6: f32[T, 8] "add#5" = binary add %5, %4
%7: f32[T, 8] "subc#6" = scalar sub 1, %6
output y = %7
`;

describe("printIr", () => {
  it("prints a hand-built program as the hand-written text", () => {
    expect(printIr(sample())).toBe(SAMPLE_TEXT);
  });
  it("prints numbers exactly, keeping the sign of zero", () => {
    expect([0.1 + 0.2, -0, 1e-7, 2.5, 1 / 3, 1e21, -1.5].map(printNumber)).toEqual(["0.30000000000000004", "-0", "1e-7", "2.5", "0.3333333333333333", "1e+21", "-1.5"]);
    for (const n of [0.1 + 0.2, -0, 1e-7, 1 / 3, 1e21, -1.5, 5e-324]) expect(Object.is(Number(printNumber(n)), n)).toBe(true);
  });
  it("quotes names that are not plain words", () => {
    expect(["r", "layers.3.r", "0.E", "moe(r, E)", "a b", "", "true", 'q"'].map(printName)).toEqual(["r", "layers.3.r", "0.E", '"moe(r, E)"', '"a b"', '""', '"true"', '"q\\""']);
  });
  it("prints token ids as i32[T], stage parameters sorted, strings quoted", () => {
    const b = new ProgramBuilder();
    b.input("x", 4);
    const p = b.output("y", 0).build();
    p.values.push({ id: 1, width: 1, dtype: "i32", name: "ids" });
    p.inputs.push({ name: "ids", value: 1 });
    const t = printIr(p);
    expect(t).toContain('%1: i32[T] "ids" = input ids');
    const r = router({ numExperts: 4, dim: 4, stages: stages("linear", ["topk", { k: 1 }]) });
    r.stages[0]!.params = { z: 1, a: "batch", m: true };
    const m = new ProgramBuilder();
    const y = m.moe(m.input("x", 4), r, pool({ count: 4, dim: 4, hidden: 2 }));
    expect(printIr(m.output("y", y).build())).toContain('    score linear(a="batch", m=true, z=1)\n');
  });
  it("prints a malformed program faithfully: undefined values, redefinitions, ids that are not indices", () => {
    const p = sample();
    p.values.push({ id: 42, width: 3, dtype: "f32", name: "orphan" });
    p.ops.push({ op: "unary", out: 1, fn: "neg", x: 99 });
    const t = printIr(p);
    expect(t).toContain('%8: f32[T, 3] "orphan" id=42 = undef\n');
    expect(t).toContain("%1 = unary neg %99\n");
    expect(parseIr(t)).toEqual(p);
  });
});

/** Every leaf of a JSON-like object, as a path and the object with that leaf changed. */
function mutations(root: unknown): { path: string; value: unknown }[] {
  const out: { path: string; value: unknown }[] = [];
  const walk = (node: unknown, path: (string | number)[]) => {
    if (node !== null && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) walk(v, [...path, Array.isArray(node) ? Number(k) : k]);
      return;
    }
    const changed = typeof node === "number" ? node + 1 : typeof node === "boolean" ? !node : `${String(node)}x`;
    const copy = structuredClone(root) as Record<string | number, unknown>;
    let at = copy as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string | number, unknown>;
    at[path[path.length - 1]!] = changed;
    out.push({ path: path.join("."), value: copy });
  };
  walk(root, []);
  return out;
}

describe("the text form is complete", () => {
  it("changing any single field of a program changes its text", () => {
    const p = sample();
    const base = printIr(p);
    const ms = mutations(p);
    expect(ms.length).toBeGreaterThan(80);
    const same = ms.filter((m) => printIr(m.value as IrProgram) === base).map((m) => m.path);
    expect(same).toEqual([]);
  });
  it("also for the golden programs (mixed pools, state, string parameters, records)", () => {
    const dir = path.join(FIXTURES, "ir");
    const goldens = fs.readdirSync(dir).filter((f) => f.endsWith(".ir"));
    expect(goldens.length).toBeGreaterThan(5);
    for (const f of goldens) {
      const text = fs.readFileSync(path.join(dir, f), "utf8");
      const same = mutations(parseIr(text)).filter((m) => printIr(m.value as IrProgram) === text).map((m) => m.path);
      expect(same, f).toEqual([]);
    }
  });
  it("and two programs that differ only in the order of weights, inputs or outputs print differently", () => {
    const p = sample();
    const q = structuredClone(p);
    q.weights.reverse();
    expect(printIr(q)).not.toBe(printIr(p));
  });
});

describe("parseIr", () => {
  it("reads the hand-written text back into the program, and print → parse → print is the identity", () => {
    const p = sample();
    expect(parseIr(SAMPLE_TEXT)).toEqual(p);
    expect(printIr(parseIr(SAMPLE_TEXT))).toBe(SAMPLE_TEXT);
  });
  it("round-trips every mutation whose fields are still of their types", () => {
    let n = 0;
    for (const m of mutations(sample())) {
      const text = printIr(m.value as IrProgram);
      let back: IrProgram;
      try {
        back = parseIr(text);
      } catch (e) {
        // Enumerations (`act=swiglux`) are not part of the form; everything else must read back.
        expect(e, m.path).toBeInstanceOf(IrParseError);
        expect(m.path, (e as Error).message).toMatch(/\.(op|fn|kind|act|role|scope|dtype|init)$/);
        continue;
      }
      expect(back, m.path).toEqual(m.value);
      expect(printIr(back)).toBe(text);
      n++;
    }
    expect(n).toBeGreaterThan(60);
  });
  it("names the line of the first problem", () => {
    const bad = SAMPLE_TEXT.replace("hidden=16", "hidden=sixteen");
    expect(() => parseIr(bad)).toThrowError(/^line 19: expected a number/);
    expect(() => parseIr("ir a\nfoo\n")).toThrowError(/^line 2: expected `weight`, `%N`, or `output`/);
    expect(() => parseIr(SAMPLE_TEXT.replace("    score linear\n", ""))).not.toThrow();
    expect(() => parseIr(SAMPLE_TEXT.replace("  pool ffn count=4", "pool ffn count=4"))).toThrowError(/^line 19: expected a descriptor line indented by 2/);
    expect(() => parseIr('ir a\n%1: f32[T, 4] "x" = input x\n')).toThrowError(/value %0 is never declared/);
  });
});
