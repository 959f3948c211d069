// Adapter limits and robustness: weight chunking when a tensor exceeds the binding limit (forced
// small here), input/weight validation messages, token-capacity growth, bitwise determinism.

import { afterAll, expect, it } from "vitest";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { checkProgram } from "../../helpers/moe-check.js";
import { moeProgram, pool, ProgramBuilder, router, stages } from "../../helpers/ir-programs.js";
import { expectClose } from "../../helpers/numerics.js";
import { normals, randomWeights, rng } from "../../helpers/random.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

/** y = linear(x) + S(x) + moe(x): every weight-carrying op kind. */
function layer() {
  const b = new ProgramBuilder();
  const x = b.input("x", 32);
  const l = b.linear(x, "proj", 32, true);
  const s = b.shared(x, pool({ key: "S", count: 3, dim: 32, hidden: 16, act: "geglu", bias: true, shared: true }));
  const m = b.moe(x, router({ numExperts: 8, dim: 32, stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") }), pool({ count: 8, dim: 32, hidden: 24 }));
  return b.output("y", b.binary("add", b.binary("add", l, s), m)).build();
}

describeGpu("weights larger than the binding limit are split, not refused", () => {
  it("4 KiB bindings: chunks straddle experts and tiles; results unchanged; one dispatch more per chunk", async () => {
    const program = layer();
    const weights = randomWeights(program, 31);
    const T = 19;
    const x = normals(rng(32), T * 32);
    const res = await checkProgram(ctx, program, weights, new Map([["x", x]]), T, { maxBindingBytes: 4096 });
    expect(res.outputs.get("y")!.err.excess).toBeLessThanOrEqual(2e-4);
    expect(res.selection.mismatches).toEqual([]);
    const per = Object.fromEntries(res.info.dispatchesPerOp.map((o) => [o.kind, o.dispatches]));
    // linear [32, 32] f32 = 32 rows of 128 B → 32 rows per chunk → 1 chunk.
    expect(per["linear"]).toBe(1);
    // shared: w_up [3·16, 32] rows of 128 B → 2 chunks; w_down [3·32, 16] rows of 64 B → 2 chunks.
    expect(per["shared"]).toBe(2 + 2);
    // routed: router + dispatch + combine, plus one GEMM per chunk: w_up [8·24, 32] at 32 rows
    // per chunk → 6 chunks; w_down [8·32, 24] rows of 96 B at 42 rows per chunk → 7 chunks.
    const upChunks = Math.ceil((8 * 24) / Math.floor(4096 / (32 * 4)));
    const downChunks = Math.ceil((8 * 32) / Math.floor(4096 / (24 * 4)));
    expect(per["moe"]).toBe(3 + upChunks + downChunks);
  });

  it("the unfused baseline handles chunked pools too", async () => {
    const program = layer();
    const weights = randomWeights(program, 33);
    const T = 7;
    const res = await checkProgram(ctx, program, weights, new Map([["x", normals(rng(34), T * 32)]]), T, { maxBindingBytes: 4096, fused: false });
    expect(res.outputs.get("y")!.err.excess).toBeLessThanOrEqual(2e-4);
  });

  it("a single row above the limit is a clear error naming the tensor", async () => {
    const program = layer();
    await expect(createExecutor(ctx, program, randomWeights(program, 35), { maxBindingBytes: 64 })).rejects.toThrow(
      /weight '[^']+': one row of 32 values \(128 bytes\) exceeds the device's storage binding limit of 64 bytes/,
    );
  });
});

describeGpu("workgroup counts above the per-dimension limit", () => {
  it("every kernel covers its work with 2D/3D grids when the limit is tiny (faked at 5)", async () => {
    const tiny = { ...ctx, limits: { ...ctx.limits, maxComputeWorkgroupsPerDimension: 5 } };
    const program = layer();
    const weights = randomWeights(program, 39);
    // 70 tokens: row-softmax 70 workgroups (3D at 5 per dimension), GEMMs and elementwise 2D.
    const T = 70;
    for (const fused of [true, false]) {
      const res = await checkProgram(tiny, program, weights, new Map([["x", normals(rng(40), T * 32)]]), T, { fused });
      expect(res.outputs.get("y")!.err.excess, fused ? "fused" : "unfused").toBeLessThanOrEqual(2e-4);
    }
  });
});

describeGpu("validation", () => {
  const program = moeProgram({ D: 16, E: 4, I: 8, stages: stages("linear", "softmax", ["topk", { k: 2 }]) });

  it("rejects missing, mis-shaped and mis-typed weights with names and shapes", async () => {
    const w = randomWeights(program, 36);
    w.delete("E.w_gate");
    await expect(createExecutor(ctx, program, w)).rejects.toThrow("missing weight 'E.w_gate' [32, 16] (pool 'E' w_gate [N, I, D])");
    const w2 = randomWeights(program, 36);
    w2.set("r.weight", new Float32Array(10));
    await expect(createExecutor(ctx, program, w2)).rejects.toThrow("weight 'r.weight' has 10 values, expected [4, 16] = 64 (router 'r')");
  });

  it("rejects bad inputs before touching the GPU", async () => {
    const exec = await createExecutor(ctx, program, randomWeights(program, 37));
    try {
      await expect(exec.run(new Map(), 2)).rejects.toThrow("missing input 'x' (expected a Float32Array of tokens × 16 = 32 values)");
      await expect(exec.run(new Map([["x", new Float32Array(31)]]), 2)).rejects.toThrow("input 'x' has 31 values, expected a Float32Array of tokens × 16 = 32 values");
      await expect(exec.run(new Map([["x", new Int32Array(32)]]), 2)).rejects.toThrow("input 'x' is a Int32Array, expected a Float32Array");
      await expect(exec.run(new Map([["x", new Float32Array(32)], ["z", new Float32Array(2)]]), 2)).rejects.toThrow("unknown input 'z'; the program's inputs are 'x'");
      await expect(exec.run(new Map([["x", new Float32Array(0)]]), 0)).rejects.toThrow("tokens must be a positive integer, got 0");
    } finally {
      exec.dispose();
    }
  });
});

describeGpu("runs of different sizes on one executor", () => {
  it("grows its token capacity (T = 3 → 40 → 1) and is bitwise deterministic", async () => {
    const program = moeProgram({ D: 16, E: 6, I: 8, act: "relu", stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") });
    const weights = randomWeights(program, 38);
    const exec = await createExecutor(ctx, program, weights);
    try {
      for (const T of [3, 40, 1, 40]) {
        const x = normals(rng(100 + T), T * 16);
        const a = (await exec.run(new Map([["x", x]]), T)).get("y")!;
        const b = (await exec.run(new Map([["x", x]]), T)).get("y")!;
        expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))).toBe(true);
        // Seeded data far from near-ties at these sizes: compare with the reference's own selection.
        expectClose(a, interpretReference(program, weights, new Map([["x", x]]), T).get("y")!, 2e-4, 1e-4, `T = ${T}`);
      }
    } finally {
      exec.dispose();
    }
  });
});
