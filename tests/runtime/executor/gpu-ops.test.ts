// The IR's simple ops on the GPU vs the float64 reference, and the WGSL erf measured directly.

import { afterAll, expect, it } from "vitest";
import { createExecutor } from "../../../runtime/executor/executor.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { ERF_WGSL, header, RUN_STRUCT } from "../../../runtime/kernels/wgsl-common.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { erf } from "../../../stdlib/math64.js";
import { beforeAllGpu, describeGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { ProgramBuilder } from "../../helpers/ir-programs.js";
import { expectClose } from "../../helpers/numerics.js";
import { normals, randomWeights, rng } from "../../helpers/random.js";

let ctx: GpuContext;
beforeAllGpu(async () => {
  ctx = await testGpu();
});
afterAll(releaseTestGpu);

function opsProgram() {
  const b = new ProgramBuilder();
  const x = b.input("x", 24);
  const l1 = b.linear(x, "l1", 20, true);
  const l2 = b.linear(x, "l2", 1);
  const outs: Record<string, number> = {
    linear_bias: l1,
    linear_out1: l2,
    sigmoid: b.unary("sigmoid", l1),
    silu: b.unary("silu", l1),
    gelu: b.unary("gelu", l1),
    relu: b.unary("relu", l1),
    neg: b.unary("neg", l1),
    softmax: b.unary("softmax", l1),
  };
  outs["add_bcast_b"] = b.binary("add", outs["sigmoid"]!, l2);
  outs["sub_bcast_a"] = b.binary("sub", l2, outs["silu"]!);
  outs["mul"] = b.binary("mul", outs["gelu"]!, outs["relu"]!);
  outs["div_bcast_b"] = b.binary("div", outs["softmax"]!, b.unary("sigmoid", l2));
  outs["scalar_mul"] = b.scalar("mul", x, 2.5);
  outs["scalar_first_sub"] = b.scalar("sub", x, 1, true);
  outs["scalar_first_div"] = b.scalar("div", b.unary("sigmoid", x), 3, true);
  for (const [name, v] of Object.entries(outs)) b.output(name, v);
  return b.build();
}

describeGpu("simple ops (linear, unary, binary with broadcast, scalar)", () => {
  it("match the float64 reference at T = 1 and T = 45, with one read-back for 15 outputs", async () => {
    const program = opsProgram();
    const weights = randomWeights(program, 21);
    const exec = await createExecutor(ctx, program, weights);
    try {
      for (const T of [1, 45]) {
        const x = normals(rng(T), T * 24);
        const gpu = await exec.run(new Map([["x", x]]), T);
        const ref = interpretReference(program, weights, new Map([["x", x]]), T);
        for (const o of program.outputs) expectClose(gpu.get(o.name)!, ref.get(o.name)!, 2e-6, 1e-5, o.name);
        expect(exec.lastRunInfo!.readbacks).toBe(1);
        expect(exec.lastRunInfo!.commandBuffers).toBe(1);
        expect(exec.lastRunInfo!.dispatches).toBe(program.ops.length);
      }
    } finally {
      exec.dispose();
    }
  });
});

describeGpu("erf in WGSL (exact-GELU activations)", () => {
  it("is within 1.2e-7 of a float64 erf on [-6, 6] (measured, printed)", async () => {
    const code = `${header("f32")}
${RUN_STRUCT}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
${ERF_WGSL}
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x < arrayLength(&x)) { y[g.x] = erf_f32(x[g.x]); }
}`;
    const spec = {
      name: "erf_probe",
      code,
      entryPoint: "main",
      bindings: [
        { name: "run", kind: "uniform" as const },
        { name: "x", kind: "read" as const },
        { name: "y", kind: "storage" as const },
      ],
    };
    const n = 120_001;
    const xs = Float32Array.from({ length: n }, (_, i) => -6 + (12 * i) / (n - 1));
    const dev = ctx.device;
    const { pipeline, layout } = await ctx.pipelines.get(spec);
    const run = dev.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM });
    const xb = dev.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const yb = dev.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const rb = dev.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    dev.queue.writeBuffer(xb, 0, xs);
    const enc = dev.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, dev.createBindGroup({ layout, entries: [run, xb, yb].map((buffer, binding) => ({ binding, resource: { buffer } })) }));
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    enc.copyBufferToBuffer(yb, 0, rb, 0, n * 4);
    dev.queue.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ);
    const ys = new Float32Array(rb.getMappedRange().slice(0));
    rb.unmap();
    for (const b of [run, xb, yb, rb]) b.destroy();
    let maxErr = 0;
    let at = 0;
    for (let i = 0; i < n; i++) {
      const e = Math.abs(ys[i]! - erf(xs[i]!));
      if (e > maxErr) {
        maxErr = e;
        at = xs[i]!;
      }
    }
    console.log(`WGSL erf_f32: max |error| ${maxErr.toExponential(3)} at x = ${at.toFixed(4)} over ${n} points in [-6, 6]`);
    expect(maxErr).toBeLessThan(1.2e-7);
    expect(ys[0]).toBe(-1);
    expect(ys[n - 1]).toBe(1);
  });
});
