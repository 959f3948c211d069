// Compute pipelines keyed by WGSL source + entry point. Creating a pipeline costs ~0.6 s on
// lavapipe, so every distinct source is compiled once per device. Compile and validation errors
// surface as a thrown KernelCompileError naming the kernel, never as an uncaptured error or a hang.

import type { KernelSpec } from "../kernels/kernel-spec.js";

export class KernelCompileError extends Error {
  override name = "KernelCompileError";
}

export interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

function numbered(code: string, line: number): string {
  const lines = code.split("\n");
  const from = Math.max(0, line - 3);
  return lines
    .slice(from, line + 2)
    .map((l, i) => `${String(from + i + 1).padStart(5)} | ${l}`)
    .join("\n");
}

export class PipelineCache {
  private readonly entries = new Map<string, Promise<CachedPipeline>>();
  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.entries.size;
  }

  get(spec: KernelSpec): Promise<CachedPipeline> {
    const key = `${spec.entryPoint}\u0000${spec.code}`;
    let p = this.entries.get(key);
    if (!p) {
      p = this.create(spec);
      // A failed compile must not poison the cache with a rejected promise forever.
      p.catch(() => this.entries.delete(key));
      this.entries.set(key, p);
    }
    return p;
  }

  private async create(spec: KernelSpec): Promise<CachedPipeline> {
    const { device } = this;
    device.pushErrorScope("validation");
    const module = device.createShaderModule({ code: spec.code, label: spec.name });
    const scopeError = await device.popErrorScope();
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length > 0 || scopeError) {
      const detail = errors.length
        ? errors.map((m) => `  ${m.lineNum}:${m.linePos}: ${m.message}\n${numbered(spec.code, m.lineNum)}`).join("\n")
        : `  ${scopeError!.message}`;
      throw new KernelCompileError(`WGSL kernel '${spec.name}' failed to compile:\n${detail}`);
    }
    device.pushErrorScope("validation");
    const layout = device.createBindGroupLayout({
      label: spec.name,
      entries: spec.bindings.map((b, i) => ({
        binding: i,
        visibility: GPUShaderStage.COMPUTE,
        buffer: { type: b.kind === "uniform" ? "uniform" : b.kind === "read" ? "read-only-storage" : "storage" },
      })),
    });
    let pipeline: GPUComputePipeline;
    try {
      pipeline = await device.createComputePipelineAsync({
        label: spec.name,
        layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: spec.entryPoint },
      });
    } catch (e) {
      await device.popErrorScope();
      throw new KernelCompileError(`WGSL kernel '${spec.name}' failed pipeline creation: ${(e as Error).message}`);
    }
    const err = await device.popErrorScope();
    if (err) throw new KernelCompileError(`WGSL kernel '${spec.name}' failed validation: ${err.message}`);
    return { pipeline, layout };
  }
}
