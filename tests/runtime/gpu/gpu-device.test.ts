// Adapter acquisition, the missing-adapter message, and compile errors that name the kernel.

import { afterAll, describe, expect, it } from "vitest";
import { GpuUnavailableError, type GpuContext } from "../../../runtime/gpu/device.js";
import { acquireGpu } from "../../../runtime/gpu/dawn.js";
import { KernelCompileError } from "../../../runtime/gpu/pipeline-cache.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

const fakeGpu = (adapter: unknown): GPU =>
  ({ requestAdapter: async () => adapter, getPreferredCanvasFormat: () => "rgba8unorm", wgslLanguageFeatures: new Set() }) as unknown as GPU;

describe("acquireGpu", () => {
  itGpu("requests the adapter's optional features and maximum limits", () => {
    expect(ctx.device).toBeDefined();
    // lavapipe (CI) and real GPUs alike: the requested limits are at least WebGPU's defaults.
    expect(ctx.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(ctx.limits.maxComputeWorkgroupStorageSize).toBeGreaterThanOrEqual(16384);
    expect(ctx.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
    const adapterMax = (ctx.adapter.limits as unknown as Record<string, number>)["maxStorageBufferBindingSize"];
    expect(ctx.limits.maxStorageBufferBindingSize).toBe(adapterMax);
    for (const [flag, name] of [["f16", "shader-f16"], ["subgroups", "subgroups"], ["timestamps", "timestamp-query"]] as const) {
      expect(ctx.features[flag]).toBe(ctx.adapter.features.has(name));
    }
    console.log(`adapter: ${ctx.adapterInfo.description || ctx.adapterInfo.vendor}; features ${JSON.stringify(ctx.features)}`);
  });

  it("says exactly what to install when there is no adapter", async () => {
    const err = await acquireGpu({ gpu: fakeGpu(null) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GpuUnavailableError);
    expect((err as Error).message).toContain("apt-get install -t bookworm-backports mesa-vulkan-drivers");
    expect((err as Error).message).toContain("bash scripts/setup.sh");
  });

  it("names the available adapters when the filter matches none, and checks requireF16", async () => {
    const adapter = { info: { vendor: "mesa", architecture: "", device: "", description: "llvmpipe test" }, features: new Set<string>(), limits: {} };
    await expect(acquireGpu({ gpu: fakeGpu(adapter), adapter: "nvidia" })).rejects.toThrow(/no WebGPU adapter matches 'nvidia' .*available: 'llvmpipe test'/);
    await expect(acquireGpu({ gpu: fakeGpu(adapter), requireF16: true })).rejects.toThrow(/lacks the 'shader-f16' feature/);
  });
});

describeGpu("pipeline cache", () => {
  const spec = (code: string, name = "probe") => ({
    name,
    code,
    entryPoint: "main",
    bindings: [{ name: "b", kind: "storage" as const }],
  });

  it("compiles a source once", async () => {
    const s = spec("@group(0) @binding(0) var<storage, read_write> b: array<f32>;\n@compute @workgroup_size(1) fn main() { b[0] = 1.0; }");
    const a = await ctx.pipelines.get(s);
    const b = await ctx.pipelines.get({ ...s });
    expect(a).toBe(b);
  });

  it("turns a WGSL error into a thrown KernelCompileError naming the kernel and the line", async () => {
    const bad = spec("@group(0) @binding(0) var<storage, read_write> b: array<f32>;\n@compute @workgroup_size(1) fn main() { b[0] = undefined_thing; }", "my_kernel[f32]");
    const err = await ctx.pipelines.get(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KernelCompileError);
    expect((err as Error).message).toMatch(/WGSL kernel 'my_kernel\[f32\]' failed to compile:\n\s+2:\d+: unresolved value 'undefined_thing'/);
    // The device is still usable afterwards.
    const ok = await ctx.pipelines.get(spec("@group(0) @binding(0) var<storage, read_write> b: array<f32>;\n@compute @workgroup_size(1) fn main() { b[0] = 2.0; }"));
    expect(ok.pipeline).toBeDefined();
  });
});
