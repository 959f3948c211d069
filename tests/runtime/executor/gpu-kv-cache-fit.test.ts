// The KV cache in the device-fit check: a generation's cache (hand-counted bytes) is added to the
// weights and activations before anything is uploaded (decode at creation) or allocated
// (ensureGeneration later), and a cache above what the device offers is a DeviceMemoryError with
// the numbers — never an allocation failure or an internal error.
import { afterAll, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import { DeviceMemoryError, deviceBytesNeeded } from "../../../runtime/executor/device-fit.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { kvCacheBytes } from "../../../runtime/executor/kv-cache.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

// 2 layers, 2 kv heads of 8: a cached position is 2 layers × (k + v) 2 · 2 · 8 = 64 values.
const program = compile({ file: "examples/models/mixtral_8x7b.moe", set: { V: 40, D: 32, L: 2, H: 4, KV: 2, N: 4, I: 16 } }).program!;
const PER_POSITION = 2 * 2 * 2 * 8;

it("kvCacheBytes: positions × 64 values × the cache dtype × slots", () => {
  expect(kvCacheBytes(program, 100, "f32")).toBe(100 * PER_POSITION * 4);
  expect(kvCacheBytes(program, 100, "f16", 3)).toBe(3 * 100 * PER_POSITION * 2);
});

describeGpu("the KV cache counts against the device's memory", () => {
  itGpu("refused at creation (nothing uploaded) and at ensureGeneration (nothing allocated), with the bytes named", async () => {
    const w = randomWeights(program, 1);
    const need = deviceBytesNeeded(program, "f32");
    const base = need.weights + need.activations;
    const cache100 = 100 * PER_POSITION * 4;
    let err: unknown;
    try {
      await createExecutor(gpu, program, w, { deviceMemoryBytes: base + cache100 - 1, decode: { context: 100 } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DeviceMemoryError);
    expect((err as Error).message).toContain(`${cache100} bytes of KV cache for a context of 100`);
    expect((err as Error).message).toContain("Nothing was uploaded");

    const exec = await createExecutor(gpu, program, w, { deviceMemoryBytes: base + cache100, decode: { context: 100 } });
    try {
      expect(() => exec.ensureGeneration({ context: 200 })).toThrow(DeviceMemoryError);
      expect(() => exec.ensureGeneration({ context: 200 })).toThrow(`${2 * cache100} bytes of KV cache for a context of 200`);
      expect(() => exec.ensureGeneration({ context: 200 })).toThrow("Nothing was allocated for the cache");
      // The cache it has still works.
      const logits = await exec.prefill(Int32Array.of(1, 2, 3));
      expect(logits.length).toBe(40);
    } finally {
      exec.dispose();
    }
  });
});
