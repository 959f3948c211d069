// Both GEMM loops on the same programs: gemm-shape.ts picks the register-tiled loop on a CPU
// adapter (and the tile on a GPU) for many rows, so CI's lavapipe would otherwise run the tile only
// in its few-row-free cases. Here a Qwen-style layer (grouped routed experts, a dense shared
// pool, a gate `linear`) and a small model (attention projections, LM head) run with
// `gemmLoops: "tile"` and with the default, each against the float64 reference, at a row count
// that is not a multiple of any tile; the model also with its linear weights held [K, N] and
// [N, K] (gemmWeights). The shape and layout policies themselves are checked as tables.
import { afterAll, expect, it } from "vitest";
import { compile } from "../../../compiler/index.js";
import type { IrProgram } from "../../../compiler/ir/ir.js";
import { createExecutor } from "../../../runtime/executor/executor.js";
import { denseGemmShape, groupedGemmShape, linearGemmShape, linearWeightLayout } from "../../../runtime/executor/gemm-shape.js";
import type { GpuContext } from "../../../runtime/gpu/device.js";
import { interpretReference } from "../../../runtime/reference/interpret.js";
import { randomWeights } from "../../../runtime/weights/random-weights.js";
import { beforeAllGpu, describeGpu, itGpu, releaseTestGpu, testGpu } from "../../helpers/gpu-context.js";
import { expectClose } from "../../helpers/numerics.js";
import { normals, rng } from "../../helpers/random.js";

let gpu: GpuContext;
beforeAllGpu(async () => {
  gpu = await testGpu();
});
afterAll(releaseTestGpu);

function program(source: string, set: Record<string, number> = {}): IrProgram {
  const c = compile({ source, set });
  expect(c.ok, c.formatDiagnostics()).toBe(true);
  return c.program!;
}

const QWEN = `layer qwen_moe(x: [T, D], D = 32, N = 8, I = 16, SI = 24) {
  shared S[1] = ffn(hidden = SI)
  experts E[N] = ffn(hidden = I, act = swiglu)
  router r = linear |> softmax |> topk(2)
  let g = linear(x, out = 1)
  return x + moe(x, r, E) + sigmoid(g) * S(x)
}`;

/** The float64 reference on the experts the GPU selected (near-ties may select differently in float64). */
async function referenceOnGpuSelection(p: IrProgram, w: Map<string, Float32Array>, x: Map<string, Float32Array>, T: number): Promise<Float32Array | Float64Array> {
  const e = await createExecutor(gpu, p, w);
  let routing;
  try {
    await e.run(x, T, { returnRouting: true });
    routing = e.lastRouting!;
  } finally {
    e.dispose();
  }
  const forced = new Map([...routing].map(([k, r]) => [k, Array.from({ length: T }, (_, t) => Array.from(r.ids.subarray(t * r.maxPerToken, t * r.maxPerToken + r.counts[t]!)))]));
  return interpretReference(p, w, x, T, { forcedSelection: forced }).get(p.outputs[0]!.name)!;
}

describeGpu("the tile and the register-tiled loop give the reference's answer", () => {
  itGpu("grouped experts, a dense shared pool and a gate linear over 37 rows", async () => {
    const p = program(QWEN);
    const w = randomWeights(p, 3);
    const T = 37;
    const x = new Map([["x", normals(rng(4), T * 32)]]);
    const ref = await referenceOnGpuSelection(p, w, x, T);
    for (const gemmLoops of ["auto", "tile"] as const) {
      const e = await createExecutor(gpu, p, w, { gemmLoops });
      try {
        const y = (await e.run(x, T)).get(p.outputs[0]!.name)!;
        expectClose(y, ref, 2e-4, 1e-4, `gemmLoops ${gemmLoops}`);
      } finally {
        e.dispose();
      }
    }
  });

  itGpu("routed SwiGLU experts held [K, N] per expert (D = I = 256): grouped GEMMs = reference, also in weight chunks of whole experts", async () => {
    const p = program(`layer experts(x: [T, D], D = 256, N = 4, I = 256) {\n  experts E[N] = ffn(hidden = I, act = swiglu)\n  router r = linear |> softmax |> topk(2)\n  return moe(x, r, E)\n}`);
    const w = randomWeights(p, 8);
    const T = 19;
    const x = new Map([["x", normals(rng(9), T * 256)]]);
    const ref = await referenceOnGpuSelection(p, w, x, T);
    // One expert's matrix is 256 KiB: a 600 KiB binding limit holds 2 experts a chunk (2 chunks each).
    for (const opts of [{ gemmWeights: "kn" as const }, { gemmWeights: "kn" as const, maxBindingBytes: 600 * 1024 }, { gemmWeights: "nk" as const }]) {
      const profile = gpu.features.timestamps ? ("dispatch" as const) : undefined;
      const e = await createExecutor(gpu, p, w, opts);
      try {
        const y = (await e.run(x, T, { ...(profile ? { profile } : {}) })).get(p.outputs[0]!.name)!;
        expectClose(y, ref, 2e-4, 1e-4, JSON.stringify(opts));
        if (profile) {
          const kn = e.lastRunInfo!.kernels!.filter((k) => /^expert_gemm_(up|down).*kn\]$/.test(k.kernel)).length;
          const chunks = opts.maxBindingBytes ? 2 : 1;
          expect(kn, JSON.stringify(opts)).toBe(opts.gemmWeights === "kn" ? 2 * chunks : 0);
        }
      } finally {
        e.dispose();
      }
    }
  });

  itGpu("a model's projections and LM head over 21 positions", async () => {
    const p = compile({ file: "examples/models/mixtral_8x7b.moe", set: { V: 40, D: 32, L: 1, H: 4, KV: 2, N: 4, I: 16 } }).program!;
    const w = randomWeights(p, 5);
    const T = 21;
    const ids = new Map([["tokens", Int32Array.from({ length: T }, (_, t) => (t * 11 + 3) % 40)]]);
    const ref = interpretReference(p, w, ids, T).get("logits")!;
    for (const gemmLoops of ["auto", "tile"] as const) {
      const e = await createExecutor(gpu, p, w, { gemmLoops });
      try {
        expectClose((await e.run(ids, T)).get("logits")!, ref, 2e-4, 1e-4, `gemmLoops ${gemmLoops}`);
      } finally {
        e.dispose();
      }
    }
  });

  itGpu("a model's projections, fused QKV and LM head with weights held [K, N] and [N, K], prefill and a decode step", async () => {
    // D = 32 and H·hd = 32 keep every linear weight's N a multiple of 4 (held transposed under `kn`).
    const p = compile({ file: "examples/models/mixtral_8x7b.moe", set: { V: 40, D: 32, L: 1, H: 4, KV: 2, N: 4, I: 16 } }).program!;
    const w = randomWeights(p, 6);
    const T = 13;
    const tokens = Int32Array.from({ length: T }, (_, t) => (t * 7 + 5) % 40);
    const ref = interpretReference(p, w, new Map([["tokens", tokens]]), T).get("logits")!;
    // The decode step's logits equal the reference's last row over T positions.
    const last = ref.slice((T - 1) * 40);
    for (const gemmWeights of ["kn", "nk"] as const) {
      const e = await createExecutor(gpu, p, w, { gemmWeights });
      try {
        const profile = gpu.features.timestamps ? ("dispatch" as const) : undefined;
        expectClose((await e.run(new Map([["tokens", tokens]]), T, { ...(profile ? { profile } : {}) })).get("logits")!, ref, 2e-4, 1e-4, `gemmWeights ${gemmWeights}`);
        // The layout took effect: the kn register tile ran (q/k/v, o, the head) or did not.
        if (profile) {
          const kn = e.lastRunInfo!.kernels!.filter((k) => /^linear.*kn\]$/.test(k.kernel)).length;
          if (gemmWeights === "kn") expect(kn).toBeGreaterThanOrEqual(3);
          else expect(kn).toBe(0);
        }
      } finally {
        e.dispose();
      }
      const d = await createExecutor(gpu, p, w, { gemmWeights, decode: { context: 16 } });
      try {
        await d.prefill(tokens.subarray(0, T - 1));
        expectClose(await d.decodeStep(tokens[T - 1]!), last, 2e-4, 1e-4, `gemmWeights ${gemmWeights} decode`);
      } finally {
        d.dispose();
      }
    }
  });
});

it("the shape policy: few rows → GEMV; many rows → the register tile on a CPU adapter only; vec4 needs multiples of 4; `tile` forces the tile", () => {
  const cpu = { gpu: { adapterInfo: { vendor: "mesa", architecture: "", device: "", description: "llvmpipe (LLVM 15.0.6, 256 bits)" } }, gemmLoops: "auto" } as const;
  const gpuAdapter = { gpu: { adapterInfo: { vendor: "nvidia", architecture: "hopper", device: "", description: "NVIDIA H200" } }, gemmLoops: "auto" } as const;
  const asCtx = <T>(x: T) => x as unknown as Parameters<typeof denseGemmShape>[0];
  expect(denseGemmShape(asCtx(cpu), 1, [1024])).toEqual({ kind: "gemv", rows: 1, lanes: 4, cols: 2, vec4: true });
  expect(denseGemmShape(asCtx(cpu), 3, [33])).toEqual({ kind: "gemv", rows: 4, lanes: 4, cols: 2, vec4: false });
  expect(denseGemmShape(asCtx(cpu), 64, [1024])).toEqual({ kind: "gemv", rows: 8, lanes: 1, cols: 4, vec4: true });
  expect(denseGemmShape(asCtx(cpu), 64, [1022])).toBeUndefined();
  expect(denseGemmShape(asCtx(gpuAdapter), 1, [1024])).toEqual({ kind: "gemv", rows: 1, lanes: 16, cols: 2, vec4: true });
  expect(denseGemmShape(asCtx(gpuAdapter), 64, [1024])).toBeUndefined();
  expect(groupedGemmShape(asCtx(cpu), [1024])).toEqual({ kind: "gemv", rows: 8, lanes: 1, cols: 4, vec4: true });
  expect(groupedGemmShape(asCtx(gpuAdapter), [1024])).toBeUndefined();
  expect(denseGemmShape(asCtx({ ...cpu, gemmLoops: "tile" }), 1, [1024])).toBeUndefined();
  expect(groupedGemmShape(asCtx({ ...cpu, gemmLoops: "tile" }), [1024])).toBeUndefined();
});

it("the weight layout policy: [K, N] on a CPU adapter for 4-aligned linears, never for a table an embedding gathers, never on a GPU under auto", () => {
  const program = { ops: [{ op: "embed", weight: "tok_embeddings", out: 0, ids: 0, vocab: 40 }] } as unknown as IrProgram;
  const cpu = { gpu: { adapterInfo: { vendor: "mesa", architecture: "", device: "", description: "llvmpipe (LLVM 15.0.6, 256 bits)" } }, gemmLoops: "auto", gemmWeights: "auto", program, weights: { maxBindingBytes: 2 ** 27 }, dtype: "f32" } as const;
  const gpuAdapter = { ...cpu, gpu: { adapterInfo: { vendor: "nvidia", architecture: "hopper", device: "", description: "NVIDIA H200" } } } as const;
  const asCtx = <T>(x: T) => x as unknown as Parameters<typeof linearWeightLayout>[0];
  expect(linearWeightLayout(asCtx(cpu), "layers.0.wq.weight", 1024, [1024])).toBe("kn");
  expect(linearWeightLayout(asCtx(cpu), "layers.0.wq.weight", 1022, [1024])).toBe("nk");
  expect(linearWeightLayout(asCtx(cpu), "layers.0.wq.weight", 1024, [1024, 1024, 6])).toBe("nk");
  expect(linearWeightLayout(asCtx(cpu), "tok_embeddings.weight", 40, [32])).toBe("nk"); // a tied LM head
  expect(linearWeightLayout(asCtx(gpuAdapter), "layers.0.wq.weight", 1024, [1024])).toBe("nk");
  expect(linearWeightLayout(asCtx({ ...gpuAdapter, gemmWeights: "kn" }), "layers.0.wq.weight", 1024, [1024])).toBe("kn");
  expect(linearWeightLayout(asCtx({ ...cpu, gemmWeights: "nk" }), "layers.0.wq.weight", 1024, [1024])).toBe("nk");
  expect(linearWeightLayout(asCtx({ ...cpu, gemmLoops: "tile" }), "layers.0.wq.weight", 1024, [1024])).toBe("nk");
  // Four rows of K = 1024 f32 (16 KiB) above a 8 KiB binding limit: the [N, K] chunks of one row.
  expect(linearWeightLayout(asCtx({ ...cpu, weights: { maxBindingBytes: 8192 } }), "layers.0.wq.weight", 1024, [1024])).toBe("nk");
  // A tuning table whose many-row choice (measured against [K, N] candidates) is [N, K] decides `auto`.
  const entry = (shape: object) => ({ shape, ms: 1, fallback: shape, fallbackMs: 1, problem: "", candidates: [{ shape: { kind: "gemv", rows: 8, lanes: 1, cols: 2, layout: "kn" }, ms: 2 }, { shape, ms: 1 }] });
  const tuning = { entries: { "dense/r65+/k-small": entry({ kind: "gemv", rows: 8, lanes: 1, cols: 4 }) } };
  expect(linearWeightLayout(asCtx({ ...cpu, tuning }), "layers.0.wq.weight", 1024, [1024])).toBe("nk");
  expect(linearWeightLayout(asCtx({ ...gpuAdapter, tuning: { entries: { "dense/r65+/k-small": entry({ kind: "gemv", rows: 8, lanes: 1, cols: 2, layout: "kn" }) } } }), "layers.0.wq.weight", 1024, [1024])).toBe("kn");
  expect(linearGemmShape(asCtx(cpu), "kn", 1, [1024])).toEqual({ kind: "gemv", rows: 1, lanes: 1, cols: 2, vec4: true, layout: "kn" });
  expect(linearGemmShape(asCtx(cpu), "kn", 3, [1024])).toEqual({ kind: "gemv", rows: 4, lanes: 1, cols: 2, vec4: true, layout: "kn" });
  expect(linearGemmShape(asCtx(cpu), "kn", 64, [1024])).toEqual({ kind: "gemv", rows: 8, lanes: 1, cols: 2, vec4: true, layout: "kn" });
  expect(linearGemmShape(asCtx(cpu), "nk", 64, [1024])).toEqual({ kind: "gemv", rows: 8, lanes: 1, cols: 4, vec4: true });
});
