// Atom, lowrank, identity and zero pools on the GPU vs the float64 reference (evaluated with the
// GPU's own selection, so near-ties cannot fail the numeric check), under both schedules.
// f32 bound: |gpu − ref| ≤ 2e-4 + 1e-4·|ref|.

import { afterAll, expect, it } from "vitest";
import type { ExpertAct, IrPool, IrProgram } from "../../../compiler/ir/ir.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { checkProgram } from "../../helpers/moe-check.js";
import { compare } from "../../helpers/numerics.js";
import { normals, rng } from "../../helpers/random.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { finePool, fineMoeProgram, sharedProgram, stages, weightsFor } from "./fine-programs.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

const ATOL = 2e-4;
type Schedule = "token" | "expert" | "dense" | "auto";

async function check(program: IrProgram, T: number, seed: number, opts: { schedule?: Schedule; maxBindingBytes?: number; maxActivationBytes?: number } = {}) {
  const D = program.values[program.inputs[0]!.value]!.width;
  const weights = weightsFor(program, seed);
  const x = normals(rng(seed + 1000), T * D);
  const res = await checkProgram(ctx, program, weights, new Map([["x", x]]), T, {
    fineSchedule: opts.schedule,
    maxBindingBytes: opts.maxBindingBytes,
    maxActivationBytes: opts.maxActivationBytes,
  });
  for (const [name, o] of res.outputs) expect(o.err.excess, `${name}: max abs err ${o.err.maxAbs}`).toBeLessThanOrEqual(ATOL);
  expect(res.selection.mismatches).toEqual([]);
  expect(res.routingWeightErr).toBeLessThan(1e-5);
  return res;
}

const topk = (k: number) => stages("linear", "softmax", ["topk", { k }], "renorm");

describeGpu("atom pools: gather–dot–axpy (token-centric) and grouped GEMMs (expert-centric)", () => {
  const acts: ExpertAct[] = ["silu", "gelu", "relu", "identity", "swiglu", "geglu"];
  for (const act of acts) {
    it(`atom(act = ${act}): T = 19, N = 64, k = 4, both schedules`, async () => {
      const p = fineMoeProgram(finePool({ kind: "atom", count: 64, dim: 24, act }), topk(4));
      const tok = await check(p, 19, 11, { schedule: "token" });
      expect(tok.info.dispatches).toBe(3); // router, dot, axpy
      const exp = await check(p, 19, 11, { schedule: "expert" });
      expect(exp.info.dispatches).toBe(5);
    });
  }

  it("T = 1, N = 4096 atoms, k = N (every atom, in score order): 4 dispatches", async () => {
    const p = fineMoeProgram(finePool({ kind: "atom", count: 4096, dim: 16, act: "silu" }), stages("linear", ["topk", { k: 4096 }], "softmax"));
    const r = await check(p, 1, 21, { schedule: "token" });
    expect(r.info.dispatches).toBe(4); // router, dot, axpy over 64 slot chunks, reduce
    expect(r.selection.checked).toBe(1);
  });

  it("T = 3, N = 2048 gated atoms, dense selection (k = N)", async () => {
    const p = fineMoeProgram(finePool({ kind: "atom", count: 2048, dim: 8, act: "swiglu" }), stages("linear", "softmax", "dense"));
    const r = await check(p, 3, 22, { schedule: "token" });
    expect(r.info.dispatches).toBe(4);
  });

  it("weight chunks: lowrank(rank = 4) over 512 experts with 16 KiB bindings (a, b in 4 chunks each)", async () => {
    // The router's [512, 8] weight is exactly 16 KiB (router weights are bound whole).
    const p = fineMoeProgram(finePool({ kind: "lowrank", count: 512, dim: 8, hidden: 4 }), stages("linear", "softmax", ["topk", { k: 100 }]));
    const r = await check(p, 5, 23, { schedule: "token", maxBindingBytes: 16384 });
    expect(r.info.dispatches).toBe(1 + 4 + 4 + 1);
    await check(p, 5, 23, { schedule: "expert", maxBindingBytes: 16384 });
  });
});

describeGpu("dense schedule (all experts share the tokens: one pair of dense GEMMs)", () => {
  it("atoms with k = N, gated atoms with k < N (unselected units weigh 0), lowrank(rank = 3), chunked weights", async () => {
    const a = await check(fineMoeProgram(finePool({ kind: "atom", count: 512, dim: 16, act: "silu" }), stages("linear", "softmax", "dense")), 7, 80, { schedule: "dense" });
    expect(a.info.dispatches).toBe(4); // router, GEMM up, weigh, GEMM down
    await check(fineMoeProgram(finePool({ kind: "atom", count: 300, dim: 12, act: "geglu" }), topk(40)), 21, 81, { schedule: "dense" });
    await check(fineMoeProgram(finePool({ kind: "lowrank", count: 64, dim: 20, hidden: 3 }), stages("linear", ["topk", { k: 64 }]), { residual: true }), 5, 82, { schedule: "dense" });
    const p = fineMoeProgram(finePool({ kind: "lowrank", count: 512, dim: 8, hidden: 4 }), stages("linear", "softmax", ["topk", { k: 100 }]));
    const c = await check(p, 5, 23, { schedule: "dense", maxBindingBytes: 16384 });
    expect(c.info.dispatches).toBe(1 + 4 + 1 + 4);
  });
});

describeGpu("token chunks", () => {
  it("every schedule splits a run whose activations exceed the binding limit", async () => {
    const p = fineMoeProgram(finePool({ kind: "atom", count: 300, dim: 16, act: "geglu" }), stages("linear", "softmax", ["topk", { k: 70 }]));
    for (const schedule of ["token", "expert", "dense"] as const) {
      const r = await check(p, 40, 93, { schedule, maxActivationBytes: 32768 });
      expect(r.info.chunks!.count, schedule).toBeGreaterThan(1);
    }
  });
});

describeGpu("the auto schedule", () => {
  it("token-centric below 16 tokens, one dense GEMM pair from 16 tokens on when every atom sees every token", async () => {
    const p = fineMoeProgram(finePool({ kind: "atom", count: 64, dim: 16, act: "swiglu" }), stages("linear", "softmax", "dense"));
    const small = await check(p, 5, 90);
    expect(small.info.dispatches).toBe(3); // router, dot, axpy
    const big = await check(p, 20, 91);
    expect(big.info.dispatches).toBe(4); // router, GEMM up, weigh, GEMM down
    const topk = await check(fineMoeProgram(finePool({ kind: "atom", count: 256, dim: 16 }), stages("linear", ["topk", { k: 8 }])), 40, 92);
    expect(topk.info.dispatches).toBe(3);
  });
});

describeGpu("ffn pools on the token-centric path (opt-in: fineSchedule)", () => {
  for (const [act, bias] of [["swiglu", false], ["geglu", true], ["relu", true], ["gelu", false]] as const) {
    it(`ffn(hidden = 12, act = ${act}, bias = ${bias}), 40 experts, top-5, token${bias ? "" : " and dense"}`, async () => {
      const pool = { ...finePool({ kind: "ffn", count: 40, dim: 20, hidden: 12, act }), bias };
      const p = fineMoeProgram(pool, stages("linear", "softmax", ["topk", { k: 5 }], "renorm"));
      const r = await check(p, 11, 95, { schedule: "token" });
      expect(r.info.dispatches).toBe(3);
      if (!bias) await check(p, 11, 95, { schedule: "dense" });
    });
  }
  it("a width that is not a multiple of 4 (D = 18): fine_dot's scalar loads (vec4 words need D % 4 = 0)", async () => {
    const p = fineMoeProgram(finePool({ kind: "ffn", count: 8, dim: 18, hidden: 12, act: "swiglu" }), stages("linear", "softmax", ["topk", { k: 2 }], "renorm"));
    const r = await check(p, 5, 96, { schedule: "token" });
    expect(r.info.dispatches).toBe(3);
  });
});

describeGpu("lowrank pools", () => {
  for (const R of [1, 3, 8]) {
    it(`lowrank(rank = ${R}): T = 13, N = 32, k = 6, both schedules, with a residual`, async () => {
      const p = fineMoeProgram(finePool({ kind: "lowrank", count: 32, dim: 20, hidden: R }), stages("linear", ["topk", { k: 6 }]), { residual: true });
      await check(p, 13, 30 + R, { schedule: "token" });
      await check(p, 13, 30 + R, { schedule: "expert" });
    });
  }

  it("random shapes: D, N, R, k, T drawn from a seeded generator", async () => {
    const r = rng(77);
    const pick = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
    for (let i = 0; i < 6; i++) {
      const kind = i % 2 ? "lowrank" : "atom";
      const N = pick(1, 300);
      const k = pick(1, Math.min(N, 70));
      const D = pick(1, 40);
      const T = pick(1, 33);
      const pool: IrPool = finePool({ kind, count: N, dim: D, hidden: pick(1, 9), act: (["silu", "gelu", "swiglu"] as const)[i % 3] });
      const p = fineMoeProgram(pool, stages("linear", "softmax", ["topk", { k }]));
      const what = `${kind} N=${N} k=${k} D=${D} T=${T} R=${pool.hidden} act=${pool.act}`;
      await check(p, T, 100 + i, { schedule: i % 3 === 2 ? "expert" : "auto" }).catch((e: Error) => {
        throw new Error(`${what}: ${e.message}`);
      });
    }
  });
});

describeGpu("null experts and shared fine pools", () => {
  it("identity() and zero() routed pools", async () => {
    const id = await check(fineMoeProgram(finePool({ kind: "identity", count: 5, dim: 12 }), stages("linear", "softmax", ["topk", { k: 2 }])), 9, 40);
    expect(id.info.dispatches).toBe(2);
    const z = await check(fineMoeProgram(finePool({ kind: "zero", count: 5, dim: 12 }), stages("linear", "softmax", ["topk", { k: 2 }]), { residual: true }), 9, 41);
    expect(z.outputs.get("y")!.err.maxAbs).toBeLessThan(1e-6);
  });

  it("shared atom, lowrank, identity and zero pools", async () => {
    await check(sharedProgram(finePool({ key: "S", kind: "atom", count: 16, dim: 12, act: "geglu", shared: true })), 7, 50);
    await check(sharedProgram(finePool({ key: "S", kind: "lowrank", count: 3, dim: 12, hidden: 4, shared: true })), 7, 51);
    await check(sharedProgram(finePool({ key: "S", kind: "identity", count: 3, dim: 12, shared: true })), 7, 52);
    await check(sharedProgram(finePool({ key: "S", kind: "zero", count: 3, dim: 12, shared: true })), 7, 53);
  });
});

describeGpu("f16 storage and the unfused baseline", () => {
  it("f16: atoms (token and dense), lowrank, and a heterogeneous pool within 4e-3 + 2e-3·|ref|", async () => {
    const cases: [IrProgram, Schedule][] = [
      [fineMoeProgram(finePool({ kind: "atom", count: 128, dim: 16, act: "swiglu" }), topk(8)), "token"],
      [fineMoeProgram(finePool({ kind: "atom", count: 64, dim: 16, act: "gelu" }), stages("linear", "softmax", "dense")), "dense"],
      [fineMoeProgram(finePool({ kind: "lowrank", count: 32, dim: 16, hidden: 4 }), topk(3), { residual: true }), "token"],
      [
        fineMoeProgram(
          {
            ...finePool({ kind: "atom", count: 3, dim: 16 }),
            kind: "mixed",
            hidden: 24,
            members: [
              { kind: "ffn", hidden: 24, act: "swiglu", bias: false },
              { kind: "lowrank", hidden: 2, act: "identity", bias: false },
              { kind: "identity", hidden: 0, act: "identity", bias: false },
            ],
          },
          topk(2),
        ),
        "auto",
      ],
    ];
    for (const [i, [p, schedule]] of cases.entries()) {
      const T = 13;
      const x = normals(rng(500 + i), T * 16);
      const res = await checkProgram(ctx, p, weightsFor(p, 500 + i), new Map([["x", x]]), T, { dtype: "f16", fineSchedule: schedule });
      const y = res.outputs.get("y")!;
      expect(compare(y.gpu, y.ref, 2e-3).excess, `case ${i}`).toBeLessThanOrEqual(4e-3);
    }
  });

  it("the unfused baseline runs atom and lowrank pools (per active expert) to the same result", async () => {
    const p = fineMoeProgram(finePool({ kind: "atom", count: 24, dim: 12, act: "geglu" }), topk(3));
    const weights = weightsFor(p, 600);
    const res = await checkProgram(ctx, p, weights, new Map([["x", normals(rng(601), 7 * 12)]]), 7, { fused: false });
    expect(res.outputs.get("y")!.err.excess).toBeLessThanOrEqual(ATOL);
    const q = fineMoeProgram(finePool({ kind: "lowrank", count: 10, dim: 12, hidden: 3 }), topk(2));
    const r2 = await checkProgram(ctx, q, weightsFor(q, 602), new Map([["x", normals(rng(603), 7 * 12)]]), 7, { fused: false });
    expect(r2.outputs.get("y")!.err.excess).toBeLessThanOrEqual(ATOL);
  });
});
