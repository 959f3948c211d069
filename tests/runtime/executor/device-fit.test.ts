// The device-fit check with weightFormat: matrices the store keeps as Q8_0/Q4_0 blocks count at
// their block bytes (a block of 32 values: Q4_0 16 bytes of nibbles + a 2-byte f16 scale = 18,
// Q8_0 32 + 2 = 34), everything else (router gates, matrices whose rows are not whole blocks,
// pools a forced grouped schedule reads in the dtype) at the dtype. Bytes are worked by hand below.
import { afterAll, expect, it } from "vitest";
import { checkDeviceFit, DeviceMemoryError, deviceBytesNeeded } from "../../../runtime/executor/device-fit.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { pool, ProgramBuilder, router, stages } from "../../helpers/ir-programs.js";
import { normals, rng } from "../../helpers/random.js";
import { compile } from "../../../compiler/index.js";

// y = linear(moe(x, r, E), out = 32): x [T, 64]; 2 SwiGLU experts of hidden 32; router gate [2, 64].
function tinyProgram() {
  const b = new ProgramBuilder();
  const x = b.input("x", 64);
  const h = b.moe(x, router({ numExperts: 2, dim: 64, stages: stages("linear", "softmax", ["topk", { k: 1 }]) }), pool({ key: "E", count: 2, dim: 64, hidden: 32 }));
  return b.output("y", b.linear(h, "proj", 32)).build();
}

// Values: linear [32, 64] = 2048; pool w_up, w_gate [2, 32, 64] and w_down [2, 64, 32] = 4096 each; gate [2, 64] = 128.
const F32 = (2048 + 3 * 4096 + 128) * 4; // 57,856
// Q4_0: linear 2048/32 = 64 blocks × 18 = 1,152; each pool matrix 128 blocks × 18 = 2,304; the gate stays f32 (512).
const Q4 = 1152 + 3 * 2304 + 512; // 8,576
// Q8_0: 64 × 34 = 2,176; 128 × 34 = 4,352 each; gate 512.
const Q8 = 2176 + 3 * 4352 + 512; // 15,744
// activations of one token: x 64 + moe 64 + y 32 values in f32.
const ACT = (64 + 64 + 32) * 4;

it("counts block matrices at their block bytes, the rest at the storage dtype", () => {
  const p = tinyProgram();
  expect(deviceBytesNeeded(p, "f32")).toEqual({ weights: F32, activations: ACT });
  expect(deviceBytesNeeded(p, "f32", { weightFormat: "q4_0" })).toEqual({ weights: Q4, activations: ACT });
  expect(deviceBytesNeeded(p, "f32", { weightFormat: "q8_0" }).weights).toBe(Q8);
  // f16 storage: only the gate's 128 values change (2 bytes each).
  expect(deviceBytesNeeded(p, "f16", { weightFormat: "q4_0" }).weights).toBe(1152 + 3 * 2304 + 256);
  // A forced grouped or dense schedule reads the pool in the dtype; token and auto keep its blocks.
  expect(deviceBytesNeeded(p, "f32", { weightFormat: "q4_0", schedule: "expert" }).weights).toBe(1152 + 3 * 4096 * 4 + 512);
  expect(deviceBytesNeeded(p, "f32", { weightFormat: "q4_0", schedule: "dense" }).weights).toBe(1152 + 3 * 4096 * 4 + 512);
  expect(deviceBytesNeeded(p, "f32", { weightFormat: "q4_0", schedule: "token" }).weights).toBe(Q4);
});

it("rows that are not whole blocks of 32 stay in the dtype", () => {
  const b = new ProgramBuilder();
  const x = b.input("x", 48);
  const p = b.output("y", b.linear(x, "l", 16)).build();
  expect(deviceBytesNeeded(p, "f32", { weightFormat: "q4_0" }).weights).toBe(48 * 16 * 4);
  // A pool of hidden 16 (not whole blocks) keeps every matrix in f32.
  const c = new ProgramBuilder();
  const y = c.input("x", 64);
  const q = c.output("y", c.moe(y, router({ numExperts: 2, dim: 64, stages: stages("linear", "softmax", ["topk", { k: 1 }]) }), pool({ key: "E", count: 2, dim: 64, hidden: 16 }))).build();
  expect(deviceBytesNeeded(q, "f32", { weightFormat: "q8_0" }).weights).toBe((3 * 2 * 16 * 64 + 128) * 4);
});

it("a program refused in f32 under deviceMemoryBytes fits as q4_0", () => {
  const p = tinyProgram();
  const offered = 20_000; // between Q4 + ACT = 9,216 and F32 + ACT = 58,496
  const noGpu = {} as GpuContext; // deviceMemoryBytes given: the adapter is not asked
  expect(() => checkDeviceFit(noGpu, p, "f32", offered)).toThrow(DeviceMemoryError);
  expect(() => checkDeviceFit(noGpu, p, "f32", offered)).toThrow(`needs at least ${F32 + ACT} bytes`);
  expect(() => checkDeviceFit(noGpu, p, "f32", offered, undefined, { weightFormat: "q4_0" })).not.toThrow();
  expect(() => checkDeviceFit(noGpu, p, "f32", Q4 + ACT - 1, undefined, { weightFormat: "q4_0" })).toThrow(`needs at least ${Q4 + ACT} bytes (0.0 MiB) on the device: ${Q4} bytes of weights at f32 (matrices kept as q4_0 blocks at their block size)`);
});

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

describeGpu("createExecutor under deviceMemoryBytes", () => {
  itGpu("refuses the f32 program and builds and runs the q4_0 one", async () => {
    const p = tinyProgram();
    const w = randomWeights(p, 3);
    await expect(createExecutor(gpu, p, w, { deviceMemoryBytes: 20_000 })).rejects.toThrow(DeviceMemoryError);
    const exec = await createExecutor(gpu, p, w, { deviceMemoryBytes: 20_000, weightFormat: "q4_0" });
    try {
      const y = (await exec.run(new Map([["x", normals(rng(4), 3 * 64)]]), 3)).get("y")!;
      expect(y).toHaveLength(3 * 32);
      expect(y.every(Number.isFinite)).toBe(true);
      // What the store kept as blocks agrees with the prediction: the f32 bytes less the block bytes.
      const saved = exec.blockBytesSaved;
      expect(saved.whole + saved.routed + saved.gathered).toBe(F32 - Q4);
    } finally {
      exec.dispose();
    }
  });

  itGpu("a whole model (embedding, attention, experts, LM head): the prediction is what the store saved", async () => {
    const model = compile({ file: "examples/models/mixtral_8x7b.moe", set: { V: 40, D: 32, L: 2, H: 4, KV: 2, N: 4, I: 32 } }).program!;
    for (const weightFormat of ["q8_0", "q4_0"] as const) {
      const exec = await createExecutor(gpu, model, randomWeights(model, 5), { weightFormat });
      try {
        await exec.run(new Map([["tokens", Int32Array.from([1, 2, 3])]]), 3);
        const saved = exec.blockBytesSaved;
        const predicted = deviceBytesNeeded(model, "f32").weights - deviceBytesNeeded(model, "f32", { weightFormat }).weights;
        expect(predicted).toBeGreaterThan(0);
        expect(saved.whole + saved.routed + saved.gathered).toBe(predicted);
      } finally {
        exec.dispose();
      }
    }
  });
});
