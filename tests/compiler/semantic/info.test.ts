// `moec info` numbers (LANGUAGE.md §4, §7, §9) for every §12 program, at its defaults and at small
// `--set` sizes, computed by hand here — parameters per expert from the §4 table, active experts
// per router from §9, FLOPs as 2 × multiply-adds over active weights, every application counted —
// and compared with entryInfo() and with `moec info --json`. Weight lists are written out from
// the §7 naming rules (fine names for split pools, `r.ITER.…` inside iterate, agent prefixes).
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { entryInfo } from "../../../compiler/driver.js";
import { main } from "../../../cli/main.js";
import { FIXTURES, REPO_ROOT } from "../../helpers/frontend/paths.js";
import { memoryHost } from "../../helpers/frontend/memory-host.js";

const S12 = path.join(FIXTURES, "contract/section12.moe");
const S13 = path.join(FIXTURES, "contract/section13.moe");

type Label = "exact" | "upper bound" | "expectation";
interface W { name: string; shape: number[]; state?: boolean }
interface Expected {
  total: number;
  active: number;
  flops: number;
  /** How `active` (and FLOPs) are to be read (§9): top-p/threshold → upper bound, choose → expectation. */
  label: Label;
  weights: W[];
}
type Hyper = Record<string, number>;

// ---------------------------------------------------------------- §4 weights per expert

/** `ffn(hidden = I)` with a gated act (swiglu, the default): w_gate [I, D], w_up [I, D], w_down [D, I]. */
const gatedFfn = (D: number, I: number) => 3 * I * D;
/** `ffn(hidden = I, act = relu|gelu)`: w_up [I, D], w_down [D, I]. */
const plainFfn = (D: number, I: number) => 2 * I * D;

function gatedFfnWeights(prefix: string, D: number, I: number): W[] {
  return [
    { name: `${prefix}.w_gate`, shape: [I, D] },
    { name: `${prefix}.w_up`, shape: [I, D] },
    { name: `${prefix}.w_down`, shape: [D, I] },
  ];
}
function plainFfnWeights(prefix: string, D: number, I: number): W[] {
  return [
    { name: `${prefix}.w_up`, shape: [I, D] },
    { name: `${prefix}.w_down`, shape: [D, I] },
  ];
}
/** A pool's members, named per member (§7: `E.3.w_gate`). */
function members(n: number, one: (i: number) => W[]): W[] {
  return Array.from({ length: n }, (_, i) => one(i)).flat();
}

// ---------------------------------------------------------------- the §12 programs by hand

const programs: Record<string, { defaults: Hyper; small: Hyper; expected: (h: Hyper) => Expected }> = {
  // experts E[N] = ffn(hidden = I, act = swiglu); router r = linear |> softmax |> topk(2) |> renorm
  mixtral_moe: {
    defaults: { D: 4096, N: 8, I: 14336 },
    small: { D: 32, N: 4, I: 24 },
    expected: ({ D, N, I }) => ({
      total: N * gatedFfn(D, I) + N * D, //          N experts + router weight [N, D]
      active: 2 * gatedFfn(D, I) + N * D, //         topk(2): 2 experts + the router
      flops: 2 * (2 * gatedFfn(D, I) + N * D), //    each active weight once per token
      label: "exact",
      weights: [...members(N, (i) => gatedFfnWeights(`E.${i}`, D, I)), { name: "r.weight", shape: [N, D] }],
    }),
  },
  // shared S[2] = ffn(hidden = SI); experts E[N] = ffn(hidden = I) split 4; topk(6) over 4N fine experts
  deepseek_moe: {
    defaults: { D: 2048, N: 16, I: 5632, SI: 1408 },
    small: { D: 32, N: 4, I: 48, SI: 16 },
    expected: ({ D, N, I, SI }) => {
      const fine = 4 * N; //                          §6: split 4 → 4N experts of hidden I/4
      const If = I / 4;
      return {
        total: 2 * gatedFfn(D, SI) + fine * gatedFfn(D, If) + fine * D, // shared in full + all slices + router [4N, D]
        active: 2 * gatedFfn(D, SI) + 6 * gatedFfn(D, If) + fine * D, //   shared in full + 6 fine experts
        flops: 2 * (2 * gatedFfn(D, SI) + 6 * gatedFfn(D, If) + fine * D),
        label: "exact",
        weights: [
          ...members(2, (i) => gatedFfnWeights(`S.${i}`, D, SI)),
          ...members(fine, (i) => gatedFfnWeights(`E.${i}`, D, If)), // fine names: E.63.w_gate [1408, D]
          { name: "r.weight", shape: [fine, D] },
        ],
      };
    },
  },
  // shared S[1] = ffn(hidden = SI); E[N] = ffn(hidden = I); topk(4); let g = linear(x, out = 1)
  qwen_moe: {
    defaults: { D: 2048, N: 60, I: 1408, SI: 5632 },
    small: { D: 32, N: 8, I: 16, SI: 24 },
    expected: ({ D, N, I, SI }) => ({
      total: gatedFfn(D, SI) + N * gatedFfn(D, I) + N * D + 1 * D, //   + g.weight [1, D]
      active: gatedFfn(D, SI) + 4 * gatedFfn(D, I) + N * D + 1 * D,
      flops: 2 * (gatedFfn(D, SI) + 4 * gatedFfn(D, I) + N * D + 1 * D),
      label: "exact",
      weights: [
        ...gatedFfnWeights("S.0", D, SI),
        ...members(N, (i) => gatedFfnWeights(`E.${i}`, D, I)),
        { name: "r.weight", shape: [N, D] },
        { name: "g.weight", shape: [1, D] },
      ],
    }),
  },
  // shared S[1] = ffn(hidden = I); E[N]; linear |> sigmoid |> bias(aux_free) |> group_topk(8, …) |> renorm |> scale
  deepseek_v3_moe: {
    defaults: { D: 7168, N: 256, I: 2048 },
    small: { D: 32, N: 16, I: 8 },
    expected: ({ D, N, I }) => ({
      total: gatedFfn(D, I) + N * gatedFfn(D, I) + N * D, //   e_bias [N] is state, not a parameter
      active: gatedFfn(D, I) + 8 * gatedFfn(D, I) + N * D, //  group_topk(8): 8 experts
      flops: 2 * (gatedFfn(D, I) + 8 * gatedFfn(D, I) + N * D),
      label: "exact",
      weights: [
        ...gatedFfnWeights("S.0", D, I),
        ...members(N, (i) => gatedFfnWeights(`E.${i}`, D, I)),
        { name: "r.weight", shape: [N, D] },
        { name: "r.e_bias", shape: [N], state: true },
      ],
    }),
  },
  // E[N] = ffn(hidden = I); linear |> softmax |> topp(0.4, max = 16): at most min(N, 16) experts
  dynamic_moe: {
    defaults: { D: 2048, N: 16, I: 5504 },
    small: { D: 32, N: 8, I: 16 }, // max = 16 is clamped to E = 8
    expected: ({ D, N, I }) => ({
      total: N * gatedFfn(D, I) + N * D,
      active: Math.min(N, 16) * gatedFfn(D, I) + N * D,
      flops: 2 * (Math.min(N, 16) * gatedFfn(D, I) + N * D),
      label: "upper bound",
      weights: [...members(N, (i) => gatedFfnWeights(`E.${i}`, D, I)), { name: "r.weight", shape: [N, D] }],
    }),
  },
  // S[1] = ffn(hidden = SI); A[P·P] = atom(act = silu): u [D], v [D]; product(parts = 2, size = P, norm = batch) |> topk(16)
  omni_moe: {
    defaults: { D: 1024, P: 64, SI: 4096 },
    small: { D: 16, P: 8, SI: 24 },
    expected: ({ D, P, SI }) => ({
      total: gatedFfn(D, SI) + P * P * 2 * D + 2 * P * D, //   router: r.0.weight, r.1.weight [P, D]; BatchNorm stats are state
      active: gatedFfn(D, SI) + 16 * 2 * D + 2 * P * D,
      flops: 2 * (gatedFfn(D, SI) + 16 * 2 * D + 2 * P * D), // an atom is two length-D products (u·x, then ·v)
      label: "exact",
      weights: [
        ...gatedFfnWeights("S.0", D, SI),
        ...members(P * P, (i) => [{ name: `A.${i}.u`, shape: [D] }, { name: `A.${i}.v`, shape: [D] }]),
        ...[0, 1].flatMap((part) => [
          { name: `r.${part}.weight`, shape: [P, D] },
          { name: `r.${part}.running_mean`, shape: [P], state: true },
          { name: `r.${part}.running_var`, shape: [P], state: true },
        ]),
      ],
    }),
  },
  // S[1], E[N] shared by both iterations; iterate 2 { router r = … |> topk(4); x = x + S(x) + moe(x, r, E) }
  chain_of_experts: {
    defaults: { D: 1024, N: 63, I: 704 },
    small: { D: 16, N: 6, I: 8 }, // 4 + 4 > 6: every expert may be active
    expected: ({ D, N, I }) => ({
      total: gatedFfn(D, I) + N * gatedFfn(D, I) + 2 * N * D, //                   routers r.0 and r.1
      active: gatedFfn(D, I) + Math.min(N, 4 + 4) * gatedFfn(D, I) + 2 * N * D, // §9: min(N, sum of the counts)
      flops: 2 * (2 * gatedFfn(D, I) + 2 * 4 * gatedFfn(D, I) + 2 * N * D), //    S twice, 4 experts per iteration, 2 routers
      label: "exact",
      weights: [
        ...gatedFfnWeights("S.0", D, I),
        ...members(N, (i) => gatedFfnWeights(`E.${i}`, D, I)),
        { name: "r.0.weight", shape: [N, D] },
        { name: "r.1.weight", shape: [N, D] },
      ],
    }),
  },
  // E[N] = ffn(hidden = I, act = gelu); linear |> softmax |> choose(capacity = 2.0): c = 2 experts in expectation
  expert_choice: {
    defaults: { D: 512, N: 8, I: 1024 },
    small: { D: 16, N: 4, I: 8 },
    expected: ({ D, N, I }) => ({
      total: N * plainFfn(D, I) + N * D,
      active: 2.0 * plainFfn(D, I) + N * D,
      flops: 2 * (2.0 * plainFfn(D, I) + N * D),
      label: "expectation",
      weights: [...members(N, (i) => plainFfnWeights(`E.${i}`, D, I)), { name: "r.weight", shape: [N, D] }],
    }),
  },
  // R[N] = lowrank(rank = 1): a [1, D], b [D, 1]; linear |> bias(aux_free) |> topk(8)
  smora: {
    defaults: { D: 512, N: 64 },
    small: { D: 16, N: 16 },
    expected: ({ D, N }) => ({
      total: N * (1 * D + D * 1) + N * D,
      active: 8 * (1 * D + D * 1) + N * D,
      flops: 2 * (8 * (1 * D + D * 1) + N * D),
      label: "exact",
      weights: [
        ...members(N, (i) => [{ name: `R.${i}.a`, shape: [1, D] }, { name: `R.${i}.b`, shape: [D, 1] }]),
        { name: "r.weight", shape: [N, D] },
        { name: "r.e_bias", shape: [N], state: true },
      ],
    }),
  },
  // E[N] = ffn(hidden = I, act = relu); two dense routers over the same pool (one per task)
  mmoe: {
    defaults: { D: 256, N: 4, I: 128 },
    small: { D: 8, N: 3, I: 4 },
    expected: ({ D, N, I }) => ({
      total: N * plainFfn(D, I) + 2 * N * D,
      active: Math.min(N, N + N) * plainFfn(D, I) + 2 * N * D, //   two `dense` uses: min(N, N + N) = N
      flops: 2 * (2 * N * plainFfn(D, I) + 2 * N * D), //           every expert computed by both calls
      label: "exact",
      weights: [
        ...members(N, (i) => plainFfnWeights(`E.${i}`, D, I)),
        { name: "g_click.weight", shape: [N, D] },
        { name: "g_like.weight", shape: [N, D] },
      ],
    }),
  },
};

/** Agent i's counts and weights under the prefix `i.` (§11). */
const mixtralAgent = (D: number) => programs.mixtral_moe!.expected({ D, N: 8, I: 1024 });
const choiceAgent = (D: number) => programs.expert_choice!.expected({ D, N: 8, I: 1024 });
function agents(parts: Expected[], label: Label): Expected {
  return {
    total: parts.reduce((s, p) => s + p.total, 0),
    active: parts.reduce((s, p) => s + p.active, 0),
    flops: parts.reduce((s, p) => s + p.flops, 0),
    label,
    weights: parts.flatMap((p, i) => p.weights.map((w) => ({ ...w, name: `${i}.${w.name}` }))),
  };
}
const graphs: Record<string, { defaults: Hyper; small: Hyper; expected: (h: Hyper) => Expected }> = {
  // mixtral_moe(D = D, I = 1024) -> expert_choice(D = D) -> mixtral_moe(D = D, I = 1024)
  review: {
    defaults: { D: 512 },
    small: { D: 16 },
    expected: ({ D }) => agents([mixtralAgent(D!), choiceAgent(D!), mixtralAgent(D!)], "expectation"),
  },
  // parallel(mixtral_moe(D = D, I = 1024), expert_choice(D = D)) |> mean
  ensemble: {
    defaults: { D: 512 },
    small: { D: 16 },
    expected: ({ D }) => agents([mixtralAgent(D!), choiceAgent(D!)], "expectation"),
  },
};

const all = { ...programs, ...graphs };

// ---------------------------------------------------------------- comparisons

const byName = (a: W, b: W) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
const norm = (ws: W[]) => ws.map((w) => (w.state ? { name: w.name, shape: w.shape, state: true } : { name: w.name, shape: w.shape })).sort(byName);

function compareInfo(entry: string, set: Hyper | undefined, want: Expected): void {
  const res = entryInfo([S12], { entry, set });
  expect(res.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  const info = res.info!;
  expect(info.name).toBe(entry);
  expect({ total: info.counts.total, active: info.counts.active, flops: info.counts.flops }).toEqual({ total: want.total, active: want.active, flops: want.flops });
  expect(info.counts.activeLabel).toBe(want.label);
  expect(info.counts.flopsLabel).toBe(want.label);
  expect(norm(info.weights)).toEqual(norm(want.weights));
  // The weights listed add up to the total (state excluded).
  expect(info.weights.filter((w) => !w.state).reduce((s, w) => s + w.shape.reduce((p, d) => p * d, 1), 0)).toBe(want.total);
}

describe("§12 programs at their defaults", () => {
  for (const [entry, p] of Object.entries(all)) {
    it(entry, () => compareInfo(entry, undefined, p.expected(p.defaults)));
  }
});

describe("§12 programs at small --set sizes", () => {
  for (const [entry, p] of Object.entries(all)) {
    it(`${entry} with ${Object.entries(p.small).map(([k, v]) => `${k}=${v}`).join(" ")}`, () => compareInfo(entry, p.small, p.expected(p.small)));
  }
});

describe("the published numbers in the comments above, spelled out", () => {
  it("Mixtral layer at defaults: 1,409,318,912 total, 352,354,304 active", () => {
    // 8 × 3 × 14336 × 4096 = 1,409,286,144 expert weights + 8 × 4096 router weights.
    const e = programs.mixtral_moe!.expected(programs.mixtral_moe!.defaults);
    expect([e.total, e.active]).toEqual([1_409_318_912, 352_354_304]);
  });
  it("DeepSeekMoE split pool: 64 fine experts of hidden 1408, router [64, D]", () => {
    const w = programs.deepseek_moe!.expected(programs.deepseek_moe!.defaults).weights;
    expect(w).toContainEqual({ name: "E.63.w_gate", shape: [1408, 2048] });
    expect(w).toContainEqual({ name: "r.weight", shape: [64, 2048] });
    expect(w.some((x) => x.name.startsWith("E.64."))).toBe(false);
  });
});

// ---------------------------------------------------------------- §9 rules the §12 programs do not reach

describe("§9 counting rules on small programs", () => {
  const info = (text: string) => {
    const res = entryInfo(["/mem/a.moe"], { host: memoryHost({ "a.moe": text }) });
    expect(res.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    return res.info!.counts;
  };
  const D = 16;
  it("a heterogeneous pool counts its largest members, as an upper bound", () => {
    const c = info(`layer h(x: [T, D], D = ${D}) {
      experts E = [ffn(hidden = 8), lowrank(rank = 2), zero()]
      router r = linear |> softmax |> topk(2)
      return moe(x, r, E)
    }`);
    const members = [gatedFfn(D, 8), 2 * D + D * 2, 0]; // ffn; lowrank a [2, D] + b [D, 2]; zero owns nothing
    const router = 3 * D;
    expect(c.total).toBe(members[0]! + members[1]! + members[2]! + router);
    expect(c.active).toBe(members[0]! + members[1]! + router); // the 2 largest
    expect(c.flops).toBe(2 * (members[0]! + members[1]! + router));
    expect(c.activeLabel).toBe("upper bound");
  });
  it("threshold(…, max = M) counts M experts, as an upper bound", () => {
    const c = info(`layer t(x: [T, D], D = ${D}) {
      experts E[8] = ffn(hidden = 4)
      router r = linear |> sigmoid |> threshold(0.5, max = 3)
      return moe(x, r, E)
    }`);
    expect([c.total, c.active, c.activeLabel]).toEqual([8 * gatedFfn(D, 4) + 8 * D, 3 * gatedFfn(D, 4) + 8 * D, "upper bound"]);
  });
  it("a pool reached by two routers counts min(N, k1 + k2) members; FLOPs count both calls", () => {
    const c = info(`layer two(x: [T, D], D = ${D}) {
      experts E[4] = ffn(hidden = 4)
      router a = linear |> softmax |> topk(3)
      router b = linear |> softmax |> topk(3)
      return moe(x, a, E) + moe(x, b, E)
    }`);
    expect(c.active).toBe(Math.min(4, 3 + 3) * gatedFfn(D, 4) + 2 * 4 * D);
    expect(c.flops).toBe(2 * ((3 + 3) * gatedFfn(D, 4) + 2 * 4 * D));
  });
  it("shared pools, dense blocks and linear lets count in full; a shared pool applied twice costs twice the FLOPs", () => {
    const c = info(`layer s(x: [T, D], D = ${D}) {
      shared S[3] = ffn(hidden = 4, act = relu)
      let g = linear(x, out = 2, bias = true)
      let f = ffn(x, hidden = 8)
      return S(x) + S(f)
    }`);
    const shared = 3 * plainFfn(D, 4);
    const lin = 2 * D + 2; // weight [2, D] + bias [2]
    const dense = gatedFfn(D, 8);
    expect(c.total).toBe(shared + lin + dense);
    expect(c.active).toBe(shared + lin + dense);
    expect(c.flops).toBe(2 * (2 * shared + 2 * D + dense)); // the bias is not a product
  });
});

// ---------------------------------------------------------------- §13 whole models (published sizes)

describe("§13 models", () => {
  it("mixtral_8x7b: 46.7B total / 12.9B active", () => {
    const V = 32000, D = 4096, L = 32, H = 32, KV = 8, hd = D / H, N = 8, I = 14336;
    const attention = H * hd * D + 2 * KV * hd * D + D * H * hd; // wq, wk, wv, wo
    const layerTotal = 2 * D + attention + N * gatedFfn(D, I) + N * D; // 2 rmsnorms, attention, experts, router
    const layerActive = 2 * D + attention + 2 * gatedFfn(D, I) + N * D;
    const total = V * D + L * layerTotal + D + V * D; // embed, layers, final norm, lm_head
    const active = V * D + L * layerActive + D + V * D;
    // FLOPs: products only — not the embedding lookup nor the elementwise norms.
    const flops = 2 * (L * (attention + 2 * gatedFfn(D, I) + N * D) + V * D);
    const res = entryInfo([S13], { entry: "mixtral_8x7b" });
    expect(res.diagnostics).toEqual([]);
    expect({ total: res.info!.counts.total, active: res.info!.counts.active, flops: res.info!.counts.flops }).toEqual({ total, active, flops });
    expect((total / 1e9).toFixed(1)).toBe("46.7");
    expect((active / 1e9).toFixed(1)).toBe("12.9");
    // Weight names follow the repeat prefix and the let name of the called layer.
    const names = new Set(res.info!.weights.map((w) => w.name));
    for (const n of ["h.weight", "layers.0.attn.wq", "layers.31.block_sparse_moe.E.7.w_down", "layers.3.block_sparse_moe.r.weight", "norm.weight", "logits.weight"]) expect(names.has(n), n).toBe(true);
  });
  it("deepseek_moe_16b: 16.4B total / 2.8B active", () => {
    const V = 102400, D = 2048, H = 16, hd = D / H;
    const attention = 4 * H * hd * D;
    const dense = 2 * D + attention + gatedFfn(D, 10944);
    const moeTotal = 2 * D + attention + 2 * gatedFfn(D, 1408) + 64 * gatedFfn(D, 1408) + 64 * D;
    const moeActive = 2 * D + attention + 2 * gatedFfn(D, 1408) + 6 * gatedFfn(D, 1408) + 64 * D;
    const total = V * D + dense + 27 * moeTotal + D + V * D;
    const active = V * D + dense + 27 * moeActive + D + V * D;
    const res = entryInfo([S13], { entry: "deepseek_moe_16b" });
    expect(res.diagnostics).toEqual([]);
    expect({ total: res.info!.counts.total, active: res.info!.counts.active }).toEqual({ total, active });
    expect((total / 1e9).toFixed(1)).toBe("16.4");
    expect((active / 1e9).toFixed(1)).toBe("2.8");
    const names = new Set(res.info!.weights.map((w) => w.name));
    for (const n of ["layers.0.mlp.w_gate", "layers.1.mlp.S.1.w_up", "layers.27.mlp.E.63.w_down", "layers.27.mlp.r.weight"]) expect(names.has(n), n).toBe(true);
    expect(names.has("layers.28.mlp.r.weight")).toBe(false);
  });
});

// ---------------------------------------------------------------- the CLI prints the same numbers

interface InfoJson {
  entry: string; params: { total: number; active: number; active_is?: string }; flops_per_token: number; flops_per_token_is?: string; weights: W[];
}
const setArgs = (set?: Hyper) => (set ? ["--set", ...Object.entries(set).map(([k, v]) => `${k}=${v}`)] : []);

/** The CLI's own entry point, in this process (a spawned `node bin/moec.js` costs ~0.5 s of module loading). */
async function runInProcess(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t), color: false, cwd: REPO_ROOT });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

function expectJson(j: InfoJson, entry: string, want: Expected): void {
  expect(j.entry).toBe(entry);
  expect(j.params.total).toBe(want.total);
  expect(j.params.active).toBe(want.active);
  expect(j.flops_per_token).toBe(want.flops);
  expect(j.params.active_is).toBe(want.label === "exact" ? undefined : want.label);
  expect(j.flops_per_token_is).toBe(want.label === "exact" ? undefined : want.label);
  expect(norm(j.weights)).toEqual(norm(want.weights));
}

describe("moec info --json agrees", () => {
  for (const [entry, p] of Object.entries(all)) {
    for (const [which, set] of [["defaults", undefined], ["small", p.small]] as const) {
      it(`${entry} (${which})`, async () => {
        const r = await runInProcess(["info", S12, "--entry", entry, "--json", ...setArgs(set)]);
        expect(r.code, r.err).toBe(0);
        expectJson(JSON.parse(r.out) as InfoJson, entry, p.expected(set ?? p.defaults));
      });
    }
  }
  // And through the real executable, for a layer with a split pool and for a graph.
  const bin = path.join(REPO_ROOT, "bin/moec.js");
  for (const [entry, set] of [["deepseek_moe", programs.deepseek_moe!.small], ["review", undefined]] as const) {
    it(`node bin/moec.js info --entry ${entry}${set ? " --set …" : ""} --json`, () => {
      const j = JSON.parse(execFileSync(process.execPath, [bin, "info", S12, "--entry", entry, "--json", ...setArgs(set)], { encoding: "utf8" })) as InfoJson;
      expectJson(j, entry, all[entry]!.expected(set ?? all[entry]!.defaults));
    });
  }
});
