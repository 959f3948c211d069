// The WGSL Philox4x32-10 against Random123's published known-answer vectors (kat_vectors):
// (counter, key) → output, run on the GPU through a one-thread kernel.
import { afterAll, expect } from "vitest";
import type { GpuContext } from "../../../../runtime/gpu/device.js";
import { createBuffer, STORAGE_USAGE } from "../../../../runtime/gpu/buffers.js";
import { defineKernel, read, write } from "../../../../runtime/kernels/define-kernel.js";
import { PHILOX_WGSL } from "../../../../runtime/kernels/sampling/philox-wgsl.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../../helpers/gpu-context.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

// counter (4 words), key (2 words), expected output (4 words).
const KAT: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

describeGpu("Philox4x32-10 in WGSL", () => {
  itGpu("reproduces Random123's known-answer vectors", async () => {
    const kernel = defineKernel({
      name: "philox_kat",
      uniforms: {},
      buffers: { input: read("array<u32>"), output: write("array<u32>") },
      body: `${PHILOX_WGSL}
@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) wid: vec3u) {
  let b = wid.x * 6u;
  let r = philox4x32_10(vec4<u32>(input[b], input[b + 1u], input[b + 2u], input[b + 3u]), vec2<u32>(input[b + 4u], input[b + 5u]));
  output[wid.x * 4u] = r.x; output[wid.x * 4u + 1u] = r.y; output[wid.x * 4u + 2u] = r.z; output[wid.x * 4u + 3u] = r.w;
}
`,
    });
    const { device } = gpu;
    const input = createBuffer(device, KAT.length * 24, STORAGE_USAGE(), "kat.in");
    device.queue.writeBuffer(input, 0, Uint32Array.from(KAT.flatMap(([c, k]) => [...c, ...k])));
    const output = createBuffer(device, KAT.length * 16, STORAGE_USAGE(), "kat.out");
    const run = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM });
    const staging = device.createBuffer({ size: KAT.length * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const { pipeline, layout } = await gpu.pipelines.get(kernel.spec);
    const res: Record<string, GPUBuffer> = { run, input, output };
    const bindGroup = device.createBindGroup({ layout, entries: kernel.spec.bindings.map((b, i) => ({ binding: i, resource: { buffer: res[b.name]! } })) });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(KAT.length);
    pass.end();
    enc.copyBufferToBuffer(output, 0, staging, 0, KAT.length * 16);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const got = Array.from(new Uint32Array(staging.getMappedRange().slice(0)));
    staging.unmap();
    for (const b of [input, output, run, staging]) b.destroy();
    expect(got).toEqual(KAT.flatMap(([, , want]) => want));
  }, 60_000);
});
