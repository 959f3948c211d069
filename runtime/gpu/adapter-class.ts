// Whether an adapter is a CPU implementation of WebGPU (Mesa lavapipe/llvmpipe, SwiftShader):
// its buffers live in host memory and its invocations run as SIMD lanes on CPU cores, which
// changes both what memory a model may use (device-fit.ts) and which kernel shapes are fast
// (gemm-shape.ts).

import type { GpuContext } from "./device.js";

const CPU_ADAPTER = /llvmpipe|lavapipe|swiftshader|\bcpu\b/i;

export function isCpuAdapter(info: GpuContext["adapterInfo"]): boolean {
  return CPU_ADAPTER.test(`${info.description} ${info.device} ${info.architecture}`);
}
