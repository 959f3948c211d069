// Runs one kernel on test buffers for the attention kernel tests: a dispatch (its own submit,
// awaited) with the run uniform and the kernel's params bound by name, and a float read-back.

import { uniformBuffer } from "../../../../runtime/gpu/buffers.js";
import type { GpuContext } from "../../../../runtime/gpu/device.js";
import type { Kernel } from "../../../../runtime/kernels/define-kernel.js";

export async function dispatch(gpu: GpuContext, k: Kernel, params: Uint32Array, buffers: Record<string, GPUBuffer>, run: GPUBuffer, groups: number): Promise<void> {
  const { device } = gpu;
  const { pipeline, layout } = await gpu.pipelines.get(k.spec);
  const uni = uniformBuffer(device, params, `${k.spec.name} params`);
  const entries = k.spec.bindings.map((bd, i) => ({ binding: i, resource: { buffer: bd.name === "run" ? run : bd.name === "params" ? uni : buffers[bd.name]! } }));
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout, entries }));
  pass.dispatchWorkgroups(groups);
  pass.end();
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  uni.destroy();
}

export async function readFloats(gpu: GpuContext, buf: GPUBuffer, n: number): Promise<Float32Array> {
  const { device } = gpu;
  const staging = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buf, 0, staging, 0, n * 4);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}
