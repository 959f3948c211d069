// The dispatch structure the fused executor promises (docs/kernels.md): at most 5 compute
// dispatches per routed pool whatever E is, no read-back inside a layer, one command buffer and
// one read-back per run — versus the unfused baseline's per-expert loop. The count follows the
// pool's schedule (docs/kernels.md, "Three schedules"): after the router's one dispatch, grouped
// GEMMs take 4 (sort, up, down, combine), token-centric 2 (dot, axpy), dense 3 (up, weigh, down);
// `auto` takes the tuning table's crossovers where it has the pool's class.

import { afterAll, expect, it } from "vitest";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { moeProgram, pool, ProgramBuilder, router, stages } from "../../helpers/ir-programs.js";
import { normals, randomWeights, rng } from "../../helpers/random.js";
import { checkProgram } from "../../helpers/moe-check.js";
import type { TuningTable } from "../../../runtime/tune/tuning-table.js";
import type { ExecutorOptions } from "../../../runtime/executor/types.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

describeGpu("fused executor", () => {
  it.each([8, 512, 4096])("E = %i: 5 dispatches per routed pool, 1 command buffer, 1 read-back (routing included)", async (E) => {
    const program = moeProgram({ D: 8, E, I: 8, stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") });
    const exec = await createExecutor(ctx, program, randomWeights(program, E));
    try {
      await exec.run(new Map([["x", normals(rng(1), 33 * 8)]]), 33, { returnRouting: true });
      const info = exec.lastRunInfo!;
      expect(info.dispatchesPerOp).toMatchObject([{ op: 0, kind: "moe", name: "moe#0", dispatches: 5 }]);
      expect(info.commandBuffers).toBe(1);
      expect(info.readbacks).toBe(1);
    } finally {
      exec.dispose();
    }
  });

  it("a two-layer program (moe → residual → shared + moe) is still one command buffer and one read-back", async () => {
    const b = new ProgramBuilder();
    const x = b.input("x", 16);
    const r = (key: string) => router({ key, numExperts: 6, dim: 16, stages: stages("linear", "softmax", ["topk", { k: 2 }]) });
    const h = b.binary("add", x, b.moe(x, r("l0.r"), pool({ key: "l0.E", count: 6, dim: 16, hidden: 8 })));
    const y = b.binary("add", b.shared(h, pool({ key: "l1.S", count: 1, dim: 16, hidden: 8, shared: true })), b.moe(h, r("l1.r"), pool({ key: "l1.E", count: 6, dim: 16, hidden: 8 })));
    const program = b.output("y", y).build();
    const exec = await createExecutor(ctx, program, randomWeights(program, 2));
    try {
      await exec.run(new Map([["x", normals(rng(3), 20 * 16)]]), 20);
      const info = exec.lastRunInfo!;
      expect(info.dispatchesPerOp.map((o) => `${o.kind}:${o.dispatches}`)).toEqual(["moe:5", "binary:1", "shared:2", "moe:5", "binary:1"]);
      expect(info.dispatches).toBe(14);
      expect(info.commandBuffers).toBe(1);
      expect(info.readbacks).toBe(1);
    } finally {
      exec.dispose();
    }
  });
});

/** A table with no GEMM entries and one pool class: token-centric below T = 16, grouped from 16. */
function crossoverTable(gpu: GpuContext): TuningTable {
  const steps = [{ from: 1, schedule: "token" as const }, { from: 16, schedule: "expert" as const }];
  return {
    moec_tuning: 2, key: { ...gpu.adapterInfo, moec: "" }, clock: "wall-clock", measured: "", entries: {},
    schedules: { "schedule/coarse/d-small": { experts: 8, k: 2, dim: 128, hidden: 256, problem: "", steps, points: [] } },
  };
}

describeGpu("dispatches follow the schedule", () => {
  const program = moeProgram({ D: 16, E: 8, I: 16, stages: stages("linear", "softmax", ["topk", { k: 2 }]) });
  const dispatchesAt = async (opts: ExecutorOptions, Ts: number[]): Promise<number[]> => {
    const exec = await createExecutor(ctx, program, randomWeights(program, 9), opts);
    try {
      const out: number[] = [];
      for (const T of Ts) {
        await exec.run(new Map([["x", normals(rng(T), T * 16)]]), T);
        out.push(exec.lastRunInfo!.dispatchesPerOp[0]!.dispatches);
      }
      return out;
    } finally {
      exec.dispose();
    }
  };

  it("forced: token 3, expert 5, dense 4 (every token to every expert) at any T", async () => {
    expect(await dispatchesAt({ fineSchedule: "token" }, [4, 33])).toEqual([3, 3]);
    expect(await dispatchesAt({ fineSchedule: "expert" }, [4, 33])).toEqual([5, 5]);
    const all = moeProgram({ D: 16, E: 4, I: 16, stages: stages("linear", "softmax", ["topk", { k: 4 }]) });
    const exec = await createExecutor(ctx, all, randomWeights(all, 10), { fineSchedule: "dense" });
    try {
      await exec.run(new Map([["x", normals(rng(2), 5 * 16)]]), 5);
      expect(exec.lastRunInfo!.dispatchesPerOp[0]!.dispatches).toBe(4);
    } finally {
      exec.dispose();
    }
  });

  it("auto: the table's crossover (token below T = 16, grouped from 16) in one plan; without a table grouped at every T", async () => {
    // T = 4 and 15 and 16 share the plan of capacity 16; T = 33 is the next plan's.
    expect(await dispatchesAt({ tuning: crossoverTable(ctx) }, [4, 15, 16, 33])).toEqual([3, 3, 5, 5]);
    expect(await dispatchesAt({ tuning: null }, [4, 33])).toEqual([5, 5]);
    // A forced schedule wins over the table.
    expect(await dispatchesAt({ tuning: crossoverTable(ctx), fineSchedule: "expert" }, [4])).toEqual([5]);
  });

  it("a fineSchedule that is none of the four is refused before any upload", async () => {
    await expect(createExecutor(ctx, program, randomWeights(program, 9), { fineSchedule: "fast" as "auto" })).rejects.toThrow("fineSchedule 'fast' is not one of auto, token, expert, dense");
  });

  it("auto with the table computes the layer of the float64 reference on both sides of the crossover", async () => {
    const w = randomWeights(program, 11);
    for (const T of [4, 20]) {
      const res = await checkProgram(ctx, program, w, new Map([["x", normals(rng(100 + T), T * 16)]]), T, { tuning: crossoverTable(ctx) });
      expect(res.info.dispatchesPerOp[0]!.dispatches).toBe(T < 16 ? 3 : 5);
      const y = res.outputs.get("y")!;
      expect(y.err.excess, `T = ${T}: max abs err ${y.err.maxAbs}`).toBeLessThanOrEqual(2e-4);
      expect(res.selection.mismatches).toEqual([]);
    }
  });
});

describeGpu("unfused baseline", () => {
  it("reads the selection back mid-layer and loops over active experts on the host", async () => {
    const program = moeProgram({ D: 16, E: 8, I: 8, stages: stages("linear", "softmax", ["topk", { k: 2 }], "renorm") });
    const exec = await createExecutor(ctx, program, randomWeights(program, 4), { fused: false });
    try {
      await exec.run(new Map([["x", normals(rng(5), 40 * 16)]]), 40, { returnRouting: true });
      const info = exec.lastRunInfo!;
      // topk(2): every slot is used, so the distinct ids are the active experts.
      const active = new Set(exec.lastRouting!.get("r")!.ids).size;
      // logits + softmax + select, then per active expert: gather, up, gate, activation, down, mix.
      expect(info.dispatches).toBe(3 + 6 * active);
      expect(info.commandBuffers).toBe(2);
      expect(info.readbacks).toBe(2);
    } finally {
      exec.dispose();
    }
  });
});
