// The weight binder against canonical arrays written out by hand for tiny pools (N = 4 experts
// split 2, I = 2, D = 3): every file form of LANGUAGE.md §7 must bind to the same arrays, and
// every kind of mistake must come back as an error naming the tensor.
import { describe, expect, it } from "vitest";
import type { IrPool, IrProgram, IrRouter } from "../../../compiler/ir/ir.js";
import { readSafetensors } from "../../../runtime/safetensors/reader.js";
import { encodeSafetensors, type TensorData } from "../../../runtime/safetensors/writer.js";
import { bindWeights, type BindResult, type WeightSource } from "../../../runtime/weights/bind-weights.js";
import { canonicalLayout } from "../../../runtime/weights/canonical-layout.js";
import { canonicalToFile, type FileForm } from "../../../runtime/weights/canonical-to-file.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";

// ---------------------------------------------------------------- programs

const E: IrPool = { key: "E", kind: "ffn", count: 4, dim: 3, hidden: 2, act: "swiglu", bias: true, split: 2, shared: false };
const S: IrPool = { key: "S", kind: "ffn", count: 2, dim: 3, hidden: 2, act: "swiglu", bias: false, split: 1, shared: true };
const R: IrRouter = {
  key: "r", numExperts: 4, dim: 3, maxPerToken: 2, scope: "token", report: [],
  stages: [
    { name: "linear", role: "score", params: { bias: true } },
    { name: "sigmoid", role: "transform", params: {} },
    { name: "bias", role: "transform", params: { mode: "aux_free", rate: 0.001 } },
    { name: "topk", role: "select", params: { k: 2 } },
  ],
};

/** S(x) + moe(x, r, E) + g(x) with a linear g: [T,3] → [T,1]; E reached by two ops, bound once. */
function program(weights: IrProgram["weights"] = []): IrProgram {
  return {
    entry: "t",
    values: [
      { id: 0, width: 3, dtype: "f32", name: "x" },
      { id: 1, width: 1, dtype: "f32", name: "g" },
      { id: 2, width: 3, dtype: "f32", name: "s" },
      { id: 3, width: 3, dtype: "f32", name: "m" },
      { id: 4, width: 3, dtype: "f32", name: "m2" },
    ],
    inputs: [{ name: "x", value: 0 }],
    outputs: [{ name: "y", value: 4 }],
    weights,
    ops: [
      { op: "linear", out: 1, x: 0, weight: "g", outDim: 1, bias: false },
      { op: "shared", out: 2, x: 0, pool: S },
      { op: "moe", out: 3, x: 0, router: R, pool: E },
      { op: "moe", out: 4, x: 3, router: { ...R, key: "r2", stages: [R.stages[0]!, R.stages[3]!] }, pool: { ...E } },
    ],
  };
}
// The IR's own list, as the compiler writes it (router and linear weights, state).
const LISTED: IrProgram["weights"] = [
  { name: "g.weight", shape: [1, 3], role: "param" },
  { name: "r.weight", shape: [4, 3], role: "param" },
  { name: "r.bias", shape: [4], role: "param" },
  { name: "r.e_bias", shape: [4], role: "state", init: "zeros" },
  { name: "r2.weight", shape: [4, 3], role: "param" },
  { name: "r2.bias", shape: [4], role: "param" },
  { name: "E.w_up", shape: [4, 2, 3], role: "param" },
];

// ---------------------------------------------------------------- hand-written canonical arrays

// Coarse expert c of E holds value 100c + 10·row + col (w_gate adds 50, w_up 0; w_down is [D, 4]).
// Fine expert j = 2c + s takes rows (w_gate, w_up, b_*) or columns (w_down) 2s, 2s+1 of it.
const CANON: Record<string, number[]> = {
  "E.w_up": [
    0, 1, 2, 10, 11, 12, // j0 = c0 rows 0, 1
    20, 21, 22, 30, 31, 32, // j1 = c0 rows 2, 3
    100, 101, 102, 110, 111, 112, // j2 = c1 rows 0, 1
    120, 121, 122, 130, 131, 132, // j3 = c1 rows 2, 3
  ],
  "E.w_gate": [50, 51, 52, 60, 61, 62, 70, 71, 72, 80, 81, 82, 150, 151, 152, 160, 161, 162, 170, 171, 172, 180, 181, 182],
  "E.w_down": [
    0, 1, 10, 11, 20, 21, // j0 = c0 columns 0, 1 of rows d = 0, 1, 2
    2, 3, 12, 13, 22, 23, // j1 = c0 columns 2, 3
    100, 101, 110, 111, 120, 121, // j2
    102, 103, 112, 113, 122, 123, // j3
  ],
  "E.b_up": [0, 1, 2, 3, 100, 101, 102, 103], // coarse b_up[c][r] = 100c + r
  "E.b_gate": [500, 501, 502, 503, 600, 601, 602, 603], // coarse b_gate[c][r] = 500 + 100c + r
  "E.b_down": [1000, 1001, 1002, 0, 0, 0, 1100, 1101, 1102, 0, 0, 0], // to slice 0 only
  // S: two experts concatenated as one of 4 hidden units: S.w_up [4, 3] = 500 + 10·row + col,
  // S.w_gate = 700 + 10·row + col, S.w_down [3, 4] = 10·d + col.
  "S.w_up": [500, 501, 502, 510, 511, 512, 520, 521, 522, 530, 531, 532],
  "S.w_gate": [700, 701, 702, 710, 711, 712, 720, 721, 722, 730, 731, 732],
  "S.w_down": [0, 1, 10, 11, 20, 21, 2, 3, 12, 13, 22, 23],
  "r.weight": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  "r.bias": [-1, -2, -3, -4],
  "r2.weight": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5],
  "r2.bias": [0.25, 0.5, 0.75, 1],
  "g.weight": [7, 8, 9],
};
const CANON_SHAPES: Record<string, number[]> = {
  "E.w_up": [4, 2, 3], "E.w_gate": [4, 2, 3], "E.w_down": [4, 3, 2], "E.b_up": [4, 2], "E.b_gate": [4, 2], "E.b_down": [4, 3],
  "S.w_up": [2, 2, 3], "S.w_gate": [2, 2, 3], "S.w_down": [2, 3, 2],
  "r.weight": [4, 3], "r.bias": [4], "r2.weight": [4, 3], "r2.bias": [4], "g.weight": [1, 3],
};

const grid = (rows: number, cols: number, f: (r: number, c: number) => number) =>
  Array.from({ length: rows * cols }, (_, i) => f(Math.floor(i / cols), i % cols));
const slice = (name: string, j: number, size: number) => CANON[name]!.slice(j * size, (j + 1) * size);
const f32 = (shape: number[], data: number[]): TensorData => ({ dtype: "F32", shape, data });

/** Tensors outside pools, identical in every form. */
function plain(): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  for (const n of ["r.weight", "r.bias", "r2.weight", "r2.bias", "g.weight"]) out[n] = f32(CANON_SHAPES[n]!, CANON[n]!);
  return out;
}

// E in each file form, built from the definitions above (not from the code under test).
const E_COARSE_MEMBERS = (): Record<string, TensorData> => {
  const out: Record<string, TensorData> = {};
  for (const c of [0, 1]) {
    out[`E.${c}.w_up`] = f32([4, 3], grid(4, 3, (r, k) => 100 * c + 10 * r + k));
    out[`E.${c}.w_gate`] = f32([4, 3], grid(4, 3, (r, k) => 50 + 100 * c + 10 * r + k));
    out[`E.${c}.w_down`] = f32([3, 4], grid(3, 4, (d, k) => 100 * c + 10 * d + k));
    out[`E.${c}.b_up`] = f32([4], grid(1, 4, (_, r) => 100 * c + r));
    out[`E.${c}.b_gate`] = f32([4], grid(1, 4, (_, r) => 500 + 100 * c + r));
    out[`E.${c}.b_down`] = f32([3], grid(1, 3, (_, d) => 1000 + 100 * c + d));
  }
  return out;
};
const E_PARAMS: [string, number[]][] = [["w_up", [2, 3]], ["w_gate", [2, 3]], ["w_down", [3, 2]], ["b_up", [2]], ["b_gate", [2]], ["b_down", [3]]];
const E_FINE_MEMBERS = (): Record<string, TensorData> => {
  const out: Record<string, TensorData> = {};
  for (const [p, shape] of E_PARAMS) {
    const size = shape.reduce((a, b) => a * b, 1);
    for (let j = 0; j < 4; j++) out[`E.${j}.${p}`] = f32(shape, slice(`E.${p}`, j, size));
  }
  return out;
};
const E_STACKED = (): Record<string, TensorData> =>
  Object.fromEntries(E_PARAMS.map(([p]) => [`E.${p}`, f32(CANON_SHAPES[`E.${p}`]!, CANON[`E.${p}`]!)]));
const E_STACKED_COARSE = (): Record<string, TensorData> => {
  const m = E_COARSE_MEMBERS();
  const out: Record<string, TensorData> = {};
  for (const [p] of E_PARAMS) {
    const a = m[`E.0.${p}`]!, b = m[`E.1.${p}`]!;
    out[`E.${p}`] = f32([2, ...a.shape], [...(a.data as number[]), ...(b.data as number[])]);
  }
  return out;
};
const S_CONCAT = (): Record<string, TensorData> => ({
  "S.w_up": f32([4, 3], grid(4, 3, (r, k) => 500 + 10 * r + k)),
  "S.w_gate": f32([4, 3], grid(4, 3, (r, k) => 700 + 10 * r + k)),
  "S.w_down": f32([3, 4], grid(3, 4, (d, k) => 10 * d + k)),
});
const S_MEMBERS = (): Record<string, TensorData> => {
  const out: Record<string, TensorData> = {};
  for (const [p, shape] of [["w_up", [2, 3]], ["w_gate", [2, 3]], ["w_down", [3, 2]]] as const) {
    for (const j of [0, 1]) out[`S.${j}.${p}`] = f32([...shape], slice(`S.${p}`, j, 6));
  }
  return out;
};

/** Writes the entries to real safetensors bytes and reads them back, as `moec run` would. */
function file(entries: Record<string, TensorData>, label = "w.safetensors"): WeightSource {
  return readSafetensors(encodeSafetensors(entries), label);
}

function bound(r: BindResult): Map<string, Float32Array> {
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
  return r.weights;
}
function errorsOf(r: BindResult) {
  if (r.ok) throw new Error("expected errors");
  return r.errors;
}

function expectCanonical(w: Map<string, Float32Array>) {
  for (const [name, values] of Object.entries(CANON)) {
    expect([...w.get(name)!], name).toEqual(values.map(Math.fround));
  }
  expect([...w.get("r.e_bias")!]).toEqual([0, 0, 0, 0]);
  expect([...w.keys()].sort()).toEqual([...Object.keys(CANON), "r.e_bias"].sort());
}

// ---------------------------------------------------------------- tests

describe("canonical layout", () => {
  it("lists every tensor the program needs, with canonical stacked pool shapes", () => {
    const l = canonicalLayout(program(LISTED));
    expect(l.problems).toEqual([]);
    expect(l.tensors.map((t) => [t.name, t.shape, t.role])).toEqual([
      ["g.weight", [1, 3], "param"], ["r.weight", [4, 3], "param"], ["r.bias", [4], "param"], ["r.e_bias", [4], "state"],
      ["r2.weight", [4, 3], "param"], ["r2.bias", [4], "param"],
    ]);
    expect(l.poolTensors.map((t) => [t.name, t.shape])).toEqual([
      ["S.w_gate", [2, 2, 3]], ["S.w_up", [2, 2, 3]], ["S.w_down", [2, 3, 2]],
      ["E.w_gate", [4, 2, 3]], ["E.w_up", [4, 2, 3]], ["E.w_down", [4, 3, 2]], ["E.b_gate", [4, 2]], ["E.b_up", [4, 2]], ["E.b_down", [4, 3]],
    ]);
  });
  it("derives router, linear and state tensors from the ops when the IR's list lacks them", () => {
    const a = canonicalLayout(program([])), b = canonicalLayout(program(LISTED));
    expect(a.tensors.map((t) => t.name).sort()).toEqual(b.tensors.map((t) => t.name).sort());
  });
});

describe("every file form binds to the same canonical arrays", () => {
  const forms: [string, () => Record<string, TensorData>][] = [
    ["coarse per member + concatenated shared", () => ({ ...plain(), ...E_COARSE_MEMBERS(), ...S_CONCAT() })],
    ["fine per member + shared per member", () => ({ ...plain(), ...E_FINE_MEMBERS(), ...S_MEMBERS() })],
    ["stacked fine + concatenated shared", () => ({ ...plain(), ...E_STACKED(), ...S_CONCAT() })],
    ["stacked coarse + shared per member", () => ({ ...plain(), ...E_STACKED_COARSE(), ...S_MEMBERS() })],
    ["a mix: stacked w_up, fine members of the rest", () => {
      const m = E_FINE_MEMBERS();
      for (let j = 0; j < 4; j++) delete m[`E.${j}.w_up`];
      return { ...plain(), ...m, "E.w_up": E_STACKED()["E.w_up"]!, ...S_MEMBERS() };
    }],
  ];
  it.each(forms)("%s", (_name, build) => {
    expectCanonical(bound(bindWeights(program(LISTED), file(build()))));
  });

  it("binds f16 files (these integers are exact in f16)", () => {
    const entries = Object.fromEntries(Object.entries({ ...plain(), ...E_COARSE_MEMBERS(), ...S_CONCAT() }).map(([k, v]) => [k, { ...v, dtype: "F16" as const }]));
    expectCanonical(bound(bindWeights(program(LISTED), file(entries))));
  });

  it("binds bf16 tensors, rounding to bf16", () => {
    const entries = { ...plain(), ...E_STACKED(), ...S_CONCAT() };
    entries["g.weight"] = { dtype: "BF16", shape: [1, 3], data: [1, -2, 1 + 2 ** -8 + 2 ** -20] };
    const w = bound(bindWeights(program(LISTED), file(entries)));
    expect([...w.get("g.weight")!]).toEqual([1, -2, 1 + 2 ** -7]);
  });

  it("tells a per-member b_down of a coarse file from a fine one by the pool's other tensors", () => {
    // b_down is [D] both per fine and per coarse expert; here E.0/E.1 are coarse (see w_up).
    const w = bound(bindWeights(program(LISTED), file({ ...plain(), ...E_COARSE_MEMBERS(), ...S_CONCAT() })));
    expect([...w.get("E.b_down")!]).toEqual(CANON["E.b_down"]);
    // And with four fine b_down members next to stacked matrices, they are fine experts.
    const fine = E_FINE_MEMBERS();
    const entries: Record<string, TensorData> = { ...plain(), ...S_CONCAT(), ...E_STACKED() };
    delete entries["E.b_down"];
    for (let j = 0; j < 4; j++) entries[`E.${j}.b_down`] = fine[`E.${j}.b_down`]!;
    expect([...bound(bindWeights(program(LISTED), file(entries))).get("E.b_down")!]).toEqual(CANON["E.b_down"]);
  });
});

describe("state", () => {
  const base = () => ({ ...plain(), ...E_STACKED(), ...S_CONCAT() });
  it("comes from --state first, then the weights file, else zeros", () => {
    const withState = { ...base(), "r.e_bias": f32([4], [9, 9, 9, 9]) };
    const state = file({ "r.e_bias": f32([4], [1, 2, 3, 4]) }, "state.safetensors");
    expect([...bound(bindWeights(program(LISTED), file(withState), state)).get("r.e_bias")!]).toEqual([1, 2, 3, 4]);
    expect([...bound(bindWeights(program(LISTED), file(withState))).get("r.e_bias")!]).toEqual([9, 9, 9, 9]);
    expect([...bound(bindWeights(program(LISTED), file(base()))).get("r.e_bias")!]).toEqual([0, 0, 0, 0]);
  });
  it("rejects parameters in the state file and mis-shaped state", () => {
    const state = file({ "r.weight": f32([4, 3], CANON["r.weight"]!), "r.e_bias": f32([3], [1, 2, 3]) }, "state.safetensors");
    const errs = errorsOf(bindWeights(program(LISTED), file(base()), state));
    expect(errs).toEqual([
      { tensor: "r.e_bias", message: "Tensor r.e_bias in state.safetensors has shape [3]; expected [4]." },
      { tensor: "r.weight", message: "Tensor r.weight in state.safetensors is not used by the program as state: r.weight is a parameter, which belongs in the weights file." },
    ]);
  });
  it("initialises BatchNorm running statistics of a product router to zeros and ones", () => {
    const P: IrPool = { key: "A", kind: "atom", count: 4, dim: 3, hidden: 1, act: "silu", bias: false, split: 1, shared: false };
    const router: IrRouter = { key: "pr", numExperts: 4, dim: 3, maxPerToken: 1, scope: "token", report: [], stages: [
      { name: "product", role: "score", params: { parts: 2, size: 2, norm: "batch" } }, { name: "topk", role: "select", params: { k: 1 } }] };
    const prog: IrProgram = { entry: "p", values: [{ id: 0, width: 3, dtype: "f32", name: "x" }, { id: 1, width: 3, dtype: "f32", name: "y" }],
      inputs: [{ name: "x", value: 0 }], outputs: [{ name: "y", value: 1 }], weights: [], ops: [{ op: "moe", out: 1, x: 0, router, pool: P }] };
    const w = bound(bindWeights(prog, file({
      "pr.0.weight": f32([2, 3], [1, 2, 3, 4, 5, 6]), "pr.1.weight": f32([2, 3], [6, 5, 4, 3, 2, 1]),
      "A.u": f32([4, 3], grid(4, 3, (j, d) => 10 * j + d)), // stacked atoms
      "A.0.v": f32([3], [1, 0, 0]), "A.1.v": f32([3], [0, 1, 0]), "A.2.v": f32([3], [0, 0, 1]), "A.3.v": f32([3], [1, 1, 1]),
    })));
    expect([...w.get("pr.1.running_mean")!]).toEqual([0, 0]);
    expect([...w.get("pr.0.running_var")!]).toEqual([1, 1]);
    expect([...w.get("A.v")!]).toEqual([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1]);
    expect([...w.get("A.u")!]).toEqual([0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32]);
  });
});

describe("lowrank shared pool", () => {
  it("binds a concatenated rank-1 pool (a [N·R, D], b [D, N·R]) to stacked [N, R, D] / [N, D, R]", () => {
    const L: IrPool = { key: "L", kind: "lowrank", count: 2, dim: 2, hidden: 1, act: "identity", bias: false, split: 1, shared: true };
    const prog: IrProgram = { entry: "l", values: [{ id: 0, width: 2, dtype: "f32", name: "x" }, { id: 1, width: 2, dtype: "f32", name: "y" }],
      inputs: [{ name: "x", value: 0 }], outputs: [{ name: "y", value: 1 }], weights: [], ops: [{ op: "shared", out: 1, x: 0, pool: L }] };
    const w = bound(bindWeights(prog, file({ "L.a": f32([2, 2], [1, 2, 3, 4]), "L.b": f32([2, 2], [5, 6, 7, 8]) })));
    expect([...w.get("L.a")!]).toEqual([1, 2, 3, 4]); // rows: expert 0 = [1, 2], expert 1 = [3, 4]
    expect([...w.get("L.b")!]).toEqual([5, 7, 6, 8]); // columns: expert 0 = [5, 7]ᵀ, expert 1 = [6, 8]ᵀ
  });
});

describe("canonicalToFile", () => {
  it("writes the coarse form Hugging Face uses, with the hand-made values", () => {
    const canon = new Map(Object.entries(CANON).map(([k, v]) => [k, Float32Array.from(v)]));
    canon.set("r.e_bias", new Float32Array(4));
    const out = canonicalToFile(program(LISTED), canon, "coarse");
    const want = { ...E_COARSE_MEMBERS(), ...S_CONCAT() };
    for (const [name, t] of Object.entries(want)) {
      expect(out.get(name)?.shape, name).toEqual(t.shape);
      expect([...(out.get(name)!.data as Float32Array)], name).toEqual(t.data);
    }
    expect(out.has("E.2.w_up")).toBe(false);
    expect(out.get("r.e_bias")?.shape).toEqual([4]);
  });

  it.each<FileForm>(["stacked", "per-member", "coarse", "stacked-coarse"])("random weights survive the %s form", (form) => {
    const prog = program(LISTED);
    const canon = randomWeights(prog, 1234);
    const entries = canonicalToFile(prog, canon, form);
    const w = bound(bindWeights(prog, file(Object.fromEntries(entries))));
    expect([...w.keys()].sort()).toEqual([...canon.keys()].sort());
    for (const [name, a] of canon) expect(w.get(name), name).toEqual(a);
  });

  it("refuses a b_down that a coarse form cannot hold", () => {
    const canon = randomWeights(program(LISTED), 1);
    canon.get("E.b_down")![3] = 1; // expert 1 = slice 1 of coarse expert 0
    expect(() => canonicalToFile(program(LISTED), canon, "coarse")).toThrow(/E.b_down of expert 1 is not zero/);
  });
});

describe("randomWeights", () => {
  it("is deterministic per seed, N(0, 1/fan_in), with zero state and single-slice b_down", () => {
    const prog = program(LISTED);
    const a = randomWeights(prog, 7), b = randomWeights(prog, 7), c = randomWeights(prog, 8);
    for (const [k, v] of a) expect(b.get(k)).toEqual(v);
    expect(c.get("E.w_up")).not.toEqual(a.get("E.w_up"));
    expect([...a.get("r.e_bias")!]).toEqual([0, 0, 0, 0]);
    const bd = a.get("E.b_down")!;
    expect([...bd.subarray(3, 6)]).toEqual([0, 0, 0]); // fine expert 1 = slice 1
    expect([...bd.subarray(9, 12)]).toEqual([0, 0, 0]); // fine expert 3 = slice 1
    expect(bd[0]).not.toBe(0);
    for (const [k, v] of a) expect(v.length, k).toBe((CANON_SHAPES[k] ?? [4]).reduce((x, d) => x * d, 1));
  });
  it("has the right scale on a larger pool", () => {
    const big: IrPool = { key: "B", kind: "ffn", count: 8, dim: 64, hidden: 32, act: "relu", bias: false, split: 1, shared: false };
    const prog: IrProgram = { entry: "b", values: [{ id: 0, width: 64, dtype: "f32", name: "x" }, { id: 1, width: 64, dtype: "f32", name: "y" }],
      inputs: [{ name: "x", value: 0 }], outputs: [{ name: "y", value: 1 }], weights: [], ops: [{ op: "shared", out: 1, x: 0, pool: big }] };
    const w = randomWeights(prog, 42);
    const stats = (a: Float32Array) => {
      const mean = a.reduce((s, v) => s + v, 0) / a.length;
      return { mean, variance: a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length };
    };
    const up = stats(w.get("B.w_up")!), down = stats(w.get("B.w_down")!); // 16,384 samples each
    expect(Math.abs(up.mean)).toBeLessThan(0.01);
    expect(up.variance).toBeGreaterThan((1 / 64) * 0.95);
    expect(up.variance).toBeLessThan((1 / 64) * 1.05);
    expect(down.variance).toBeGreaterThan((1 / 32) * 0.95);
    expect(down.variance).toBeLessThan((1 / 32) * 1.05);
  });
});

describe("errors name the tensor", () => {
  const good = () => ({ ...plain(), ...E_STACKED(), ...S_CONCAT() });
  const bind = (entries: Record<string, TensorData>) => errorsOf(bindWeights(program(LISTED), file(entries)));

  it("missing pool tensor, listing the accepted forms", () => {
    const e = good();
    delete e["E.w_up"];
    expect(bind(e)).toEqual([{
      tensor: "E.w_up",
      message: "Missing tensor E.w_up in w.safetensors (pool E: 4 ffn experts of hidden 2 and dim 3, split 2 from 2 coarse experts of hidden 4); give it as E.w_up [4, 2, 3] (stacked, 4 experts), or E.0.w_up … E.3.w_up, each [2, 3] (per member), or E.w_up [2, 4, 3] (stacked coarse, 2 experts of split 2), or E.0.w_up … E.1.w_up, each [4, 3] (coarse per member).",
    }]);
  });
  it("missing router and linear weights", () => {
    const e = good();
    delete e["r.weight"];
    delete e["g.weight"];
    expect(bind(e)).toEqual([
      { tensor: "g.weight", message: "Missing tensor g.weight in w.safetensors (linear g); expected shape [1, 3], dtype F32, F16 or BF16." },
      { tensor: "r.weight", message: "Missing tensor r.weight in w.safetensors (router r); expected shape [4, 3], dtype F32, F16 or BF16." },
    ]);
  });
  it("missing shared tensor mentions the concatenated form", () => {
    const e = good();
    delete e["S.w_down"];
    const [err] = bind(e);
    expect(err!.tensor).toBe("S.w_down");
    expect(err!.message).toContain("S.w_down [3, 4] (2 experts concatenated along the hidden units)");
  });
  it("extra tensors, with the reason", () => {
    const e = { ...good(), "foo.weight": f32([1], [0]), "r.scale": f32([1], [0]), "S.b_up": f32([4], [0, 0, 0, 0]), "E.03.w_up": f32([2, 3], [0, 0, 0, 0, 0, 0]) };
    expect(bind(e)).toEqual([
      { tensor: "E.03.w_up", message: "Tensor E.03.w_up in w.safetensors is not used by the program: it is neither a per-member (E.0.w_up) nor a whole-pool (E.w_up) name of pool E." },
      { tensor: "S.b_up", message: "Tensor S.b_up in w.safetensors is not used by the program: pool S has no biases (ffn(…, bias = true) adds them)." },
      { tensor: "foo.weight", message: "Tensor foo.weight in w.safetensors is not used by the program: the program declares nothing named foo." },
      { tensor: "r.scale", message: "Tensor r.scale in w.safetensors is not used by the program: its tensors under r are r.weight, r.bias, r.e_bias." },
    ]);
  });
  it("a member index beyond the pool", () => {
    const e: Record<string, TensorData> = { ...plain(), ...E_FINE_MEMBERS(), ...S_CONCAT(), "E.4.w_up": f32([2, 3], [0, 0, 0, 0, 0, 0]) };
    expect(bind(e)).toEqual([{ tensor: "E.4.w_up", message: "Tensor E.4.w_up in w.safetensors is not used by the program: pool E has 4 experts, numbered 0 to 3." }]);
  });
  it("mis-shaped whole, member and plain tensors", () => {
    const e: Record<string, TensorData> = { ...plain(), ...E_FINE_MEMBERS(), ...S_CONCAT() };
    e["E.1.w_down"] = f32([2, 3], [0, 0, 0, 0, 0, 0]);
    e["S.w_up"] = f32([4, 2], [0, 0, 0, 0, 0, 0, 0, 0]);
    e["r.bias"] = f32([3], [0, 0, 0]);
    expect(bind(e)).toEqual([
      { tensor: "r.bias", message: "Tensor r.bias in w.safetensors has shape [3]; expected [4]." },
      { tensor: "S.w_up", message: "Tensor S.w_up in w.safetensors has shape [4, 2]; expected [2, 2, 3] (stacked, 2 experts) or [4, 3] (2 experts concatenated along the hidden units)." },
      { tensor: "E.1.w_down", message: "Tensor E.1.w_down in w.safetensors has shape [2, 3]; expected [3, 2] (one expert) or [3, 4] (one coarse expert of split 2)." },
    ]);
  });
  it("unsupported dtype", () => {
    const e = { ...good(), "r.weight": { dtype: "I32" as const, shape: [4, 3], data: CANON["r.weight"]! } };
    expect(bind(e)).toEqual([{ tensor: "r.weight", message: "Tensor r.weight in w.safetensors has dtype I32; weights must be F32, F16 or BF16." }]);
  });
  it("a tensor given twice (stacked and per member)", () => {
    const e = { ...good(), "E.0.w_up": f32([2, 3], [0, 0, 0, 0, 0, 0]), "E.1.w_up": f32([2, 3], [0, 0, 0, 0, 0, 0]) };
    expect(bind(e)).toEqual([{ tensor: "E.w_up", message: "Tensor E.w_up is given twice in w.safetensors: whole as E.w_up [4, 2, 3] and per member as E.0.w_up … E.1.w_up (2 tensors); keep one form." }]);
  });
  it("a shared pool given twice (concatenated and per member)", () => {
    const e = { ...good(), ...S_MEMBERS() };
    const errs = bind(e);
    expect(errs.map((x) => x.tensor)).toEqual(["S.w_gate", "S.w_up", "S.w_down"]);
    expect(errs[0]!.message).toMatch(/given twice.*S\.0\.w_gate … S\.1\.w_gate/);
  });
  it("a pool with only some members", () => {
    const e: Record<string, TensorData> = { ...plain(), ...E_FINE_MEMBERS(), ...S_CONCAT() };
    delete e["E.1.w_gate"];
    delete e["E.3.w_gate"];
    expect(bind(e)).toEqual([{ tensor: "E.1.w_gate", message: "Pool E has only some members of w_gate in w.safetensors: 2 of 4 experts given; missing E.1.w_gate, E.3.w_gate." }]);
  });
  it("a coarse pool with only some members", () => {
    const e: Record<string, TensorData> = { ...plain(), ...E_COARSE_MEMBERS(), ...S_CONCAT() };
    delete e["E.1.w_up"];
    expect(bind(e)).toEqual([{ tensor: "E.1.w_up", message: "Pool E has only some members of w_up in w.safetensors: 1 of 2 coarse experts (split 2) given; missing E.1.w_up." }]);
  });
  it("members mixing fine and coarse shapes", () => {
    const e: Record<string, TensorData> = { ...plain(), ...E_FINE_MEMBERS(), ...S_CONCAT() };
    e["E.1.w_up"] = E_COARSE_MEMBERS()["E.1.w_up"]!;
    expect(bind(e)).toEqual([{ tensor: "E.1.w_up", message: "Members of E.w_up in w.safetensors mix forms: E.0.w_up is [2, 3] (one expert) but E.1.w_up is [4, 3] (one coarse expert of split 2); use one form for all members." }]);
  });
  it("collects every error of a file at once", () => {
    const e: Record<string, TensorData> = { ...E_FINE_MEMBERS(), "S.w_up": f32([1], [0]), "x.y": f32([1], [0]) };
    delete e["E.2.b_up"];
    const errs = bind(e);
    expect(errs.map((x) => x.tensor)).toEqual(["g.weight", "r.weight", "r.bias", "r2.weight", "r2.bias", "S.w_gate", "S.w_up", "S.w_down", "E.2.b_up", "x.y"]);
    for (const x of errs) expect(x.message).toContain(x.tensor);
  });
});

describe("binder fuzz", () => {
  it("never throws, and every error names its tensor, on 600 damaged files", () => {
    let seed = 0x9e3779b9;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const bases = [
      () => ({ ...plain(), ...E_COARSE_MEMBERS(), ...S_CONCAT() }),
      () => ({ ...plain(), ...E_FINE_MEMBERS(), ...S_MEMBERS() }),
      () => ({ ...plain(), ...E_STACKED_COARSE(), ...S_CONCAT() }),
    ];
    let failures = 0;
    for (let i = 0; i < 600; i++) {
      const e: Record<string, TensorData> = pick(bases)();
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
        const names = Object.keys(e);
        const n = pick(names);
        const t = e[n]!;
        switch (Math.floor(rand() * 6)) {
          case 0: delete e[n]; break;
          case 1: delete e[n]; e[pick(["E", "S", "r", "E.9", "x", "E.1"]) + "." + pick(["0.", "7.", "", "01."]) + n.split(".").pop()] = t; break;
          case 2: { const shape = [...t.shape].reverse().concat(rand() < 0.5 ? [1] : []); e[n] = { dtype: "F32", shape, data: new Array(shape.reduce((a, d) => a * d, 1)).fill(1) }; break; }
          case 3: e[n] = { ...t, dtype: pick(["I32", "I64", "F16", "BF16"] as const), data: Array.from(t.data as ArrayLike<number>, Math.round) }; break;
          case 4: Object.assign(e, pick([E_STACKED, E_FINE_MEMBERS, S_MEMBERS, S_CONCAT, E_COARSE_MEMBERS])()); break;
          case 5: e[`${pick(["E", "S"])}.${pick(["w_up", "b_down", "w_gate"])}`] = { dtype: "F32", shape: [0], data: [] }; break;
        }
      }
      const r = bindWeights(program(LISTED), file(e));
      if (r.ok) continue;
      failures++;
      for (const err of r.errors) {
        expect(err.tensor.length).toBeGreaterThan(0);
        expect(err.message).toContain(err.tensor);
        expect(err.message).toMatch(/\.$/);
      }
    }
    expect(failures).toBeGreaterThan(300);
  });
});

describe("loadWeights", () => {
  it("reads and binds files, and turns an unreadable file into an error", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { writeSafetensors } = await import("../../../runtime/safetensors/writer.js");
    const { loadWeights } = await import("../../../runtime/weights/load-weights.js");
    const dir = mkdtempSync(join(tmpdir(), "moec-lw-"));
    try {
      const w = join(dir, "w.safetensors"), s = join(dir, "s.safetensors");
      writeSafetensors(w, { ...plain(), ...E_COARSE_MEMBERS(), ...S_CONCAT() });
      writeSafetensors(s, { "r.e_bias": f32([4], [4, 3, 2, 1]) });
      const r = loadWeights(program(LISTED), w, s);
      expect(r.ok && [...r.weights.get("r.e_bias")!]).toEqual([4, 3, 2, 1]);
      expect(r.ok && [...r.weights.get("E.w_down")!]).toEqual(CANON["E.w_down"]);
      const bad = loadWeights(program(LISTED), join(dir, "nope.safetensors"));
      expect(bad).toEqual({ ok: false, errors: [{ tensor: "", message: `${join(dir, "nope.safetensors")}: cannot read the safetensors file (no such file).` }] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
