// The dispatch structure the fused executor promises (docs/kernels.md): at most 5 compute
// dispatches per routed pool whatever E is, no read-back inside a layer, one command buffer and
// one read-back per run — versus the unfused baseline's per-expert loop.

import { afterAll, expect, it } from "vitest";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { moeProgram, pool, ProgramBuilder, router, stages } from "../../helpers/ir-programs.js";
import { normals, randomWeights, rng } from "../../helpers/random.js";

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
